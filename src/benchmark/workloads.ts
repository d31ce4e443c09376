// Benchmark workloads (browser-safe): the seed notes' network (H=1) and wider ones, their seeded models and
// batches, and the work one sequence-step costs (FLOPs and bytes), from which achieved GFLOP/s and GB/s follow.

import type { Batch } from '../batch.ts';
import type { CellName } from '../cells/index.ts';
import { InputError } from '../errors.ts';
import { STATQUEST_JSON, type Activation, type ModelJSON } from '../model.ts';
import { randomBatch, randomModel } from '../random.ts';

export type Phase = 'forward' | 'gradient';
export const PHASES: readonly Phase[] = ['forward', 'gradient'];
export const PHASE_LABEL: Record<Phase, string> = { forward: 'forward', gradient: 'forward+BPTT+reduction' };
export const PHASE_NAME: Record<Phase, string> = { forward: 'forward', gradient: 'forward+gradient' };

export interface Workload {
  /** `seed`, `h16`, `h64`, `h256`, `h<H>` in sweeps, or a gated cell's `lstm<H>` / `gru<H>`. */
  id: string;
  /** The recurrent cell: elman for `seed` and `h<H>`. */
  cell: CellName;
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  activation: Activation;
  description: string;
}

/**
 * The seed network, Elman networks of H = 16, 64, 256 (`h<H>`) and LSTM or GRU networks (`lstm<H>`, `gru<H>`), all
 * with I = O = 1 and output `last`; tanh, weights uniform in ±1/√H.
 */
export function workload(id: string): Workload {
  if (id === 'seed') {
    return {
      id,
      cell: 'elman',
      inputSize: 1,
      hiddenSize: 1,
      outputSize: 1,
      activation: 'relu',
      description: "the seed notes' network (H=1, ReLU, w1=1.8, w2=-0.5, w3=1.1)",
    };
  }
  const m = /^(h|lstm|gru)([1-9]\d*)$/.exec(id);
  if (!m)
    throw new InputError(
      '--workloads',
      `unknown workload "${id}" (known: ${[...WORKLOAD_IDS, ...CELL_WORKLOAD_IDS].join(', ')}, or h<H>, lstm<H>, gru<H>)`,
    );
  const H = Number(m[2]);
  if (H > 4096) throw new InputError('--workloads', `workload "${id}": H must be at most 4096`);
  const cell: CellName = m[1] === 'h' ? 'elman' : (m[1] as CellName);
  return {
    id,
    cell,
    inputSize: 1,
    hiddenSize: H,
    outputSize: 1,
    activation: 'tanh',
    description:
      cell === 'elman'
        ? `H=${H}, tanh, random weights in ±1/√H`
        : `${cell.toUpperCase()}, H=${H}, random weights in ±1/√H`,
  };
}

/** The default workloads: the seed network and Elman networks. */
export const WORKLOAD_IDS = ['seed', 'h16', 'h64', 'h256'] as const;
/** The gated cells' workloads at H = 64. */
export const CELL_WORKLOAD_IDS = ['lstm64', 'gru64'] as const;

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
  return randomModel(shape, w.activation, 'last', 1000 + w.hiddenSize, 1 / Math.sqrt(w.hiddenSize), w.cell);
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
 * Per cell: g gate blocks, b bias vectors, e elementwise FLOPs per hidden unit and step (activations count one
 * each), s state vectors per unit that BPTT stores. Elman act(z) (1, 1, 1, 1: h); LSTM 4 activations,
 * c = f⊙c + i⊙g, h = o⊙tanh(c) (4, 2, 9, 2: h and c); GRU 3 activations, r⊙(Wh·h + bh), h = (1−z)⊙n + z⊙h
 * (3, 2, 8, 1: h).
 */
const CELL_COST: Record<CellName, { g: number; b: number; e: number; s: number }> = {
  elman: { g: 1, b: 1, e: 1, s: 1 },
  lstm: { g: 4, b: 2, e: 9, s: 2 },
  gru: { g: 3, b: 2, e: 8, s: 1 },
};

/**
 * Work per sequence-step for I inputs, H hidden units, O outputs, output `last`, T steps, P parameters, and the
 * cell's g, b, e, s (CELL_COST):
 *   forward  FLOPs = 2gH(I+H) + bgH + eH              (Wx·x, Wh·h, + biases, the cell's elementwise work)
 *                  + (2HO + 3O)/T                      (the output and the squared error, once per sequence)
 *   gradient FLOPs = forward + 2gH(2H+I) + bgH + eH   (dz, dWx += dz·xᵀ, dWh += dz·hₜ₋₁ᵀ, dbias, dh = Whᵀdz)
 *                  + (4HO + 2O)/T                      (dWy, dby, dh at the last step)
 *   forward  bytes = 4I + (4 + 4O + 8)/T               (read x; per sequence: length, target, loss + overflow rows)
 *   gradient bytes = 8I + 8sH + (4 + 4O + 4(P+2))/T   (x read twice, the states written and read back; rows)
 * Bytes count the traffic to memory with the weights held on chip (registers, workgroup memory or cache), in
 * float32, for the one-invocation-per-sequence algorithm; the reduction's further levels are negligible.
 */
export function stepCost(w: Workload, T: number, phase: Phase): StepCost {
  const { inputSize: I, hiddenSize: H, outputSize: O } = w;
  const { g, b, e, s } = CELL_COST[w.cell];
  const P = g * H * I + g * H * H + b * g * H + O * H + O;
  const fwdFlops = 2 * g * H * (I + H) + b * g * H + e * H + (2 * H * O + 3 * O) / T;
  if (phase === 'forward') return { flops: fwdFlops, bytes: 4 * I + (4 + 4 * O + 8) / T };
  return {
    flops: fwdFlops + 2 * g * H * (2 * H + I) + b * g * H + e * H + (4 * H * O + 2 * O) / T,
    bytes: 8 * I + 8 * s * H + (4 + 4 * O + 4 * (P + 2)) / T,
  };
}

export const COST_FORMULAS = [
  'forward FLOPs/step = 2gH(I+H) + bgH + eH + (2HO + 3O)/T',
  'gradient FLOPs/step = forward + 2gH(2H+I) + bgH + eH + (4HO + 2O)/T',
  'forward bytes/step = 4I + (4 + 4O + 8)/T',
  'gradient bytes/step = 8I + 8sH + (4 + 4O + 4(P+2))/T',
  'per cell (g gate blocks, b bias vectors, e elementwise FLOPs and s stored states per unit): Elman 1, 1, 1, 1; LSTM 4, 2, 9, 2; GRU 3, 2, 8, 1',
];
