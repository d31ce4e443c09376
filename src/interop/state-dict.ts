// PyTorch's state_dict of a module with one nn.RNN, nn.LSTM or nn.GRU and one nn.Linear readout, to and from our
// model JSON. The recurrent keys are `<prefix>weight_ih_l{k}[_reverse]`, `weight_hh_…`, `bias_ih_…`, `bias_hh_…`
// (one prefix for all, possibly empty), the readout `<prefix2>weight` (O × D·H) and `<prefix2>bias`. The cell comes
// from the gate rows (4H LSTM, 3H GRU, H Elman), numLayers and bidirectional from the keys. Our gate orders are
// PyTorch's, so the tensors move unchanged; an Elman layer's two biases add into our one bh (bias_ih written as 0).
// The model config that a state_dict does not hold (activation, output, h0, c0, series, normalization) travels as
// the JSON string METADATA_KEY in a file's metadata (safetensors `__metadata__`, ONNX `metadata_props`).

import { InputError } from '../errors.ts';
import {
  directions,
  isLayered,
  layerCount,
  modelFromJSON,
  modelToJSON,
  type Activation,
  type LayerWeights,
  type ModelJSON,
  type OutputMode,
} from '../model.ts';
import type { CellName } from '../cells/index.ts';
import { parseModel } from '../validate.ts';

/** A tensor by shape and row-major values. */
export interface Tensor {
  shape: number[];
  values: ArrayLike<number>;
}

/** The metadata key holding the model config (the model JSON without its weights). */
export const METADATA_KEY = 'webgpu-rnn';

/** Options of an import: what a state_dict or graph cannot say. */
export interface ImportOptions {
  /** Predict at every step (`all`, fc(out)) or at each sequence's last step (`last`). */
  output?: OutputMode;
  /** nn.RNN's nonlinearity (not stored in a state_dict): `tanh` (PyTorch's default) or `relu`. */
  activation?: Activation;
}

/** The model config kept in a file's metadata: the model JSON without weights. */
export type ModelConfig = Omit<ModelJSON, 'weights'>;

/** The config of a model, for the file's metadata. */
export function configOf(json: ModelJSON): ModelConfig {
  const { weights: _weights, ...config } = json;
  void _weights;
  return config;
}

/** Parses the metadata's config string; null when absent. */
export function parseConfig(text: string | undefined, source?: string): ModelConfig | null {
  if (text === undefined) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new InputError(METADATA_KEY, 'the model config in the metadata is not JSON', source);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InputError(METADATA_KEY, 'the model config in the metadata must be a JSON object', source);
  return v as ModelConfig;
}

const RECURRENT = /^(.*?)(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$/;
const GATES: Record<number, CellName> = { 4: 'lstm', 3: 'gru', 1: 'elman' };

/** Row-major values as nested rows. */
function rows(t: Tensor): number[][] {
  const [r, c] = t.shape;
  return Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => t.values[i * c + j]));
}

/** What an import found and decided, for the user: one line each. */
export interface ImportNotes {
  notes: string[];
}

/**
 * Builds a validated model JSON from a state_dict's tensors. `config` (from the file's metadata, written by our
 * export) supplies what the tensors cannot say; `options` override it. Every problem is an InputError naming the key.
 */
