// GPU (WebGPU, SwiftShader in CI) against the float64 CPU reference: the seed notes' numbers, seeded random
// batches of every activation and output mode with sizes that are not multiples of the workgroup size, ragged
// lengths, N=1 and T=1, chunked and 2D-folded dispatches, determinism, non-finite detection and buffer reuse.

import { expect, it, vi } from 'vitest';
import type { Batch } from '../src/batch.ts';
import { compareArrays, gpuTolerance } from '../src/compare.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { Engine } from '../src/engine.ts';
import { NonFiniteError } from '../src/errors.ts';
import { modelFromJSON, paramName, preset, type Activation, type ModelJSON, type OutputMode } from '../src/model.ts';
import { randomBatch } from '../src/random.ts';
import { statquestReport } from '../src/statquest.ts';
import { expectMatchesCpu } from './helpers/compare.ts';
import { describeGpu } from './helpers/gpu.ts';
import { independentLossAndGrads } from './helpers/independent-rnn.ts';
import { makeCase, nestedData, type DrawnCaseSpec } from './helpers/random-cases.ts';

const ACTS: Activation[] = ['relu', 'tanh', 'identity'];
const OUTS: OutputMode[] = ['last', 'all'];

const shapes: DrawnCaseSpec[] = [
  { I: 1, H: 1, O: 1, act: 'relu', out: 'last', N: 1, minT: 1, maxT: 1 },
  { I: 1, H: 1, O: 1, act: 'tanh', out: 'all', N: 1, minT: 40, maxT: 40 },
  { I: 2, H: 3, O: 1, act: 'identity', out: 'last', N: 63, minT: 1, maxT: 1 },
  { I: 4, H: 2, O: 3, act: 'relu', out: 'all', N: 65, minT: 5, maxT: 20 },
  { I: 16, H: 16, O: 16, act: 'tanh', out: 'last', N: 77, minT: 1, maxT: 12 },
  { I: 16, H: 16, O: 16, act: 'relu', out: 'all', N: 33, minT: 2, maxT: 6 },
  { I: 1, H: 8, O: 1, act: 'tanh', out: 'last', N: 1025, minT: 1, maxT: 64 },
];

