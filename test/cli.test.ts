// The webgpu-rnn CLI, run as a child process (the sources through tsx, test/helpers/cli-process.ts) with the CPU backend: results equal the
// CPU reference on the same files, and every bad input exits 2 with a message naming the field and index and
// nothing on stdout.

import { gpuRequired } from './helpers/gpu.ts';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../src/batch.ts';
import { num } from '../src/cli/format.ts';
import { compareResults } from '../src/verify.ts';
import { exitCodeOf, MismatchError } from '../src/cli/app.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { Engine, type Result } from '../src/engine.ts';
import { GpuError, InputError, NonFiniteError } from '../src/errors.ts';
import { encodeRnnb, readDataFile, writeBinaryData, writeJsonData } from '../src/io/files.ts';
import { flattenWeights, modelFromJSON, preset, type ModelJSON, type OutputMode } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import { statquestReport } from '../src/statquest.ts';
import { expectInputError } from './helpers/cli.ts';
import { CLI } from './helpers/cli-process.ts';
import { expectClose } from './helpers/compare.ts';
import { tempFiles } from './helpers/files.ts';
import type { ForwardReport, GradReport, VerifyJson } from './helpers/reports.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { dir, tmp } = tempFiles('webgpu-rnn-cli-');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Run {
  const r = spawnSync(process.execPath, [...CLI, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function writeJson(name: string, value: unknown): string {
  const path = tmp(name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

const shape = { inputSize: 2, hiddenSize: 3, outputSize: 2 };
const modelFor = (output: OutputMode): ModelJSON => randomModel(shape, 'tanh', output, 21);

/** Expected values from the CPU reference, computed in this process on the batch read from the same file. */
function reference(model: ModelJSON, batch: Batch) {
  return cpuRun(modelFromJSON(model), batch, { gradients: batch.targets !== null, outputs: true });
}

/** The CLI's numbers against the reference computed here: the same float64 arithmetic, so within 1e-12. */
const SAME = { atol: 1e-12, rtol: 0 };

describe('grad and forward equal the CPU reference', () => {
  it('grad --json (last, JSON data): loss and grads within 1e-12, exact key set', () => {
    const model = modelFor('last');
    const modelPath = writeJson('model.json', model);
    const dataPath = tmp('data.json');
    writeJsonData(
      dataPath,
      randomBatch({ count: 40, inputSize: 2, outputSize: 2, output: 'last', minLength: 1, maxLength: 9, seed: 3 }),
    );
    const r = cli('grad', '--model', modelPath, '--data', dataPath, '--backend', 'cpu', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as GradReport;
    expect(Object.keys(out)).toEqual(['backend', 'adapter', 'loss', 'grads', 'gradNorm', 'clipped']);
    expect(Object.keys(out.grads)).toEqual(['Wx', 'Wh', 'bh', 'Wy', 'by']);
    expect(out.backend).toBe('cpu');
    const ref = reference(model, readDataFile(dataPath, model));
    expectClose('loss', [out.loss!], [ref.loss!], SAME);
    expectClose('grads', flattenWeights(model, out.grads), ref.grads!, SAME);
    expect(out.grads.Wx.length).toBe(3);
    expect(out.grads.Wx[0].length).toBe(2);
  });

  it('grad --json --outputs (all, RNNB data): outputs nested N×T_n×O', () => {
    const model = modelFor('all');
    const modelPath = writeJson('model.json', model);
    const dataPath = tmp('data.rnnb');
    writeBinaryData(
      dataPath,
      randomBatch({ count: 17, inputSize: 2, outputSize: 2, output: 'all', minLength: 1, maxLength: 6, seed: 4 }),
    );
    const r = cli('grad', '--model', modelPath, '--data', dataPath, '--backend', 'cpu', '--json', '--outputs');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as GradReport;
    expect(Object.keys(out)).toEqual(['backend', 'adapter', 'loss', 'grads', 'gradNorm', 'clipped', 'outputs']);
    const batch = readDataFile(dataPath, model);
    const ref = reference(model, batch);
    expectClose('loss', [out.loss!], [ref.loss!], SAME);
    expectClose('grads', flattenWeights(model, out.grads), ref.grads!, SAME);
    const outputs = out.outputs as number[][][];
    expect(outputs.length).toBe(17);
    outputs.forEach((seq, n) => expect(seq.length).toBe(batch.lengths[n]));
    expectClose('outputs', outputs.flat(2), ref.outputs!, SAME);
  });

  it('forward --json without targets: loss null and N×O outputs', () => {
    const model = modelFor('last');
    const modelPath = writeJson('model.json', model);
    const dataPath = tmp('inputs.json');
    writeJsonData(
      dataPath,
      randomBatch({
        count: 6,
        inputSize: 2,
        outputSize: 2,
        output: 'last',
        minLength: 2,
        maxLength: 4,
        seed: 5,
        withTargets: false,
      }),
    );
    const r = cli('forward', '--model', modelPath, '--data', dataPath, '--backend', 'cpu', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as ForwardReport;
    expect(Object.keys(out)).toEqual(['backend', 'adapter', 'loss', 'outputs']);
    expect(out.loss).toBeNull();
    const ref = reference(model, readDataFile(dataPath, model));
    const outputs = out.outputs as number[][];
    expect(outputs.map((row) => row.length)).toEqual([2, 2, 2, 2, 2, 2]);
    expectClose('outputs', outputs.flat(), ref.outputs!, SAME);
  });

  it('grad text report shows the backend, the loss and every gradient block', () => {
    const dataPath = writeJson('d.json', {
      inputs: [
        [[1], [0.5]],
        [[0], [0.5]],
      ],
      targets: [[0], [1]],
    });
    const r = cli('grad', '--model', 'statquest', '--data', dataPath, '--backend', 'cpu', '--outputs');
    expect(r.code).toBe(0);
    const model = preset('statquest');
    const ref = reference(model, readDataFile(dataPath, model));
    expect(r.stdout).toContain('backend   cpu');
    expect(r.stdout).toContain(`loss      ${num(ref.loss!)}  (SSR`);
    expect(num(ref.loss!)).toBe('0.0001'); // the notes' SSR: (1 − 0.99)²
    for (const name of ['Wx (1×1)', 'Wh (1×1)', 'bh (1)', 'Wy (1×1)', 'by (1)', 'outputs'])
      expect(r.stdout).toContain(name);
    expect(r.stdout).toContain(`[1]  ${num(ref.outputs![1])}`);
  });

  it('statquest --json equals the report computed in-process', async () => {
    const r = cli('statquest', '--backend', 'cpu', '--json');
    expect(r.code).toBe(0);
    const engine = await Engine.create({ backend: 'cpu' });
    const expected = await statquestReport(engine);
    engine.dispose();
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
  });
});

describe('gen-data', () => {
  it('writes the same seeded data set as JSON and RNNB, equal to randomBatch', () => {
    const model = modelFor('all');
    const modelPath = writeJson('model.json', model);
    const json = tmp('gen.json');
    const bin = tmp('gen.rnnb');
    const args = ['--model', modelPath, '--count', '12', '--min-length', '2', '--max-length', '5', '--seed', '77'];
    const a = cli('gen-data', ...args, '--out', json);
    const b = cli('gen-data', ...args, '--out', bin, '--json');
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({
      file: bin,
      format: 'rnnb',
      count: 12,
      inputSize: 2,
      outputSize: 2,
      output: 'all',
      targets: true,
      seed: 77,
    });
    const expected = randomBatch({
      count: 12,
      inputSize: 2,
      outputSize: 2,
      output: 'all',
      minLength: 2,
      maxLength: 5,
      seed: 77,
    });
    for (const batch of [readDataFile(json, model), readDataFile(bin, model)]) {
      expect(Array.from(batch.lengths)).toEqual(Array.from(expected.lengths));
      expect(Array.from(batch.inputs)).toEqual(Array.from(expected.inputs));
      expect(Array.from(batch.targets!)).toEqual(Array.from(expected.targets!));
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a failed gen-data creates no file and prints nothing on stdout', () => {
    const modelPath = writeJson('model.json', modelFor('last'));
    const out = tmp('never.rnnb');
    expectInputError(
      cli('gen-data', '--model', modelPath, '--count', '5', '--min-length', '6', '--max-length', '3', '--out', out),
      '--max-length',
    );
    expectInputError(
      cli('gen-data', '--model', join(dir, 'missing.json'), '--count', '5', '--out', out),
      'file not found',
    );
    expectInputError(cli('gen-data', '--model', modelPath, '--count', '0', '--out', out), '--count');
    expect(existsSync(out)).toBe(false);
  });
});

describe('bad input exits 2 naming the field and index', () => {
  const model1 = {
    inputSize: 1,
    hiddenSize: 1,
    outputSize: 1,
    activation: 'tanh',
    output: 'last',
    weights: { Wx: [[0.5]], Wh: [[0.5]], bh: [0], Wy: [[1]], by: [0] },
  };
  const m1 = writeJson('m1.json', model1);
  const grad = (model: string, data: string, ...more: string[]): Run =>
    cli('grad', '--model', model, '--data', data, '--backend', 'cpu', ...more);

  it('data JSON: Infinity (1e999), ragged steps, size mismatch, empty batch, zero-length sequence, missing targets', () => {
    expectInputError(
      grad(m1, writeJson('inf.json', '{"inputs": [[[1], [1e999]]], "targets": [[0]]}')),
      'inputs[0][1][0]',
      'finite',
    );
    expectInputError(
      grad(m1, writeJson('inf-t.json', '{"inputs": [[[1]], [[2]]], "targets": [[0], [-1e999]]}')),
      'targets[1][0]',
    );
    expectInputError(
      grad(m1, writeJson('ragged.json', { inputs: [[[1]], [[1, 2]]], targets: [[0], [0]] })),
      'inputs[1][0]',
    );
    expectInputError(grad(m1, writeJson('wide-t.json', { inputs: [[[1]]], targets: [[0, 1]] })), 'targets[0]');
    expectInputError(grad(m1, writeJson('empty.json', { inputs: [], targets: [] })), 'inputs', 'empty');
    expectInputError(
      grad(m1, writeJson('zero.json', { inputs: [[[1]], []], targets: [[0], [0]] })),
      'inputs[1]',
      'at least one step',
    );
    expectInputError(grad(m1, writeJson('no-t.json', { inputs: [[[1]]] })), 'targets', 'grad needs targets');
    expectInputError(
      grad(m1, writeJson('syntax.json', '{"inputs": [[[1]]],\n "targets": [[0]],\n}')),
      'line 3, column 1',
    );
  });

  it('model JSON: unknown activation, unknown output mode, non-finite weight, wrong shape', () => {
    const data = writeJson('ok.json', { inputs: [[[1]]], targets: [[0]] });
    expectInputError(grad(writeJson('act.json', { ...model1, activation: 'sigmoid' }), data), 'activation', 'sigmoid');
    expectInputError(grad(writeJson('out.json', { ...model1, output: 'every' }), data), 'output', 'every');
    expectInputError(
      grad(writeJson('w.json', JSON.stringify(model1).replace('"Wh":[[0.5]]', '"Wh":[[1e999]]')), data),
      'weights.Wh[0][0]',
    );
    expectInputError(
      grad(writeJson('shape.json', { ...model1, weights: { ...model1.weights, Wy: [[1, 2]] } }), data),
      'weights.Wy: expected 1×1 (O×H for elman), got 1×2',
    );
  });

  it('files: missing model or data file, bad RNNB magic, truncated RNNB, zero length in RNNB, NaN in RNNB', () => {
    const missing = join(dir, 'nope.json');
    expectInputError(grad(missing, m1), `${missing}: file not found`);
    expectInputError(grad(m1, missing), `${missing}: file not found`);
    expectInputError(grad(m1, writeJson('fake.rnnb', 'RNNX0000')), 'magic', 'RNNB');
    const batch = randomBatch({
      count: 3,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      minLength: 2,
      maxLength: 2,
      seed: 1,
    });
    const good = encodeRnnb(batch);
    const expected = 32 + 4 * 3 + 4 * 6 + 4 * 3;
    expect(good.length).toBe(expected);
    const truncated = tmp('short.rnnb');
    writeFileSync(truncated, good.subarray(0, expected - 5));
    expectInputError(grad(m1, truncated), `expected ${expected} bytes, got ${expected - 5}`);
    const zero = good.slice();
    new DataView(zero.buffer).setUint32(32 + 4, 0, true);
    const zeroPath = tmp('zero.rnnb');
    writeFileSync(zeroPath, zero);
    expectInputError(grad(m1, zeroPath), 'lengths[1]');
    const nan = good.slice();
    new DataView(nan.buffer).setFloat32(32 + 12 + 4 * 3, NaN, true); // step 3 = sequence 1, step 1
    const nanPath = tmp('nan.rnnb');
    writeFileSync(nanPath, nan);
    expectInputError(grad(m1, nanPath), 'inputs[1][1][0]', 'NaN');
    // I mismatch between the model and an RNNB file.
    const wide = tmp('wide.rnnb');
    writeBinaryData(wide, randomBatch({ count: 2, inputSize: 3, outputSize: 1, output: 'last', seed: 2 }));
    expectInputError(grad(m1, wide), 'inputSize');
  });

  it('usage: unknown backend, unknown command, unknown option, missing option', () => {
    const data = writeJson('ok.json', { inputs: [[[1]]], targets: [[0]] });
    expectInputError(cli('grad', '--model', m1, '--data', data, '--backend', 'gpu'), '--backend', 'gpu');
    expectInputError(cli('frobnicate'), 'frobnicate');
    expectInputError(cli('grad', '--model', m1, '--data', data, '--frob'), '--frob');
    expectInputError(cli('grad', '--data', data), '--model');
  });
});

describe('other exit codes', () => {
  it('non-finite values during the run exit 3', () => {
    const model = {
      inputSize: 1,
      hiddenSize: 1,
      outputSize: 1,
      activation: 'identity',
      output: 'last',
      weights: { Wx: [[1]], Wh: [[1e200]], bh: [0], Wy: [[1]], by: [0] },
    };
    const r = cli(
      'grad',
      '--model',
      writeJson('explode.json', model),
      '--data',
      writeJson('d.json', { inputs: [[[1], [1], [1]]], targets: [[0]] }),
      '--backend',
      'cpu',
    );
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^webgpu-rnn: cpu: the hidden state of \d+ of \d+ sequences became ±Infinity or NaN/);
    expect(r.code).toBe(3);
  });

  it('--version and --help exit 0 on stdout', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const v = cli('--version');
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    const h = cli('grad', '--help');
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('--backend');
  });

  it('verify: compares WebGPU with the CPU reference when there is a GPU, else exits 1 clearly', () => {
    const model = modelFor('last');
    const modelPath = writeJson('model.json', model);
    const dataPath = tmp('v.rnnb');
    writeBinaryData(
      dataPath,
      randomBatch({ count: 8, inputSize: 2, outputSize: 2, output: 'last', minLength: 1, maxLength: 5, seed: 8 }),
    );
    const r = cli('verify', '--model', modelPath, '--data', dataPath, '--json');
    if (r.code === 1 && !gpuRequired) {
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('WebGPU is unavailable');
    } else {
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as VerifyJson;
      expect(out.ok).toBe(true);
      expect(out.actual.backend).toBe('webgpu');
      expect(out.expected.backend).toBe('cpu');
      expect(out.quantities.map((q) => q.name)).toEqual(['loss', 'outputs', 'Wx', 'Wh', 'bh', 'Wy', 'by']);
    }
  });
});

describe('verify comparison and exit-code mapping (in-process)', () => {
  it('float32-rounded CPU results pass the GPU tolerance; a perturbed gradient fails, named by index', async () => {
    const model = modelFor('all');
    const batch = randomBatch({
      count: 30,
      inputSize: 2,
      outputSize: 2,
      output: 'all',
      minLength: 1,
      maxLength: 12,
      seed: 6,
    });
    const f64 = await Engine.create({ backend: 'cpu' });
    const f32 = await Engine.create({ backend: 'cpu', cpuPrecision: 'f32' });
    const opts = { gradients: true, outputs: true };
    const expected = await f64.run(model, batch, opts);
    const actual = await f32.run(model, batch, opts);
    const m = modelFromJSON(model);
    const ok = compareResults(m, batch, actual, expected);
    expect(ok.checks.map((c) => c.name)).toEqual(['loss', 'outputs', 'Wx', 'Wh', 'bh', 'Wy', 'by']);
    expect(ok.ok).toBe(true);
    expect(ok.checks.find((c) => c.name === 'Wh')!.comparison.maxAbs).toBeGreaterThan(0); // really float32 vs float64

    const bad: Result = { ...actual, gradsFlat: Float64Array.from(actual.gradsFlat!) };
    const whOffset = 3 * 2; // Wx is H×I = 3×2
    bad.gradsFlat![whOffset + 1] += 1; // Wh[0][1]
    const report = compareResults(m, batch, bad, expected);
    expect(report.ok).toBe(false);
    const wh = report.checks.find((c) => c.name === 'Wh')!;
    expect(wh.comparison.ok).toBe(false);
    expect(wh.failures[0].index).toBe('Wh[0][1]');
    expect(wh.details).toContain('Wh[0][1]');
    expect(report.checks.filter((c) => !c.comparison.ok).map((c) => c.name)).toEqual(['Wh']);
  });

  it('maps errors to exit codes', () => {
    expect(exitCodeOf(new InputError('x', 'bad'))).toBe(2);
    expect(exitCodeOf(new NonFiniteError('cpu', 'loss', Infinity))).toBe(3);
    expect(exitCodeOf(new MismatchError('differ'))).toBe(4);
    expect(exitCodeOf(new GpuError('no adapter'))).toBe(1);
    expect(exitCodeOf(new Error('other'))).toBe(1);
  });
});
