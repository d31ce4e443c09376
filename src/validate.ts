// Validation of untrusted input: model JSON, data JSON and programmatic batches. Every error is an InputError
// that names the field and index (e.g. `weights.Wh[0][1]`, `inputs[3][0][0]`), so nothing runs on bad data.

import { offsetsFromLengths, valueName, type Batch, type RnnStates } from './batch.ts';
import { InputError } from './errors.ts';
import { cellByName, CELL_NAMES, extent, isGated, type Cell, type CellName } from './cells/index.ts';
import type { Normalization, SeriesInfo } from './data/series.ts';
import {
  ACTIVATIONS,
  brandModel,
  isValidatedModel,
  LIMITS,
  modelFromJSON,
  OUTPUT_MODES,
  paramLayout,
  paramName,
  directions,
  isLayered,
  layerCount,
  type Activation,
  type LayerShape,
  type LayerWeights,
  type Model,
  type ModelJSON,
  type Weights,
} from './model.ts';

/** What a value is, for messages: `null`, `an array`, `the number 3`, `the string "abc"`, `nothing (the key is missing)`. */
export function kind(v: unknown): string {
  if (v === undefined) return 'nothing (the key is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return Number.isFinite(v) ? `the number ${v}` : String(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`;
  if (typeof v === 'object') return ArrayBuffer.isView(v) ? `a ${v.constructor.name}` : 'an object';
  return `a ${typeof v}`;
}

/** Edit distance between two strings (Levenshtein), case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The known name nearest to `name` (case-insensitive edit distance), or null when none is reasonably close. */
export function nearest(name: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name.replace(/[-_\s]/g, ''), k.replace(/[-_\s]/g, ''));
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(best.length / 2)) ? best : null;
}

/** Throws an InputError naming the first key of `obj` that is not in `known`, with the nearest known key. */
export function checkKeys(
  obj: Record<string, unknown>,
  known: readonly string[],
  prefix: string,
  source?: string,
): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const near = nearest(key, known);
    const hint = near ? `did you mean "${near}"?` : `known keys: ${known.map((k) => `"${k}"`).join(', ')}`;
    throw new InputError(prefix + key, `unknown key (${hint})`, source);
  }
}

/** A finite number, or an InputError naming `field`. */
export function finiteNumber(v: unknown, field: string, source?: string): number {
  if (typeof v !== 'number')
    throw new InputError(
      field,
      v === undefined ? 'missing: expected a number' : `expected a number, got ${kind(v)}`,
      source,
    );
  if (!Number.isFinite(v)) throw new InputError(field, `must be finite, got ${v}`, source);
  return v;
}

function integerIn(v: unknown, field: string, lo: number, hi: number, source?: string): number {
  const n = finiteNumber(v, field, source);
  if (!Number.isInteger(n) || n < lo || n > hi)
    throw new InputError(field, `must be an integer from ${lo} to ${hi}, got ${n}`, source);
  return n;
}

function array(v: unknown, field: string, length: number | null, source?: string): unknown[] {
  if (!Array.isArray(v))
    throw new InputError(
      field,
      v === undefined ? 'missing: expected an array' : `expected an array, got ${kind(v)}`,
      source,
    );
  if (length !== null && v.length !== length)
    throw new InputError(field, `expected ${length} entries, got ${v.length}`, source);
  return v;
}

/** A vector of `length` finite numbers. */
export function vector(v: unknown, field: string, length: number | null, source?: string): number[] {
  return array(v, field, length, source).map((x, i) => finiteNumber(x, `${field}[${i}]`, source));
}

/** A rows×cols matrix of finite numbers. */
export function matrix(v: unknown, field: string, rows: number, cols: number, source?: string): number[][] {
  return array(v, field, rows, source).map((row, r) => vector(row, `${field}[${r}]`, cols, source));
}

function object(v: unknown, field: string, source?: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new InputError(
      field,
      v === undefined ? 'missing: expected an object' : `expected an object, got ${kind(v)}`,
      source,
    );
  }
  return v as Record<string, unknown>;
}

function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[], source?: string): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new InputError(
      field,
      `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${typeof v === 'string' ? JSON.stringify(v) : kind(v)}`,
      source,
    );
  }
  return v as T;
}

export const MODEL_KEYS = [
  'inputSize',
  'hiddenSize',
  'outputSize',
  'cell',
  'numLayers',
  'bidirectional',
  'activation',
  'output',
  'weights',
  'h0',
  'c0',
  'series',
  'normalization',
] as const;
export const SERIES_KEYS = ['columns', 'timeColumn', 'window', 'horizon', 'validation', 'test', 'min', 'max'] as const;
export const NORMALIZATION_KEYS = ['kind', 'offset', 'scale'] as const;

