// Inter-layer dropout (PyTorch's `dropout` of nn.RNN/LSTM/GRU, applied in training only): a stacked network's
// layers above the first read their input (the outputs of the layer below) through a mask that zeroes each value
// with probability p and scales the kept ones by 1/(1 − p). The mask is a pure function of the seed, the layer,
// the sequence's index in the batch, the step and the unit, through a 32-bit integer hash that the WGSL kernels
// compute with the same integer operations (shaders/per_sequence/layer.wgsl `dropKeep`), so the CPU reference and
// WebGPU drop the same values for the same seed.

import { InputError } from './errors.ts';

/** Dropout of one run: probability p in [0, 1) and a 32-bit seed (the trainers derive one per step and model). */
export interface Dropout {
  p: number;
  seed: number;
}

/** A 32-bit mixing function (Wellons' lowbias32): every input bit affects every output bit. */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The hash below which a value is dropped: ⌊p·2³²⌋ (0 for p = 0: nothing is dropped). */
export function dropThreshold(p: number): number {
  return Math.min(0xffffffff, Math.floor(p * 4294967296));
}

/** True when input `unit` of layer `layer` (≥ 1) at step t of sequence n (its index in the batch) is kept. */
export function dropKeep(seed: number, layer: number, n: number, t: number, unit: number, threshold: number): boolean {
  let h = mix32(seed >>> 0);
  h = mix32((h ^ layer) >>> 0);
  h = mix32((h ^ n) >>> 0);
  h = mix32((h ^ t) >>> 0);
  h = mix32((h ^ unit) >>> 0);
  return h >= threshold;
}

/** The seed of training step `step` of population model `model` under the run's seed. */
export function stepSeed(seed: number, step: number, model: number): number {
  return mix32((mix32((mix32(seed >>> 0) ^ step) >>> 0) ^ model) >>> 0);
}

/** Validates RunOptions.dropout: p in [0, 1), seed an integer in [0, 2³²). */
export function checkDropout(d: unknown): Dropout | undefined {
  if (d === undefined) return undefined;
  if (d === null || typeof d !== 'object') throw new InputError('dropout', 'must be an object { p, seed }', 'options');
  const { p, seed } = d as Record<string, unknown>;
  if (typeof p !== 'number' || !(p >= 0 && p < 1))
    throw new InputError('dropout.p', `must be a number in [0, 1), got ${String(p)}`, 'options');
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new InputError('dropout.seed', `must be an integer from 0 to 4294967295, got ${String(seed)}`, 'options');
  return { p, seed };
}
