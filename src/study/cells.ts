// The cells' unroll study: how much the far past still counts, for Elman, LSTM and GRU side by side. For one model
// and one sequence x_1..x_T (SSR of the last prediction against a target), for every k steps back it gives, by BPTT
// in float64 with the CPU reference's own cell steps (src/cpu/cells.ts, run one step at a time):
//   - state:  ‖∂SSR/∂s_{T−k}‖₂, the gradient reaching the recurrent state k steps back (s = h, or [h, c] for LSTM),
//             k = 0..T (k = T is the initial state s_0);
//   - input:  ‖∂SSR/∂x_{T−k}‖₂ = ‖Wxᵀ·∂SSR/∂u_{T−k}‖₂, where u = Wx·x (+ the bias added with it) is the input's
//             projection, k = 0..T−1;
//   - wx:     ‖step T−k's term of dSSR/dWx‖ (Frobenius; the terms sum to dSSR/dWx), k = 0..T−1.
// For the notes' Elman network (identity, 1-1-1) the wx term is the unroll study's term k, 2(predicted − target)·
// w3·w2^k·x_{T−k}, and the state gradient 2(predicted − target)·w3·w2^k: the far past vanishes or explodes as w2^k.
// An LSTM whose forget gate is saturated at 1 and input gate at 0 carries c unchanged, and the state gradient stays
// flat: the notes' lesson inverted. This is the float64 CPU study; the input side can also be had through any
// engine (cells-engine.ts), but the state gradient only here (the engine returns parameter gradients only).

import { cellOf, isGated, type CellName } from '../cells/index.ts';
import { cpuCell } from '../cpu/cells.ts';
import { InputError } from '../errors.ts';
import { initialState, paramLayout, type Activation, type Model } from '../model.ts';
import { Rng } from '../random.ts';
import { randomPopulation, zeroModel } from '../train/index.ts';

/** The measures of the study, by name. */
export const CELL_STUDY_MEASURES = ['state', 'input', 'wx'] as const;
export type CellStudyMeasure = (typeof CELL_STUDY_MEASURES)[number];

export interface CellStudyEntry {
  /** How the row is named in reports and plots, e.g. `lstm` or `lstm (saturated)`. */
  label: string;
  model: Model;
  /** An LSTM made by saturatedLstm (plots draw it dashed). */
  saturated?: boolean;
}

export interface CellStudyOptions {
  models: CellStudyEntry[];
  /** Steps T. */
  length: number;
  /**
   * The inputs, oldest first: a function of (step t from 0, input i) or a list of T·I values (row-major); default
   * uniform in [−1, 1] drawn with `seed` (the same draws for every model with the same I).
   */
  inputs?: ArrayLike<number> | ((t: number, i: number) => number);
  /** Seed of the default inputs. Default 1. */
  seed?: number;
  /** The target of every output at the last step. Default 1. */
  target?: number;
}

export interface CellStudyRow {
  label: string;
  /** The entry's `saturated`. */
  saturated: boolean;
  cell: CellName;
  inputSize: number;
  hiddenSize: number;
  /** The inputs x_1..x_T the model saw, row-major T × I. */
  inputs: Float64Array;
  /** y_T, one per output. */
  predicted: Float64Array;
  loss: number;
  /** ‖∂SSR/∂s_{T−k}‖₂ for k = 0..T (k = T: the initial state). */
  state: Float64Array;
  /** ‖∂SSR/∂x_{T−k}‖₂ for k = 0..T−1. */
  input: Float64Array;
  /** Frobenius norm of step T−k's term of dSSR/dWx, k = 0..T−1. */
  wx: Float64Array;
  /** ∂SSR/∂s_{T−k} in full (NSTATE floats each, h first), k = 0..T. */
  dState: Float64Array[];
  /** ∂SSR/∂x_{T−k} in full (I floats each), k = 0..T−1. */
  dInput: Float64Array[];
  /** Σ_k of the step terms of dSSR/dWx: dSSR/dWx in the Wx block's row-major order. */
  dWx: Float64Array;
  /** The forward states s_0..s_T, (T + 1) × NSTATE (s_t at t·NSTATE, h first). */
  states: Float64Array;
}

export interface CellStudy {
  length: number;
  target: number;
  rows: CellStudyRow[];
}

/** The largest T of the study (the CPU reference's sequence limit). */
export const MAX_CELL_STUDY_LENGTH = 1 << 16;

/**
 * An LSTM with its forget gate pushed to 1 and its input gate to 0: bx of the input-gate rows set to −bias and of
 * the forget-gate rows to +bias, bh of both to 0 (PyTorch's row order i, f, g, o). The other weights are `model`'s.
 */