/** A model's `series` (src/data/series.ts): I column names, the window and horizon (O = I·horizon), the split, the training range. */
function parseSeriesInfo(v: unknown, I: number, O: number, source?: string): SeriesInfo {
  const s = object(v, 'series', source);
  checkKeys(s, SERIES_KEYS, 'series.', source);
  const columns = array(s.columns, 'series.columns', I, source).map((c, i) => {
    if (typeof c !== 'string')
      throw new InputError(`series.columns[${i}]`, `expected a column name, got ${kind(c)}`, source);
    return c;
  });
  if (s.timeColumn !== null && typeof s.timeColumn !== 'string')
    throw new InputError('series.timeColumn', `expected a column name or null, got ${kind(s.timeColumn)}`, source);
  const window = integerIn(s.window, 'series.window', 1, LIMITS.maxSteps, source);
  const horizon = integerIn(s.horizon, 'series.horizon', 1, LIMITS.maxOutputSize, source);
  if (I * horizon !== O)
    throw new InputError(
      'series.horizon',
      `${I} column${I === 1 ? '' : 's'} × horizon ${horizon} must equal outputSize ${O}`,
      source,
    );
  const fraction = (x: unknown, f: string): number => {
    const n = finiteNumber(x, f, source);
    if (n < 0 || n >= 1) throw new InputError(f, `must be in [0, 1), got ${n}`, source);
    return n;
  };
  return {
    columns,
    timeColumn: s.timeColumn,
    window,
    horizon,
    validation: fraction(s.validation, 'series.validation'),
    test: fraction(s.test, 'series.test'),
    min: vector(s.min, 'series.min', I, source),
    max: vector(s.max, 'series.max', I, source),
  };
}

/** A model's `normalization`: kind, and one offset and one positive scale per input column. */
function parseNormalization(v: unknown, I: number, source?: string): Normalization {
  const n = object(v, 'normalization', source);
  checkKeys(n, NORMALIZATION_KEYS, 'normalization.', source);
  const kindName = oneOf(n.kind, 'normalization.kind', ['zscore', 'minmax'] as const, source);
  const scale = vector(n.scale, 'normalization.scale', I, source);
  scale.forEach((x, i) => {
    if (!(x > 0)) throw new InputError(`normalization.scale[${i}]`, `must be > 0, got ${x}`, source);
  });
  return { kind: kindName, offset: vector(n.offset, 'normalization.offset', I, source), scale };
}
export const WEIGHT_KEYS = ['Wx', 'Wh', 'bx', 'bh', 'Wy', 'by'] as const;

/** The model's cell from its `cell` field (absent = elman); an unknown name is an InputError naming it. */
export function parseCell(v: unknown, source?: string): CellName {
  if (v === undefined) return 'elman';
  if (typeof v !== 'string' || !(CELL_NAMES as readonly string[]).includes(v)) {
    const near = typeof v === 'string' ? nearest(v, CELL_NAMES) : null;
    throw new InputError(
      'cell',
      `unknown cell ${typeof v === 'string' ? JSON.stringify(v) : kind(v)} (known: ${CELL_NAMES.map((c) => `"${c}"`).join(', ')}${near ? `; did you mean "${near}"?` : ''})`,
      source,
    );
  }
  return v as CellName;
}

/** The activation of a model of this cell: Elman's is required; LSTM and GRU take `tanh` (the default) only. */
function parseActivation(v: unknown, cell: Cell, source?: string): Activation {
  if (isGated(cell) && v === undefined) return 'tanh';
  const a = oneOf(v, 'activation', ACTIVATIONS, source);
  if (!cell.activations.includes(a)) {
    throw new InputError(
      'activation',
      `the ${cell.name} cell takes ${cell.activations.map((x) => `"${x}"`).join(' or ')} only (its gates are σ and tanh), got "${a}"`,
      source,
    );
  }
  return a;
}

/** How a block's dimension reads in messages: `H`, `I`, `O`, or what stands for it (`D·H` above layer 0). */
type DimNames = Partial<Record<'H' | 'I' | 'O', string>>;

function extentText(e: { dim: 'H' | 'I' | 'O'; times: number }, names: DimNames = {}): string {
  const dim = names[e.dim] ?? e.dim;
  return e.times === 1 ? dim : `${e.times}${dim}`;
}

/**
 * A weight block of the cell: its shape is checked first, so a block of the wrong shape is one error naming the
 * block and the expected shape, e.g. `weights.Wx: expected 32×1 (4H×I for lstm), got 8×1`. `at` names a block of
 * the layered form: its field, the dimensions' names and what it belongs to, e.g.
 * `weights.layers[3].Wx: expected 20×10 (4H×D·H for lstm layer 1), got 20×5`.
 */
