// Seeded random models and data for the tests. Deliberately local (src/random.ts belongs to someone else):
// mulberry32, a small 32-bit generator that is good enough for test cases and gives the same cases on every run.

import type { Activation, ModelJSON, OutputMode } from '../../src/model.ts';

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
}

export interface CaseShape {
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  activation: Activation;
  output: OutputMode;
  /** Give the model a nonzero h0. */
  h0?: boolean;
}

const mat = (rng: Rng, rows: number, cols: number, lo: number, hi: number): number[][] =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.uniform(lo, hi)));
const vec = (rng: Rng, n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => rng.uniform(lo, hi));

/** A random model with moderate weights (the recurrence neither explodes nor dies over ~10 steps). */
export function randomModelJSON(rng: Rng, s: CaseShape): ModelJSON {
  const { inputSize: I, hiddenSize: H, outputSize: O } = s;
  const whScale = 0.9 / Math.sqrt(H);
  const m: ModelJSON = {
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    activation: s.activation,
    output: s.output,
    weights: {
      Wx: mat(rng, H, I, -1, 1),
      Wh: mat(rng, H, H, -whScale, whScale),
      // ReLU: lean positive so most units are alive and gradients flow.
      bh: vec(rng, H, s.activation === 'relu' ? -0.3 : -0.5, s.activation === 'relu' ? 0.8 : 0.5),
      Wy: mat(rng, O, H, -1, 1),
      by: vec(rng, O, -0.5, 0.5),
    },
  };
  if (s.h0) m.h0 = vec(rng, H, -1, 1);
  return m;
}

export interface CaseData {
  inputs: number[][][];
  /** N×O for `last`, N×T_n×O for `all`. */
  targets: number[][] | number[][][];
}

/** Random inputs in [−1, 1] and targets in [−1, 1] for sequences of the given lengths. */
export function randomData(rng: Rng, m: { inputSize: number; outputSize: number; output: OutputMode }, lengths: number[]): CaseData {
  const inputs = lengths.map((T) => mat(rng, T, m.inputSize, -1, 1));
  const targets =
    m.output === 'last' ? lengths.map(() => vec(rng, m.outputSize, -1, 1)) : lengths.map((T) => mat(rng, T, m.outputSize, -1, 1));
  return { inputs, targets };
}
