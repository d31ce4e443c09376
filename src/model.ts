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
//
// Stacked and bidirectional models (numLayers > 1 or bidirectional, PyTorch's num_layers and bidirectional) hold
// numLayers·D recurrent layers (D = 2 directions when bidirectional) in PyTorch's order l0, l0_reverse, l1, …;
// layer k > 0 reads the D·H outputs of the layer below, and the readout Wy (O×D·H) reads the top layer's
// [h_fwd; h_rev]. Their flat layout is every layer's cell blocks in that order, then Wy, by (layeredLayout).

import {
  ACTIVATION_CODE,
  cellOf,
  ELMAN_PARAMS,
  extent,
  layoutOf,
  type CellName,
  type ParamBlock as CellParamBlock,
  type ParamLayout as CellParamLayout,
} from './cells/index.ts';
import type { Activation, Normalization, OutputMode, SeriesInfo, Shape } from './model-types.ts';

export { ACTIVATIONS, LIMITS, OUTPUT_MODES } from './model-types.ts';
export type { Activation, OutputMode, Shape } from './model-types.ts';

/**
 * Nested weights, as in the model JSON file. `bx` is the gated cells' input bias (LSTM, GRU); Elman has none.
 * A stacked or bidirectional model (see {@link isLayered}) has the layered form instead: `layers`, `Wy` (O×D·H) and
 * `by`, and no Wx, Wh, bx or bh at the top level (see {@link LayeredWeights}).
 */
export interface Weights {
  Wx: number[][];
  Wh: number[][];
  bx?: number[];
  bh: number[];
  Wy: number[][];
  by: number[];
  /** The layered form's recurrent layers (then Wx, Wh, bx and bh are absent). */
  layers?: LayerWeights[];
}

/**
 * One recurrent layer of one direction in the layered form: PyTorch's `weight_ih_l{k}[_reverse]` (Wx, gH×I for
 * layer 0, gH×D·H above), `weight_hh_…` (Wh, gH×H), `bias_ih_…` (bx) and `bias_hh_…` (bh), as they are. Elman
 * layers may give `bx` (absent: zeros); their pre-activation only sees bx + bh, so it is added into bh when the
 * model is read, and the model keeps (and writes back) bh alone.
 */
export interface LayerWeights {
  Wx: number[][];
  Wh: number[][];
  bx?: number[];
  bh: number[];
}

/** The layered form of the weights: numLayers·D layers in PyTorch's order, then the readout on [h_fwd; h_rev]. */
export interface LayeredWeights {
  layers: LayerWeights[];
  Wy: number[][];
  by: number[];
}

/** The stacking of a model: numLayers (absent: 1) recurrent layers, each one direction or both. */
export interface LayerShape {
  /** Recurrent layers stacked, 1 to LIMITS.maxLayers; absent = 1. */
  numLayers?: number;
  /** Each layer runs forward and in reverse over the sequence (PyTorch's bidirectional); absent = false. */
  bidirectional?: boolean;
}