function weightBlock(
  v: unknown,
  spec: Cell['blocks'][number],
  cell: Cell,
  shape: { inputSize: number; hiddenSize: number; outputSize: number },
  source?: string,
  at: { field?: string; names?: DimNames; context?: string } = {},
): number[] | number[][] {
  const field = at.field ?? `weights.${spec.name}`;
  const rows = extent(spec.rows, shape);
  const cols = spec.cols ? extent(spec.cols, shape) : 0;
  const formula = spec.cols
    ? `${extentText(spec.rows, at.names)}×${extentText(spec.cols, at.names)}`
    : extentText(spec.rows, at.names);
  const want = spec.cols ? `${rows}×${cols}` : `${rows}`;
  if (Array.isArray(v)) {
    const gotRows = v.length;
    const gotCols = spec.cols && Array.isArray(v[0]) ? (v[0] as unknown[]).length : null;
    const wrong =
      gotRows !== rows ||
      (spec.cols && gotCols !== null && gotCols !== cols && v.every((r) => Array.isArray(r) && r.length === gotCols));
    if (wrong) {
      const got = spec.cols ? (gotCols !== null ? `${gotRows}×${gotCols}` : `${gotRows} rows`) : `${gotRows}`;
      throw new InputError(field, `expected ${want} (${formula} for ${at.context ?? cell.name}), got ${got}`, source);
    }
  }
  return spec.cols ? matrix(v, field, rows, cols, source) : vector(v, field, rows, source);
}
export const DATA_KEYS = ['inputs', 'targets'] as const;

/** A model's stacking from its `numLayers` (integer 1 to LIMITS.maxLayers, absent = 1) and `bidirectional` (boolean). */
export function parseStack(
  numLayers: unknown,
  bidirectional: unknown,
  source?: string,
): { numLayers: number; bidirectional: boolean } {
  const L = numLayers === undefined ? 1 : integerIn(numLayers, 'numLayers', 1, LIMITS.maxLayers, source);
  if (bidirectional !== undefined && typeof bidirectional !== 'boolean')
    throw new InputError('bidirectional', `must be true or false, got ${kind(bidirectional)}`, source);
  return { numLayers: L, bidirectional: bidirectional === true };
}

/** `numLayers 2, bidirectional`: a model's stacking, for messages. */
function stackText(s: LayerShape): string {
  return `numLayers ${s.numLayers ?? 1}${s.bidirectional ? ', bidirectional' : ''}`;
}

/**
 * The layered form of a model's weights: `layers` (numLayers·D objects of the cell's recurrent blocks, in PyTorch's
 * order l0, l0_reverse, l1, …; Elman layers may add `bx`), then the readout `Wy` (O×D·H) and `by`. Flat recurrent
 * keys beside `layers`, or in place of it on a layered model, are an error naming the key. A one-layer,
 * one-direction model given in this form comes back in the flat form (an Elman layer's bx added into bh).
 */
