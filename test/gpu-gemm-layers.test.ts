// Stacked and bidirectional networks on the gemm strategy (src/gpu/gemm/layers.ts: the one-layer gemm program per
// layer-direction, the inputs reversed within each sequence for the reverse direction, the readout on the top
// layer, BPTT top down with dSSR/dx_t passed between layers): loss, predictions and every gradient agree with the
// float64 CPU reference for the three cells, one to three layers, one direction or both, `last` and `all`, and
// ragged batches (on lavapipe, each cell with 2 layers in both directions); several chunks give the one-chunk
// predictions bit for bit and the reference gradients, the same input the same bits; `auto` runs a network too
// wide for the per-sequence kernels on gemm, truncated BPTT and clipping included; carried states (initial states
// in, final states out, a series in chunks equal to one run, several chunks of sequences) and inter-layer dropout
// (the CPU reference's mask) match the reference.

import { expect, it } from 'vitest';
import { batchFromArrays, type Batch } from '../src/batch.ts';
import { gpuTolerance } from '../src/compare.ts';
import { cpuOnlyRun } from '../src/cpu-only.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { Engine } from '../src/engine.ts';
import type { AdapterChoice } from '../src/gpu/tuning.ts';
import { expectClose, expectFinalStates, expectMatchesCpu } from './helpers/compare.ts';
import { describeGpu, testAdapter } from './helpers/gpu.ts';
import { layeredCase, runInPieces, type LayeredShape } from './helpers/layered-cases.ts';
import { Rng, randomData } from './helpers/random-cases.ts';

const CELLS = ['elman', 'lstm', 'gru'] as const;
const STACKS: [number, boolean][] = [
  [2, false],
  [1, true],
  [2, true],
  [3, false],
];
// On lavapipe (the second adapter, whose pipelines take longest to build here) each cell meets the stacking that
// holds the others' parts, 2 layers in both directions; SwiftShader runs the whole matrix.
const lavapipe = testAdapter === 'lavapipe';

