// Seeded synthetic tasks: the next value of a noisy sine wave, and the adding problem (Hochreiter & Schmidhuber,
// 1997). Every value is rounded to float32 (as src/random.ts does), so the WebGPU backend sees exactly the numbers
// the float64 CPU reference sees.

import { offsetsFromLengths, type Batch } from '../batch.ts';
import { InputError } from '../errors.ts';
import { LIMITS } from '../model.ts';
import { Rng } from '../random.ts';
import type { DataSet } from './dataset.ts';

function positiveInt(v: number, field: string, min = 1): number {
  if (!Number.isSafeInteger(v) || v < min) throw new InputError(field, `must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/** A sequence length within the engine's step limit. */
function stepCount(v: number, field: string, min = 1): number {
  positiveInt(v, field, min);
  if (v > LIMITS.maxSteps) throw new InputError(field, `a sequence may have at most ${LIMITS.maxSteps} steps, got ${v}`);
  return v;
}

/** Refuses, before allocating, a data set with more values than one typed array holds (2^32). */
function checkValues(count: number, length: number, width: number): void {
  if (count * length * width > 2 ** 32) {
    throw new InputError('count', `${count} sequences of ${length} steps need ${count * length * width} input values, more than one array can hold (${2 ** 32})`);
  }
}

function nonNegative(v: number, field: string): number {
  if (!Number.isFinite(v) || v < 0) throw new InputError(field, `must be a finite number ≥ 0, got ${v}`);
  return v;
}

/** A standard normal draw (Box–Muller, one value per pair of uniforms; deterministic per Rng). */
function gaussian(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1]
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export interface SineOptions {
  /** Number of windows (sequences). */
  count: number;
  /** Window length T (steps read before predicting). */
  length: number;
  seed: number;
  /** Standard deviation of the Gaussian noise added to every value. Default 0.05. */
  noise?: number;
  /** Steps per period of the sine. Default 16. */
  period?: number;
  /** Default 1. */
  amplitude?: number;
}

/**
 * Next-value prediction on a noisy sine: window n reads x_t = A·sin(φ_n + 2πt/period) + ε_t for t = 0..T−1 and
 * its target is x_T, the next (noisy) value. φ_n is uniform in [0, 2π) and ε ~ N(0, noise²), drawn in the order
 * φ_n, ε_0 … ε_T for each window from Rng(seed). Windows are independent (timeOrdered false).
 */
export function sineData(opts: SineOptions): DataSet {
  const N = positiveInt(opts.count, 'count');
  const T = stepCount(opts.length, 'length');
  checkValues(N, T, 1);
  const noise = nonNegative(opts.noise ?? 0.05, 'noise');
  const period = opts.period ?? 16;
  if (!Number.isFinite(period) || period <= 0) throw new InputError('period', `must be a finite number > 0, got ${period}`);
  const A = opts.amplitude ?? 1;
  if (!Number.isFinite(A)) throw new InputError('amplitude', `must be finite, got ${A}`);
  const rng = new Rng(opts.seed);
  const lengths = new Uint32Array(N).fill(T);
  const inputs = new Float64Array(N * T);
  const targets = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const phase = 2 * Math.PI * rng.next();
    for (let t = 0; t <= T; t++) {
      const v = Math.fround(A * Math.sin(phase + (2 * Math.PI * t) / period) + noise * gaussian(rng));
      if (t < T) inputs[n * T + t] = v;
      else targets[n] = v;
    }
  }
  const batch: Batch = { count: N, inputSize: 1, outputSize: 1, output: 'last', lengths, offsets: offsetsFromLengths(lengths), inputs, targets };
  return {
    name: 'sine',
    description: `next value of a noisy sine (period ${period}, amplitude ${A}, noise σ ${noise}): ${N} windows of ${T} steps, seed ${opts.seed}`,
    batch,
    suggest: { inputSize: 1, outputSize: 1, output: 'last', hiddenSize: 8, activation: 'tanh' },
    timeOrdered: false,
    gap: 0,
  };
}

export interface AddingOptions {
  count: number;
  /** Sequence length T ≥ 2. */
  length: number;
  seed: number;
}

/**
 * The adding problem: each step has I = 2 inputs (value, marker). Values are uniform in [0, 1); exactly two steps
 * carry marker 1, one in the first half (t < ⌈T/2⌉) and one in the second half, the rest marker 0. The target is
 * the sum of the two marked values. Draw order per sequence: the T values, then the two marker positions.
 */
export function addingData(opts: AddingOptions): DataSet {
  const N = positiveInt(opts.count, 'count');
  const T = stepCount(opts.length, 'length', 2);
  checkValues(N, T, 2);
  const rng = new Rng(opts.seed);
  const lengths = new Uint32Array(N).fill(T);
  const inputs = new Float64Array(N * T * 2);
  const targets = new Float64Array(N);
  const half = Math.ceil(T / 2);
  for (let n = 0; n < N; n++) {
    const base = n * T * 2;
    for (let t = 0; t < T; t++) inputs[base + 2 * t] = Math.fround(rng.next());
    const a = rng.int(0, half - 1);
    const b = rng.int(half, T - 1);
    inputs[base + 2 * a + 1] = 1;
    inputs[base + 2 * b + 1] = 1;
    targets[n] = Math.fround(inputs[base + 2 * a] + inputs[base + 2 * b]);
  }
  const batch: Batch = { count: N, inputSize: 2, outputSize: 1, output: 'last', lengths, offsets: offsetsFromLengths(lengths), inputs, targets };
  return {
    name: 'adding',
    description: `the adding problem: ${N} sequences of ${T} steps (value, marker), target the sum of the two marked values, seed ${opts.seed}`,
    batch,
    suggest: { inputSize: 2, outputSize: 1, output: 'last', hiddenSize: 8, activation: 'tanh' },
    timeOrdered: false,
    gap: 0,
  };
}