function layeredWeights(
  w: Record<string, unknown>,
  cell: Cell,
  shape: { inputSize: number; hiddenSize: number; outputSize: number },
  stack: { numLayers: number; bidirectional: boolean },
  source?: string,
): Weights {
  const { inputSize: I, hiddenSize: H, outputSize: O } = shape;
  const D = directions(stack);
  const K = layerCount(stack);
  const recurrent = cell.blocks.filter((b) => b.role === 'cell');
  const readout = cell.blocks.filter((b) => b.role === 'readout');
  const hasBx = recurrent.some((b) => b.name === 'bx');
  const layerKeys = [...recurrent.map((b) => b.name), ...(hasBx ? [] : ['bx'])];
  for (const key of layerKeys) {
    if (!(key in w)) continue;
    if ('layers' in w)
      throw new InputError(
        `weights.${key}`,
        `flat recurrent weights cannot be mixed with weights.layers: give ${layerKeys.join(', ')} inside each entry of weights.layers`,
        source,
      );
    throw new InputError(
      `weights.${key}`,
      `a model with ${stackText(stack)} takes its recurrent weights per layer and direction in weights.layers (PyTorch's order l0, l0_reverse, l1, …), not as a flat ${key}`,
      source,
    );
  }
  checkKeys(w, ['layers', ...readout.map((b) => b.name)], 'weights.', source);
  const list = array(w.layers, 'weights.layers', null, source);
  if (list.length !== K) {
    const order = D === 2 ? `numLayers ${stack.numLayers} × 2 directions: l0, l0_reverse, l1, …` : `one per layer`;
    throw new InputError('weights.layers', `expected ${K} entries (${order}), got ${list.length}`, source);
  }
  const layers = list.map((v, k) => {
    const field = `weights.layers[${k}]`;
    const lw = object(v, field, source);
    checkKeys(lw, layerKeys, `${field}.`, source);
    const layer = Math.floor(k / D);
    const sizes = { inputSize: layer === 0 ? I : D * H, hiddenSize: H, outputSize: O };
    const names: DimNames = layer === 0 ? {} : { I: D === 2 ? 'D·H' : 'H' };
    const out: Record<string, number[] | number[][]> = {};
    for (const spec of recurrent)
      out[spec.name] = weightBlock(lw[spec.name], spec, cell, sizes, source, {
        field: `${field}.${spec.name}`,
        names,
        context: `${cell.name} layer ${layer}`,
      });
    if (!hasBx && lw.bx !== undefined) out.bx = vector(lw.bx, `${field}.bx`, H, source);
    return out as unknown as LayerWeights;
  });
  const top = { inputSize: I, hiddenSize: D * H, outputSize: O };
  const head: Record<string, number[] | number[][]> = {};
  for (const spec of readout)
    head[spec.name] = weightBlock(w[spec.name], spec, cell, top, source, {
      ...(D === 2 ? { names: { H: 'D·H' }, context: `a bidirectional ${cell.name} model` } : {}),
    });
  if (isLayered(stack)) return { layers, ...head } as unknown as Weights;
  // One layer, one direction: the flat form, in the cell's block order.
  const flat: Record<string, number[] | number[][]> = {};
  const l0 = layers[0];
  for (const spec of recurrent) flat[spec.name] = l0[spec.name as keyof LayerWeights]!;
  if (!hasBx && l0.bx) flat.bh = l0.bh.map((b, r) => b + l0.bx![r]);
  return { ...flat, ...head } as unknown as Weights;
}

/**
 * A model's `h0` or `c0`: H values, or for a layered model numLayers·D vectors of H in the order of weights.layers.
 * A one-layer, one-direction model may give a list of one vector; it comes back as the vector.
 */
function initialStateJSON(
  v: unknown,
  field: string,
  H: number,
  stack: LayerShape,
  source?: string,
): number[] | number[][] {
  const K = layerCount(stack);
  const listed = Array.isArray(v) && v.length > 0 && Array.isArray(v[0]);
  if (!isLayered(stack) && !listed) return vector(v, field, H, source);
  const list = array(v, field, null, source);
  if (list.length !== K)
    throw new InputError(
      field,
      `expected ${K} vector${K === 1 ? '' : 's'} of H = ${H} (numLayers·D: one per layer and direction, in the order of weights.layers), got ${list.length} ${listed ? 'vectors' : 'entries'}`,
      source,
    );
  const rows = list.map((row, k) => vector(row, `${field}[${k}]`, H, source));
  return isLayered(stack) ? rows : rows[0];
}

/** Validates a model JSON object (known keys only; sizes, activation, output mode, every weight's shape and finiteness). */
export function parseModel(json: unknown, source = 'model'): ModelJSON {
  const m = object(json, '', source);
  checkKeys(m, MODEL_KEYS, '', source);
  const cellName = parseCell(m.cell, source);
  const cell = cellByName(cellName);
  const I = integerIn(m.inputSize, 'inputSize', 1, LIMITS.maxInputSize, source);
  const H = integerIn(m.hiddenSize, 'hiddenSize', 1, LIMITS.maxHiddenSize, source);
  const O = integerIn(m.outputSize, 'outputSize', 1, LIMITS.maxOutputSize, source);
  const stack = parseStack(m.numLayers, m.bidirectional, source);
  const activation = parseActivation(m.activation, cell, source);
  const output = oneOf(m.output ?? 'last', 'output', OUTPUT_MODES, source);
  const w = object(m.weights, 'weights', source);
  const shape = { inputSize: I, hiddenSize: H, outputSize: O };
  let weights: Weights;
  if (isLayered(stack) || 'layers' in w) {
    weights = layeredWeights(w, cell, shape, stack, source);
  } else {
    const blockNames = cell.blocks.map((b) => b.name);
    for (const key of Object.keys(w)) {
      if ((WEIGHT_KEYS as readonly string[]).includes(key) && !blockNames.includes(key)) {
        throw new InputError(
          `weights.${key}`,
          `the ${cell.name} cell has no ${key} (its blocks: ${blockNames.join(', ')})`,
          source,
        );
      }
    }
    checkKeys(w, blockNames, 'weights.', source);
    const flat = {} as Record<string, number[] | number[][]>;
    for (const spec of cell.blocks) flat[spec.name] = weightBlock(w[spec.name], spec, cell, shape, source);
    weights = flat as unknown as Weights;
  }
  const out: ModelJSON = {
    ...(cellName !== 'elman' ? { cell: cellName } : {}),
    ...(isLayered(stack)
      ? { numLayers: stack.numLayers, ...(stack.bidirectional ? { bidirectional: true } : {}) }
      : {}),
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    activation,
    output,
    weights,
  };
  if (m.h0 !== undefined) out.h0 = initialStateJSON(m.h0, 'h0', H, stack, source);
  if (m.c0 !== undefined) {
    if (cellName !== 'lstm')
      throw new InputError('c0', `only the lstm cell has a cell state c0; this model's cell is ${cellName}`, source);
    out.c0 = initialStateJSON(m.c0, 'c0', H, stack, source);
  }
  if (m.series !== undefined) out.series = parseSeriesInfo(m.series, I, O, source);
  if (m.normalization !== undefined) out.normalization = parseNormalization(m.normalization, I, source);
  return out;
}

