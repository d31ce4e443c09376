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
  /** Stacked layers (`…x<L>`, default 1) and both directions (`…bi`). */
  numLayers: number;
  bidirectional: boolean;
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
      numLayers: 1,
      bidirectional: false,
      inputSize: 1,
      hiddenSize: 1,
      outputSize: 1,
      activation: 'relu',
      description: "the seed notes' network (H=1, ReLU, w1=1.8, w2=-0.5, w3=1.1)",
    };
  }
  const m = /^(h|lstm|gru)([1-9]\d*)(?:x([1-9]\d*))?(bi)?$/.exec(id);
  if (!m)
    throw new InputError(
      '--workloads',
      `unknown workload "${id}" (known: ${[...WORKLOAD_IDS, ...CELL_WORKLOAD_IDS, ...LAYER_WORKLOAD_IDS].join(', ')}, or h<H>, lstm<H>, gru<H>, with x<layers> and bi)`,
    );
  const H = Number(m[2]);
  if (H > 4096) throw new InputError('--workloads', `workload "${id}": H must be at most 4096`);
  const numLayers = m[3] ? Number(m[3]) : 1;
  if (numLayers > 8) throw new InputError('--workloads', `workload "${id}": at most 8 layers`);
  const bidirectional = m[4] === 'bi';
  const cell: CellName = m[1] === 'h' ? 'elman' : (m[1] as CellName);
  const net = `${numLayers > 1 ? `, ${numLayers} layers` : ''}${bidirectional ? ', bidirectional' : ''}`;
  return {
    id,
    cell,
    numLayers,
    bidirectional,
    inputSize: 1,
    hiddenSize: H,
    outputSize: 1,
    activation: 'tanh',
    description: `${cell === 'elman' ? '' : `${cell.toUpperCase()}, `}H=${H}${net}${cell === 'elman' ? ', tanh' : ''}, random weights in ±1/√H`,
  };
}

/** The default workloads: the seed network and Elman networks. */
export const WORKLOAD_IDS = ['seed', 'h16', 'h64', 'h256'] as const;
/** The gated cells' workloads at H = 64. */
export const CELL_WORKLOAD_IDS = ['lstm64', 'gru64'] as const;
/** Networks: a 2-layer LSTM, a bidirectional GRU and a 3-layer Elman network, at H = 64. */
export const LAYER_WORKLOAD_IDS = ['lstm64x2', 'gru64bi', 'h64x3'] as const;

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
  return randomModel(shape, w.activation, 'last', 1000 + w.hiddenSize, 1 / Math.sqrt(w.hiddenSize), w.cell, {
    numLayers: w.numLayers,
    bidirectional: w.bidirectional,
  });
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
 * cell's g, b, e, s (CELL_COST), for one layer in one direction:
 *   forward  FLOPs = 2gH(I+H) + bgH + eH              (Wx·x, Wh·h, + biases, the cell's elementwise work)
 *                  + (2HO + 3O)/T                      (the output and the squared error, once per sequence)
 *   gradient FLOPs = forward + 2gH(2H+I) + bgH + eH   (dz, dWx += dz·xᵀ, dWh += dz·hₜ₋₁ᵀ, dbias, dh = Whᵀdz)
 *                  + (4HO + 2O)/T                      (dWy, dby, dh at the last step)
 *   forward  bytes = 4I + (4 + 4O + 8)/T               (read x; per sequence: length, target, loss + overflow rows)
 *   gradient bytes = 8I + 8sH + (4 + 4O + 4(P+2))/T   (x read twice, the states written and read back; rows)
 * A network of L layers and D directions sums the recurrent terms over its L·D layer-directions, with I_k = I for
 * the first layer and D·H above; its readout reads D·H values (the HO terms become D·H·O); each layer above the
 * first also writes and reads its input (8D·H bytes with gradients, 4D·H forward). Bytes count the traffic to
 * memory with the weights held on chip (registers, workgroup memory or cache), in float32, for the
 * one-invocation-per-sequence algorithm; the reduction's further levels are negligible.
 */
export function stepCost(w: Workload, T: number, phase: Phase): StepCost {
  const { inputSize: I, hiddenSize: H, outputSize: O, numLayers: L } = w;
  const D = w.bidirectional ? 2 : 1;
  const { g, b, e, s } = CELL_COST[w.cell];
  let fwd = 0;
  let back = 0;
  let P = 0;
  for (let k = 0; k < L * D; k++) {
    const Ik = k < D ? I : D * H;
    fwd += 2 * g * H * (Ik + H) + b * g * H + e * H;
    back += 2 * g * H * (2 * H + Ik) + b * g * H + e * H;
    P += g * H * Ik + g * H * H + b * g * H;
  }
  const HO = D * H * O;
  P += HO + O;
  const fwdFlops = fwd + (2 * HO + 3 * O) / T;
  const between = (L - 1) * D * H;
  if (phase === 'forward') return { flops: fwdFlops, bytes: 4 * I + 4 * between + (4 + 4 * O + 8) / T };
  return {
    flops: fwdFlops + back + (4 * HO + 2 * O) / T,
    bytes: 8 * I + 8 * s * H * L * D + 8 * between + (4 + 4 * O + 4 * (P + 2)) / T,
  };
}

export const COST_FORMULAS = [
  'forward FLOPs/step = 2gH(I+H) + bgH + eH + (2HO + 3O)/T',
  'gradient FLOPs/step = forward + 2gH(2H+I) + bgH + eH + (4HO + 2O)/T',
  'forward bytes/step = 4I + (4 + 4O + 8)/T',
  'gradient bytes/step = 8I + 8sH + (4 + 4O + 4(P+2))/T',
  'per cell (g gate blocks, b bias vectors, e elementwise FLOPs and s stored states per unit): Elman 1, 1, 1, 1; LSTM 4, 2, 9, 2; GRU 3, 2, 8, 1',
  'networks: the recurrent terms summed over layers and directions (inputs D·H above the first layer), readout on D·H',
];
