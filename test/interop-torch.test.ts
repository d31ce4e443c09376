// PyTorch and our interop (src/interop/), both ways, in one python process (test/torch/interop.py):
//   - PyTorch writes state_dicts (.safetensors, F64, F32, F16 and BF16, with and without key prefixes) and
//     torch.onnx.export files (opset 14) of nn.RNN, nn.LSTM and nn.GRU × {1, 2 layers} × {one direction,
//     bidirectional} + nn.Linear; importing each and running the CPU backend (float64) must give PyTorch autograd's
//     loss, predictions and every gradient, and the single-layer ones the same on WebGPU within the GPU tolerance;
//   - our exported safetensors load with load_state_dict (strict) into the same PyTorch modules and give our
//     predictions, and our exported ONNX files give PyTorch's predictions in onnxruntime-node.
// Needs python3 with torch (as test/torch-cells.test.ts); without it the file says why and is skipped, except
// under CI=true, where a missing torch is a failure.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { batchFromArrays } from '../src/batch.ts';
import type { CellName } from '../src/cells/index.ts';
import { gpuTolerance } from '../src/compare.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { exportModel } from '../src/interop/export.ts';
import { importModel } from '../src/interop/import.ts';
import {
  directions,
  flattenWeights,
  layerLayouts,
  modelFromJSON,
  paramLayout,
  paramName,
  type Model,
  type ModelJSON,
  type OutputMode,
  type Weights,
} from '../src/model.ts';
import { parseModel } from '../src/validate.ts';
import { cli } from './helpers/cli.ts';
import { expectClose } from './helpers/compare.ts';
import { torchPython } from './helpers/torch.ts';
import { describeGpu } from './helpers/gpu.ts';
import { randomLayeredModelJSON } from './helpers/layered-cases.ts';
import { Rng, randomData } from './helpers/random-cases.ts';

const SCRIPT = new URL('./torch/interop.py', import.meta.url).pathname;

const PY = torchPython('interop-torch', 'the PyTorch interop checks');

const I = 3;
const H = 4;
const O = 2;
const N = 3;
const T = 5;

interface MadeCase {
  id: string;
  cell: CellName;
  numLayers: number;
  bidirectional: boolean;
  I: number;
  H: number;
  O: number;
  dtype: 'F64' | 'F32' | 'F16' | 'BF16';
  rnnPrefix: string;
  fcPrefix: string;
  nonlinearity: 'tanh' | 'relu';
  output: OutputMode;
  onnx: boolean;
  /** A readout of the last step only: fc(out[-1]) or fc(h_n[-1]) (absent: fc(out) at every step). */
  readout?: 'out-last' | 'hn-last';
  seed: number;
  inputs: number[][][];
  targets: number[][] | number[][][];
}

const rng = new Rng(2323);
const SHAPES = (['lstm', 'gru', 'elman'] as CellName[]).flatMap((cell) =>
  [1, 2].flatMap((numLayers) => [false, true].map((bidirectional) => ({ cell, numLayers, bidirectional }))),
);
const data = (output: OutputMode) =>
  randomData(rng, { inputSize: I, outputSize: O, output }, new Array<number>(N).fill(T));
const made: MadeCase[] = SHAPES.map((s, k) => {
  const output: OutputMode = k % 2 ? 'last' : 'all';
  return {
    ...s,
    id: `${s.cell}-${s.numLayers}${s.bidirectional ? '-bi' : ''}`,
    I,
    H,
    O,
    dtype: 'F64',
    rnnPrefix: ['rnn.', 'encoder.recurrent.', ''][k % 3],
    fcPrefix: ['fc.', 'head.', 'out.'][k % 3],
    nonlinearity: s.cell === 'elman' && s.bidirectional ? 'relu' : 'tanh',
    output,
    onnx: true,
    seed: 11 + k,
    ...data(output),
  };
});
// The other dtypes, as state_dicts only.
for (const [cell, numLayers, bidirectional, dtype] of [
  ['lstm', 1, false, 'F32'],
  ['gru', 2, true, 'BF16'],
  ['elman', 1, false, 'F16'],
  ['lstm', 2, false, 'F16'],
] as const) {
  made.push({
    id: `${cell}-${numLayers}${bidirectional ? '-bi' : ''}-${dtype}`,
    cell,
    numLayers,
    bidirectional,
    I,
    H,
    O,
    dtype,
    rnnPrefix: 'model.rnn.',
    fcPrefix: 'model.fc.',
    nonlinearity: 'tanh',
    output: 'all',
    onnx: false,
    seed: 40 + made.length,
    ...data('all'),
  });
}