/**
 * Validates a Model object built by hand (not by modelFromJSON/checkModel): sizes, activation, output mode, and
 * params and h0 as arrays of the right length holding finite numbers. Returns a branded copy with float64 arrays.
 */
export function checkModel(v: unknown, source = 'model'): Model {
  if (isValidatedModel(v)) {
    // Built by this library: the shape was checked then; check the cheap fields again in case they were edited.
    const m = v;
    parseActivation(m.activation, cellByName(parseCell(m.cell, source)), source);
    oneOf(m.output, 'output', OUTPUT_MODES, source);
    const P = paramLayout(m).count;
    if (m.params.length !== P) throw new InputError('params', `expected ${P} entries, got ${m.params.length}`, source);
    const S = layerCount(m) * m.hiddenSize;
    if (m.h0.length !== S) throw new InputError('h0', `expected ${S} entries, got ${m.h0.length}`, source);
    if (m.c0 && m.c0.length !== S) throw new InputError('c0', `expected ${S} entries, got ${m.c0.length}`, source);
    return m;
  }
  const m = object(v, '', source);
  const cellName = parseCell(m.cell, source);
  const cell = cellByName(cellName);
  const I = integerIn(m.inputSize, 'inputSize', 1, LIMITS.maxInputSize, source);
  const H = integerIn(m.hiddenSize, 'hiddenSize', 1, LIMITS.maxHiddenSize, source);
  const O = integerIn(m.outputSize, 'outputSize', 1, LIMITS.maxOutputSize, source);
  const stack = parseStack(m.numLayers, m.bidirectional, source);
  const activation = parseActivation(m.activation, cell, source);
  const output = oneOf(m.output, 'output', OUTPUT_MODES, source);
  const flat = (x: unknown, field: string, length: number): Float64Array => {
    const ok = Array.isArray(x) || x instanceof Float64Array || x instanceof Float32Array;
    if (!ok)
      throw new InputError(
        field,
        x === undefined
          ? 'missing: expected a Float64Array'
          : `expected a Float64Array or an array of numbers, got ${kind(x)}`,
        source,
      );
    const a = x as ArrayLike<unknown>;
    if (a.length !== length) throw new InputError(field, `expected ${length} entries, got ${a.length}`, source);
    const out = new Float64Array(length);
    for (let k = 0; k < length; k++) out[k] = finiteNumber(a[k], `${field}[${k}]`, source);
    return out;
  };
  const shape = { inputSize: I, hiddenSize: H, outputSize: O };
  const layered = isLayered(stack) ? stack : {};
  const params = flat(m.params, 'params', paramLayout({ ...shape, cell: cellName, ...layered }).count);
  const S = layerCount(stack) * H;
  const h0 = m.h0 === undefined ? new Float64Array(S) : flat(m.h0, 'h0', S);
  if (m.c0 !== undefined && cellName !== 'lstm')
    throw new InputError('c0', `only the lstm cell has a cell state c0; this model's cell is ${cellName}`, source);
  const gated = cellName !== 'elman' ? { cell: cellName } : {};
  const c0 = cellName === 'lstm' ? { c0: m.c0 === undefined ? new Float64Array(S) : flat(m.c0, 'c0', S) } : {};
  return brandModel({ ...gated, ...layered, ...shape, activation, output, params, h0, ...c0 });
}

/**
 * A validated Model from what a caller passes to the engine: a Model built by this library, a Model-shaped object
 * (validated by checkModel) or model JSON (validated by parseModel). Never trusts an object for having some key.
 */
