// importModel: a PyTorch model file as our model JSON.
//
//   .safetensors  a state_dict of one nn.RNN/LSTM/GRU and one nn.Linear (src/interop/state-dict.ts), F32, F64, F16
//                 or BF16; our own export's __metadata__ config restores everything else.
//   .onnx         what torch.onnx.export writes for such a module applied to every step (fc(out)): one RNN, LSTM or
//                 GRU op per layer, forward or bidirectional, the glue ops torch writes between layers, and a MatMul
//                 (or Gemm) plus Add readout with weights in initializers; a readout of the last step only
//                 (fc(out[-1]), or fc(h_n[-1]) for one direction) imports as output `last`. ONNX's gate orders
//                 (LSTM i, o, f, c; GRU z, r, h) become PyTorch's. Anything we do not compute (peepholes, clip,
//                 input_forget, other activations, GRU linear_before_reset = 0, any other op) is a one-line
//                 InputError naming the op and the attribute.

import { InputError } from '../errors.ts';
import type { Activation, ModelJSON } from '../model.ts';
import type { InteropFormat } from './export.ts';
import {
  attrText,
  attrTexts,
  decodeOnnx,
  tensorValues,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
} from './onnx.ts';
import { looksLikeSafetensors, readSafetensors } from './safetensors.ts';
import { METADATA_KEY, parseConfig, stateDictToModel, type ImportOptions, type Tensor } from './state-dict.ts';

export type { ImportOptions } from './state-dict.ts';

/** Options of importModel. */
export interface ImportModelOptions extends ImportOptions {
  /** The file's format; absent: recognised from its bytes. */
  format?: InteropFormat;
  /** Names the file in error messages. */
  source?: string;
}

/** An imported model and what the import decided (one line each, e.g. the activation it assumed). */
export interface ImportResult {
  model: ModelJSON;
  format: InteropFormat;
  notes: string[];
}

/** The format of a file from its bytes: safetensors (a header length, then `{`) or else ONNX. */
export function sniffFormat(bytes: Uint8Array): InteropFormat {
  return looksLikeSafetensors(bytes) ? 'safetensors' : 'onnx';
}

/** Imports a .safetensors state_dict or a torch.onnx.export file as a validated model JSON. */
export function importModel(bytes: Uint8Array, options: ImportModelOptions = {}): ImportResult {
  const format = options.format ?? sniffFormat(bytes);
  const { source } = options;
  if (format === 'safetensors') {
    const file = readSafetensors(bytes, source);
    const config = parseConfig(file.metadata[METADATA_KEY], source);
    const r = stateDictToModel(file.tensors, config, { ...options, defaultOutput: 'all' }, source);
    return { ...r, format };
  }
  if (format === 'onnx') return { ...importOnnx(bytes, options, source), format };
  throw new InputError('format', `must be "safetensors" or "onnx", got ${JSON.stringify(format)}`, source);
}

const RECURRENT_OPS = ['RNN', 'LSTM', 'GRU'] as const;
type RecurrentOp = (typeof RECURRENT_OPS)[number];
/** The ops torch.onnx.export writes around the recurrent ops and the readout. */
const GLUE_OPS = [
  'Transpose',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Concat',
  'Constant',
  'Shape',
  'Gather',
  'Slice',
  'ConstantOfShape',
  'Expand',
  'Identity',
  'Cast',
];
const READOUT_OPS = ['MatMul', 'Gemm', 'Add'];
const GATES: Record<RecurrentOp, number> = { RNN: 1, LSTM: 4, GRU: 3 };
/** ONNX's gate blocks in PyTorch's order: LSTM i, f, g, o from i, o, f, c; GRU r, z, n from z, r, h. */
const TORCH_GATE_ORDER: Record<RecurrentOp, number[]> = { RNN: [0], LSTM: [0, 2, 3, 1], GRU: [1, 0, 2] };
const DEFAULT_ACTIVATIONS: Record<RecurrentOp, string[]> = {
  RNN: ['tanh'],
  LSTM: ['sigmoid', 'tanh', 'tanh'],
  GRU: ['sigmoid', 'tanh'],
};
const KNOWN_ATTRS: Record<RecurrentOp, string[]> = {
  RNN: ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout'],
  LSTM: [
    'activation_alpha',
    'activation_beta',
    'activations',
    'clip',
    'direction',
    'hidden_size',
    'input_forget',
    'layout',
  ],
  GRU: [
    'activation_alpha',
    'activation_beta',
    'activations',
    'clip',
    'direction',
    'hidden_size',
    'layout',
    'linear_before_reset',
  ],
};

