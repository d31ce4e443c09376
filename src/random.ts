// Seeded, deterministic random models and batches for tests, benchmarks and `webgpu-rnn gen-data`.
//
// The generator is mulberry32 (32-bit state, period 2^32): tiny, fast and identical on every platform, so a seed
// names one data set forever. Every value it produces for models and batches is rounded to float32 (Math.fround),
// so the WebGPU backend (float32) sees exactly the numbers the float64 CPU reference sees, and a batch survives a
// round trip through the binary `.rnnb` format (float32) unchanged.

import { offsetsFromLengths, type Batch } from './batch.ts';
import type { Activation, ModelJSON, OutputMode, Shape } from './model.ts';

/** A deterministic source of random numbers (mulberry32). */
export class Rng {
  private state: number;

  /** `seed` is any number; it is reduced to 32 bits (`seed >>> 0`), so seeds that differ by 2^32 coincide. */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }

  /** A float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [lo, hi], both ends included (hi − lo < 2^32). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}

/** mulberry32 as a plain function: returns a generator of floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/**
 * A random model: every weight and bias drawn uniformly from [−scale, scale] and rounded to float32.
 * Deterministic: the same arguments give the same model. Draw order: Wx, Wh, bh, Wy, by (row-major), no h0.
 * The default scale 0.5 keeps ReLU/tanh recurrences of a few hundred steps well away from overflow for H ≤ 16.
 */
export function randomModel(shape: Shape, activation: Activation, output: OutputMode, seed: number, scale = 0.5): ModelJSON {
  const rng = new Rng(seed);
  const { inputSize: I, hiddenSize: H, outputSize: O } = shape;
  const value = (): number => Math.fround(rng.uniform(-scale, scale));
  const mat = (rows: number, cols: number): number[][] => Array.from({ length: rows }, () => Array.from({ length: cols }, value));
  const vec = (n: number): number[] => Array.from({ length: n }, value);
  const Wx = mat(H, I);
  const Wh = mat(H, H);
  const bh = vec(H);
  const Wy = mat(O, H);
  const by = vec(O);
  return { inputSize: I, hiddenSize: H, outputSize: O, activation, output, weights: { Wx, Wh, bh, Wy, by } };
}

export interface RandomBatchOptions {
  /** Number of sequences (≥ 1). */
  count: number;
  inputSize: number;
  outputSize: number;
  /** `last`: one target per sequence; `all`: one per step. */
  output: OutputMode;
  /** Shortest sequence (≥ 1). Default 1. */
  minLength?: number;
  /** Longest sequence (≥ minLength). Default minLength. */
  maxLength?: number;
  seed: number;
  /** Draw targets too. Default true. */
  withTargets?: boolean;
  /** Inputs and targets are drawn uniformly from [−scale, scale]. Default 1. */
  scale?: number;
}

/**
 * A random batch with float64 arrays whose values are float32-representable. Deterministic. Draw order: all
 * lengths (uniform integers in [minLength, maxLength]), then all inputs, then all targets, so switching
 * `withTargets` off leaves lengths and inputs unchanged.
 */
export function randomBatch(opts: RandomBatchOptions): Batch {
  const { count, inputSize: I, outputSize: O, output, seed } = opts;
  const minLength = opts.minLength ?? 1;
  const maxLength = opts.maxLength ?? minLength;
  const scale = opts.scale ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  if (!Number.isInteger(minLength) || minLength < 1) throw new RangeError(`minLength must be a positive integer, got ${minLength}`);
  if (!Number.isInteger(maxLength) || maxLength < minLength) {
    throw new RangeError(`maxLength must be an integer ≥ minLength (${minLength}), got ${maxLength}`);
  }
  if (maxLength > 0xffffffff) throw new RangeError(`maxLength must be below 2^32, got ${maxLength}`);
  const rng = new Rng(seed);
  const lengths = new Uint32Array(count);
  for (let n = 0; n < count; n++) lengths[n] = rng.int(minLength, maxLength);
  const offsets = offsetsFromLengths(lengths);
  const steps = offsets[count];
  const inputs = new Float64Array(steps * I);
  for (let k = 0; k < inputs.length; k++) inputs[k] = Math.fround(rng.uniform(-scale, scale));
  let targets: Float64Array | null = null;
  if (opts.withTargets ?? true) {
    targets = new Float64Array((output === 'last' ? count : steps) * O);
    for (let k = 0; k < targets.length; k++) targets[k] = Math.fround(rng.uniform(-scale, scale));
  }
  return { count, inputSize: I, outputSize: O, output, lengths, offsets, inputs, targets };
}