export function toModel(v: unknown, source = 'model'): Model {
  if (isValidatedModel(v)) return checkModel(v, source);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new InputError(
      '',
      v === undefined || v === null
        ? `expected a model (model JSON or a Model), got ${kind(v)}`
        : `expected a model object, got ${kind(v)}`,
      source,
    );
  }
  return 'weights' in v ? modelFromJSON(parseModel(v, source)) : checkModel(v, source);
}

/** Index of the first value that is NaN or ±Infinity, or −1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k])) return k;
  return -1;
}

/** Index of the first value that becomes ±Infinity when rounded to float32 (|v| ≥ 2^128 about), or −1. */
export function firstFloat32Overflow(a: ArrayLike<number>): number {
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(Math.fround(a[k]))) return k;
  return -1;
}

/**
 * For float32 backends: every weight, h0, input and target must be representable in float32, or the run would
 * start from ±Infinity. Throws an InputError naming the first value that is not (call after checkBatch).
 */
export function checkFloat32Range(model: Model, b: Batch, source = 'data', modelSource = 'model'): void {
  let k = firstFloat32Overflow(model.params);
  if (k >= 0)
    throw new InputError(
      `weights.${paramName(model, k)}`,
      `${model.params[k]} overflows float32 (the WebGPU backend computes in float32)`,
      modelSource,
    );
  k = firstFloat32Overflow(model.h0);
  if (k >= 0)
    throw new InputError(
      `h0[${k}]`,
      `${model.h0[k]} overflows float32 (the WebGPU backend computes in float32)`,
      modelSource,
    );
  k = model.c0 ? firstFloat32Overflow(model.c0) : -1;
  if (k >= 0)
    throw new InputError(
      `c0[${k}]`,
      `${model.c0![k]} overflows float32 (the WebGPU backend computes in float32)`,
      modelSource,
    );
  k = firstFloat32Overflow(b.inputs);
  if (k >= 0)
    throw new InputError(
      valueName(b, 'inputs', k, b.inputSize, true),
      `${b.inputs[k]} overflows float32 (the WebGPU backend computes in float32)`,
      source,
    );
  if (b.targets) {
    k = firstFloat32Overflow(b.targets);
    if (k >= 0)
      throw new InputError(
        valueName(b, 'targets', k, b.outputSize, b.output === 'all'),
        `${b.targets[k]} overflows float32 (the WebGPU backend computes in float32)`,
        source,
      );
  }
}

/** What a batch is checked against: the model's sizes and output mode. */
export type DataShape = Pick<Model, 'inputSize' | 'outputSize' | 'output'>;

/**
 * Checks a programmatic batch against a model: sizes, lengths ≥ 1, array lengths, and that every
 * input and target is finite. Throws an InputError naming the first bad field.
 */
export function checkBatch(model: DataShape, b: Batch, source = 'data'): void {
  if (typeof b !== 'object' || b === null || Array.isArray(b))
    throw new InputError('', `expected a batch object, got ${kind(b)}`, source);
  const typed = (v: unknown, field: string, ok: boolean, what: string): void => {
    if (!ok) throw new InputError(field, `expected ${what}, got ${kind(v)}`, source);
  };
  typed(b.count, 'count', typeof b.count === 'number', 'a number');
  typed(b.lengths, 'lengths', b.lengths instanceof Uint32Array, 'a Uint32Array');
  typed(b.offsets, 'offsets', b.offsets instanceof Float64Array, 'a Float64Array');
  typed(
    b.inputs,
    'inputs',
    b.inputs instanceof Float32Array || b.inputs instanceof Float64Array,
    'a Float32Array or Float64Array',
  );
  typed(
    b.targets,
    'targets',
    b.targets === null || b.targets instanceof Float32Array || b.targets instanceof Float64Array,
    'null, a Float32Array or a Float64Array',
  );
  typed(b.output, 'output', b.output === 'last' || b.output === 'all', '"last" or "all"');
  if (!Number.isInteger(b.count) || b.count < 1)
    throw new InputError('inputs', `the batch is empty: it needs at least one sequence`, source);
  if (b.inputSize !== model.inputSize)
    throw new InputError(
      'inputs',
      `steps have ${b.inputSize} values but the model's inputSize is ${model.inputSize}`,
      source,
    );
  if (b.targets && b.output !== model.output)
    throw new InputError(
      'targets',
      `the data has targets for output mode "${b.output}" but the model's output is "${model.output}"`,
      source,
    );
  if (b.lengths.length !== b.count)
    throw new InputError('lengths', `expected ${b.count} lengths, got ${b.lengths.length}`, source);
  for (let n = 0; n < b.count; n++)
    if (b.lengths[n] < 1) throw new InputError(`inputs[${n}]`, 'a sequence must have at least one step', source);
  for (let n = 0; n < b.count; n++) {
    if (b.lengths[n] > LIMITS.maxSteps)
      throw new InputError(
        `lengths[${n}]`,
        `a sequence may have at most ${LIMITS.maxSteps} steps, got ${b.lengths[n]}`,
        source,
      );
  }
  const expected = offsetsFromLengths(b.lengths);
  if (b.offsets.length !== b.count + 1 || b.offsets.some((v, k) => v !== expected[k])) {
    throw new InputError('offsets', 'offsets must be the prefix sums of lengths', source);
  }
  const steps = expected[b.count];
  const I = b.inputSize;
  if (b.inputs.length !== steps * I)
    throw new InputError(
      'inputs',
      `expected ${steps * I} values (${steps} steps × ${I}), got ${b.inputs.length}`,
      source,
    );
  let k = firstNonFinite(b.inputs);
  if (k >= 0) throw new InputError(valueName(b, 'inputs', k, I, true), `must be finite, got ${b.inputs[k]}`, source);
  if (b.targets) {
    const O = model.outputSize;
    if (b.outputSize !== O)
      throw new InputError('targets', `targets have ${b.outputSize} values but the model's outputSize is ${O}`, source);
    const want = (b.output === 'last' ? b.count : steps) * O;
    if (b.targets.length !== want)
      throw new InputError('targets', `expected ${want} values, got ${b.targets.length}`, source);
    k = firstNonFinite(b.targets);
    if (k >= 0)
      throw new InputError(
        valueName(b, 'targets', k, O, b.output === 'all'),
        `must be finite, got ${b.targets[k]}`,
        source,
      );
  }
}

