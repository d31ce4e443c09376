// Benchmark workloads (browser-safe): the seed notes' network (H=1) and wider ones, their seeded models and
// batches, and the work one sequence-step costs (FLOPs and bytes), from which achieved GFLOP/s and GB/s follow.

import type { Batch } from '../batch.ts';
import { InputError } from '../errors.ts';
import { STATQUEST_JSON, type Activation, type ModelJSON } from '../model.ts';
import { randomBatch, randomModel } from '../random.ts';

export type Phase = 'forward' | 'gradient';
export const PHASES: readonly Phase[] = ['forward', 'gradient'];
export const PHASE_LABEL: Record<Phase, string> = { forward: 'forward', gradient: 'forward+BPTT+reduction' };
export const PHASE_NAME: Record<Phase, string> = { forward: 'forward', gradient: 'forward+gradient' };

export interface Workload {
  /** `seed`, `h16`, `h64`, `h256`, or `h<H>` in sweeps. */
  id: string;
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  activation: Activation;
  description: string;
}

/** The seed network and H = 16, 64, 256 (I = O = 1, output `last`; tanh, weights uniform in ±1/√H). */
export function workload(id: string): Workload {
  if (id === 'seed') {
    return {
      id,
      inputSize: 1,
      hiddenSize: 1,
      outputSize: 1,
      activation: 'relu',
      description: "the seed notes' network (H=1, ReLU, w1=1.8, w2=-0.5, w3=1.1)",
    };
  }
  const m = /^h([1-9]\d*)$/.exec(id);
  if (!m) throw new InputError('--workloads', `unknown workload "${id}" (known: ${WORKLOAD_IDS.join(', ')}, or h<H>)`);
  const H = Number(m[1]);
  if (H > 4096) throw new InputError('--workloads', `workload "${id}": H must be at most 4096`);
  return {
    id,
    inputSize: 1,
    hiddenSize: H,
    outputSize: 1,
    activation: 'tanh',
    description: `H=${H}, tanh, random weights in ±1/√H`,
  };
}

export const WORKLOAD_IDS = ['seed', 'h16', 'h64', 'h256'] as const;

/** Parses a comma-separated workload list, e.g. `seed,h16`. */
export function parseWorkloads(list: string): Workload[] {
  const ids = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new InputError('--workloads', 'give at least one workload');
  return [...new Set(ids)].map(workload);
}

/** The workload's model: the seed preset, or seeded random weights. */
export function workloadModel(w: Workload): ModelJSON {
  if (w.id === 'seed') return JSON.parse(JSON.stringify(STATQUEST_JSON)) as ModelJSON;
  const shape = { inputSize: w.inputSize, hiddenSize: w.hiddenSize, outputSize: w.outputSize };
  return randomModel(shape, w.activation, 'last', 1000 + w.hiddenSize, 1 / Math.sqrt(w.hiddenSize));
}

/** N sequences of exactly T steps with one target each; inputs and targets uniform in [−1, 1] (seeded). */
export function workloadBatch(w: Workload, N: number, T: number): Batch {
  return randomBatch({
    count: N,
    inputSize: w.inputSize,
    outputSize: w.outputSize,
    output: 'last',
    minLength: T,
    maxLength: T,
    seed: 7,
  });
}

export interface StepCost {
  flops: number;
  bytes: number;
}

/**
 * Work per sequence-step for I inputs, H hidden units, O outputs, output `last`, T steps, P parameters:
 *   forward  FLOPs = 2H(I+H) + 2H                      (Wx·x, Wh·h, + bias, activation)
 *                  + (2HO + 3O)/T                      (the output and the squared error, once per sequence)
 *   gradient FLOPs = forward + 2H(2H+I) + 2H          (dz = dh⊙act′, dWx += dz·xᵀ, dWh += dz·hₜ₋₁ᵀ, dbh, dh = Whᵀdz)
 *                  + (4HO + 2O)/T                      (dWy, dby, dh at the last step)
 *   forward  bytes = 4I + (4 + 4O + 8)/T               (read x; per sequence: length, target, loss + overflow rows)
 *   gradient bytes = 8I + 8H + (4 + 4O + 4(P+2))/T    (x read twice, hₜ written and read back; per-sequence rows)
 * Bytes count the traffic to memory with the weights held on chip (registers, workgroup memory or cache), in
 * float32, for the one-invocation-per-sequence algorithm; the reduction's further levels are negligible. The
 * activation counts as one FLOP.
 */
export function stepCost(w: Workload, T: number, phase: Phase): StepCost {
  const { inputSize: I, hiddenSize: H, outputSize: O } = w;
  const P = H * I + H * H + H + O * H + O;
  const fwdFlops = 2 * H * (I + H) + 2 * H + (2 * H * O + 3 * O) / T;
  if (phase === 'forward') return { flops: fwdFlops, bytes: 4 * I + (4 + 4 * O + 8) / T };
  return {
    flops: fwdFlops + 2 * H * (2 * H + I) + 2 * H + (4 * H * O + 2 * O) / T,
    bytes: 8 * I + 8 * H + (4 + 4 * O + 4 * (P + 2)) / T,
  };
}

export const COST_FORMULAS = [
  'forward FLOPs/step = 2H(I+H) + 2H + (2HO + 3O)/T',
  'gradient FLOPs/step = forward + 2H(2H+I) + 2H + (4HO + 2O)/T',
  'forward bytes/step = 4I + (4 + 4O + 8)/T',
  'gradient bytes/step = 8I + 8H + (4 + 4O + 4(P+2))/T',
];
