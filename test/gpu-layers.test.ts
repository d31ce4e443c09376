// Stacked and bidirectional models and carried states on WebGPU (the per-sequence strategy's layered kernels,
// shaders/per_sequence/): loss, predictions, every gradient and the final states agree with the float64 CPU
// reference for the three cells, one to three layers, one direction or both, `last` and `all`, ragged batches,
// truncated BPTT and several chunks; a series run in chunks carrying its states equals one run; the same input
// gives the same bits; one-layer runs without states keep the fused kernel (bit for bit what it gave before); a
// run with carried states of a shape the layered kernels do not take runs on the gemm strategy
// (test/gpu-gemm-layers.test.ts checks it in full); the CLI runs them on WebGPU.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { batchFromArrays, maxLength } from '../src/batch.ts';
import { gpuTolerance } from '../src/compare.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import { modelFromJSON } from '../src/model.ts';
import type { AdapterChoice } from '../src/gpu/tuning.ts';
import { cli, expectInputError } from './helpers/cli.ts';
import { expectClose, expectFinalStates, expectMatchesCpu } from './helpers/compare.ts';
import { describeGpu, testAdapter } from './helpers/gpu.ts';
import { layeredCase, runInPieces, type LayeredShape } from './helpers/layered-cases.ts';
import { Rng, randomData, randomModelJSON } from './helpers/random-cases.ts';

const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-gpu-layers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CELLS = ['elman', 'lstm', 'gru'] as const;
const STACKS: [number, boolean][] = [
  [2, false],
  [1, true],
  [2, true],
  [3, false],
];

const SMALL: LayeredShape = {
  cell: 'gru',
  inputSize: 2,
  hiddenSize: 3,
  outputSize: 2,
  output: 'last',
  numLayers: 2,
  bidirectional: false,
  h0: true,
};

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  const text = (e as Error).message;
  expect(text).not.toContain('\n');
  return text;
}