/**
 * Validates a data JSON object against a model: `{"inputs": N×T_n×I, "targets": N×O ("last") or N×T_n×O ("all")}`.
 * Targets may be omitted for a forward pass without loss. Returns a float64 batch.
 */
export function parseData(json: unknown, model: DataShape, source = 'data'): Batch {
  const d = object(json, '', source);
  checkKeys(d, DATA_KEYS, '', source);
  const inputs = array(d.inputs, 'inputs', null, source);
  if (inputs.length === 0) throw new InputError('inputs', 'the batch is empty: it needs at least one sequence', source);
  const I = model.inputSize;
  const O = model.outputSize;
  const lengths = new Uint32Array(inputs.length);
  inputs.forEach((seq, n) => {
    const s = array(seq, `inputs[${n}]`, null, source);
    if (s.length === 0) throw new InputError(`inputs[${n}]`, 'a sequence must have at least one step', source);
    if (s.length > LIMITS.maxSteps)
      throw new InputError(
        `inputs[${n}]`,
        `a sequence may have at most ${LIMITS.maxSteps} steps, got ${s.length}`,
        source,
      );
    lengths[n] = s.length;
  });
  const offsets = offsetsFromLengths(lengths);
  const flatIn = new Float64Array(offsets[inputs.length] * I);
  inputs.forEach((seq, n) => {
    (seq as unknown[]).forEach((step, t) => {
      const field = `inputs[${n}][${t}]`;
      const v = array(step, field, I, source);
      for (let i = 0; i < I; i++) flatIn[(offsets[n] + t) * I + i] = finiteNumber(v[i], `${field}[${i}]`, source);
    });
  });
  let flatT: Float64Array | null = null;
  if (d.targets !== undefined) {
    const targets = array(d.targets, 'targets', inputs.length, source);
    // Targets shaped for the other output mode: say so, rather than that some row has the wrong length.
    const first = targets[0];
    const perStep = Array.isArray(first) && first.length > 0 && Array.isArray(first[0]);
    const perSequence = Array.isArray(first) && first.length > 0 && typeof first[0] === 'number';
    if ((model.output === 'last' && perStep) || (model.output === 'all' && perSequence)) {
      const has = perStep ? 'all' : 'last';
      throw new InputError(
        'targets',
        `the output modes differ: the data has ${has === 'all' ? 'one target per step' : 'one target per sequence'} (output "${has}") but the model's output is "${model.output}"`,
        source,
      );
    }
    if (model.output === 'last') {
      flatT = new Float64Array(inputs.length * O);
      targets.forEach((row, n) => {
        const field = `targets[${n}]`;
        const v = array(row, field, O, source);
        for (let o = 0; o < O; o++) flatT![n * O + o] = finiteNumber(v[o], `${field}[${o}]`, source);
      });
    } else {
      flatT = new Float64Array(offsets[inputs.length] * O);
      targets.forEach((seq, n) => {
        const s = array(seq, `targets[${n}]`, lengths[n], source);
        s.forEach((step, t) => {
          const field = `targets[${n}][${t}]`;
          const v = array(step, field, O, source);
          for (let o = 0; o < O; o++) flatT![(offsets[n] + t) * O + o] = finiteNumber(v[o], `${field}[${o}]`, source);
        });
      });
    }
  }
  return {
    count: inputs.length,
    inputSize: I,
    outputSize: O,
    output: model.output,
    lengths,
    offsets,
    inputs: flatIn,
    targets: flatT,
  };
}