// Modules that predict once per sequence, from the last step: the ONNX import finds output "last" by itself.
for (const [cell, numLayers, bidirectional, readout] of [
  ['lstm', 2, false, 'out-last'],
  ['elman', 1, true, 'out-last'],
  ['gru', 1, false, 'hn-last'],
  ['lstm', 2, false, 'hn-last'],
] as const) {
  made.push({
    id: `${cell}-${numLayers}${bidirectional ? '-bi' : ''}-${readout}`,
    cell,
    numLayers,
    bidirectional,
    I,
    H,
    O,
    dtype: 'F64',
    rnnPrefix: 'rnn.',
    fcPrefix: 'fc.',
    nonlinearity: 'tanh',
    output: 'last',
    onnx: true,
    readout,
    seed: 60 + made.length,
    ...data('last'),
  });
}

// Our models to export: every shape, Elman relu where PyTorch has it, h0 = 0 (a state_dict has no h0), and weights
// that are float32 values (what the export writes), so PyTorch runs exactly our model.
const exported = SHAPES.map((s, k) => {
  const json = randomLayeredModelJSON(rng, {
    ...s,
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    output: 'all',
    activation: s.cell === 'elman' && k % 2 ? 'relu' : 'tanh',
  });
  const model = modelFromJSON(parseModel(json));
  model.params = model.params.map(Math.fround);
  return { id: `${s.cell}-${s.numLayers}${s.bidirectional ? '-bi' : ''}`, shape: s, model, inputs: data('all').inputs };
});