/** Rows of a gH-row block (cols columns each) with its gate blocks in `order`. */
function reorder(values: ArrayLike<number>, H: number, cols: number, order: number[]): number[] {
  const out: number[] = [];
  for (const g of order)
    for (let r = g * H; r < (g + 1) * H; r++) for (let c = 0; c < cols; c++) out.push(values[r * cols + c]);
  return out;
}

function importOnnx(bytes: Uint8Array, options: ImportOptions, source?: string): Omit<ImportResult, 'format'> {
  const model = decodeOnnx(bytes, source);
  const graph = model.graph!;
  const nodes = graph.node ?? [];
  const fail = (field: string, message: string): never => {
    throw new InputError(field, message, source);
  };
  const label = (n: OnnxNode) => `${n.opType ?? '?'}${n.name ? ` "${n.name}"` : ''}`;

  // Every op must be one we read.
  nodes.forEach((n, i) => {
    const op = n.opType ?? '';
    const known =
      (RECURRENT_OPS as readonly string[]).includes(op) || GLUE_OPS.includes(op) || READOUT_OPS.includes(op);
    if (!known || (n.domain && n.domain !== 'ai.onnx'))
      fail(
        `node ${i} ${label(n)}`,
        `op ${n.domain ? `${n.domain}.` : ''}${op} is not one an RNN, LSTM or GRU with a Linear readout exports (import reads RNN, LSTM, GRU, MatMul, Gemm, Add and torch's glue ops: ${GLUE_OPS.join(', ')})`,
      );
  });
  const recurrent = nodes.filter((n) => (RECURRENT_OPS as readonly string[]).includes(n.opType ?? ''));
  if (recurrent.length === 0)
    fail('graph', `no RNN, LSTM or GRU op (its ops: ${[...new Set(nodes.map((n) => n.opType))].join(', ') || 'none'})`);
  const op = recurrent[0].opType as RecurrentOp;
  for (const n of recurrent)
    if (n.opType !== op) fail(label(n), `a second kind of recurrent op beside ${op}: one module only`);

  const constants = new Map<string, OnnxTensor>();
  for (const t of graph.initializer ?? []) if (t.name) constants.set(t.name, t);
  const producer = new Map<string, OnnxNode>();
  for (const n of nodes) {
    for (const o of n.output ?? []) producer.set(o, n);
    if (n.opType === 'Constant') {
      const v = n.attribute?.find((a) => a.name === 'value');
      if (v?.t && n.output?.[0]) constants.set(n.output[0], v.t);
    }
  }
  const graphInputs = new Set((graph.input ?? []).map((v) => v.name).filter((name) => !constants.has(name)));
  const constant = (name: string | undefined, field: string): { dims: number[]; values: Float64Array } => {
    const t = name ? constants.get(name) : undefined;
    if (!t)
      return fail(
        field,
        `is not an initializer or Constant (${name ? `"${name}"` : 'absent'}): the weights must be in the file`,
      );
    return tensorValues(t, field, source);
  };
  /** True when value `from` is computed from value `to` (or is it). */
  const dependsOn = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) {
      const v = stack.pop()!;
      if (v === to) return true;
      if (seen.has(v)) continue;
      seen.add(v);
      for (const i of producer.get(v)?.input ?? []) if (i) stack.push(i);
    }
    return false;
  };

  // The recurrent layers.
  const g = GATES[op];
  const order = TORCH_GATE_ORDER[op];
  let D = 0;
  let H = 0;
  let activation: Activation | undefined;
  const tensors = new Map<string, Tensor>();
  const h0: number[][] = [];
  const c0: number[][] = [];
  let anyState = false;
  recurrent.forEach((n, layer) => {
    const at = label(n);
    const attrs = new Map<string, OnnxAttribute>((n.attribute ?? []).map((a) => [a.name, a]));
    for (const name of attrs.keys())
      if (!KNOWN_ATTRS[op].includes(name)) fail(`${at}.${name}`, 'is not an attribute of this op');
    if (attrs.has('clip')) fail(`${at}.clip`, 'cell clipping is not computed here (PyTorch has none)');
    if ((attrs.get('input_forget')?.i ?? 0) !== 0)
      fail(`${at}.input_forget`, 'coupled input and forget gates are not computed here');
    if ((attrs.get('layout')?.i ?? 0) !== 0)
      fail(`${at}.layout`, 'only layout 0 ([T, N, …], what torch writes) is read');
    if (op === 'GRU' && (attrs.get('linear_before_reset')?.i ?? 0) !== 1)
      fail(
        `${at}.linear_before_reset`,
        "is 0: that GRU variant (reset gate applied before the recurrent product) is not computed here; PyTorch's nn.GRU is linear_before_reset 1",
      );
    const direction = attrs.has('direction') ? attrText(attrs.get('direction')!) : 'forward';
    if (direction !== 'forward' && direction !== 'bidirectional')
      fail(`${at}.direction`, `"${direction}" is not read here (forward or bidirectional)`);
    const d = direction === 'bidirectional' ? 2 : 1;
    if (D && d !== D) fail(`${at}.direction`, `"${direction}" differs from the layer below`);
    D = d;
    const acts = attrs.has('activations') ? attrTexts(attrs.get('activations')!).map((a) => a.toLowerCase()) : null;
    let act: Activation = 'tanh';
    if (acts) {
      const defaults = DEFAULT_ACTIVATIONS[op];
      const per = acts.length / D;
      const sameEach = Number.isInteger(per) && acts.every((a, k) => a === acts[k % per]);
      const first = acts.slice(0, per);
      const alpha = attrs.get('activation_alpha')?.floats;
      const beta = attrs.get('activation_beta')?.floats;
      if (op === 'RNN' && sameEach && per === 1 && first[0] === 'relu') act = 'relu';
      else if (
        op === 'RNN' &&
        sameEach &&
        per === 1 &&
        first[0] === 'affine' &&
        alpha?.every((v) => v === 1) &&
        beta?.every((v) => v === 0)
      )
        act = 'identity';
      else if (!(sameEach && first.length === defaults.length && first.every((a, k) => a === defaults[k])))
        fail(
          `${at}.activations`,
          `[${acts.join(', ')}] are not computed here (${op === 'RNN' ? 'Tanh or Relu' : `the defaults: ${defaults.join(', ')}`})`,
        );
    }
    if (act !== 'identity') {
      if (attrs.has('activation_alpha'))
        fail(`${at}.activation_alpha`, 'is not read here (the default activations have none)');
      if (attrs.has('activation_beta'))
        fail(`${at}.activation_beta`, 'is not read here (the default activations have none)');
    }
    if (activation && act !== activation) fail(`${at}.activations`, 'differ from the layer below');
    activation = act;
    const ins = n.input ?? [];
    if (op === 'LSTM' && ins[7]) fail(`${at}.P`, 'peephole weights are not computed here (PyTorch has none)');
    const W = constant(ins[1], `${at}.W`);
    const R = constant(ins[2], `${at}.R`);
    const hs = attrs.get('hidden_size')?.i ?? R.dims[2];
    if (!H) H = hs;
    if (!(hs >= 1) || hs !== H) fail(`${at}.hidden_size`, `${hs} differs from the layer below (${H})`);
    const inputSize = W.dims[2];
    const expect = (t: { dims: number[] }, dims: number[], field: string) => {
      if (t.dims.length !== dims.length || t.dims.some((v, k) => v !== dims[k]))
        fail(`${at}.${field}`, `expected dims [${dims.join(', ')}], got [${t.dims.join(', ')}]`);
    };
    expect(W, [D, g * H, layer === 0 ? inputSize : D * H], 'W');
    expect(R, [D, g * H, H], 'R');
    const B = ins[3] ? constant(ins[3], `${at}.B`) : { dims: [D, 2 * g * H], values: new Float64Array(D * 2 * g * H) };
    expect(B, [D, 2 * g * H], 'B');
    // Layer 0 reads the graph's input; each layer above, the one below's Y.
    const x = ins[0] ?? '';
    if (layer === 0 && ![...graphInputs].some((i) => dependsOn(x, i)))
      fail(`${at}.X`, 'does not come from a graph input');
    if (layer > 0 && !dependsOn(x, recurrent[layer - 1].output?.[0] ?? '\0'))
      fail(`${at}.X`, `does not come from the Y of ${label(recurrent[layer - 1])}`);
    for (let dir = 0; dir < D; dir++) {
      const s = `_l${layer}${dir ? '_reverse' : ''}`;
      const block = (t: Float64Array, rows: number, cols: number, offset: number) =>
        reorder(t.subarray(offset, offset + rows * cols), H, cols, order);
      const cols = W.dims[2];
      tensors.set(`rnn.weight_ih${s}`, {
        shape: [g * H, cols],
        values: block(W.values, g * H, cols, dir * g * H * cols),
      });
      tensors.set(`rnn.weight_hh${s}`, { shape: [g * H, H], values: block(R.values, g * H, H, dir * g * H * H) });
      tensors.set(`rnn.bias_ih${s}`, { shape: [g * H], values: block(B.values, g * H, 1, dir * 2 * g * H) });
      tensors.set(`rnn.bias_hh${s}`, { shape: [g * H], values: block(B.values, g * H, 1, dir * 2 * g * H + g * H) });
    }
    const state = (name: string | undefined, what: string): Float64Array | null =>
      stateValues(name, `${at}.${what}`, D * H);
    const h = state(ins[5], 'initial_h');
    const c = op === 'LSTM' ? state(ins[6], 'initial_c') : null;
    anyState ||= h !== null || c !== null;
    for (let dir = 0; dir < D; dir++) {
      h0.push(Array.from(h?.subarray(dir * H, (dir + 1) * H) ?? new Float64Array(H)));
      c0.push(Array.from(c?.subarray(dir * H, (dir + 1) * H) ?? new Float64Array(H)));
    }
  });

  /** An initial state's values (D·H), or null for zeros: a constant, or one broadcast by Expand, or torch's zeros. */
  function stateValues(name: string | undefined, field: string, count: number): Float64Array | null {
    if (!name) return null;
    let cur = name;
    let reshaped = false;
    for (;;) {
      if (constants.has(cur)) {
        const v = constant(cur, field).values;
        if (v.every((x) => x === 0)) return null;
        if (v.length !== count || reshaped)
          return fail(
            field,
            `a constant initial state is read only as [D, 1, H] (${count} values), broadcast by Expand`,
          );
        return v;
      }
      const p = producer.get(cur);
      if (!p) return fail(field, 'is a graph input: initial states are read only as constants in the file');
      if (p.opType === 'ConstantOfShape') {
        const v = p.attribute?.find((a) => a.name === 'value')?.t;
        if (!v || tensorValues(v, `${field} (ConstantOfShape)`, source).values.every((x) => x === 0)) return null;
        return fail(field, 'is a ConstantOfShape of a nonzero value: not read here');
      }
      if (!['Expand', 'Slice', 'Identity', 'Reshape', 'Unsqueeze', 'Squeeze', 'Cast'].includes(p.opType ?? ''))
        return fail(field, `comes from a ${p.opType}: initial states are read only as constants in the file`);
      if (p.opType !== 'Expand' && p.opType !== 'Identity' && p.opType !== 'Cast') reshaped = true;
      cur = p.input?.[0] ?? '';
    }
  }

  // The readout: MatMul (or Gemm) on the top layer's output, with constant weights, then Add of a constant bias.
  const top = recurrent[recurrent.length - 1].output?.[0] ?? '\0';
  // A one-direction module may also read its last state, Y_h (fc(h_n[-1])).
  const topH = D === 1 ? (recurrent[recurrent.length - 1].output?.[1] ?? '\0') : '\0';
  const readouts = nodes.filter(
    (n) =>
      (n.opType === 'MatMul' || n.opType === 'Gemm') &&
      (n.input ?? []).some((i) => dependsOn(i, top) || (topH !== '\0' && dependsOn(i, topH))),
  );
  if (readouts.length === 0)
    fail(
      'graph',
      `no readout (MatMul or Gemm with initializer weights) after ${label(recurrent[recurrent.length - 1])}`,
    );
  if (readouts.length > 1)
    fail(label(readouts[1]), `a second readout beside ${label(readouts[0])}: one nn.Linear only`);
  const ro = readouts[0];
  const roIn = ro.input ?? [];
  const DH = D * H;
  let Wy: number[];
  let O: number;
  let bias: Float64Array | null = null;
  if (ro.opType === 'MatMul') {
    const w = constant(roIn[1], `${label(ro)}.B`);
    if (w.dims.length !== 2 || w.dims[0] !== DH)
      fail(`${label(ro)}.B`, `expected dims [${DH}, O], got [${w.dims.join(', ')}]`);
    O = w.dims[1];
    Wy = Array.from({ length: O * DH }, (_, k) => w.values[(k % DH) * O + Math.floor(k / DH)]);
  } else {
    const attrs = new Map((ro.attribute ?? []).map((a) => [a.name, a]));
    if ((attrs.get('transA')?.i ?? 0) !== 0) fail(`${label(ro)}.transA`, 'must be 0');
    for (const k of ['alpha', 'beta']) if ((attrs.get(k)?.f ?? 1) !== 1) fail(`${label(ro)}.${k}`, 'must be 1');
    const w = constant(roIn[1], `${label(ro)}.B`);
    const transB = (attrs.get('transB')?.i ?? 0) !== 0;
    if (w.dims.length !== 2 || w.dims[transB ? 1 : 0] !== DH)
      fail(`${label(ro)}.B`, `expected dims [${transB ? `O, ${DH}` : `${DH}, O`}], got [${w.dims.join(', ')}]`);
    O = w.dims[transB ? 0 : 1];
    Wy = transB
      ? Array.from(w.values)
      : Array.from({ length: O * DH }, (_, k) => w.values[(k % DH) * O + Math.floor(k / DH)]);
    if (roIn[2]) bias = constant(roIn[2], `${label(ro)}.C`).values;
  }
  let last = ro.output?.[0] ?? '';
  const adds = nodes.filter((n) => n.opType === 'Add');
  for (const a of adds) {
    const ins = a.input ?? [];
    const k = ins.findIndex((i) => i === last);
    if (k < 0) fail(label(a), `an Add that is not the readout's bias (its inputs: ${ins.join(', ')})`);
    if (bias) fail(label(a), 'a second bias of the readout');
    bias = constant(ins[1 - k], `${label(a)} bias`).values;
    last = a.output?.[0] ?? '';
  }
  if (bias && bias.length !== O) fail('readout bias', `expected ${O} values, got ${bias.length}`);
  const outputs = graph.output ?? [];
  if (outputs.length !== 1) fail('graph.output', `expected one output (the readout's), got ${outputs.length}`);
  if (!dependsOn(outputs[0].name, last)) fail('graph.output', `"${outputs[0].name}" is not the readout's result`);
  tensors.set('fc.weight', { shape: [O, DH], values: Wy });
  tensors.set('fc.bias', { shape: [O], values: bias ?? new Float64Array(O) });

  // A readout of the last step only: fc(out[-1]) (a Gather on the time axis of Y) or fc(h_n[-1]) (Y_h).
  const readoutInput = roIn[0] ?? '';
  const readsLast =
    (topH !== '\0' && dependsOn(readoutInput, topH)) ||
    nodes.some(
      (n) =>
        n.opType === 'Gather' &&
        (n.attribute?.find((a) => a.name === 'axis')?.i ?? 0) === 0 &&
        dependsOn(n.input?.[0] ?? '', top) &&
        dependsOn(readoutInput, n.output?.[0] ?? '\0'),
    );
  const notes: string[] = [];
  if (readsLast && options.output === 'all')
    fail('output', `is "all", but the graph's readout reads the last step only (fc(out[-1]) or fc(h_n[-1]))`);
  if (readsLast && !options.output) notes.push("output: last (the graph's readout reads the last step only)");

  const meta = model.metadataProps?.find((p) => p.key === METADATA_KEY)?.value;
  const config = parseConfig(meta, source);
  const layered = recurrent.length > 1 || D === 2;
  const states: Pick<ModelJSON, 'h0' | 'c0'> = {};
  if (anyState) {
    states.h0 = layered ? h0 : h0[0];
    if (op === 'LSTM') states.c0 = layered ? c0 : c0[0];
  }
  const r = stateDictToModel(
    tensors,
    config && { ...config, h0: undefined, c0: undefined },
    { ...options, ...(readsLast ? { output: 'last' as const } : {}), defaultOutput: 'all', fileActivation: activation },
    source,
    states,
  );
  return { model: r.model, notes: [...notes, ...r.notes] };
}