/** What carried states are checked against: the model's cell, H and stacking. */
export type StateShape = Pick<Model, 'hiddenSize' | 'cell' | 'numLayers' | 'bidirectional'>;

/** Why a state array has the size it has, for messages: `2 layer-directions × 3 sequences × H = 4`. */
function statesSize(model: StateShape, count: number): string {
  const K = layerCount(model);
  return `${K} layer-direction${K === 1 ? '' : 's'} (numLayers·D) × ${count} sequence${count === 1 ? '' : 's'} × H = ${model.hiddenSize}`;
}

/**
 * Checks a batch's `initialStates` (if any) against the model: `h` (and for the LSTM `c`, which it must have; other
 * cells must not) typed arrays of numLayers·D·N·H finite values. Throws an InputError naming the field, e.g.
 * `initialStates.h[1][0][2]` for layer-direction 1, sequence 0, unit 2.
 */
export function checkInitialStates(model: StateShape, b: Batch, source = 'data'): void {
  const s: unknown = b.initialStates;
  if (s === undefined) return;
  const st = object(s, 'initialStates', source);
  checkKeys(st, ['h', 'c'], 'initialStates.', source);
  const H = model.hiddenSize;
  const want = layerCount(model) * b.count * H;
  const lstm = model.cell === 'lstm';
  for (const key of ['h', 'c'] as const) {
    const field = `initialStates.${key}`;
    const v = st[key];
    if (key === 'c' && !lstm) {
      if (v === undefined) continue;
      throw new InputError(
        field,
        `only the lstm cell has a cell state; this model's cell is ${model.cell ?? 'elman'}`,
        source,
      );
    }
    if (!(v instanceof Float64Array || v instanceof Float32Array))
      throw new InputError(
        field,
        v === undefined
          ? `missing: expected a Float64Array${key === 'c' ? ' (the lstm cell carries h and c)' : ''}`
          : `expected a Float64Array or Float32Array, got ${kind(v)}`,
        source,
      );
    if (v.length !== want)
      throw new InputError(field, `expected ${want} values (${statesSize(model, b.count)}), got ${v.length}`, source);
    const k = firstNonFinite(v);
    if (k >= 0) {
      const j = k % H;
      const n = Math.floor(k / H) % b.count;
      const l = Math.floor(k / (H * b.count));
      throw new InputError(`${field}[${l}][${n}][${j}]`, `must be finite, got ${v[k]}`, source);
    }
  }
}

/** The keys of a states file. */
export const STATES_KEYS = ['h', 'c'] as const;

/**
 * Validates a states file's JSON for a model and a batch of `count` sequences: `{"h": [numLayers·D][N][H],
 * "c": …}` (`c` for the LSTM only, and required there), PyTorch's h_n / c_n layout. Returns flat float64 states.
 */
export function parseStates(json: unknown, model: StateShape, count: number, source = 'states'): RnnStates {
  const d = object(json, '', source);
  checkKeys(d, STATES_KEYS, '', source);
  const K = layerCount(model);
  const H = model.hiddenSize;
  const lstm = model.cell === 'lstm';
  if (d.c !== undefined && !lstm)
    throw new InputError(
      'c',
      `only the lstm cell has a cell state; this model's cell is ${model.cell ?? 'elman'}`,
      source,
    );
  if (lstm && d.c === undefined)
    throw new InputError('c', 'missing: the lstm cell carries h and c, so a states file for it has both', source);
  const read = (v: unknown, field: string): Float64Array => {
    const out = new Float64Array(K * count * H);
    const layers = array(v, field, null, source);
    if (layers.length !== K)
      throw new InputError(
        field,
        `expected ${K} entries (numLayers·D: one per layer and direction, in the order of weights.layers), got ${layers.length}`,
        source,
      );
    layers.forEach((seqs, k) => {
      const rows = array(seqs, `${field}[${k}]`, null, source);
      if (rows.length !== count)
        throw new InputError(
          `${field}[${k}]`,
          `expected ${count} entries (one per sequence of the data), got ${rows.length}`,
          source,
        );
      rows.forEach((row, n) => out.set(vector(row, `${field}[${k}][${n}]`, H, source), (k * count + n) * H));
    });
    return out;
  };
  return { h: read(d.h, 'h'), ...(lstm ? { c: read(d.c, 'c') } : {}) };
}
