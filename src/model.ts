// The RNN model: shapes, the cell, the flat parameter layout shared by the CPU reference and the WGSL kernels
// (computed by the model's cell, src/cells/), conversion between nested weights and flat arrays, and the
// `statquest` preset.
//
//   Elman: h_t = act(Wx·x_t + Wh·h_{t-1} + bh),  h_0 = 0 or the model's h0
//   LSTM, GRU: PyTorch's nn.LSTM and nn.GRU (src/cells/lstm.ts, gru.ts), gates stacked in the rows of Wx, Wh, bx, bh
//   y_t = Wy·h_t + by
//
// Elman: Wx is H×I (row = hidden unit), Wh is H×H, bh is H, Wy is O×H, by is O. LSTM: Wx 4H×I, Wh 4H×H, bx and bh
// 4H; GRU: 3H in place of 4H.

import {
  ACTIVATION_CODE,
  cellOf,
  ELMAN_PARAMS,
  layoutOf,
  type CellName,
  type ParamBlock as CellParamBlock,
  type ParamLayout as CellParamLayout,
} from './cells/index.ts';
import type { Activation, Normalization, OutputMode, SeriesInfo, Shape } from './model-types.ts';

export { ACTIVATIONS, LIMITS, OUTPUT_MODES } from './model-types.ts';
export type { Activation, OutputMode, Shape } from './model-types.ts';

/** Nested weights, as in the model JSON file. `bx` is the gated cells' input bias (LSTM, GRU); Elman has none. */
export interface Weights {
  Wx: number[][];
  Wh: number[][];
  bx?: number[];
  bh: number[];
  Wy: number[][];
  by: number[];
}

/** The model JSON format. */
export interface ModelJSON extends Shape {
  /** The recurrent cell: `elman` (the default when absent), `lstm` or `gru`. */
  cell?: CellName;
  /** Elman's hidden activation; LSTM and GRU take `tanh` only (their gates are fixed: σ and tanh). */
  activation: Activation;
  output: OutputMode;
  weights: Weights;
  h0?: number[];
  /** The LSTM's initial cell state (length H); zeros when absent. */
  c0?: number[];
  /** A model fitted to a time series: its columns, window, horizon and split (src/data/series.ts). */
  series?: SeriesInfo;
  /** The inputs' and outputs' normalisation, fitted on the training rows: predictions are mapped back through it. */
  normalization?: Normalization;
}

/** A validated model with its parameters flattened in the canonical order (see `paramLayout`). */
export interface Model extends Shape {
  activation: Activation;
  output: OutputMode;
  /** Trainable parameters: Wx, Wh, bh, Wy, by, row-major, length `paramLayout(shape).count`. */
  params: Float64Array;
  /** Initial hidden state (length H); zeros unless the model gives `h0`. */
  h0: Float64Array;
  /** The LSTM's initial cell state (length H); absent = zeros. Other cells have none. */
  c0?: Float64Array;
  /** The recurrent cell (src/cells/); absent = elman. */
  cell?: CellName;
  /** As in ModelJSON: the series the model was fitted to, and its normalisation. */
  series?: SeriesInfo;
  normalization?: Normalization;
}

/** Elman's parameter blocks in canonical order (src/cells/elman.ts); {@link paramNames} gives any cell's. */
export const PARAM_NAMES = ELMAN_PARAMS;
/** A parameter block's name: `Wx`, `Wh`, `bx` (LSTM, GRU), `bh`, `Wy` or `by`. */
export type ParamName = 'Wx' | 'Wh' | 'bx' | 'bh' | 'Wy' | 'by';

/** The parameter blocks of a model's cell in canonical order: Elman's five, or LSTM's and GRU's six (with `bx`). */
export function paramNames(shape: { cell?: CellName }): ParamName[] {
  return cellOf(shape).blocks.map((b) => b.name as ParamName);
}

/**
 * The initial recurrent state the kernels read after the parameters: h0, then (LSTM) c0, stateVectors·H floats.
 */
export function initialState(model: Model): Float64Array {
  const cell = cellOf(model);
  const H = model.hiddenSize;
  const s = new Float64Array(cell.stateVectors * H);
  s.set(model.h0);
  if (cell.stateVectors > 1 && model.c0) s.set(model.c0, H);
  return s;
}
/** One parameter block in the flat layout: its name, rows, columns and offset. */
export type ParamBlock = CellParamBlock<ParamName>;
/** The flat parameter layout of a shape: every block in canonical order and the total count. */
export type ParamLayout = Omit<CellParamLayout<ParamName>, 'blocks'> & {
  /** Every block by name; `bx` only for LSTM and GRU. */
  blocks: Record<Exclude<ParamName, 'bx'>, ParamBlock> & { bx?: ParamBlock };
};

/**
 * Offsets of each weight block in the flat parameter array, from the model's cell (src/cells/; elman when the shape
 * names none). The WGSL kernels use the same order. `bx` is present for LSTM and GRU only.
 */
export function paramLayout(shape: Shape & { cell?: CellName }): ParamLayout {
  return layoutOf(cellOf(shape), shape) as unknown as ParamLayout;
}

