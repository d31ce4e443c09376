// exportModel: a model as a PyTorch state_dict in safetensors, or as an ONNX graph (opset 14).
//
//   safetensors: rnn.weight_ih_l0, …, fc.weight, fc.bias in float32, loadable with load_state_dict into
//                nn.RNN/LSTM/GRU(I, H, num_layers, bidirectional) + nn.Linear(D·H, O); the model config (the model
//                JSON without weights) in __metadata__["webgpu-rnn"], so importModel restores it.
//   onnx:        input x [T, N, I] and optional sequence_lens [N] (int32), output y [T, N, O] (every step's
//                prediction); one RNN, LSTM or GRU op per layer (gates reordered to ONNX's: LSTM i, o, f, c; GRU
//                z, r, h; GRU linear_before_reset = 1, PyTorch's), Transpose and Reshape between layers, then
//                MatMul and Add. A nonzero h0 or c0 is an initializer broadcast over the batch by Expand. The
//                config goes into metadata_props["webgpu-rnn"].
//
// A model with normalization exports its weights only: the note says so (and the safetensors metadata).

import { InputError } from '../errors.ts';
import { directions, isLayered, modelFromJSON, modelToJSON, type Model, type ModelJSON } from '../model.ts';
import { isValidatedModel } from '../model.ts';
import { parseModel } from '../validate.ts';
import { attr, encodeOnnx, floatTensor, int64Tensor, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx.ts';
import { ONNX_DTYPE } from './onnx-proto.ts';
import { writeSafetensors } from './safetensors.ts';
import { configOf, METADATA_KEY, modelToStateDict } from './state-dict.ts';

/** The file formats of importModel and exportModel. */
export type InteropFormat = 'safetensors' | 'onnx';
export const INTEROP_FORMATS: readonly InteropFormat[] = ['safetensors', 'onnx'];

/** Options of an export. */
export interface ExportOptions {
  /** ONNX: add the optional graph input `sequence_lens` [N] (int32), each sequence's length. */
  sequenceLens?: boolean;
}

/** An exported file and what the user should know about it (one line each). */
export interface ExportResult {
  bytes: Uint8Array;
  notes: string[];
}

/** The metadata key of the note a safetensors file carries when the model's normalisation is not in its weights. */
export const NOTE_KEY = 'webgpu-rnn.note';

function normalizationNote(json: ModelJSON): string | null {
  return json.normalization
    ? `weights only: the model's ${json.normalization.kind} normalization is not applied in the exported file (inputs must be normalised, and predictions mapped back, as its config says)`
    : null;
}

/** Every weight as float32; a value past float32's range is an InputError naming it. */
function float32Values(name: string, values: ArrayLike<number>): Float32Array {
  const f = Float32Array.from(values);
  const bad = f.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new InputError(`${name}[${bad}]`, `${values[bad]} is outside float32's range`);
  return f;
}

/** Exports a model (model JSON or a validated Model) as safetensors or ONNX bytes. */
export function exportModel(
  model: ModelJSON | Model,
  format: InteropFormat,
  options: ExportOptions = {},
): ExportResult {
  const json = isValidatedModel(model) ? modelToJSON(model) : modelToJSON(modelFromJSON(parseModel(model)));
  if (format === 'safetensors') return exportSafetensors(json);
  if (format === 'onnx') return exportOnnx(json, options);
  throw new InputError('format', `must be "safetensors" or "onnx", got ${JSON.stringify(format)}`);
}

function exportSafetensors(json: ModelJSON): ExportResult {
  const note = normalizationNote(json);
  const tensors = modelToStateDict(json).map((t) => ({ ...t, values: float32Values(t.name, t.values) }));
  const metadata: Record<string, string> = { format: 'pt', [METADATA_KEY]: JSON.stringify(configOf(json)) };
  if (note) metadata[NOTE_KEY] = note;
  return { bytes: writeSafetensors(tensors, metadata), notes: note ? [note] : [] };
}

/** PyTorch's gate blocks (rows of H) in ONNX's order: LSTM i, o, f, c from i, f, g, o; GRU z, r, h from r, z, n. */
const ONNX_GATE_ORDER: Record<string, number[]> = { lstm: [0, 3, 1, 2], gru: [1, 0, 2], elman: [0] };

/** Rows of a gH-row block in ONNX's gate order. */
function reorderRows(values: ArrayLike<number>, H: number, cols: number, order: number[]): number[] {
  const out: number[] = [];
  for (const gate of order)
    for (let r = gate * H; r < (gate + 1) * H; r++) for (let c = 0; c < cols; c++) out.push(values[r * cols + c]);
  return out;
}

function exportOnnx(json: ModelJSON, options: ExportOptions): ExportResult {
  const note = normalizationNote(json);
  const model = modelFromJSON(json);
  const cell = model.cell ?? 'elman';
  const D = directions(model);
  const H = model.hiddenSize;
  const L = model.numLayers ?? 1;
  const order = ONNX_GATE_ORDER[cell];
  const byName = new Map(modelToStateDict(json).map((t) => [t.name, t]));
  const initializer: OnnxTensor[] = [];
  const node: OnnxNode[] = [];
  const op = { elman: 'RNN', lstm: 'LSTM', gru: 'GRU' }[cell];
  const f32 = (name: string, dims: number[], values: ArrayLike<number>) =>
    initializer.push(floatTensor(name, dims, float32Values(name, values)));

  // A nonzero initial state: [D, 1, H] per layer, broadcast over the batch (Expand to [1, N, 1]).
  const needsStates = model.h0.some((v) => v !== 0) || (model.c0?.some((v) => v !== 0) ?? false);
  if (needsStates) {
    initializer.push(int64Tensor('state_one', [1], [1]), int64Tensor('state_batch_axis', [1], [1]));
    node.push(
      { opType: 'Shape', input: ['x'], output: ['x_shape'], name: 'x_shape' },
      {
        opType: 'Gather',
        input: ['x_shape', 'state_batch_axis'],
        output: ['batch'],
        name: 'batch',
        attribute: [attr.int('axis', 0)],
      },
      {
        opType: 'Concat',
        input: ['state_one', 'batch', 'state_one'],
        output: ['state_expand_shape'],
        name: 'state_expand_shape',
        attribute: [attr.int('axis', 0)],
      },
    );
  }
  const stateInput = (which: 'h' | 'c', layer: number, v: Float64Array | undefined): string => {
    if (!needsStates || !v) return '';
    const slice = v.subarray(layer * D * H, (layer + 1) * D * H);
    if (!slice.some((x) => x !== 0)) return ''; // absent: zeros
    const name = `initial_${which}_l${layer}`;
    f32(`${name}_values`, [D, 1, H], slice);
    node.push({ opType: 'Expand', input: [`${name}_values`, 'state_expand_shape'], output: [name], name });
    return name;
  };

  let x = 'x';
  for (let layer = 0; layer < L; layer++) {
    const W: number[] = [];
    const R: number[] = [];
    const B: number[] = [];
    const g = order.length;
    let inputs = 0;
    for (let d = 0; d < D; d++) {
      const s = `_l${layer}${d ? '_reverse' : ''}`;
      const ih = byName.get(`rnn.weight_ih${s}`)!;
      inputs = ih.shape[1];
      W.push(...reorderRows(ih.values, H, inputs, order));
      R.push(...reorderRows(byName.get(`rnn.weight_hh${s}`)!.values, H, H, order));
      B.push(...reorderRows(byName.get(`rnn.bias_ih${s}`)!.values, H, 1, order));
      B.push(...reorderRows(byName.get(`rnn.bias_hh${s}`)!.values, H, 1, order));
    }
    const n = `${op.toLowerCase()}_l${layer}`;
    f32(`${n}_W`, [D, g * H, inputs], W);
    f32(`${n}_R`, [D, g * H, H], R);
    f32(`${n}_B`, [D, 2 * g * H], B);
    const attribute = [attr.int('hidden_size', H), attr.string('direction', D === 2 ? 'bidirectional' : 'forward')];
    if (cell === 'gru') attribute.push(attr.int('linear_before_reset', 1));
    if (cell === 'elman' && model.activation !== 'tanh') {
      const act = model.activation === 'relu' ? 'Relu' : 'Affine';
      attribute.push(attr.strings('activations', new Array<string>(D).fill(act)));
      if (act === 'Affine')
        attribute.push(
          attr.floats('activation_alpha', new Array<number>(D).fill(1)),
          attr.floats('activation_beta', new Array<number>(D).fill(0)),
        );
    }
    const ins = [
      x,
      `${n}_W`,
      `${n}_R`,
      `${n}_B`,
      options.sequenceLens ? 'sequence_lens' : '',
      stateInput('h', layer, model.h0),
    ];
    if (cell === 'lstm') ins.push(stateInput('c', layer, model.c0));
    while (ins[ins.length - 1] === '') ins.pop();
    node.push({ opType: op, name: n, input: ins, output: [`${n}_Y`], attribute });
    // Y [T, D, N, H] → [T, N, D, H] → [T, N, D·H]: the next layer's input, or the readout's.
    node.push({
      opType: 'Transpose',
      name: `${n}_transpose`,
      input: [`${n}_Y`],
      output: [`${n}_YT`],
      attribute: [attr.ints('perm', [0, 2, 1, 3])],
    });
    if (layer === 0) initializer.push(int64Tensor('merge_directions', [3], [0, 0, -1]));
    node.push({
      opType: 'Reshape',
      name: `${n}_reshape`,
      input: [`${n}_YT`, 'merge_directions'],
      output: [`${n}_out`],
    });
    x = `${n}_out`;
  }
  const fcW = byName.get('fc.weight')!;
  const O = model.outputSize;
  const WyT: number[] = [];
  for (let c = 0; c < D * H; c++) for (let o = 0; o < O; o++) WyT.push(fcW.values[o * D * H + c]);
  f32('fc_weight_T', [D * H, O], WyT);
  f32('fc_bias', [O], byName.get('fc.bias')!.values);
  node.push({ opType: 'MatMul', name: 'fc_matmul', input: [x, 'fc_weight_T'], output: ['fc_product'] });
  node.push({ opType: 'Add', name: 'fc_add', input: ['fc_product', 'fc_bias'], output: ['y'] });

  const tensorType = (elemType: number, dims: (number | string)[]) => ({
    tensorType: {
      elemType,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  });
  const onnx: OnnxModel = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 14 }],
    producerName: 'webgpu-rnn',
    graph: {
      name: `webgpu-rnn ${cell}${isLayered(model) ? ` ${L} layers${D === 2 ? ' bidirectional' : ''}` : ''}`,
      node,
      initializer,
      input: [
        { name: 'x', type: tensorType(ONNX_DTYPE.FLOAT, ['T', 'N', model.inputSize]) },
        ...(options.sequenceLens ? [{ name: 'sequence_lens', type: tensorType(ONNX_DTYPE.INT32, ['N']) }] : []),
      ],
      output: [{ name: 'y', type: tensorType(ONNX_DTYPE.FLOAT, ['T', 'N', O]) }],
    },
    metadataProps: [{ key: METADATA_KEY, value: JSON.stringify(configOf(json)) }],
  };
  return { bytes: encodeOnnx(onnx), notes: note ? [note] : [] };
}