await describeGpu('WebGPU engine', (gpu) => {
  it('reports the adapter it runs on (SwiftShader in CI)', () => {
    expect(gpu().backend).toBe('webgpu');
    expect(gpu().adapter.length).toBeGreaterThan(0);
    if (process.env.CI)
      expect(gpu().adapter).toMatch(process.env.WEBGPU_RNN_ADAPTER === 'lavapipe' ? /llvmpipe/i : /swiftshader/i);
  });

  it("computes the seed notes' forward passes, SSR and five gradients", async () => {
    const batch: Batch = {
      count: 2,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      lengths: Uint32Array.of(2, 2),
      offsets: Float64Array.of(0, 2, 4),
      inputs: Float64Array.of(1, 0.5, 0, 0.5),
      targets: Float64Array.of(0, 1),
    };
    const r = await gpu().run(preset('statquest'), batch, { outputs: true });
    // [1, 0.5]: ReLU(1.8) = 1.8, then ReLU(0.9 − 0.9) = 0 exactly (0.9 and 1.8·0.5 are the same float32), so 0.
    expect(r.outputs![0]).toBe(0);
    // [0, 0.5]: hidden 0, then 0.9; 0.9 × 1.1 = 0.99 (to float32 precision).
    expect(r.outputs![1]).toBeCloseTo(0.99, 6);
    expect(r.loss!).toBeCloseTo(1e-4, 9);
    // Chain rule at the notes' weights (see test/statquest.test.ts): dw1 −0.011, db1 −0.022, dw2 0, dw3 −0.018, db2 −0.02.
    const g = r.grads!;
    expect(g.Wx[0][0]).toBeCloseTo(-0.011, 6);
    expect(g.bh[0]).toBeCloseTo(-0.022, 6);
    expect(g.Wh[0][0]).toBe(0);
    expect(g.Wy[0][0]).toBeCloseTo(-0.018, 6);
    expect(g.by[0]).toBeCloseTo(-0.02, 6);
  });

  it('runs the statquest report on the GPU with closed forms equal to BPTT', async () => {
    const rep = await statquestReport(gpu());
    expect(rep.backend).toBe('webgpu');
    expect(rep.forward[0].predicted).toBe(0);
    expect(rep.forward[1].predicted).toBeCloseTo(0.99, 6);
    for (const section of rep.closedForm.sections) {
      for (const row of section.rows)
        expect(Math.abs(row.bptt - row.closedForm)).toBeLessThan(1e-6 * Math.max(1, Math.abs(row.closedForm)));
    }
  });

  for (const act of ACTS) {
    for (const out of OUTS) {
      it(`matches the CPU reference: ${act}, output ${out}, I=3 H=5 O=2, N=130 ragged 1..9, h0`, async () => {
        const { json: model, batch } = makeCase(
          { I: 3, H: 5, O: 2, act, out, N: 130, minT: 1, maxT: 9, scale: 0.5, h0: (j) => 0.25 - 0.1 * j },
          100 + ACTS.indexOf(act) * 7 + OUTS.indexOf(out),
        );
        await expectMatchesCpu(await gpu().run(model, batch, { outputs: true }), model, batch);
      });
    }
  }

  for (const c of shapes) {
    it(`matches the CPU reference: I=${c.I} H=${c.H} O=${c.O} ${c.act} ${c.out}, N=${c.N}, T=${c.minT}..${c.maxT}`, async () => {
      const { json: model, batch } = makeCase({ ...c, scale: 0.5 }, 7 * c.N + c.H);
      await expectMatchesCpu(await gpu().run(model, batch, { outputs: true }), model, batch);
    });
  }

  it('agrees with an independent float64 implementation to a relative error under 1e-3 on held-out cases', async () => {
    for (let seed = 900; seed < 906; seed++) {
      const act = ACTS[seed % 3];
      const out = OUTS[seed % 2];
      const { json: model, batch } = makeCase(
        { I: 2, H: 4, O: 2, act, out, N: 50, minT: 1, maxT: 10, scale: 0.5 },
        seed,
      );
      const nested = nestedData(batch);
      const ind = independentLossAndGrads(model, nested.inputs, nested.targets);
      const r = await gpu().run(model, batch, { outputs: true });
      const rel = (a: number, e: number, scale: number): number =>
        Math.abs(a - e) / Math.max(Math.abs(e), 1e-3 * scale);
      expect(rel(r.loss!, ind.loss, 1)).toBeLessThan(1e-3);
      const gscale = Math.max(...ind.grads.map(Math.abs));
      ind.grads.forEach((e, p) =>
        expect(rel(r.gradsFlat![p], e, gscale), `seed ${seed} ${paramName(modelFromJSON(model), p)}`).toBeLessThan(
          1e-3,
        ),
      );
      const oscale = Math.max(...ind.outputs.map(Math.abs));
      ind.outputs.forEach((e, k) => expect(rel(r.outputs![k], e, oscale)).toBeLessThan(1e-3));
    }
  });

  it('gives bit-identical loss and gradients on repeated runs (deterministic reduction)', async () => {
    const { json: model, batch } = makeCase(
      { I: 3, H: 6, O: 2, act: 'tanh', out: 'all', N: 5000, minT: 1, maxT: 16, scale: 0.5 },
      42,
    );
    const a = await gpu().run(model, batch);
    const b = await gpu().run(model, batch);
    expect(b.loss).toBe(a.loss);
    expect(Array.from(b.gradsFlat!)).toEqual(Array.from(a.gradsFlat!));
    // A different model in between must not leave anything behind in the reused buffers.
    const other = makeCase({ I: 3, H: 6, O: 2, act: 'tanh', out: 'all', N: 900, minT: 20, maxT: 30, scale: 0.5 }, 43);
    await gpu().run(other.json, other.batch);
    const c = await gpu().run(model, batch);
    expect(c.loss).toBe(a.loss);
    expect(Array.from(c.gradsFlat!)).toEqual(Array.from(a.gradsFlat!));
  });

  it('reuses its buffers for calls of the same shape', async () => {
    const { json: model, batch } = makeCase(
      { I: 2, H: 3, O: 1, act: 'relu', out: 'last', N: 3000, minT: 8, maxT: 8, scale: 0.5 },
      5,
    );
    await gpu().run(model, batch);
    const created = vi.spyOn(gpu().device!, 'createBuffer');
    try {
      await gpu().run(model, batch);
      await gpu().run(model, batch);
      expect(created).not.toHaveBeenCalled();
    } finally {
      created.mockRestore();
    }
  });

  it('refuses values that overflow during the run instead of returning them', async () => {
    const model: ModelJSON = {
      inputSize: 1,
      hiddenSize: 1,
      outputSize: 1,
      activation: 'identity',
      output: 'last',
      weights: { Wx: [[1]], Wh: [[40]], bh: [0], Wy: [[1]], by: [0] },
    };
    const batch = randomBatch({
      count: 10,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      minLength: 40,
      maxLength: 40,
      seed: 3,
    });
    await expect(gpu().run(model, batch)).rejects.toThrow(NonFiniteError);
    await expect(gpu().run(model, batch)).rejects.toThrow(
      /webgpu: the hidden state of 10 of 10 sequences became ±Infinity or NaN/,
    );
  });

  it('computes outputs without targets (forward only)', async () => {
    const { json: model, batch } = makeCase(
      { I: 2, H: 3, O: 2, act: 'tanh', out: 'all', N: 70, minT: 1, maxT: 5, scale: 0.5 },
      8,
    );
    const noTargets = { ...batch, targets: null };
    const r = await gpu().run(model, noTargets, { outputs: true });
    expect(r.loss).toBeNull();
    expect(r.gradsFlat).toBeUndefined();
    await expect(gpu().run(model, noTargets, { gradients: true })).rejects.toThrow(/targets: gradients need targets/);
    const ref = cpuRun(modelFromJSON(model), noTargets, { outputs: true });
    const tol = gpuTolerance(5, ref.outputs!);
    expect(compareArrays(r.outputs!, ref.outputs!, tol).ok).toBe(true);
  });
});