export function stateDictToModel(
  tensors: ReadonlyMap<string, Tensor>,
  config: ModelConfig | null,
  options: ImportOptions & {
    /** The output mode when neither the options nor the config give one. */
    defaultOutput: OutputMode;
    /** The activation the file itself states (an ONNX RNN op's); a state_dict has none. */
    fileActivation?: Activation;
  },
  source?: string,
  /** Initial states found in the file (an ONNX graph's initial_h, initial_c), in the model JSON's form. */
  states: Pick<ModelJSON, 'h0' | 'c0'> = {},
): ImportNotes & { model: ModelJSON } {
  const fail = (field: string, message: string): never => {
    throw new InputError(field, message, source);
  };
  const notes: string[] = [];
  let prefix: string | null = null;
  const recurrent = new Map<string, Tensor>();
  const rest: string[] = [];
  let layersSeen = 0;
  let reverse = false;
  for (const [key, t] of tensors) {
    const m = RECURRENT.exec(key);
    if (!m) {
      rest.push(key);
      continue;
    }
    if (prefix === null) prefix = m[1];
    else if (m[1] !== prefix)
      fail(key, `a second recurrent module (prefix "${m[1]}" beside "${prefix}"): one nn.RNN, nn.LSTM or nn.GRU only`);
    recurrent.set(`${m[2]}_l${m[3]}${m[4] ?? ''}`, t);
    layersSeen = Math.max(layersSeen, Number(m[3]) + 1);
    if (m[4]) reverse = true;
  }
  if (prefix === null)
    fail('', 'no recurrent weights (weight_ih_l0, weight_hh_l0, …): not an nn.RNN, nn.LSTM or nn.GRU state_dict');
  const hh0 = recurrent.get('weight_hh_l0') ?? fail(`${prefix}weight_hh_l0`, 'missing');
  if (hh0.shape.length !== 2 || hh0.shape[1] < 1)
    fail(`${prefix}weight_hh_l0`, `expected a matrix gH×H, got shape [${hh0.shape.join(', ')}]`);
  const H = hh0.shape[1];
  const g = hh0.shape[0] / H;
  const cell =
    GATES[g] ??
    fail(`${prefix}weight_hh_l0`, `${hh0.shape[0]} rows for H = ${H}: expected 4H (LSTM), 3H (GRU) or H (RNN)`);
  const D = reverse ? 2 : 1;
  const numLayers = layersSeen;
  const ih0 = recurrent.get('weight_ih_l0') ?? fail(`${prefix}weight_ih_l0`, 'missing');
  if (ih0.shape.length !== 2) fail(`${prefix}weight_ih_l0`, `expected a matrix, got shape [${ih0.shape.join(', ')}]`);
  const I = ih0.shape[1];

  // The readout: the one remaining weight (and its bias).
  const weightKeys = rest.filter((k) => k.endsWith('weight'));
  if (weightKeys.length === 0)
    fail('', 'no readout: expected an nn.Linear weight (`fc.weight`) beside the recurrent keys');
  if (weightKeys.length > 1)
    fail(weightKeys[1], `a second readout weight beside "${weightKeys[0]}": one nn.Linear readout only`);
  const p2 = weightKeys[0].slice(0, -'weight'.length);
  for (const k of rest)
    if (k !== `${p2}weight` && k !== `${p2}bias`)
      fail(k, `not part of one ${cell === 'elman' ? 'nn.RNN' : `nn.${cell.toUpperCase()}`} and one nn.Linear`);
  const fcW = tensors.get(`${p2}weight`)!;
  if (fcW.shape.length !== 2) fail(`${p2}weight`, `expected a matrix O×D·H, got shape [${fcW.shape.join(', ')}]`);
  const O = fcW.shape[0];
  if (fcW.shape[1] !== D * H) fail(`${p2}weight`, `expected ${O}×${D * H} (O×D·H), got ${fcW.shape.join('×')}`);
  const fcB = tensors.get(`${p2}bias`);
  if (fcB && (fcB.shape.length !== 1 || fcB.shape[0] !== O))
    fail(`${p2}bias`, `expected ${O} values, got shape [${fcB.shape.join(', ')}]`);

  const layers: LayerWeights[] = [];
  for (let k = 0; k < numLayers * D; k++) {
    const suffix = `_l${Math.floor(k / D)}${k % D ? '_reverse' : ''}`;
    const inputs = k < D ? I : D * H;
    const get = (name: string, shape: number[], optional: boolean): Tensor | undefined => {
      const t = recurrent.get(name + suffix);
      if (!t) return optional ? undefined : fail(`${prefix}${name}${suffix}`, 'missing');
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
        fail(`${prefix}${name}${suffix}`, `expected shape [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
      return t;
    };
    const wx = get('weight_ih', [g * H, inputs], false)!;
    const wh = get('weight_hh', [g * H, H], false)!;
    const bx = get('bias_ih', [g * H], true);
    const bh = get('bias_hh', [g * H], true);
    if (!bx !== !bh) fail(`${prefix}${bx ? 'bias_hh' : 'bias_ih'}${suffix}`, 'missing (the other bias is there)');
    const zeros = new Array<number>(g * H).fill(0);
    const bxv = bx ? Array.from(bx.values) : zeros;
    const bhv = bh ? Array.from(bh.values) : zeros;
    layers.push(
      cell === 'elman'
        ? { Wx: rows(wx), Wh: rows(wh), bh: bhv.map((v, r) => v + bxv[r]) }
        : { Wx: rows(wx), Wh: rows(wh), bx: bxv, bh: bhv },
    );
  }
  for (const key of recurrent.keys()) {
    const m = /_l(\d+)(_reverse)?$/.exec(key)!;
    if (Number(m[1]) >= numLayers || (m[2] && D === 1)) fail(prefix + key, 'unexpected');
  }
  const known = (k: string) => (config as Record<string, unknown> | null)?.[k];
  if (config) {
    for (const [k, v] of [
      ['cell', cell],
      ['inputSize', I],
      ['hiddenSize', H],
      ['outputSize', O],
      ['numLayers', numLayers],
      ['bidirectional', D === 2],
    ] as const) {
      const c =
        known(k) ?? (k === 'cell' ? 'elman' : k === 'numLayers' ? 1 : k === 'bidirectional' ? false : undefined);
      if (c !== v)
        fail(`${METADATA_KEY}.${k}`, `the metadata says ${JSON.stringify(c)}, the tensors ${JSON.stringify(v)}`);
    }
  }
  let activation: Activation = 'tanh';
  if (cell === 'elman' && options.fileActivation) {
    activation = options.fileActivation;
    if (options.activation && options.activation !== activation)
      fail('activation', `${options.activation} was asked for, but the file's RNN op computes ${activation}`);
  } else if (cell === 'elman') {
    activation = options.activation ?? config?.activation ?? 'tanh';
    if (!options.activation && !config)
      notes.push(
        `activation: tanh (a state_dict does not store nn.RNN's nonlinearity; --activation relu if it was relu)`,
      );
  } else if (options.activation && options.activation !== 'tanh') {
    fail('activation', `applies to an nn.RNN (elman) only; this is an ${cell.toUpperCase()}`);
  }
  const output = options.output ?? config?.output ?? options.defaultOutput;
  if (!options.output && !config?.output)
    notes.push(
      output === 'all'
        ? 'output: all (a prediction at every step, fc(out)); --output last for one per sequence'
        : 'output: last (one prediction per sequence); --output all for every step',
    );
  const by = fcB ? Array.from(fcB.values) : new Array<number>(O).fill(0);
  const layered = numLayers > 1 || D === 2;
  const json: Record<string, unknown> = {
    ...(config ?? {}),
    ...states,
    ...(cell !== 'elman' ? { cell } : {}),
    ...(layered ? { numLayers, ...(D === 2 ? { bidirectional: true } : {}) } : {}),
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    activation,
    output,
    weights: layered ? { layers, Wy: rows(fcW), by } : { ...layers[0], Wy: rows(fcW), by },
  };
  if (!layered) {
    delete json.numLayers;
    delete json.bidirectional;
  }
  const model = modelToJSON(modelFromJSON(parseModel(json, source)));
  return { model, notes };
}

/** PyTorch's key suffix of layer-direction k (l0, l0_reverse, l1, …). */
export function torchSuffix(k: number, D: number): string {
  return `_l${Math.floor(k / D)}${k % D ? '_reverse' : ''}`;
}

/**
 * A validated model as PyTorch's state_dict tensors: `rnn.weight_ih_l0`, …, `fc.weight`, `fc.bias`, in PyTorch's
 * order. Elman layers get bias_ih = 0 and our bh as bias_hh.
 */
export function modelToStateDict(json: ModelJSON): { name: string; shape: number[]; values: number[] }[] {
  const model = modelFromJSON(json);
  const canonical = modelToJSON(model);
  const D = directions(model);
  const H = model.hiddenSize;
  const g = { lstm: 4, gru: 3, elman: 1 }[model.cell ?? 'elman'];
  const w = canonical.weights;
  const layers: LayerWeights[] = isLayered(model) ? w.layers! : [{ Wx: w.Wx, Wh: w.Wh, bx: w.bx, bh: w.bh }];
  const out: { name: string; shape: number[]; values: number[] }[] = [];
  for (let k = 0; k < layerCount(model); k++) {
    const l = layers[k];
    const s = torchSuffix(k, D);
    out.push({ name: `rnn.weight_ih${s}`, shape: [g * H, l.Wx[0].length], values: l.Wx.flat() });
    out.push({ name: `rnn.weight_hh${s}`, shape: [g * H, H], values: l.Wh.flat() });
    out.push({ name: `rnn.bias_ih${s}`, shape: [g * H], values: l.bx ?? new Array<number>(g * H).fill(0) });
    out.push({ name: `rnn.bias_hh${s}`, shape: [g * H], values: l.bh });
  }
  out.push({ name: 'fc.weight', shape: [model.outputSize, D * H], values: w.Wy.flat() });
  out.push({ name: 'fc.bias', shape: [model.outputSize], values: w.by });
  return out;
}