export function saturatedLstm(model: Model, bias: number): Model {
  if (model.cell !== 'lstm')
    throw new InputError('cell', `saturating the gates needs an LSTM, got ${model.cell ?? 'elman'}`);
  if (!Number.isFinite(bias) || bias <= 0)
    throw new InputError('saturation', `must be a finite number > 0, got ${bias}`);
  const H = model.hiddenSize;
  const B = paramLayout(model).blocks;
  const params = model.params.slice();
  for (let j = 0; j < H; j++) {
    params[B.bx!.offset + j] = -bias; // i
    params[B.bx!.offset + H + j] = bias; // f
    params[B.bh.offset + j] = 0;
    params[B.bh.offset + H + j] = 0;
  }
  return { ...model, params };
}

export interface RandomCellsOptions {
  cells: readonly CellName[];
  /** Hidden units H (I = O = 1, output last). */
  hidden: number;
  /** Seed of the weights: every cell draws its weights from this seed (randomPopulation's model 0). */
  seed: number;
  /** Weights uniform in [−scale, scale]. Default 1. */
  scale?: number;
  /** Add the LSTM saturated with this bias after the LSTM (saturatedLstm); 0 or absent: leave it out. */
  saturation?: number;
  /** Elman's activation. Default tanh. */
  activation?: Activation;
}

/** Seeded random models of the cells (1 input, H hidden units, 1 output), labelled, with the saturated LSTM. */
export function randomCellModels(o: RandomCellsOptions): CellStudyEntry[] {
  const entries: CellStudyEntry[] = [];
  const act = o.activation ?? 'tanh';
  for (const cell of o.cells) {
    const base = zeroModel(
      cell,
      { inputSize: 1, hiddenSize: o.hidden, outputSize: 1, output: 'last' },
      cell === 'elman' ? act : 'tanh',
    );
    const model = randomPopulation(base, 1, o.seed, o.scale ?? 1)[0];
    entries.push({ label: cell === 'elman' ? `elman (${act})` : cell, model });
    if (cell === 'lstm' && o.saturation)
      entries.push({ label: 'lstm (saturated)', model: saturatedLstm(model, o.saturation), saturated: true });
  }
  return entries;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k] * v[k];
  return Math.sqrt(s);
}

/** One model's row of the study, in float64. */
export function cellStudyRow(entry: CellStudyEntry, T: number, xs: Float64Array, target: number): CellStudyRow {
  const model = entry.model;
  if (model.output !== 'last')
    throw new InputError(
      `${entry.label}: output`,
      'the study predicts at the last step only: the model needs output "last"',
    );
  if (!Number.isInteger(T) || T < 1 || T > MAX_CELL_STUDY_LENGTH)
    throw new InputError('length', `must be an integer from 1 to ${MAX_CELL_STUDY_LENGTH}, got ${T}`);
  const { inputSize: I, hiddenSize: H, outputSize: O } = model;
  if (xs.length !== T * I)
    throw new InputError('inputs', `${entry.label}: expected ${T}·${I} = ${T * I} values, got ${xs.length}`);
  const w = model.params;
  const L = paramLayout(model).blocks;
  const cell = cpuCell(model, w, (x) => x);
  const S = cell.state;
  const C = cell.cache;
  const ss = new Float64Array((T + 1) * S); // ss[t·S …] = s_t, s_0 the initial state
  ss.set(initialState(model));
  const cache = new Float64Array(Math.max(1, T * C));
  for (let t = 0; t < T; t++) {
    if (!cell.forward(ss, t * S, (t + 1) * S, xs, t * I, cache, t * C)) {
      throw new InputError(
        `${entry.label}`,
        `a pre-activation overflowed at step ${t + 1}; use smaller weights or inputs`,
      );
    }
  }
  // Readout and SSR at the last step; dS = ∂SSR/∂s_T (its h part through Wy).
  const predicted = new Float64Array(O);
  let loss = 0;
  let dS = new Float64Array(S);
  let dPrev = new Float64Array(S);
  for (let o = 0; o < O; o++) {
    let y = w[L.by.offset + o];
    for (let j = 0; j < H; j++) y += w[L.Wy.offset + o * H + j] * ss[T * S + j];
    predicted[o] = y;
    loss += (y - target) ** 2;
    for (let j = 0; j < H; j++) dS[j] += w[L.Wy.offset + o * H + j] * 2 * (y - target);
  }
  // Back through time one step at a time, each step's parameter gradients in a fresh array: its Wx block is the
  // step's term of dSSR/dWx, and the bias added with Wx·x (bx for the gated cells, bh for Elman) is ∂SSR/∂u_t.
  const inputBias = isGated(cellOf(model)) ? L.bx! : L.bh;
  const g = new Float64Array(paramLayout(model).count);
  const dState: Float64Array[] = [];
  const dInput: Float64Array[] = [];
  const state = new Float64Array(T + 1);
  const input = new Float64Array(T);
  const wx = new Float64Array(T);
  const dWx = new Float64Array(L.Wx.size);
  for (let t = T - 1; t >= 0; t--) {
    const k = T - 1 - t;
    dState.push(dS.slice());
    state[k] = norm(dS);
    g.fill(0);
    cell.backward(dS, ss, t * S, (t + 1) * S, xs, t * I, cache, t * C, g, dPrev);
    const term = g.subarray(L.Wx.offset, L.Wx.offset + L.Wx.size);
    wx[k] = norm(term);
    for (let p = 0; p < term.length; p++) dWx[p] += term[p];
    const dx = new Float64Array(I);
    for (let q = 0; q < L.Wx.rows; q++) {
      const du = g[inputBias.offset + q];
      for (let i = 0; i < I; i++) dx[i] += w[L.Wx.offset + q * I + i] * du;
    }
    dInput.push(dx);
    input[k] = norm(dx);
    [dS, dPrev] = [dPrev, dS];
  }
  dState.push(dS.slice());
  state[T] = norm(dS);
  return {
    label: entry.label,
    saturated: !!entry.saturated,
    cell: model.cell ?? 'elman',
    inputSize: I,
    hiddenSize: H,
    inputs: xs,
    predicted,
    loss,
    state,
    input,
    wx,
    dState,
    dInput,
    dWx,
    states: ss,
  };
}

