// Seeded random models and data for the CPU-reference tests, on src/random.ts's mulberry32 generator, so the
// same cases come up on every run.

import type { CellName } from '../../src/cells/index.ts';
import type { Activation, ModelJSON, OutputMode } from '../../src/model.ts';
import { Rng as BaseRng } from '../../src/random.ts';

/** src/random.ts's generator, plus `pick` for choosing among options. */
export class Rng extends BaseRng {
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
  /** Give the model a nonzero h0 (and, for an LSTM, a nonzero c0). */
  h0?: boolean;
  /** The cell (default elman). LSTM and GRU take activation `tanh`. */
  cell?: CellName;
}

const mat = (rng: Rng, rows: number, cols: number, lo: number, hi: number): number[][] =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.uniform(lo, hi)));
const vec = (rng: Rng, n: number, lo: number, hi: number): number[] =>
  Array.from({ length: n }, () => rng.uniform(lo, hi));

/** A random model with moderate weights (the recurrence neither explodes nor dies over ~10 steps). */
export function randomModelJSON(rng: Rng, s: CaseShape): ModelJSON {
  const { inputSize: I, hiddenSize: H, outputSize: O } = s;
  const whScale = 0.9 / Math.sqrt(H);
  if (s.cell && s.cell !== 'elman') {
    const G = s.cell === 'lstm' ? 4 : 3; // gate rows per unit
    const gated: ModelJSON = {
      cell: s.cell,
      inputSize: I,
      hiddenSize: H,
      outputSize: O,
      activation: 'tanh',
      output: s.output,
      weights: {
        Wx: mat(rng, G * H, I, -1, 1),
        Wh: mat(rng, G * H, H, -whScale, whScale),
        bx: vec(rng, G * H, -0.5, 0.5),
        bh: vec(rng, G * H, -0.5, 0.5),
        Wy: mat(rng, O, H, -1, 1),
        by: vec(rng, O, -0.5, 0.5),
      },
    };
    if (s.h0) gated.h0 = vec(rng, H, -1, 1);
    if (s.h0 && s.cell === 'lstm') gated.c0 = vec(rng, H, -1, 1);
    return gated;
  }
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
export function randomData(
  rng: Rng,
  m: { inputSize: number; outputSize: number; output: OutputMode },
  lengths: number[],
): CaseData {
  const inputs = lengths.map((T) => mat(rng, T, m.inputSize, -1, 1));
  const targets =
    m.output === 'last'
      ? lengths.map(() => vec(rng, m.outputSize, -1, 1))
      : lengths.map((T) => mat(rng, T, m.outputSize, -1, 1));
  return { inputs, targets };
}