// Tiny memory budget: the batch is split into many chunks whose partial sums must still add up to the CPU's.
await describeGpu(
  'WebGPU engine, chunked under a small memory budget',
  (gpu) => {
    it('splits the batch into chunks and still matches the CPU reference', async () => {
      const { json: model, batch } = makeCase(
        { I: 2, H: 4, O: 2, act: 'relu', out: 'all', N: 2000, minT: 1, maxT: 24, scale: 0.5 },
        77,
      );
      const r = await gpu().run(model, batch, { outputs: true });
      expect(gpu().lastRunStats!.chunks).toBeGreaterThan(5);
      expect(gpu().lastRunStats!.peakBytes).toBeLessThanOrEqual(64 * 1024);
      await expectMatchesCpu(r, model, batch);
    });

    it('a budget below what one sequence and the weights need is refused before anything runs', async () => {
      const { json: model, batch } = makeCase(
        { I: 1, H: 4, O: 1, act: 'relu', out: 'last', N: 10, minT: 1, maxT: 4, scale: 0.5 },
        78,
      );
      const tiny = await Engine.create({ backend: 'webgpu', gpu: { device: gpu().device!, memoryBudget: 1024 } });
      await expect(tiny.run(model, batch)).rejects.toThrow(/more than the memory budget of 1024 bytes/);
      tiny.dispose();
    });
  },
  { memoryBudget: 64 * 1024 },
);

// One sequence per workgroup: 70,001 workgroups exceed the 65,535 limit of one dimension, so the RNN kernel must
// fold its dispatch into 2D and guard the tail. (The reduction's folding is tested in gpu-kernels.test.ts.)
await describeGpu(
  'WebGPU engine, dispatches folded into 2D',
  (gpu) => {
    it('matches the CPU reference past 65535 workgroups per dimension', async () => {
      const { json: model, batch } = makeCase(
        { I: 1, H: 2, O: 1, act: 'tanh', out: 'last', N: 70_001, minT: 1, maxT: 3, scale: 0.5 },
        11,
      );
      await expectMatchesCpu(await gpu().run(model, batch, { outputs: true }), model, batch);
    });
  },
  { workgroupSize: 1 },
);

// The same kernels with their shape loops kept as loops (no unrolling) must give the same answers.
await describeGpu(
  'WebGPU engine with the shape loops not unrolled',
  (gpu) => {
    for (const c of [shapes[3], shapes[4]]) {
      it(`matches the CPU reference: I=${c.I} H=${c.H} O=${c.O} ${c.act} ${c.out}, N=${c.N}`, async () => {
        const { json: model, batch } = makeCase({ ...c, scale: 0.5 }, 7 * c.N + c.H);
        await expectMatchesCpu(await gpu().run(model, batch, { outputs: true }), model, batch);
      });
    }
  },
  { unroll: false },
);
