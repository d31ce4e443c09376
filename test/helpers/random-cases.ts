// Seeded random models and data for the tests, on src/random.ts's mulberry32 generator, so the same cases come up
// on every run: randomModelJSON and randomData draw from one stream, and makeCase builds a whole test case (model
// JSON, Model, Batch and the nested data) either from that stream or from src/random.ts's randomModel and
// randomBatch. Also central finite differences of the float64 loss.

import { batchFromArrays, type Batch } from '../../src/batch.ts';
import type { CellName } from '../../src/cells/index.ts';
import { cpuRun } from '../../src/cpu/reference.ts';
import { nestRows } from '../../src/io/nested.ts';
import { modelFromJSON, type Activation, type Model, type ModelJSON, type OutputMode } from '../../src/model.ts';
import { Rng as BaseRng, randomBatch, randomModel } from '../../src/random.ts';
import { independentLossAndGrads } from './independent-rnn.ts';

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

/** What makeCase draws: the model's cell and sizes, the sequences, the initial state and how the values are drawn. */
export interface CaseSpec {
  /** Default elman. */
  cell?: CellName;
  I: number;
  H: number;
  O: number;
  /** LSTM and GRU take tanh. */
  act: Activation;
  out: OutputMode;
  /** N sequences with lengths drawn uniformly from minT (default 1) to maxT … */
  N?: number;
  minT?: number;
  maxT?: number;
  /** … or these lengths (stream cases only). */
  lengths?: readonly number[];
  /**
   * The initial state. `true` (stream cases): h0, and an LSTM's c0, drawn from the stream; a function (cases with
   * `scale`): h0[j] = h0(j). Absent or false: zero.
   */
  h0?: boolean | ((j: number) => number);
  /** An LSTM's c0[j] = c0(j) (cases with `scale`). */
  c0?: (j: number) => number;
  /**
   * Absent: a stream case, one Rng(seed) drawing the model (randomModelJSON's moderate weights), then the lengths
   * (unless given), then the inputs and targets (randomData). Given: src/random.ts's randomModel draws every weight
   * uniformly from [−scale, scale] with `seed`, and randomBatch draws the batch with seed + 1 (float32 values).
   */
  scale?: number;
  /** ReLU stream cases: redraw with seed + 1, seed + 2, … until no pre-activation is within 1e-4 of the kink at 0. */
  kinkFree?: boolean;
}

/** A CaseSpec with N sequences of lengths drawn from minT (default 1) to maxT. */
export interface DrawnCaseSpec extends CaseSpec {
  N: number;
  maxT: number;
}

/** A test case: the model as JSON and as a Model, the batch, and its inputs and targets nested as in data JSON. */
export interface TestCase {
  json: ModelJSON;
  model: Model;
  batch: Batch;
  data: CaseData;
}

/** The batch's inputs and targets as nested arrays (N×T_n×I, and N×O or N×T_n×O). */
export function nestedData(b: Batch): CaseData {
  return {
    inputs: nestRows(b.inputs, b, b.inputSize, 'all') as number[][][],
    targets: nestRows(b.targets!, b, b.outputSize, b.output),
  };
}

/** A seeded test case (see CaseSpec): the same spec and seed give the same model and batch on every run. */
export function makeCase(spec: CaseSpec, seed: number): TestCase {
  const { I, H, O, act, out } = spec;
  const count = (): number => {
    if (spec.N === undefined || spec.maxT === undefined) throw new Error('makeCase: give lengths, or N and maxT');
    return spec.N;
  };
  if (spec.scale !== undefined) {
    if (spec.lengths || spec.kinkFree || spec.h0 === true)
      throw new Error('makeCase: lengths, kinkFree and h0: true are for stream cases (no scale)');
    const json = randomModel({ inputSize: I, hiddenSize: H, outputSize: O }, act, out, seed, spec.scale, spec.cell);
    const { h0, c0 } = spec;
    if (typeof h0 === 'function') json.h0 = Array.from({ length: H }, (_, j) => h0(j));
    if (c0) json.c0 = Array.from({ length: H }, (_, j) => c0(j));
    const batch = randomBatch({
      count: count(),
      inputSize: I,
      outputSize: O,
      output: out,
      minLength: spec.minT ?? 1,
      maxLength: spec.maxT,
      seed: seed + 1,
    });
    let data: CaseData | undefined;
    return {
      json,
      model: modelFromJSON(json),
      batch,
      get data() {
        return (data ??= nestedData(batch));
      },
    };
  }
  if (typeof spec.h0 === 'function' || spec.c0) throw new Error('makeCase: h0 and c0 functions need a scale');
  const shape: CaseShape = {
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    activation: act,
    output: out,
    h0: spec.h0,
    cell: spec.cell,
  };
  for (let attempt = 0; attempt < (spec.kinkFree ? 200 : 1); attempt++) {
    const rng = new Rng(seed + attempt);
    const json = randomModelJSON(rng, shape);
    const lengths = spec.lengths ?? Array.from({ length: count() }, () => rng.int(spec.minT ?? 1, spec.maxT!));
    const data = randomData(rng, json, [...lengths]);
    if (
      spec.kinkFree &&
      act === 'relu' &&
      independentLossAndGrads(json, data.inputs, data.targets).minAbsPreactivation < 1e-4
    )
      continue;
    return { json, model: modelFromJSON(json), batch: batchFromArrays(data.inputs, data.targets, out, O), data };
  }
  throw new Error('makeCase: could not draw a kink-free case');
}

/** Central finite differences of the float64 loss (cpuRun) with respect to every parameter, step h. */
export function finiteDifferences(model: Model, batch: Batch, h = 1e-6): Float64Array {
  const params = Float64Array.from(model.params);
  const m = { ...model, params };
  const out = new Float64Array(params.length);
  for (let p = 0; p < params.length; p++) {
    const saved = params[p];
    params[p] = saved + h;
    const up = cpuRun(m, batch).loss!;
    params[p] = saved - h;
    const down = cpuRun(m, batch).loss!;
    params[p] = saved;
    out[p] = (up - down) / (2 * h);
  }
  return out;
}