/** Flat parameters (canonical order) from nested weights. Shapes must already be validated. */
export function flattenWeights(shape: Shape & { cell?: CellName }, w: Weights): Float64Array {
  const layout = paramLayout(shape);
  const out = new Float64Array(layout.count);
  for (const b of layout.order) {
    const name = b.name;
    const v = w[name];
    if (b.cols === 0) (v as number[]).forEach((x, r) => (out[b.offset + r] = x));
    else (v as number[][]).forEach((row, r) => row.forEach((x, c) => (out[b.offset + r * b.cols + c] = x)));
  }
  return out;
}

/** Nested weights (same shapes as the model JSON) from a flat array in canonical order. */
export function unflattenParams(shape: Shape & { cell?: CellName }, flat: ArrayLike<number>): Weights {
  const out: Partial<Record<ParamName, number[] | number[][]>> = {};
  for (const b of paramLayout(shape).order) {
    out[b.name] =
      b.cols === 0
        ? Array.from({ length: b.rows }, (_, r) => flat[b.offset + r])
        : Array.from({ length: b.rows }, (_, r) =>
            Array.from({ length: b.cols }, (_, c) => flat[b.offset + r * b.cols + c]),
          );
  }
  return out as unknown as Weights;
}

/** Human-readable name of flat parameter `p`, e.g. `Wx[2][0]` or `by[1]`. */
export function paramName(shape: Shape & { cell?: CellName }, p: number): string {
  const layout = paramLayout(shape);
  for (const b of layout.order) {
    if (p >= b.offset && p < b.offset + b.size) {
      const k = p - b.offset;
      return b.cols === 0 ? `${b.name}[${k}]` : `${b.name}[${Math.floor(k / b.cols)}][${k % b.cols}]`;
    }
  }
  throw new RangeError(`parameter index ${p} is outside the model's ${layout.count} parameters`);
}

/**
 * Models built by this library (modelFromJSON, checkModel in validate.ts): the engine trusts their shape by this
 * private brand, never by the presence of some key, and validates every other object it is given.
 */
const validated = new WeakSet<object>();

/** Marks a model as built by this library (its shape and values already checked). */
export function brandModel<M extends Model>(m: M): M {
  validated.add(m);
  return m;
}

/** True for a model built by modelFromJSON or checkModel (validate.ts). */
export function isValidatedModel(m: unknown): m is Model {
  return typeof m === 'object' && m !== null && validated.has(m);
}

/** Builds a `Model` from already-validated JSON (use `parseModel` in validate.ts for untrusted input). */
export function modelFromJSON(json: ModelJSON): Model {
  const h0 = new Float64Array(json.hiddenSize);
  if (json.h0) h0.set(json.h0);
  const cell = json.cell ?? 'elman';
  return brandModel({
    ...(cell !== 'elman' ? { cell } : {}),
    ...(cell === 'lstm' ? { c0: json.c0 ? Float64Array.from(json.c0) : new Float64Array(json.hiddenSize) } : {}),
    inputSize: json.inputSize,
    hiddenSize: json.hiddenSize,
    outputSize: json.outputSize,
    activation: json.activation,
    output: json.output,
    params: flattenWeights(json, json.weights),
    h0,
    ...(json.series ? { series: json.series } : {}),
    ...(json.normalization ? { normalization: json.normalization } : {}),
  });
}

/** The JSON form of a validated model (nested weights; `h0` only when it is not all zeros). */
export function modelToJSON(model: Model): ModelJSON {
  const json: ModelJSON = {
    ...(model.cell && model.cell !== 'elman' ? { cell: model.cell } : {}),
    inputSize: model.inputSize,
    hiddenSize: model.hiddenSize,
    outputSize: model.outputSize,
    activation: model.activation,
    output: model.output,
    weights: unflattenParams(model, model.params),
  };
  if (model.h0.some((v) => v !== 0)) json.h0 = Array.from(model.h0);
  if (model.c0?.some((v) => v !== 0)) json.c0 = Array.from(model.c0);
  if (model.series) json.series = model.series;
  if (model.normalization) json.normalization = model.normalization;
  return json;
}

/** The seed notes' network: w1 = Wx = 1.8, b1 = bh = 0, w2 = Wh = -0.5, w3 = Wy = 1.1, b2 = by = 0, ReLU. */
export const STATQUEST_JSON: ModelJSON = Object.freeze({
  inputSize: 1,
  hiddenSize: 1,
  outputSize: 1,
  activation: 'relu',
  output: 'last',
  weights: { Wx: [[1.8]], Wh: [[-0.5]], bh: [0], Wy: [[1.1]], by: [0] },
});

/** The named models: `statquest`, the seed notes' network. */
export const PRESETS: Record<string, ModelJSON> = { statquest: STATQUEST_JSON };

/** A model JSON by preset name, deep-copied so callers may edit it. */
export function preset(name: string): ModelJSON {
  const p = PRESETS[name];
  if (!p) throw new Error(`unknown preset "${name}" (known: ${Object.keys(PRESETS).join(', ')})`);
  return JSON.parse(JSON.stringify(p)) as ModelJSON;
}

/** The activation's WGSL override code (ACT in shaders/cells/elman.wgsl). */
export { ACTIVATION_CODE };