/** The model JSON format. */
export interface ModelJSON extends Shape {
  /** The recurrent cell: `elman` (the default when absent), `lstm` or `gru`. */
  cell?: CellName;
  /** Elman's hidden activation; LSTM and GRU take `tanh` only (their gates are fixed: σ and tanh). */
  activation: Activation;
  output: OutputMode;
  weights: Weights;
  /**
   * Recurrent layers stacked (PyTorch's num_layers), 1 to LIMITS.maxLayers; default 1. Above 1, or with
   * `bidirectional`, the weights are in the layered form and h0, c0 are lists of numLayers·D vectors.
   */
  numLayers?: number;
  /** Both directions in every layer (PyTorch's bidirectional); default false. */
  bidirectional?: boolean;
  /** The initial hidden state: H values, or (layered form) numLayers·D vectors of H in the order of `layers`. */
  h0?: number[] | number[][];
  /** The LSTM's initial cell state (length H, or numLayers·D vectors of H); zeros when absent. */
  c0?: number[] | number[][];
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
  /** Initial hidden state (length H; numLayers·D·H for a layered model, layer after layer); zeros unless given. */
  h0: Float64Array;
  /** The LSTM's initial cell state (length as h0); absent = zeros. Other cells have none. */
  c0?: Float64Array;
  /** The recurrent cell (src/cells/); absent = elman. */
  cell?: CellName;
  /** Stacked layers; present (with `bidirectional`) only on a layered model (see {@link isLayered}). */
  numLayers?: number;
  /** Both directions per layer; present only on a layered model. */
  bidirectional?: boolean;
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
 * The name results and messages give a parameter block: `Wx`, …, `by` for one layer in one direction; `layers[k].Wx`,
 * … for a layer of a stacked or bidirectional model (its readout stays `Wy`, `by`).
 */
export function blockName(b: ParamBlock): string {
  return b.layer === undefined ? b.name : `layers[${b.layer}].${b.name}`;
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
/**
 * One parameter block in the flat layout: its name, rows, columns and offset; in a layered model's layout, the
 * recurrent blocks also carry `layer`, their index in `layers` (PyTorch's order).
 */
export type ParamBlock = CellParamBlock<ParamName> & { layer?: number };
/** The flat parameter layout of a shape: every block in canonical order and the total count. */
export type ParamLayout = Omit<CellParamLayout<ParamName>, 'blocks' | 'order'> & {
  /** Every block by name; `bx` only for LSTM and GRU. A layered layout has layer 0's recurrent blocks here. */
  blocks: Record<Exclude<ParamName, 'bx'>, ParamBlock> & { bx?: ParamBlock };
  order: ParamBlock[];
  /** A layered model's recurrent layers in PyTorch's order (absent for one layer, one direction). */
  layers?: LayerLayout[];
};

/** One recurrent layer of one direction in the flat layout: its cell blocks, contiguous, in the cell's order. */
export interface LayerLayout {
  /** Position in PyTorch's order l0, l0_reverse, l1, …: layer·D + (reverse ? 1 : 0). */
  index: number;
  /** The layer, 0 at the input. */
  layer: number;
  reverse: boolean;
  /** What the layer reads per step: I for layer 0, D·H above. */
  inputSize: number;
  /** Flat index of the layer's first parameter, and its parameter count. */
  offset: number;
  size: number;
  /** The layer's blocks (offsets into the whole flat array); `bx` for LSTM and GRU. */
  blocks: Record<'Wx' | 'Wh' | 'bh', ParamBlock> & { bx?: ParamBlock };
}

/** True for a stacked or bidirectional model (numLayers > 1 or bidirectional): the layered form and layout. */
export function isLayered(m: LayerShape): boolean {
  return (m.numLayers ?? 1) > 1 || m.bidirectional === true;
}

/** Directions per layer: 2 for a bidirectional model, else 1. */
export function directions(m: LayerShape): 1 | 2 {
  return m.bidirectional === true ? 2 : 1;
}

/** Recurrent layers counted per direction, numLayers·D: the entries of `weights.layers`, h0 and final states. */
export function layerCount(m: LayerShape): number {
  return (m.numLayers ?? 1) * directions(m);
}

/**
 * Offsets of each weight block in the flat parameter array, from the model's cell (src/cells/; elman when the shape
 * names none). The WGSL kernels use the same order. `bx` is present for LSTM and GRU only. For a layered shape
 * (numLayers > 1 or bidirectional), see {@link layeredLayout}.
 */
export function paramLayout(shape: Shape & { cell?: CellName } & LayerShape): ParamLayout {
  if (isLayered(shape)) return layeredLayout(shape);
  return layoutOf(cellOf(shape), shape) as unknown as ParamLayout;
}

/**
 * The flat layout of a stacked or bidirectional model, from the cell's descriptor: for every layer and direction
 * in PyTorch's order (l0, l0_reverse, l1, …), the cell's recurrent blocks in the cell's order (layer 0's Wx gH×I,
 * the others' gH×D·H), then the readout blocks on the top layer's D·H outputs (Wy O×D·H, by O). `blocks` holds
 * layer 0's recurrent blocks and the readout's; `layers` every layer's.
 */
export function layeredLayout(shape: Shape & { cell?: CellName } & LayerShape): ParamLayout {
  const cell = cellOf(shape);
  const { hiddenSize: H, outputSize: O } = shape;
  const D = directions(shape);
  const order: ParamBlock[] = [];
  const layers: LayerLayout[] = [];
  let offset = 0;
  const place = (spec: (typeof cell.blocks)[number], sizes: Shape, layer?: number): ParamBlock => {
    const rows = extent(spec.rows, sizes);
    const cols = spec.cols ? extent(spec.cols, sizes) : 0;
    const block: ParamBlock = {
      name: spec.name as ParamName,
      offset,
      rows,
      cols,
      size: spec.cols ? rows * cols : rows,
      ...(layer === undefined ? {} : { layer }),
    };
    order.push(block);
    offset += block.size;
    return block;
  };
  for (let k = 0; k < layerCount(shape); k++) {
    const layer = Math.floor(k / D);
    const inputSize = layer === 0 ? shape.inputSize : D * H;
    const start = offset;
    const blocks: Partial<Record<ParamName, ParamBlock>> = {};
    for (const spec of cell.blocks)
      if (spec.role === 'cell')
        blocks[spec.name as ParamName] = place(spec, { inputSize, hiddenSize: H, outputSize: O }, k);
    layers.push({
      index: k,
      layer,
      reverse: k % D === 1,
      inputSize,
      offset: start,
      size: offset - start,
      blocks: blocks as LayerLayout['blocks'],
    });
  }
  const recurrent = offset;
  const readout: Partial<Record<ParamName, ParamBlock>> = {};
  for (const spec of cell.blocks)
    if (spec.role === 'readout')
      readout[spec.name as ParamName] = place(spec, { inputSize: shape.inputSize, hiddenSize: D * H, outputSize: O });
  return {
    blocks: { ...layers[0].blocks, ...readout } as ParamLayout['blocks'],
    order,
    count: offset,
    recurrent,
    layers,
  };
}

/**
 * Every recurrent layer of a model in PyTorch's order: a layered model's `layers`, or for one layer and one
 * direction the one layer at offset 0 (the cell blocks that come first in the flat layout).
 */
export function layerLayouts(shape: Shape & { cell?: CellName } & LayerShape): LayerLayout[] {
  const L = paramLayout(shape);
  if (L.layers) return L.layers;
  const blocks: Partial<Record<ParamName, ParamBlock>> = {};
  for (const b of L.order) if (b.offset < L.recurrent) blocks[b.name] = b;
  return [
    {
      index: 0,
      layer: 0,
      reverse: false,
      inputSize: shape.inputSize,
      offset: 0,
      size: L.recurrent,
      blocks: blocks as LayerLayout['blocks'],
    },
  ];
}

/** Flat parameters (canonical order) from nested weights. Shapes must already be validated. */
export function flattenWeights(shape: Shape & { cell?: CellName } & LayerShape, w: Weights): Float64Array {
  const layout = paramLayout(shape);
  const out = new Float64Array(layout.count);
  for (const b of layout.order) {
    const name = b.name;
    const src = b.layer === undefined ? (w as unknown as Record<string, unknown>) : w.layers![b.layer];
    const v = (src as Record<string, unknown>)[name];
    if (b.cols === 0) (v as number[]).forEach((x, r) => (out[b.offset + r] = x));
    else (v as number[][]).forEach((row, r) => row.forEach((x, c) => (out[b.offset + r * b.cols + c] = x)));
  }
  // Elman layers: a given bx (PyTorch's bias_ih) adds to bh, the one bias the cell has.
  for (const l of layout.layers ?? [])
    if (!l.blocks.bx && w.layers![l.index].bx)
      w.layers![l.index].bx!.forEach((x, r) => (out[l.blocks.bh.offset + r] += x));
  return out;
}

/** Nested weights (same shapes as the model JSON) from a flat array in canonical order. */
export function unflattenParams(shape: Shape & { cell?: CellName } & LayerShape, flat: ArrayLike<number>): Weights {
  const out: Partial<Record<ParamName, number[] | number[][]>> = {};
  const layout = paramLayout(shape);
  const layers = layout.layers?.map((): Partial<Record<ParamName, number[] | number[][]>> => ({}));
  for (const b of layout.order) {
    (b.layer === undefined ? out : layers![b.layer])[b.name] =
      b.cols === 0
        ? Array.from({ length: b.rows }, (_, r) => flat[b.offset + r])
        : Array.from({ length: b.rows }, (_, r) =>
            Array.from({ length: b.cols }, (_, c) => flat[b.offset + r * b.cols + c]),
          );
  }
  return (layers ? { layers, ...out } : out) as unknown as Weights;
}

/** Human-readable name of flat parameter `p`, e.g. `Wx[2][0]`, `by[1]` or (layered) `layers[3].Wh[0][1]`. */
export function paramName(shape: Shape & { cell?: CellName } & LayerShape, p: number): string {
  const layout = paramLayout(shape);
  for (const b of layout.order) {
    if (p >= b.offset && p < b.offset + b.size) {
      const k = p - b.offset;
      const name = blockName(b);
      return b.cols === 0 ? `${name}[${k}]` : `${name}[${Math.floor(k / b.cols)}][${k % b.cols}]`;
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
  if (isLayered(json)) return layeredModelFromJSON(json);
  const h0 = new Float64Array(json.hiddenSize);
  if (json.h0) h0.set(json.h0 as number[]);
  const cell = json.cell ?? 'elman';
  return brandModel({
    ...(cell !== 'elman' ? { cell } : {}),
    ...(cell === 'lstm'
      ? { c0: json.c0 ? Float64Array.from(json.c0 as number[]) : new Float64Array(json.hiddenSize) }
      : {}),
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

/** numLayers·D initial-state vectors of H (the layered form's h0, c0) as one flat array; absent = zeros. */
function flatStates(v: number[] | number[][] | undefined, K: number, H: number): Float64Array {
  const out = new Float64Array(K * H);
  (v as number[][] | undefined)?.forEach((row, k) => out.set(row, k * H));
  return out;
}

/** modelFromJSON for a stacked or bidirectional model (validated JSON in the layered form). */
function layeredModelFromJSON(json: ModelJSON): Model {
  const cell = json.cell ?? 'elman';
  const K = layerCount(json);
  const H = json.hiddenSize;
  return brandModel({
    ...(cell !== 'elman' ? { cell } : {}),
    ...(cell === 'lstm' ? { c0: flatStates(json.c0, K, H) } : {}),
    numLayers: json.numLayers ?? 1,
    bidirectional: json.bidirectional === true,
    inputSize: json.inputSize,
    hiddenSize: H,
    outputSize: json.outputSize,
    activation: json.activation,
    output: json.output,
    params: flattenWeights(json, json.weights),
    h0: flatStates(json.h0, K, H),
    ...(json.series ? { series: json.series } : {}),
    ...(json.normalization ? { normalization: json.normalization } : {}),
  });
}

/** A flat array of numLayers·D vectors of H as nested vectors. */
function nestedStates(v: Float64Array, H: number): number[][] {
  return Array.from({ length: v.length / H }, (_, k) => Array.from(v.subarray(k * H, (k + 1) * H)));
}

/**
 * The JSON form of a validated model (nested weights; `h0` only when it is not all zeros). A layered model gets
 * `numLayers`, `bidirectional` (when true), the layered weights and h0, c0 as lists of vectors.
 */
export function modelToJSON(model: Model): ModelJSON {
  if (isLayered(model)) {
    const json: ModelJSON = {
      ...(model.cell && model.cell !== 'elman' ? { cell: model.cell } : {}),
      numLayers: model.numLayers ?? 1,
      ...(model.bidirectional ? { bidirectional: true } : {}),
      inputSize: model.inputSize,
      hiddenSize: model.hiddenSize,
      outputSize: model.outputSize,
      activation: model.activation,
      output: model.output,
      weights: unflattenParams(model, model.params),
    };
    if (model.h0.some((v) => v !== 0)) json.h0 = nestedStates(model.h0, model.hiddenSize);
    if (model.c0?.some((v) => v !== 0)) json.c0 = nestedStates(model.c0, model.hiddenSize);
    if (model.series) json.series = model.series;
    if (model.normalization) json.normalization = model.normalization;
    return json;
  }
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