await describeGpu('stacked and bidirectional models and carried states on WebGPU', (gpu) => {
  // Each cell meets every stacking once, in output modes that alternate so that every (cell, mode) pair and every
  // (stacking, mode) pair occurs (the differential suite draws further combinations).
  for (const [ci, cell] of CELLS.entries())
    for (const [si, [numLayers, bidirectional]] of STACKS.entries())
      for (const output of [(ci + si) % 2 === 0 ? 'last' : 'all'] as const) {
        const name = `${cell}, ${numLayers} layer${numLayers > 1 ? 's' : ''}${bidirectional ? ', bidirectional' : ''}, output ${output}`;
        it(`${name}: loss, outputs, every gradient and the final states match the CPU reference`, async () => {
          const shape: LayeredShape = {
            cell,
            inputSize: 2,
            hiddenSize: 3,
            outputSize: 2,
            output,
            numLayers,
            bidirectional,
            h0: true,
            activation: 'tanh',
          };
          const c = layeredCase(new Rng(100 + numLayers * 7 + (bidirectional ? 3 : 0)), shape, [5, 2, 4, 1]);
          const r = await gpu().run(c.model, c.batch, { outputs: true, finalStates: true });
          expect(r.backend).toBe('webgpu');
          expect(r.fallbackReason).toBeUndefined();
          expect(gpu().lastRunStats?.strategy).toBe('per-sequence');
          await expectMatchesCpu(r, c.json, c.batch, { outputs: true }, name);
          expectFinalStates(r, cpuRun(c.model, c.batch, { finalStates: true }), maxLength(c.batch), name);
          expect(r.finalStates!.c !== undefined).toBe(cell === 'lstm');
        });
      }

  it('Elman layers with relu and bx, truncated BPTT, and initial states from the batch', async () => {
    const c = layeredCase(
      new Rng(7),
      {
        cell: 'elman',
        activation: 'relu',
        bx: true,
        inputSize: 3,
        hiddenSize: 4,
        outputSize: 1,
        output: 'all',
        numLayers: 2,
        bidirectional: true,
      },
      [7, 3, 6],
    );
    const rng = new Rng(8);
    const K = 4;
    const states = { h: Float64Array.from({ length: K * 3 * 4 }, () => rng.uniform(-0.5, 0.5)) };
    const batch = { ...c.batch, initialStates: states };
    for (const truncation of [undefined, 2, 3]) {
      const r = await gpu().run(c.model, batch, { outputs: true, truncation });
      await expectMatchesCpu(r, c.json, batch, { outputs: true, truncation }, `truncation ${truncation}`);
    }
  });

  for (const cell of CELLS)
    it(`${cell}, 3 layers, bidirectional, inter-layer dropout: the CPU reference's mask, loss and gradients`, async () => {
      const c = layeredCase(
        new Rng(300),
        { cell, inputSize: 2, hiddenSize: 3, outputSize: 2, output: 'all', numLayers: 3, bidirectional: true },
        [5, 2, 6],
      );
      const dropout = { p: 0.4, seed: 99 };
      const r = await gpu().run(c.model, c.batch, { outputs: true, dropout });
      await expectMatchesCpu(r, c.json, c.batch, { outputs: true, dropout }, `${cell} with dropout`);
      // The mask matters: without it the loss differs beyond the tolerance.
      const plain = cpuRun(c.model, c.batch, {});
      expect(Math.abs(plain.loss! - r.loss!)).toBeGreaterThan(1e-3 * Math.abs(plain.loss!));
    });

  it('LSTM initial states (h and c) from the batch on a one-layer model', async () => {
    const rng = new Rng(9);
    const json = randomModelJSON(rng, {
      cell: 'lstm',
      inputSize: 2,
      hiddenSize: 4,
      outputSize: 1,
      activation: 'tanh',
      output: 'last',
    });
    const data = randomData(rng, json, [4, 6]);
    const v = () => Float64Array.from({ length: 2 * 4 }, () => rng.uniform(-0.8, 0.8));
    const batch = { ...batchFromArrays(data.inputs, data.targets, 'last'), initialStates: { h: v(), c: v() } };
    const r = await gpu().run(json, batch, { outputs: true, finalStates: true });
    expect(r.backend).toBe('webgpu');
    await expectMatchesCpu(r, json, batch, { outputs: true }, 'lstm with initial states');
    const ref = cpuRun(modelFromJSON(json), batch, { finalStates: true });
    expectClose('finalStates.c', r.finalStates!.c!, ref.finalStates!.c!, gpuTolerance(6, ref.finalStates!.c!));
  });

  it('a series in three chunks, carrying the states, gives the outputs and final states of one run', async () => {
    const c = layeredCase(
      new Rng(11),
      { cell: 'gru', inputSize: 2, hiddenSize: 3, outputSize: 2, output: 'all', numLayers: 2, bidirectional: false },
      [9, 7],
    );
    const whole = await gpu().run(c.model, c.batch, { outputs: true, finalStates: true });
    const cuts = [
      [0, 3, 5, 9],
      [0, 2, 6, 7],
    ];
    const opts = { outputs: true, finalStates: true };
    const pieces = await runInPieces((batch) => gpu().run(c.model, batch, opts), c.data, cuts, 2);
    const tol = gpuTolerance(9, whole.outputs!);
    expectClose('outputs', pieces.outputs, whole.outputs!, tol);
    expectClose('finalStates.h', pieces.states.h, whole.finalStates!.h, tol);
  });

  it('several chunks give the one-chunk result, and the same input gives the same bits', async () => {
    const json = layeredCase(
      new Rng(12),
      { cell: 'lstm', inputSize: 2, hiddenSize: 3, outputSize: 1, output: 'last', numLayers: 2, bidirectional: true },
      [1],
    ).json;
    const lengths = Array.from({ length: 300 }, (_, n) => 1 + (n % 9));
    const data = randomData(new Rng(13), { inputSize: 2, outputSize: 1, output: 'last' }, lengths);
    const batch = batchFromArrays(data.inputs, data.targets, 'last');
    const small = await Engine.create({
      backend: 'webgpu',
      gpu: { adapter: testAdapter as AdapterChoice, memoryBudget: 200_000 },
    });
    try {
      const r = await small.run(json, batch, { outputs: true });
      expect(small.lastRunStats!.chunks).toBeGreaterThan(1);
      await expectMatchesCpu(r, json, batch, { outputs: true }, 'chunked');
      const again = await small.run(json, batch, { outputs: true });
      expect(Array.from(again.gradsFlat!)).toEqual(Array.from(r.gradsFlat!));
      expect(again.loss).toBe(r.loss);
    } finally {
      small.dispose();
    }
  });

  it('one-layer runs without states keep the fused kernel', async () => {
    const rng = new Rng(14);
    const json = randomModelJSON(rng, {
      inputSize: 2,
      hiddenSize: 3,
      outputSize: 1,
      activation: 'tanh',
      output: 'last',
    });
    const data = randomData(rng, json, [4, 3]);
    const batch = batchFromArrays(data.inputs, data.targets, 'last');
    const r = await gpu().run(json, batch);
    // The fused kernel's pipeline is rnn.bptt; the layered kernels' are layer.* (labels, src/gpu/per-sequence/).
    expect(gpu().lastRunStats?.strategy).toBe('per-sequence');
    const withStates = await gpu().run(json, batch, { finalStates: true });
    // The layered kernels compute the same quantities for a one-layer model, within the GPU tolerance.
    expectClose('loss', [withStates.loss!], [r.loss!], gpuTolerance(4, [r.loss!]));
    expectClose('grads', withStates.gradsFlat!, r.gradsFlat!, gpuTolerance(4, r.gradsFlat!));
  });

  it('the gemm strategy serves carried states when asked (test/gpu-gemm-layers.test.ts checks it in full); rtrl refuses stacked models', async () => {
    const c = layeredCase(new Rng(18), SMALL, [3]);
    const g = await gpu().run(c.model, c.batch, { strategy: 'gemm', gradients: false, finalStates: true });
    expect(gpu().lastRunStats?.strategy).toBe('gemm');
    const ref = cpuRun(c.model, c.batch, { finalStates: true });
    expectClose('finalStates.h', g.finalStates!.h, ref.finalStates!.h, gpuTolerance(3, ref.finalStates!.h));
    expect(await refusal(gpu().run(c.model, c.batch, { strategy: 'rtrl' }))).toContain('it runs one layer');
  });

  it('the CLI: grad, forward --states-out and verify run stacked models on WebGPU', async () => {
    const c = layeredCase(new Rng(19), SMALL, [4, 3]);
    const model = join(dir, 'model.json');
    const data = join(dir, 'data.json');
    writeFileSync(model, JSON.stringify(c.json));
    writeFileSync(data, JSON.stringify(c.data));
    const r = await cli('grad', '--model', model, '--data', data, '--backend', 'webgpu', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { backend: string; loss: number; fallbackReason?: string };
    expect(out.backend).toBe('webgpu');
    expect(out.fallbackReason).toBeUndefined();
    const ref = cpuRun(c.model, c.batch, { finalStates: true });
    expectClose('loss', [out.loss], [ref.loss!], gpuTolerance(4, [ref.loss!]));
    const states = join(dir, 'states.json');
    const f = await cli('forward', '--model', model, '--data', data, '--backend', 'webgpu', '--states-out', states);
    expect(f.code).toBe(0);
    const got = JSON.parse(readFileSync(states, 'utf8')) as { h: number[][][] };
    expectClose('states h', got.h.flat<number[][][], 2>(2), ref.finalStates!.h, gpuTolerance(4, ref.finalStates!.h));
    const v = await cli('verify', '--model', model, '--data', data, '--json');
    expect(v.code).toBe(0);
    const report = JSON.parse(v.stdout) as { ok: boolean; actual: { backend: string }; quantities: { name: string }[] };
    expect(report.ok).toBe(true);
    expect(report.actual.backend).toBe('webgpu');
    expect(report.quantities.map((x) => x.name)).toContain('layers[1].Wh');
    expectInputError(
      await cli('grad', '--model', model, '--data', data, '--backend', 'webgpu', '--strategy', 'rtrl'),
      'strategy "rtrl" cannot serve this run: it runs one layer',
    );
  });
});
