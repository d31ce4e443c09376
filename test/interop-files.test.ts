// The interop files without PyTorch (src/interop/): exported safetensors and ONNX files import back to the same
// model (weights rounded to float32, the config from the metadata); exported ONNX files run in onnxruntime-node and
// give our forward pass's predictions, with h0 and c0, sequence_lens on ragged batches and every Elman activation;
// bad files (truncated or lying safetensors headers, dtype, shape and offset mismatches, overlapping tensors, bytes
// that are not protobuf, graphs that are not one recurrent module, ONNX attributes we do not compute) are one-line
// errors naming the problem, exit 2 in the CLI, found before anything the file merely claims is allocated.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { batchFromArrays } from '../src/batch.ts';
import type { CellName } from '../src/cells/index.ts';
import { gpuTolerance } from '../src/compare.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { InputError } from '../src/errors.ts';
import { exportModel, NOTE_KEY } from '../src/interop/export.ts';
import { importModel } from '../src/interop/import.ts';
import { decodeOnnx, encodeOnnx, floatTensor, attr, type OnnxModel, type OnnxNode } from '../src/interop/onnx.ts';
import { readSafetensors, writeSafetensors } from '../src/interop/safetensors.ts';
import { modelFromJSON, modelToJSON, type ModelJSON, type OutputMode } from '../src/model.ts';
import { parseModel } from '../src/validate.ts';
import { cli, expectInputError } from './helpers/cli.ts';
import { expectClose } from './helpers/compare.ts';
import { randomLayeredModelJSON } from './helpers/layered-cases.ts';
import { Rng, randomData } from './helpers/random-cases.ts';