/** The inputs for a model with I inputs: the given list or function, or seeded uniform draws in [−1, 1]. */
export function studyInputs(opts: Pick<CellStudyOptions, 'inputs' | 'seed'>, T: number, I: number): Float64Array {
  const src = opts.inputs;
  if (typeof src === 'function') return Float64Array.from({ length: T * I }, (_, p) => src(Math.floor(p / I), p % I));
  if (src !== undefined) {
    if (src.length !== T * I)
      throw new InputError('inputs', `expected T·I = ${T}·${I} = ${T * I} values, got ${src.length}`);
    return Float64Array.from(src);
  }
  const rng = new Rng(opts.seed ?? 1);
  return Float64Array.from({ length: T * I }, () => rng.uniform(-1, 1));
}

/** The study for every model: each sees the same T, inputs (per input size) and target. */
export function cellStudy(opts: CellStudyOptions): CellStudy {
  if (!opts.models.length) throw new InputError('models', 'give at least one model');
  const target = opts.target ?? 1;
  if (!Number.isFinite(target)) throw new InputError('target', `must be finite, got ${target}`);
  const rows = opts.models.map((e) => {
    const xs = studyInputs(opts, opts.length, e.model.inputSize);
    xs.forEach((v, p) => {
      if (!Number.isFinite(v)) throw new InputError(`inputs[${p}]`, `must be finite, got ${v}`);
    });
    return cellStudyRow(e, opts.length, xs, target);
  });
  return { length: opts.length, target, rows };
}

/** A study's per-k norms without the full vectors: what a plot or table needs, small enough to post between threads. */
export interface CellStudyNorms {
  length: number;
  target: number;
  rows: Pick<
    CellStudyRow,
    'label' | 'saturated' | 'cell' | 'hiddenSize' | 'predicted' | 'loss' | 'state' | 'input' | 'wx'
  >[];
}

/** `study` without its full gradient vectors and states. */
export function cellStudyNorms(study: CellStudy): CellStudyNorms {
  return {
    length: study.length,
    target: study.target,
    rows: study.rows.map(({ label, saturated, cell, hiddenSize, predicted, loss, state, input, wx }) => ({
      label,
      saturated,
      cell,
      hiddenSize,
      predicted,
      loss,
      state,
      input,
      wx,
    })),
  };
}

/** The study of `randomCellModels(models)` over `length` steps of seeded inputs, as norms (the page's CPU worker job). */
export function randomCellStudyNorms(models: RandomCellsOptions, length: number, seed: number): CellStudyNorms {
  return cellStudyNorms(cellStudy({ models: randomCellModels(models), length, seed }));
}

/**
 * How a measure changes per step back, on average from k = `from` to k = `to`: (|m_to| / |m_from|)^(1/(to − from)),
 * with a verdict: `vanishes` below 0.99, `explodes` above 1.01, `flat` between (null where m_from is 0 or to ≤ from).
 * The state gradient is taken from k = 1 (s_{T−1}) to k = T (s_0): at k = 0 an LSTM's c part is still 0.
 */
export function perStepFactor(
  m: ArrayLike<number>,
  from: number,
  to: number,
): { factor: number; verdict: 'vanishes' | 'explodes' | 'flat' } | null {
  const first = Math.abs(m[from]);
  const last = Math.abs(m[to]);
  if (to <= from || !(first > 0) || !Number.isFinite(last)) return null;
  const factor = (last / first) ** (1 / (to - from));
  return { factor, verdict: factor < 0.99 ? 'vanishes' : factor > 1.01 ? 'explodes' : 'flat' };
}

/** The range of k over which perStepFactor summarises a measure of a study of T steps. */
export function factorRange(measure: CellStudyMeasure, T: number): [number, number] {
  return measure === 'state' ? [1, T] : [0, T - 1];
}