const dir = mkdtempSync(join(tmpdir(), 'interop-torch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface TorchMade {
  loss: number;
  outputs: number[];
  grads: Record<string, number[]>;
}
interface TorchLoaded {
  outputs: number[];
  metadata: Record<string, string>;
}
let results: { made: TorchMade[]; loaded: TorchLoaded[] } | null = null;
/** Runs the one python process (on first use): PyTorch's files and results, and our exports loaded into PyTorch. */
function torch(): { made: TorchMade[]; loaded: TorchLoaded[] } {
  if (results) return results;
  const load = exported.map((e) => {
    const path = join(dir, `ours-${e.id}.safetensors`);
    writeFileSync(path, exportModel(e.model, 'safetensors').bytes);
    return {
      path,
      ...e.shape,
      I,
      H,
      O,
      nonlinearity: e.model.activation === 'relu' ? 'relu' : 'tanh',
      inputs: e.inputs,
    };
  });
  const r = spawnSync(PY!, [SCRIPT], {
    input: JSON.stringify({ dir, make: made, load }),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`torch failed: ${r.stderr}`);
  results = JSON.parse(r.stdout) as { made: TorchMade[]; loaded: TorchLoaded[] };
  expect(results.made.length).toBe(made.length);
  return results;
}

/** PyTorch's gradients in our flat parameter order (an Elman layer's bh: bias_hh's, which equals bias_ih's). */
function torchGradsFlat(model: Model, grads: Record<string, number[]>): Float64Array {
  const L = paramLayout(model);
  const out = new Float64Array(L.count);
  const D = directions(model);
  const names: Record<string, string> = { Wx: 'weight_ih', Wh: 'weight_hh', bx: 'bias_ih', bh: 'bias_hh' };
  for (const layer of layerLayouts(model))
    for (const b of Object.values(layer.blocks)) {
      const key = `${names[b.name]}_l${Math.floor(layer.index / D)}${layer.index % D ? '_reverse' : ''}`;
      expect(grads[key]?.length, key).toBe(b.size);
      out.set(grads[key], b.offset);
    }
  out.set(grads['fc.weight'], L.blocks.Wy.offset);
  out.set(grads['fc.bias'], L.blocks.by.offset);
  return out;
}

const EXACT = { atol: 1e-12, rtol: 1e-10 };

function checkAgainstTorch(model: Model, c: MadeCase, theirs: TorchMade): void {
  const ours = cpuRun(model, batchFromArrays(c.inputs, c.targets, c.output), { gradients: true, outputs: true });
  expectClose('loss', [ours.loss!], [theirs.loss], EXACT);
  expectClose('outputs', ours.outputs!, theirs.outputs, EXACT);
  expectClose('gradients', ours.grads!, torchGradsFlat(model, theirs.grads), EXACT, (k) => paramName(model, k));
}

describe.skipIf(!PY)('PyTorch files imported: grad agrees with PyTorch autograd (float64, CPU backend)', () => {
  made.forEach((c, i) => {
    it(`${c.id}: safetensors (${c.dtype}, keys "${c.rnnPrefix}weight_ih_l0", "${c.fcPrefix}weight")`, () => {
      const theirs = torch().made[i];
      const r = importModel(readFileSync(join(dir, `${c.id}.safetensors`)), {
        output: c.output,
        ...(c.cell === 'elman' ? { activation: c.nonlinearity } : {}),
      });
      expect(r.format).toBe('safetensors');
      expect(r.model.cell ?? 'elman').toBe(c.cell);
      expect(r.model.numLayers ?? 1).toBe(c.numLayers);
      expect(r.model.bidirectional ?? false).toBe(c.bidirectional);
      expect(r.model.activation).toBe(c.cell === 'elman' ? c.nonlinearity : 'tanh');
      checkAgainstTorch(modelFromJSON(r.model), c, theirs);
    }, 120_000);
    if (!c.onnx) return;
    it(`${c.id}: torch.onnx.export file (opset 14${c.readout ? `, fc(${c.readout === 'out-last' ? 'out' : 'h_n'}[-1])` : ''}), the same weights as the state_dict`, () => {
      const theirs = torch().made[i];
      const r = importModel(
        readFileSync(join(dir, `${c.id}.onnx`)),
        c.output === 'last' && !c.readout ? { output: 'last' } : {},
      );
      expect(r.format).toBe('onnx');
      if (c.readout) expect(r.notes).toEqual(["output: last (the graph's readout reads the last step only)"]);
      // A graph with a readout on every step imports as `all` unless told `last`; nn.RNN's activation is in it.
      expect(r.model.output).toBe(c.output);
      expect(r.model.activation).toBe(c.cell === 'elman' ? c.nonlinearity : 'tanh');
      const fromState = importModel(readFileSync(join(dir, `${c.id}.safetensors`)), {
        output: c.output,
        activation: c.nonlinearity,
      });
      expect(r.model).toEqual(fromState.model);
      checkAgainstTorch(modelFromJSON(r.model), c, theirs);
    }, 120_000);
  });
});

describe.skipIf(!PY)('from the command line: import, then grad', () => {
  for (const id of ['lstm-2-bi', 'gru-1']) {
    it(`${id}: webgpu-rnn import FILE.onnx --output …, then grad --backend cpu --json gives PyTorch's loss and gradients`, async () => {
      const i = made.findIndex((c) => c.id === id);
      const c = made[i];
      const theirs = torch().made[i];
      const modelFile = join(dir, `cli-${id}.json`);
      const dataFile = join(dir, `cli-${id}-data.json`);
      const imported = await cli('import', join(dir, `${id}.onnx`), '--out', modelFile, '--output', c.output);
      expect(imported.code, imported.stderr).toBe(0);
      writeFileSync(dataFile, JSON.stringify({ inputs: c.inputs, targets: c.targets }));
      const r = await cli('grad', '--model', modelFile, '--data', dataFile, '--backend', 'cpu', '--json');
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { loss: number; grads: Weights };
      const model = modelFromJSON(parseModel(JSON.parse(readFileSync(modelFile, 'utf8'))));
      expectClose('loss', [report.loss], [theirs.loss], EXACT);
      expectClose('gradients', flattenWeights(model, report.grads), torchGradsFlat(model, theirs.grads), EXACT, (k) =>
        paramName(model, k),
      );
    }, 120_000);
  }
});

describe.skipIf(!PY)('our exports in PyTorch and ONNX Runtime', () => {
  exported.forEach((e, i) => {
    it(`${e.id}${e.model.activation === 'relu' ? ' (relu)' : ''}: safetensors loads with load_state_dict and gives our predictions; ONNX in onnxruntime gives PyTorch's`, async () => {
      const theirs = torch().loaded[i];
      const batch = batchFromArrays(e.inputs, null, 'all');
      const ours = cpuRun(e.model, batch, { gradients: false, outputs: true });
      expectClose('outputs (PyTorch, our safetensors)', theirs.outputs, ours.outputs!, EXACT);
      const config = JSON.parse(theirs.metadata['webgpu-rnn']) as Partial<ModelJSON>;
      expect(config.cell ?? 'elman').toBe(e.shape.cell);
      expect(config.output).toBe('all');
      // ONNX: x is [T, N, I], y [T, N, O]; PyTorch's predictions are [N][T][O].
      const session = await ort.InferenceSession.create(exportModel(e.model, 'onnx').bytes);
      const x = new Float32Array(T * N * I);
      e.inputs.forEach((seq, n) => seq.forEach((step, t) => step.forEach((v, k) => (x[(t * N + n) * I + k] = v))));
      const y = (await session.run({ x: new ort.Tensor('float32', x, [T, N, I]) })).y;
      expect(y.dims).toEqual([T, N, O]);
      const yd = y.data as Float32Array;
      const reordered = Array.from({ length: N * T * O }, (_, k) => {
        const [n, t, o] = [Math.floor(k / (T * O)), Math.floor(k / O) % T, k % O];
        return yd[(t * N + n) * O + o];
      });
      expectClose('outputs (onnxruntime, PyTorch)', reordered, theirs.outputs, gpuTolerance(T, theirs.outputs));
      await session.release();
    }, 120_000);
  });
});

if (PY)
  await describeGpu('PyTorch files imported, on WebGPU: grad agrees with PyTorch within the GPU tolerance', (gpu) => {
    made
      .map((c, i) => ({ c, i }))
      .filter(({ c }) => c.numLayers === 1 && !c.bidirectional)
      .forEach(({ c, i }) => {
        for (const format of c.onnx ? (['safetensors', 'onnx'] as const) : (['safetensors'] as const))
          it(`${c.id}, ${format}`, async () => {
            const theirs = torch().made[i];
            const r = importModel(readFileSync(join(dir, `${c.id}.${format}`)), {
              output: c.output,
              ...(format === 'safetensors' && c.cell === 'elman' ? { activation: c.nonlinearity } : {}),
            });
            const model = modelFromJSON(r.model);
            const res = await gpu().run(model, batchFromArrays(c.inputs, c.targets, c.output), { outputs: true });
            expect(res.backend).toBe('webgpu');
            const tg = torchGradsFlat(model, theirs.grads);
            expectClose('loss', [res.loss!], [theirs.loss], gpuTolerance(T, [theirs.loss]));
            expectClose('outputs', res.outputs!, theirs.outputs, gpuTolerance(T, theirs.outputs));
            expectClose('gradients', res.gradsFlat!, tg, gpuTolerance(T, tg), (k) => paramName(model, k));
          }, 120_000);
      });
  });