const dir = mkdtempSync(join(tmpdir(), 'interop-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rng = new Rng(4242);
interface Shape {
  cell: CellName;
  numLayers: number;
  bidirectional: boolean;
  activation: 'tanh' | 'relu' | 'identity';
  output: OutputMode;
}
const SHAPES: Shape[] = (['lstm', 'gru', 'elman'] as CellName[]).flatMap((cell, c) =>
  [1, 2].flatMap((numLayers) =>
    [false, true].map((bidirectional, b): Shape => ({
      cell,
      numLayers,
      bidirectional,
      activation: cell === 'elman' ? (['tanh', 'relu', 'identity'] as const)[(numLayers + b) % 3] : 'tanh',
      output: (c + numLayers + b) % 2 ? 'last' : 'all',
    })),
  ),
);
const nameOf = (s: Shape) =>
  `${s.cell} ${s.numLayers} layer${s.numLayers > 1 ? 's' : ''}${s.bidirectional ? ' bidirectional' : ''}, ${s.activation}, output ${s.output}`;

/** A canonical random model of the shape with nonzero h0 (and c0), validated. */
function modelOf(s: Shape, h0 = true): ModelJSON {
  const json = randomLayeredModelJSON(rng, { ...s, inputSize: 3, hiddenSize: 4, outputSize: 2, h0 });
  return modelToJSON(modelFromJSON(parseModel(json)));
}

/** The model with every weight rounded to float32 (what the exports write); h0 and c0 rounded too when asked. */
function rounded(json: ModelJSON, states: boolean): ModelJSON {
  const m = modelFromJSON(json);
  m.params = m.params.map(Math.fround);
  if (states) {
    m.h0 = m.h0.map(Math.fround);
    if (m.c0) m.c0 = m.c0.map(Math.fround);
  }
  return modelToJSON(m);
}

/** One-line InputError whose message contains every needle. */
function expectRefused(f: () => unknown, ...needles: string[]): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  const message = (err as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  for (const n of needles) expect(message).toContain(n);
}

describe('round trips: export, then import, gives the model back', () => {
  for (const s of SHAPES) {
    it(`${nameOf(s)}: safetensors (config from __metadata__) and ONNX (config from metadata_props)`, () => {
      const json = modelOf(s);
      const st = importModel(exportModel(json, 'safetensors').bytes);
      expect(st.format).toBe('safetensors');
      expect(st.notes).toEqual([]);
      expect(st.model).toEqual(rounded(json, false));
      const ox = importModel(exportModel(json, 'onnx').bytes);
      expect(ox.format).toBe('onnx');
      expect(ox.model).toEqual(rounded(json, true));
    });
  }

  it('a model with series and normalization keeps them, and the export says the weights do not apply them', () => {
    const json: ModelJSON = {
      ...modelOf(SHAPES[0], false),
      inputSize: 3,
      series: {
        columns: ['a', 'b', 'c'],
        timeColumn: null,
        window: 4,
        horizon: 1,
        validation: 0,
        test: 0,
        min: [0, 0, 0],
        max: [1, 2, 3],
      },
      normalization: { kind: 'zscore', offset: [1, 2, 3], scale: [0.5, 1, 2] },
    };
    json.outputSize = 3;
    json.weights.Wy = [...json.weights.Wy, json.weights.Wy[0]];
    json.weights.by = [...json.weights.by, 0.25];
    const e = exportModel(json, 'safetensors');
    expect(e.notes).toHaveLength(1);
    expect(e.notes[0]).toContain('zscore normalization is not applied');
    const file = readSafetensors(e.bytes);
    expect(file.metadata[NOTE_KEY]).toBe(e.notes[0]);
    expect(Object.keys(file.metadata).sort()).toEqual(['format', NOTE_KEY, 'webgpu-rnn'].sort());
    expect([...file.tensors.keys()]).toEqual([
      'rnn.weight_ih_l0',
      'rnn.weight_hh_l0',
      'rnn.bias_ih_l0',
      'rnn.bias_hh_l0',
      'fc.weight',
      'fc.bias',
    ]);
    const back = importModel(e.bytes).model;
    expect(back.normalization).toEqual(json.normalization);
    expect(back.series).toEqual(json.series);
    expect(exportModel(json, 'onnx').notes).toEqual(e.notes);
  });
});

describe('exported ONNX files run in onnxruntime-node and give our predictions', () => {
  const lengths = [6, 6, 6, 6];
  for (const s of SHAPES) {
    it(`${nameOf(s)}, nonzero h0${s.cell === 'lstm' ? ' and c0' : ''}`, async () => {
      const json = rounded(modelOf(s), true);
      await checkOrt(json, lengths, false);
    });
  }
  it('sequence_lens: a ragged batch of a stacked bidirectional LSTM (the reverse direction starts at each end)', async () => {
    const json = rounded(
      modelOf({ cell: 'lstm', numLayers: 2, bidirectional: true, activation: 'tanh', output: 'all' }),
      true,
    );
    await checkOrt(json, [6, 2, 4, 1], true);
    // The graph input sequence_lens is no obstacle to the import.
    expect(importModel(exportModel(json, 'onnx', { sequenceLens: true }).bytes).model).toEqual(json);
  });
  it('sequence_lens: a ragged batch of a bidirectional GRU', async () => {
    const json = rounded(
      modelOf({ cell: 'gru', numLayers: 1, bidirectional: true, activation: 'tanh', output: 'all' }),
      true,
    );
    await checkOrt(json, [3, 5, 1], true);
  });

  /** Runs the model's ONNX export on a batch and compares y at every real step with our CPU forward (float64). */
  async function checkOrt(json: ModelJSON, lengths: number[], sequenceLens: boolean): Promise<void> {
    const all: ModelJSON = { ...json, output: 'all' };
    const model = modelFromJSON(all);
    const data = randomData(rng, all, lengths);
    const ours = cpuRun(model, batchFromArrays(data.inputs, null, 'all'), { gradients: false, outputs: true }).outputs!;
    const session = await ort.InferenceSession.create(exportModel(json, 'onnx', { sequenceLens }).bytes);
    const T = Math.max(...lengths);
    const N = lengths.length;
    const { inputSize: I, outputSize: O } = json;
    const x = new Float32Array(T * N * I);
    data.inputs.forEach((seq, n) => seq.forEach((step, t) => step.forEach((v, k) => (x[(t * N + n) * I + k] = v))));
    const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', x, [T, N, I]) };
    if (sequenceLens) feeds.sequence_lens = new ort.Tensor('int32', Int32Array.from(lengths), [N]);
    const y = (await session.run(feeds)).y;
    expect(y.dims).toEqual([T, N, O]);
    const yd = y.data as Float32Array;
    const theirs: number[] = [];
    lengths.forEach((len, n) => {
      for (let t = 0; t < len; t++) for (let o = 0; o < O; o++) theirs.push(yd[(t * N + n) * O + o]);
    });
    expectClose('y', theirs, ours, gpuTolerance(T, ours));
    await session.release();
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Bad files.
// ---------------------------------------------------------------------------------------------------------------

/** A safetensors file from a header object and a data section, as written (no checks). */
function rawSafetensors(header: unknown, data: Uint8Array, claimedLength?: number | bigint): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(claimedLength ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const lstm = modelOf({ cell: 'lstm', numLayers: 1, bidirectional: false, activation: 'tanh', output: 'all' }, false);
const goodSafetensors = exportModel(lstm, 'safetensors').bytes;
const goodOnnx = exportModel(lstm, 'onnx').bytes;

describe('bad safetensors files: one line naming the problem, before any claimed size is allocated', () => {
  it('a header shorter than its 8-byte length', () => {
    expectRefused(() => importModel(new Uint8Array(5), { format: 'safetensors' }), 'header: truncated: 5 bytes');
  });
  it('a header length larger than the file (2^50: nothing of that size is allocated)', () => {
    expectRefused(
      () => importModel(rawSafetensors({}, new Uint8Array(0), 2n ** 50n), { format: 'safetensors' }),
      `header length ${2 ** 50} is larger than the file`,
    );
    // A truncated copy of a good file: its header is cut.
    expectRefused(
      () => importModel(goodSafetensors.subarray(0, 40), { format: 'safetensors' }),
      'is larger than the file (40 bytes)',
    );
  });
  it('a header that is not JSON', () => {
    const b = rawSafetensors({}, new Uint8Array(0));
    b.set(new TextEncoder().encode('{x'), 8);
    expectRefused(() => importModel(b, { format: 'safetensors' }), 'header: not valid JSON');
  });
  it('a dtype it does not read, and a shape that does not match the bytes', () => {
    expectRefused(
      () =>
        readSafetensors(rawSafetensors({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8))),
      '"a".dtype: "I64" is not a float type read here',
    );
    expectRefused(
      () =>
        readSafetensors(
          rawSafetensors({ a: { dtype: 'F32', shape: [4, 3], data_offsets: [0, 40] } }, new Uint8Array(40)),
        ),
      '"a".data_offsets: shape [4, 3] of F32 takes 48 bytes, data_offsets [0, 40] hold 40',
    );
    // A shape claiming 2^40 values in 8 bytes: refused from the header (allocating it would throw a RangeError).
    expectRefused(
      () =>
        readSafetensors(
          rawSafetensors({ a: { dtype: 'F64', shape: [2 ** 20, 2 ** 20], data_offsets: [0, 8] } }, new Uint8Array(8)),
        ),
      `takes ${2 ** 43} bytes`,
    );
  });
  it('offsets past the end of the data, and overlapping tensors', () => {
    expectRefused(
      () =>
        readSafetensors(
          rawSafetensors({ a: { dtype: 'F32', shape: [2 ** 40], data_offsets: [0, 2 ** 42] } }, new Uint8Array(8)),
        ),
      `"a".data_offsets: end ${2 ** 42} is past the end of the data (8 bytes)`,
    );
    expectRefused(
      () =>
        readSafetensors(
          rawSafetensors(
            {
              a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
              b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
            },
            new Uint8Array(12),
          ),
        ),
      `"b".data_offsets: bytes [4, 12] overlap "a"'s [0, 8]`,
    );
  });
  it('state_dicts that are not one recurrent module and one Linear', () => {
    const t = (shape: number[]) => ({ shape, values: new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(0.1) });
    const file = (tensors: Record<string, { shape: number[]; values: number[] }>) =>
      writeSafetensors(
        Object.entries(tensors).map(([name, v]) => ({ name, ...v })),
        {},
      );
    const base = {
      'rnn.weight_ih_l0': t([8, 3]),
      'rnn.weight_hh_l0': t([8, 2]),
      'rnn.bias_ih_l0': t([8]),
      'rnn.bias_hh_l0': t([8]),
      'fc.weight': t([1, 2]),
      'fc.bias': t([1]),
    };
    expect(importModel(file(base)).model.cell).toBe('lstm');
    expectRefused(() => importModel(file({ 'fc.weight': t([1, 2]) })), 'no recurrent weights');
    expectRefused(
      () => importModel(file({ ...base, 'fc.weight': t([1, 3]) })),
      'fc.weight: expected 1×2 (O×D·H), got 1×3',
    );
    expectRefused(
      () => importModel(file({ ...base, 'rnn.weight_hh_l0': t([5, 2]) })),
      'rnn.weight_hh_l0: 5 rows for H = 2',
    );
    expectRefused(() => importModel(file({ ...base, 'rnn.weight_ih_l1': t([8, 2]) })), 'rnn.weight_hh_l1: missing');
    expectRefused(
      () => importModel(file({ ...base, 'dec.weight_ih_l0': t([8, 3]) })),
      'dec.weight_ih_l0: a second recurrent module',
    );
    expectRefused(() => importModel(file({ ...base, 'head.weight': t([1, 2]) })), 'a second readout weight');
    expectRefused(
      () => importModel(file({ ...base, 'fc.scale': t([1]) })),
      'fc.scale: not part of one nn.LSTM and one nn.Linear',
    );
    expectRefused(
      () => importModel(file({ ...base, 'rnn.bias_ih_l0': t([4]) })),
      'rnn.bias_ih_l0: expected shape [8], got [4]',
    );
  });
  it('metadata that disagrees with the tensors', () => {
    const f = readSafetensors(goodSafetensors);
    const config = JSON.parse(f.metadata['webgpu-rnn']) as Record<string, unknown>;
    const bytes = writeSafetensors(
      [...f.tensors].map(([name, v]) => ({ name, shape: v.shape, values: v.values })),
      { 'webgpu-rnn': JSON.stringify({ ...config, hiddenSize: 5 }) },
    );
    expectRefused(() => importModel(bytes), 'webgpu-rnn.hiddenSize: the metadata says 5, the tensors 4');
  });
});

/** Our LSTM's ONNX model, decoded, edited by `edit`, and encoded again. */
function editedOnnx(edit: (m: OnnxModel, rnn: OnnxNode) => void): Uint8Array {
  const m = decodeOnnx(goodOnnx);
  edit(
    m,
    m.graph!.node!.find((n) => n.opType === 'LSTM')!,
  );
  return encodeOnnx(m);
}

describe('bad ONNX files: one line naming the op and the attribute', () => {
  it('bytes that are not protobuf, and protobuf that is not an ONNX model', () => {
    expectRefused(
      () => importModel(new TextEncoder().encode('hello, world\n'), { format: 'onnx' }),
      'not an ONNX model',
    );
    expectRefused(
      () => importModel(goodOnnx.subarray(0, goodOnnx.length - 7), { format: 'onnx' }),
      'not an ONNX model',
    );
  });
  it('a graph that is not a recurrent module: another op, or no recurrent op', () => {
    expectRefused(
      () =>
        importModel(
          editedOnnx((m) => m.graph!.node!.push({ opType: 'Conv', name: 'conv1', input: ['x'], output: ['z'] })),
        ),
      'Conv "conv1": op Conv is not one',
    );
    expectRefused(
      () => importModel(editedOnnx((m) => (m.graph!.node = m.graph!.node!.filter((n) => n.opType !== 'LSTM')))),
      'graph: no RNN, LSTM or GRU op (its ops: Transpose, Reshape, MatMul, Add)',
    );
  });
  it('attributes and inputs we do not compute: clip, input_forget, peepholes, other activations, layout 1', () => {
    expectRefused(
      () => importModel(editedOnnx((_, n) => n.attribute!.push({ name: 'clip', type: 1, f: 3 }))),
      'LSTM "lstm_l0".clip',
    );
    expectRefused(
      () => importModel(editedOnnx((_, n) => n.attribute!.push(attr.int('input_forget', 1)))),
      'LSTM "lstm_l0".input_forget',
    );
    expectRefused(
      () =>
        importModel(editedOnnx((_, n) => n.attribute!.push(attr.strings('activations', ['Sigmoid', 'Tanh', 'Relu'])))),
      'LSTM "lstm_l0".activations: [sigmoid, tanh, relu] are not computed here',
    );
    expectRefused(
      () => importModel(editedOnnx((_, n) => n.attribute!.push(attr.int('layout', 1)))),
      'LSTM "lstm_l0".layout',
    );
    expectRefused(
      () =>
        importModel(
          editedOnnx((m, n) => {
            m.graph!.initializer!.push(floatTensor('P', [1, 12], new Array<number>(12).fill(0)));
            n.input = [...n.input!, '', '', '', 'P'].slice(0, 8);
            while (n.input.length < 8) n.input.push('');
            n.input[7] = 'P';
          }),
        ),
      'LSTM "lstm_l0".P: peephole weights',
    );
  });
  it('a readout of the last step only (a Gather on the time axis) imports as output last, and refuses --output all', () => {
    const bytes = editedOnnx((m) => {
      const g = m.graph!;
      g.initializer!.push({ name: 'last_step', dims: [], dataType: 7, int64Data: [-1] });
      g.node!.splice(
        g.node!.findIndex((n) => n.opType === 'MatMul'),
        0,
        {
          opType: 'Gather',
          name: 'out_last',
          input: ['lstm_l0_out', 'last_step'],
          output: ['out_last'],
          attribute: [attr.int('axis', 0)],
        },
      );
      g.node!.find((n) => n.opType === 'MatMul')!.input![0] = 'out_last';
    });
    const r = importModel(bytes);
    expect(r.model.output).toBe('last');
    expect(r.notes).toEqual(["output: last (the graph's readout reads the last step only)"]);
    expect(r.model.weights).toEqual(importModel(goodOnnx).model.weights);
    expectRefused(
      () => importModel(bytes, { output: 'all' }),
      'output: is "all", but the graph\'s readout reads the last step only',
    );
  });
  it("a GRU with linear_before_reset 0 (the variant we don't compute)", () => {
    const gru = exportModel(
      modelOf({ cell: 'gru', numLayers: 1, bidirectional: false, activation: 'tanh', output: 'all' }, false),
      'onnx',
    );
    const m = decodeOnnx(gru.bytes);
    const n = m.graph!.node!.find((x) => x.opType === 'GRU')!;
    n.attribute = n.attribute!.filter((a) => a.name !== 'linear_before_reset');
    expectRefused(() => importModel(encodeOnnx(m)), 'GRU "gru_l0".linear_before_reset: is 0');
  });
  it('a tensor whose dims claim more than its data holds (checked before allocating)', () => {
    expectRefused(
      () =>
        importModel(
          editedOnnx((m) => {
            const w = m.graph!.initializer!.find((t) => t.name === 'lstm_l0_W')!;
            w.dims = [2 ** 20, 2 ** 20, 16];
          }),
        ),
      `LSTM "lstm_l0".W: dims [${2 ** 20}, ${2 ** 20}, 16] of float take`,
    );
  });
});

describe('the import and export commands', () => {
  it('export, then import, from the command line; notes on stderr', async () => {
    const model = join(dir, 'm.json');
    writeFileSync(model, JSON.stringify(modelOf(SHAPES[3], false)));
    for (const ext of ['safetensors', 'onnx']) {
      const out = join(dir, `m.${ext}`);
      const e = await cli('export', '--model', model, '--out', out, '--json');
      expect(e.code).toBe(0);
      expect(JSON.parse(e.stdout)).toMatchObject({ format: ext, notes: [] });
      const back = join(dir, `back-${ext}.json`);
      const r = await cli('import', out, '--out', back, '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toMatchObject({ format: ext, cell: 'lstm', numLayers: 2, bidirectional: true });
      expect(JSON.parse(readFileSync(back, 'utf8'))).toEqual(
        rounded(JSON.parse(readFileSync(model, 'utf8')) as ModelJSON, true),
      );
    }
    // A plain state_dict (no config): the import says which output mode it chose.
    const plain = join(dir, 'plain.safetensors');
    const f = readSafetensors(readFileSync(join(dir, 'm.safetensors')));
    writeFileSync(
      plain,
      writeSafetensors(
        [...f.tensors].map(([name, v]) => ({ name, shape: v.shape, values: v.values })),
        {},
      ),
    );
    const r = await cli('import', plain, '--out', join(dir, 'plain.json'));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'webgpu-rnn: import: output: all (a prediction at every step, fc(out)); --output last for one per sequence\n',
    );
    expect(r.stdout).toMatch(
      /^imported .*plain\.safetensors \(safetensors\): lstm, 2 layers, bidirectional, I=3 H=4 O=2/,
    );
  });
  it('bad files and options: exit 2, one line', async () => {
    const trunc = join(dir, 'trunc.safetensors');
    writeFileSync(trunc, goodSafetensors.subarray(0, 6));
    for (const [args, needle] of [
      [['import', trunc, '--out', join(dir, 'x.json')], 'trunc.safetensors: header: truncated: 6 bytes'],
      [['import', join(dir, 'missing.onnx'), '--out', join(dir, 'x.json')], 'missing.onnx: file not found'],
      [['import', model(), '--out', join(dir, 'x.json'), '--format', 'onnx'], 'not an ONNX model'],
      [['import', conv(), '--out', join(dir, 'x.json')], 'conv.onnx: node 5 Conv "conv1": op Conv is not one'],
      [['import', trunc, '--out', join(dir, 'x.txt')], '--out: must end in .json'],
      [['export', '--model', 'statquest', '--out', join(dir, 'x.pt')], '--out: must end in .safetensors or .onnx'],
    ] as [string[], string][]) {
      const r = await cli(...args);
      expectInputError(r, needle);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    function conv(): string {
      const p = join(dir, 'conv.onnx');
      writeFileSync(
        p,
        editedOnnx((m) => m.graph!.node!.push({ opType: 'Conv', name: 'conv1', input: ['x'], output: ['z'] })),
      );
      return p;
    }
    function model(): string {
      const p = join(dir, 'text.json');
      writeFileSync(p, '{"not": "onnx"}\n');
      return p;
    }
  });
  it('export of a normalised model says on stderr that the weights do not apply it', async () => {
    const json = {
      ...modelOf(SHAPES[0], false),
      normalization: { kind: 'minmax', offset: [0, 0, 0], scale: [1, 2, 3] },
    };
    const model = join(dir, 'norm.json');
    writeFileSync(model, JSON.stringify(json));
    const r = await cli('export', '--model', model, '--out', join(dir, 'norm.onnx'));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^webgpu-rnn: export: weights only: the model's minmax normalization is not applied/);
  });
});