await describeGpu('stacked and bidirectional networks on the gemm strategy', (gpu) => {
  for (const [ci, cell] of CELLS.entries())
    for (const [si, [numLayers, bidirectional]] of STACKS.entries()) {
      if (lavapipe && !(numLayers === 2 && bidirectional)) continue;
      const output = (ci + si) % 2 === 0 ? 'last' : 'all';
      const name = `${cell}, ${numLayers} layer${numLayers > 1 ? 's' : ''}${bidirectional ? ', bidirectional' : ''}, output ${output}`;
      it(`${name}: loss, predictions and every gradient match the CPU reference`, async () => {
        const shape: LayeredShape = {
          cell,
          inputSize: 3,
          hiddenSize: 5,
          outputSize: 2,
          output,
          numLayers,
          bidirectional,
          h0: true,
          activation: 'tanh',
        };
        const c = layeredCase(new Rng(300 + ci * 11 + si), shape, [6, 2, 5, 1, 3]);
        const f = await gpu().run(c.model, c.batch, { outputs: true, gradients: false, strategy: 'gemm' });
        expect(f.backend).toBe('webgpu');
        expect(gpu().lastRunStats?.strategy).toBe('gemm');
        await expectMatchesCpu(f, c.json, c.batch, { outputs: true, gradients: false }, `${name}, forward`);
        const r = await gpu().run(c.model, c.batch, { outputs: true, strategy: 'gemm' });
        expect(gpu().lastRunStats?.strategy).toBe('gemm');
        await expectMatchesCpu(r, c.json, c.batch, { outputs: true }, name);
        expect(Array.from(r.outputs!)).toEqual(Array.from(f.outputs!));
      });
    }

  it('several chunks give the one-chunk predictions bit for bit and the reference gradients, the same bits twice', async () => {
    const shape: LayeredShape = {
      cell: 'lstm',
      inputSize: 2,
      hiddenSize: 9,
      outputSize: 1,
      output: 'all',
      numLayers: 2,
      bidirectional: true,
    };
    const json = layeredCase(new Rng(320), shape, [1]).json;
    const lengths = Array.from({ length: 300 }, (_, n) => 1 + (n % 9));
    const data = randomData(new Rng(321), shape, lengths);
    const batch = batchFromArrays(data.inputs, data.targets, 'all');
    // One engine with a small budget: the first 40 sequences fit one chunk, all 300 take several; a sequence's
    // predictions do not depend on its chunk.
    const small = await Engine.create({
      backend: 'webgpu',
      gpu: { adapter: testAdapter as AdapterChoice, memoryBudget: 1_000_000 },
    });
    try {
      const head = batchFromArrays(data.inputs.slice(0, 40), (data.targets as number[][][]).slice(0, 40), 'all');
      const one = await small.run(json, head, { outputs: true, gradients: false });
      expect(small.lastRunStats!.strategy).toBe('gemm');
      expect(small.lastRunStats!.chunks).toBe(1);
      await expectMatchesCpu(one, json, head, { outputs: true, gradients: false }, 'one chunk');
      const r = await small.run(json, batch, { outputs: true, gradients: false });
      expect(small.lastRunStats!.chunks).toBeGreaterThan(1);
      expect(Array.from(r.outputs!.subarray(0, one.outputs!.length))).toEqual(Array.from(one.outputs!));
      await expectMatchesCpu(r, json, batch, { outputs: true, gradients: false }, 'chunked');
      const again = await small.run(json, batch, { outputs: true, gradients: false });
      expect(Array.from(again.outputs!)).toEqual(Array.from(r.outputs!));
      expect(again.loss).toBe(r.loss);
      // With gradients: the float64 reference, and the same bits twice.
      const g = await small.run(json, batch);
      expect(small.lastRunStats!.chunks).toBeGreaterThan(1);
      await expectMatchesCpu(g, json, batch, {}, 'chunked gradients');
      const g2 = await small.run(json, batch);
      expect(Array.from(g2.gradsFlat!)).toEqual(Array.from(g.gradsFlat!));
      expect(g2.loss).toBe(g.loss);
    } finally {
      small.dispose();
    }
  });

  it('auto runs a network too wide for the per-sequence kernels on gemm; truncation and clipping match the CPU', async () => {
    const c = layeredCase(
      new Rng(330),
      { cell: 'gru', inputSize: 2, hiddenSize: 12, outputSize: 1, output: 'last', numLayers: 2, bidirectional: true },
      [7, 3, 5],
    );
    const r = await gpu().run(c.model, c.batch, { outputs: true });
    expect(r.backend).toBe('webgpu');
    expect(gpu().lastRunStats?.strategy).toBe('gemm');
    await expectMatchesCpu(r, c.json, c.batch, { outputs: true }, 'auto');
    const opts = { truncation: 3, clipNorm: 0.05 };
    const t = await gpu().run(c.model, c.batch, opts);
    expect(gpu().lastRunStats?.strategy).toBe('gemm');
    await expectMatchesCpu(t, c.json, c.batch, opts, 'truncation and clipping');
    // The norm before clipping, of the reference's unclipped gradients.
    const norm = Math.hypot(...cpuRun(c.model, c.batch, { truncation: 3, gradients: true }).grads!);
    expect(norm).toBeGreaterThan(opts.clipNorm);
    expect(t.clipped).toBe(true);
    expectClose('gradNorm', [t.gradNorm!], [norm], gpuTolerance(7, [norm]));
  });

  it('BPTT from checkpoints (a segment shorter than the sequences) matches the CPU, carried states included', async () => {
    const c = layeredCase(
      new Rng(335),
      { cell: 'lstm', inputSize: 2, hiddenSize: 4, outputSize: 1, output: 'all', numLayers: 2, bidirectional: true },
      [7, 3, 5],
    );
    const rng = new Rng(336);
    const v = () => Float64Array.from({ length: 4 * 3 * 4 }, () => rng.uniform(-0.8, 0.8));
    const batch: Batch = { ...c.batch, initialStates: { h: v(), c: v() } };
    const ck = await Engine.create({
      backend: 'webgpu',
      gpu: { adapter: testAdapter as AdapterChoice, checkpointEvery: 2 },
    });
    try {
      for (const opts of [{}, { truncation: 3 }]) {
        const r = await ck.run(c.model, batch, { ...opts, outputs: true, finalStates: true, strategy: 'gemm' });
        expect(ck.lastRunStats!.strategy).toBe('gemm');
        expect(ck.lastRunStats!.checkpointEvery).toBe(2);
        await expectMatchesCpu(r, c.json, batch, { ...opts, outputs: true }, `checkpoints ${JSON.stringify(opts)}`);
        expectFinalStates(r, cpuRun(c.model, batch, { finalStates: true }), 7, 'checkpoints');
      }
    } finally {
      ck.dispose();
    }
  });

  for (const cell of lavapipe ? (['lstm'] as const) : CELLS)
    it(`${cell}: initial states from the batch and final states out, forward and BPTT (truncated too), match the CPU`, async () => {
      const c = layeredCase(
        new Rng(340),
        {
          cell,
          inputSize: 2,
          hiddenSize: 5,
          outputSize: 2,
          output: 'all',
          numLayers: 2,
          bidirectional: true,
          h0: true,
        },
        [6, 2, 5],
      );
      const rng = new Rng(341);
      const v = () => Float64Array.from({ length: 4 * 3 * 5 }, () => rng.uniform(-0.8, 0.8));
      const batch: Batch = { ...c.batch, initialStates: { h: v(), ...(cell === 'lstm' ? { c: v() } : {}) } };
      for (const opts of [{ gradients: false }, {}, { truncation: 2 }]) {
        const what = `${cell} ${JSON.stringify(opts)}`;
        const r = await gpu().run(c.model, batch, { ...opts, outputs: true, finalStates: true, strategy: 'gemm' });
        expect(gpu().lastRunStats?.strategy).toBe('gemm');
        await expectMatchesCpu(r, c.json, batch, { ...opts, outputs: true }, what);
        expectFinalStates(r, cpuRun(c.model, batch, { finalStates: true }), 6, what);
      }
      // Final states from the model's h0 (c0), without initial states.
      const f = await gpu().run(c.model, c.batch, { gradients: false, finalStates: true, strategy: 'gemm' });
      expectFinalStates(f, cpuRun(c.model, c.batch, { finalStates: true }), 6, `${cell} from h0`);
    });

  it('a series in three chunks, carrying the states, gives the outputs and final states of one run (one and two layers)', async () => {
    for (const numLayers of [1, 2]) {
      const c = layeredCase(
        new Rng(350 + numLayers),
        { cell: 'lstm', inputSize: 2, hiddenSize: 5, outputSize: 2, output: 'all', numLayers, bidirectional: false },
        [9, 7],
      );
      const opts = { outputs: true, finalStates: true, gradients: false, strategy: 'gemm' } as const;
      const whole = await gpu().run(c.model, c.batch, opts);
      expect(gpu().lastRunStats?.strategy).toBe('gemm');
      expectFinalStates(whole, cpuRun(c.model, c.batch, { finalStates: true }), 9, `${numLayers} layers, one run`);
      const cuts = [
        [0, 3, 5, 9],
        [0, 2, 6, 7],
      ];
      const pieces = await runInPieces((batch) => gpu().run(c.model, batch, opts), c.data, cuts, 2);
      const tol = gpuTolerance(9, whole.outputs!);
      expectClose('outputs', pieces.outputs, whole.outputs!, tol);
      expectClose('finalStates.h', pieces.states.h, whole.finalStates!.h, tol);
      expectClose('finalStates.c', pieces.states.c!, whole.finalStates!.c!, gpuTolerance(9, whole.finalStates!.c!));
    }
  });

  it('carried states across several chunks of sequences; auto runs carried states too wide for the per-sequence kernels on gemm', async () => {
    const c = layeredCase(
      new Rng(360),
      { cell: 'gru', inputSize: 2, hiddenSize: 12, outputSize: 1, output: 'last', numLayers: 2, bidirectional: true },
      Array.from({ length: 120 }, (_, n) => 1 + (n % 7)),
    );
    const rng = new Rng(361);
    const batch: Batch = {
      ...c.batch,
      initialStates: { h: Float64Array.from({ length: 4 * 120 * 12 }, () => rng.uniform(-0.8, 0.8)) },
    };
    expect(cpuOnlyRun(c.model, batch, { finalStates: true })).toBeNull();
    const small = await Engine.create({
      backend: 'webgpu',
      gpu: { adapter: testAdapter as AdapterChoice, memoryBudget: 1_000_000 },
    });
    try {
      const r = await small.run(c.model, batch, { outputs: true, finalStates: true });
      expect(r.backend).toBe('webgpu');
      expect(small.lastRunStats!.strategy).toBe('gemm');
      expect(small.lastRunStats!.chunks).toBeGreaterThan(1);
      await expectMatchesCpu(r, c.json, batch, { outputs: true }, 'chunked, carried');
      expectFinalStates(r, cpuRun(c.model, batch, { finalStates: true }), 7, 'chunked, carried');
    } finally {
      small.dispose();
    }
  });

  for (const cell of lavapipe ? (['gru'] as const) : CELLS)
    it(`${cell}, 3 layers, bidirectional, inter-layer dropout: the CPU reference's mask, loss and gradients`, async () => {
      const c = layeredCase(
        new Rng(370),
        { cell, inputSize: 2, hiddenSize: 5, outputSize: 2, output: 'all', numLayers: 3, bidirectional: true },
        [5, 2, 6],
      );
      const dropout = { p: 0.4, seed: 99 };
      const r = await gpu().run(c.model, c.batch, { outputs: true, dropout, strategy: 'gemm' });
      expect(gpu().lastRunStats?.strategy).toBe('gemm');
      await expectMatchesCpu(r, c.json, c.batch, { outputs: true, dropout }, `${cell} with dropout`);
      // The mask matters: without it the loss differs beyond the tolerance.
      const plain = cpuRun(c.model, c.batch, {});
      expect(Math.abs(plain.loss! - r.loss!)).toBeGreaterThan(1e-3 * Math.abs(plain.loss!));
    });
});
