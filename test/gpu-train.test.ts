// Training on WebGPU against the CPU path: trajectories, populations against one-by-one training (bit for bit on
// the GPU), divergence of one model, early stopping, determinism, the loss landscape against engine.run on the CPU.
//
// Tolerance of GPU (float32) against CPU (float64) trajectories: every recorded loss within 1e-4 relative and every
// final weight within 1e-4·max(1, |w|). Measured differences on these cases are about 1e-6 (300 steps).

import { expect, it } from 'vitest';
import { batchFromArrays, type Batch } from '../src/batch.ts';
import { Engine, type Result } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import { modelFromJSON, preset, type Model } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import {
  DEFAULT_OPTIMIZER,
  DEFAULT_STEPS,
  lossLandscape,
  randomPopulation,
  train,
  trainPopulation,
  type TrainOptions,
} from '../src/train/index.ts';
import { resolveOptions } from '../src/train/options.ts';
import { stepwise } from '../src/train/stepwise.ts';
import { GpuTrainer } from '../src/train/gpu.ts';
import { describeGpu } from './helpers/gpu.ts';
import { expectTrajectory } from './helpers/train.ts';

const seedData = (): Batch =>
  batchFromArrays(
    [
      [[1], [0.5]],
      [[0], [0.5]],
    ],
    [[0], [1]],
    'last',
    1,
  );
const statquest = (): Model => modelFromJSON(preset('statquest'));
const cpuP = Engine.create({ backend: 'cpu' });

await describeGpu('training on WebGPU', (gpu) => {
  it('reaches SSR < 1e-3 on the seed data with the documented defaults, like the CPU', async () => {
    const [init] = randomPopulation(statquest(), 1, 1);
    const opts = { optimizer: DEFAULT_OPTIMIZER, steps: DEFAULT_STEPS, historyEvery: 50 };
    const r = await train(gpu(), init, seedData(), opts);
    expect(r.backend).toBe('webgpu');
    expect(r.finalLoss).toBeLessThan(1e-3);
    expect(r.history[0].loss).toBeGreaterThan(0.1);
    expect(r.steps).toBe(DEFAULT_STEPS);
    const c = await train(await cpuP, init, seedData(), opts);
    expectTrajectory(r.model.params, c.model.params, 'params');
  });

  it('follows the CPU trajectory for 300 steps (mini-batches, clipping, SGD momentum and Adam, tanh, ragged, output all)', async () => {
    const model = {
      ...modelFromJSON(randomModel({ inputSize: 2, hiddenSize: 3, outputSize: 2 }, 'tanh', 'all', 5)),
      h0: Float64Array.from([0.25, -0.5, 0.125]),
    };
    const data = randomBatch({
      count: 67,
      inputSize: 2,
      outputSize: 2,
      output: 'all',
      minLength: 1,
      maxLength: 9,
      seed: 9,
    });
    // 40 sequences per step: one invocation per sequence and a sums pass; 16: one invocation per model.
    for (const [optimizer, batchSize] of [
      [{ kind: 'sgd', lr: 0.002, momentum: 0.9 }, 40],
      [{ kind: 'adam', lr: 0.01 }, 16],
    ] as const) {
      const o: TrainOptions = {
        optimizer,
        steps: 300,
        batchSize,
        seed: 3,
        historyEvery: 1,
        clipNorm: 5,
        readbackEvery: 128,
        schedule: { kind: 'cosine', minLr: 0.001 },
      };
      const a = await train(gpu(), model, data, o);
      const b = await train(await cpuP, model, data, o);
      expect(a.history.length).toBe(300);
      expectTrajectory(
        a.history.map((h) => h.loss),
        b.history.map((h) => h.loss),
        `${optimizer.kind} history`,
      );
      expectTrajectory(a.model.params, b.model.params, `${optimizer.kind} params`);
      expect(a.history[299].loss).toBeLessThan(a.history[0].loss);
      expect(Math.abs(a.finalLoss - b.finalLoss)).toBeLessThan(1e-4 * b.finalLoss);
    }
  });

  it('takes several sequences per invocation past 4096 sequences a step, like the CPU', async () => {
    const model = modelFromJSON(randomModel({ inputSize: 1, hiddenSize: 2, outputSize: 1 }, 'tanh', 'last', 21));
    const data = randomBatch({
      count: 9000,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      minLength: 1,
      maxLength: 3,
      seed: 22,
    });
    const o: TrainOptions = { optimizer: { kind: 'sgd', lr: 1e-4 }, steps: 3, historyEvery: 1 };
    const a = await train(gpu(), model, data, o);
    const b = await train(await cpuP, model, data, o);
    expectTrajectory(
      a.history.map((h) => h.loss),
      b.history.map((h) => h.loss),
      'history',
    );
    expectTrajectory(a.model.params, b.model.params, 'params');
  });

  it('is deterministic: the same config twice gives bit-identical weights, whatever readbackEvery', async () => {
    const model = modelFromJSON(randomModel({ inputSize: 1, hiddenSize: 5, outputSize: 1 }, 'relu', 'last', 2));
    const data = randomBatch({
      count: 100,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      minLength: 2,
      maxLength: 6,
      seed: 4,
    });
    const o: TrainOptions = {
      optimizer: { kind: 'adam', lr: 0.01 },
      steps: 77,
      batchSize: 13,
      seed: 8,
      historyEvery: 5,
    };
    const a = await train(gpu(), model, data, o);
    const b = await train(gpu(), model, data, o);
    const c = await train(gpu(), model, data, { ...o, readbackEvery: 10 });
    expect(Array.from(b.model.params)).toEqual(Array.from(a.model.params));
    expect(Array.from(c.model.params)).toEqual(Array.from(a.model.params));
    expect(c.history).toEqual(a.history);
  });

  it('a population equals training the models one by one (GPU bit for bit, and the CPU), per-model lrs and data sets', async () => {
    const models = randomPopulation(statquest(), 70, 7);
    const lrs = models.map((_, m) => 0.01 + 0.001 * m);
    const o = { optimizer: { kind: 'adam' as const, lr: 1 }, steps: 40, curveEvery: 3, lossThreshold: 1e-6 };
    const pop = await trainPopulation(gpu(), models, seedData(), { ...o, lrs });
    const cpuPop = await trainPopulation(await cpuP, models, seedData(), { ...o, lrs });
    expectTrajectory(pop.params, cpuPop.params, 'population params');
    expect(pop.status).toEqual(cpuPop.status);
    for (const m of [0, 33, 69]) {
      const one = await trainPopulation(gpu(), [models[m]], seedData(), { ...o, lrs: [lrs[m]] });
      expect(Array.from(one.params)).toEqual(Array.from(pop.params.subarray(m * 5, m * 5 + 5)));
      expect(Array.from(one.curves)).toEqual(Array.from(pop.curves.subarray(m * 14, m * 14 + 14)));
      expect(one.finalLoss[0]).toBe(pop.finalLoss[m]);
    }
    // One data set per model: model m trains on its own targets.
    const sets = [0, 1, 2].map((s) =>
      batchFromArrays(
        [
          [[1], [0.5]],
          [[0], [0.5]],
          [[0.5], [1]],
        ],
        [[0.1 * s], [1], [0.5 - 0.1 * s]],
        'last',
        1,
      ),
    );
    const per = await trainPopulation(gpu(), models.slice(0, 3), sets, { ...o, batchSize: 2, seed: 5 });
    for (let m = 0; m < 3; m++) {
      const one = await train(gpu(), models[m], sets[m], { ...o, batchSize: 2, seed: 5 });
      expect(Array.from(per.params.subarray(m * 5, m * 5 + 5))).toEqual(Array.from(one.model.params));
      expect(per.finalLoss[m]).toBe(one.finalLoss);
    }
  });

  it('splits a population that exceeds GpuOptions.memoryBudget into more chunks of models, with the same results bit for bit', async () => {
    const models = randomPopulation(statquest(), 300, 5);
    const lrs = models.map((_, m) => 0.01 + 0.0002 * m);
    const o: TrainOptions = { optimizer: { kind: 'adam', lr: 1 }, steps: 25, historyEvery: 4, lossThreshold: 1e-3 };
    const ro = resolveOptions({ ...o, lrs }, 300, 2);
    const x = { mask: null, trajectory: false };
    const budget = 20_000;
    // A second engine on the same device with a small budget: its own pool and budget, the device's one queue.
    const small = await Engine.create({ backend: 'webgpu', gpu: { device: gpu().device!, memoryBudget: budget } });
    try {
      const whole = await GpuTrainer.for(gpu().runtime!).population(models, [seedData()], true, ro, x);
      const wholeStats = gpu().lastTrainStats!;
      const parts = await GpuTrainer.for(small.runtime!).population(models, [seedData()], true, ro, x);
      const partStats = small.lastTrainStats!;
      expect(wholeStats).toMatchObject({ kind: 'train', models: 300, chunks: 1, modelsPerChunk: 300 });
      expect(partStats.kind).toBe('train');
      expect(partStats.chunks).toBeGreaterThanOrEqual(3);
      expect(partStats.chunks).toBe(Math.ceil(300 / partStats.modelsPerChunk));
      // Every buffer the chunks held at once (read-back included) stayed within the budget.
      expect(partStats.peakBytes).toBeGreaterThan(0);
      expect(partStats.peakBytes).toBeLessThanOrEqual(budget);
      expect(wholeStats.peakBytes).toBeGreaterThan(partStats.peakBytes);
      expect(Array.from(parts.params)).toEqual(Array.from(whole.params));
      expect(Array.from(parts.curves)).toEqual(Array.from(whole.curves));
      expect(Array.from(parts.stepsDone)).toEqual(Array.from(whole.stepsDone));
      const many = new Float64Array(1000 * 5).map((_, k) => parts.params[k % 1500]); // 1000 weight sets in several loss chunks
      const lossParts = await GpuTrainer.for(small.runtime!).losses(models[0], many, [seedData()], null);
      expect(small.lastTrainStats!.kind).toBe('losses');
      expect(small.lastTrainStats!.chunks).toBeGreaterThanOrEqual(3);
      expect(small.lastTrainStats!.peakBytes).toBeLessThanOrEqual(budget);
      expect(Array.from(lossParts)).toEqual(
        Array.from(await GpuTrainer.for(gpu().runtime!).losses(models[0], many, [seedData()], null)),
      );
      // Through the public API: the engine's budget reaches trainPopulation, same bits.
      const a = await trainPopulation(small, models.slice(0, 120), seedData(), { ...o, lrs: lrs.slice(0, 120) });
      const b = await trainPopulation(gpu(), models.slice(0, 120), seedData(), { ...o, lrs: lrs.slice(0, 120) });
      expect(Array.from(a.params)).toEqual(Array.from(b.params));
      expect(Array.from(a.finalLoss)).toEqual(Array.from(b.finalLoss));
    } finally {
      small.dispose();
    }
  });

  it('a budget too small for one model is a GpuError that names the budget', async () => {
    const tiny = await Engine.create({ backend: 'webgpu', gpu: { device: gpu().device!, memoryBudget: 4096 } });
    try {
      await expect(
        train(tiny, statquest(), seedData(), { optimizer: { kind: 'sgd', lr: 0.1 }, steps: 100 }),
      ).rejects.toThrow(/training: .*4096-byte memory budget/);
    } finally {
      tiny.dispose();
    }
    await expect(
      train(tiny, statquest(), seedData(), { optimizer: { kind: 'sgd', lr: 0.1 }, steps: 1 }),
    ).rejects.toThrow(/this engine was disposed/);
  });

  it('RunStats.peakBytes of an engine run does not count the buffers of training before it', async () => {
    const model = modelFromJSON(randomModel({ inputSize: 2, hiddenSize: 3, outputSize: 1 }, 'tanh', 'last', 6));
    const batch = randomBatch({
      count: 200,
      inputSize: 2,
      outputSize: 1,
      output: 'last',
      minLength: 2,
      maxLength: 9,
      seed: 6,
    });
    await gpu().run(model, batch);
    const before = gpu().lastRunStats!.peakBytes;
    await trainPopulation(gpu(), randomPopulation(model, 300, 1), batch, {
      optimizer: { kind: 'sgd', lr: 0.001 },
      steps: 2,
      batchSize: 100,
    });
    expect(gpu().lastTrainStats!.kind).toBe('losses');
    expect(gpu().lastTrainStats!.peakBytes).toBeGreaterThan(before);
    await gpu().run(model, batch);
    expect(gpu().lastRunStats!.peakBytes).toBe(before);
  });

  it('engine.run, training and the loss landscape share one queue: interleaved calls give the results of one after the other', async () => {
    const e = gpu();
    const model = modelFromJSON(randomModel({ inputSize: 2, hiddenSize: 3, outputSize: 1 }, 'tanh', 'last', 11));
    const batch = randomBatch({
      count: 300,
      inputSize: 2,
      outputSize: 1,
      output: 'last',
      minLength: 2,
      maxLength: 7,
      seed: 12,
    });
    const pop = randomPopulation(model, 20, 3, 0.5);
    const o: TrainOptions = {
      optimizer: { kind: 'adam', lr: 0.01 },
      steps: 60,
      batchSize: 50,
      seed: 2,
      historyEvery: 5,
      readbackEvery: 10,
    };
    const ax = { param: 'Wh[0][1]', min: -1, max: 1, steps: 9 };
    const ay = { param: 'by[0]', min: -1, max: 1, steps: 7 };
    const gemm = { strategy: 'gemm', outputs: true } as const;
    // One after the other.
    const run1 = await e.run(model, batch);
    const run2 = await e.run(model, batch, gemm);
    const pop1 = await trainPopulation(e, pop, batch, o);
    const land1 = await lossLandscape(e, model, batch, ax, ay);
    // All at once, plus a run asked for from inside the training (its first progress report).
    let progress = 0;
    let progressWhenRunDone = -1;
    let inner: Promise<Result> | null = null;
    const [a, b, c] = await Promise.all([
      e.run(model, batch),
      trainPopulation(e, pop, batch, {
        ...o,
        onProgress: (p) => {
          progress = p.step;
          inner ??= e.run(model, batch, gemm).then((r) => {
            progressWhenRunDone = progress;
            return r;
          });
        },
      }),
      lossLandscape(e, model, batch, ax, ay),
    ]);
    const d = await inner!;
    // The run waited for the rest of the training on the queue: it ended after the last progress report (step 50).
    expect(progressWhenRunDone).toBe(50);
    expect(a.loss).toBe(run1.loss);
    expect(Array.from(a.gradsFlat!)).toEqual(Array.from(run1.gradsFlat!));
    expect(d.loss).toBe(run2.loss);
    expect(Array.from(d.gradsFlat!)).toEqual(Array.from(run2.gradsFlat!));
    expect(Array.from(d.outputs!)).toEqual(Array.from(run2.outputs!));
    expect(Array.from(b.params)).toEqual(Array.from(pop1.params));
    expect(Array.from(b.curves)).toEqual(Array.from(pop1.curves));
    expect(Array.from(b.finalLoss)).toEqual(Array.from(pop1.finalLoss));
    expect(Array.from(c.losses)).toEqual(Array.from(land1.losses));
  });

  it('a diverging model is frozen and flagged, the others are bit-identical to a run without it', async () => {
    const models = randomPopulation(statquest(), 5, 3);
    const o = { optimizer: { kind: 'sgd' as const, lr: 1, momentum: 0.5 }, steps: 60 };
    const good = await trainPopulation(gpu(), models, seedData(), { ...o, lrs: [0.05, 0.05, 0.05, 0.1, 0.02] });
    const bad = await trainPopulation(gpu(), models, seedData(), { ...o, lrs: [0.05, 1e30, 0.05, 0.1, 0.02] });
    const cpu = await trainPopulation(await cpuP, models, seedData(), { ...o, lrs: [0.05, 1e30, 0.05, 0.1, 0.02] });
    expect(bad.status[1]).toBe('diverged');
    // float32 overflows sooner than float64, so the GPU may stop a few steps before the CPU.
    expect(cpu.status[1]).toBe('diverged');
    expect(bad.divergedAtStep[1]).toBeGreaterThan(0);
    expect(bad.divergedAtStep[1]).toBeLessThanOrEqual(cpu.divergedAtStep[1]);
    expect(bad.stepsDone[1]).toBe(bad.divergedAtStep[1]);
    expect(bad.params.subarray(5, 10).every(Number.isFinite)).toBe(true);
    for (const m of [0, 2, 3, 4]) {
      expect(bad.status[m]).toBe(good.status[m]);
      expect(Array.from(bad.params.subarray(m * 5, m * 5 + 5))).toEqual(
        Array.from(good.params.subarray(m * 5, m * 5 + 5)),
      );
    }
  });

  it('refuses weights beyond the float32 range, naming the model and parameter', async () => {
    const models = randomPopulation(statquest(), 3, 3);
    models[1].params[3] = 1e39;
    const e = await trainPopulation(gpu(), models, seedData(), { optimizer: { kind: 'sgd', lr: 0.1 }, steps: 1 }).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).field).toBe('models[1].weights.Wy[0][0]');
  });

  it('stops early at the same step as the CPU', async () => {
    const [init] = randomPopulation(statquest(), 1, 1);
    const o = { optimizer: DEFAULT_OPTIMIZER, steps: 400, lossThreshold: 0.01, readbackEvery: 50 };
    const a = await train(gpu(), init, seedData(), o);
    const b = await train(await cpuP, init, seedData(), o);
    expect(a.stoppedEarly).toBe(true);
    expect(a.steps).toBe(b.steps);
    expect(a.history.at(-1)!.step).toBe(b.steps);
    expect(a.history.at(-1)!.loss).toBeLessThanOrEqual(0.01);
    expectTrajectory(a.model.params, b.model.params, 'params');
  });

  it('the step-by-step path (for shapes beyond the training kernel) follows the fused kernel', async () => {
    const model = modelFromJSON(randomModel({ inputSize: 2, hiddenSize: 4, outputSize: 1 }, 'tanh', 'last', 3));
    const data = randomBatch({
      count: 20,
      inputSize: 2,
      outputSize: 1,
      output: 'last',
      minLength: 1,
      maxLength: 6,
      seed: 6,
    });
    const o: TrainOptions = {
      optimizer: { kind: 'adam', lr: 0.01 },
      steps: 30,
      batchSize: 7,
      seed: 2,
      historyEvery: 1,
    };
    const fused = await train(gpu(), model, data, o);
    const slow = await stepwise(gpu()).population([model], [data], true, resolveOptions(o, 1, 20), {
      mask: null,
      trajectory: false,
    });
    expectTrajectory(slow.params, fused.model.params, 'params');
    expectTrajectory(
      slow.curves,
      fused.history.slice(0, 30).map((h) => h.loss),
      'losses',
    );
    expect(slow.stepsDone[0]).toBe(30);
  });

  it('trains shapes beyond the training kernel (H = 20) on the fused gemm path, like the CPU', async () => {
    const model = modelFromJSON(randomModel({ inputSize: 1, hiddenSize: 20, outputSize: 1 }, 'tanh', 'last', 5, 0.2));
    const data = randomBatch({
      count: 10,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      minLength: 2,
      maxLength: 4,
      seed: 9,
    });
    const o: TrainOptions = { optimizer: { kind: 'adam', lr: 0.01 }, steps: 3, historyEvery: 1 };
    const a = await train(gpu(), model, data, o);
    const b = await train(await cpuP, model, data, o);
    expect(a.backend).toBe('webgpu');
    expectTrajectory(a.model.params, b.model.params, 'params');
    expectTrajectory(
      a.history.map((h) => h.loss),
      b.history.map((h) => h.loss),
      'history',
    );
  });

  it('reports the validation loss and stops at the next read-back when aborted', async () => {
    const validation = batchFromArrays(
      [
        [[0.5], [0.5]],
        [[1], [0]],
      ],
      [[0.2], [0.7]],
      'last',
      1,
    );
    const r = await train(gpu(), statquest(), seedData(), {
      optimizer: { kind: 'sgd', lr: 0.1 },
      steps: 5,
      validation,
    });
    const check = await (await cpuP).run(r.model, validation);
    expect(Math.abs(r.validationLoss! - check.loss!)).toBeLessThan(1e-6);
    const ctl = new AbortController();
    const aborted = await train(gpu(), statquest(), seedData(), {
      optimizer: { kind: 'sgd', lr: 0.01 },
      steps: 1000,
      readbackEvery: 10,
      signal: ctl.signal,
      onProgress: (p) => {
        if (p.step >= 20) ctl.abort();
      },
    });
    expect(aborted.aborted).toBe(true);
    expect(aborted.steps).toBe(20);
  });
});

await describeGpu('loss landscape on WebGPU', (gpu) => {
  it('equals engine.run on the CPU at sampled points of a 67 × 45 grid', async () => {
    const base = modelFromJSON(randomModel({ inputSize: 2, hiddenSize: 3, outputSize: 1 }, 'relu', 'last', 12));
    const data = randomBatch({
      count: 70,
      inputSize: 2,
      outputSize: 1,
      output: 'last',
      minLength: 1,
      maxLength: 7,
      seed: 13,
    });
    const L = await lossLandscape(
      gpu(),
      base,
      data,
      { param: 'Wh[1][2]', min: -2, max: 2, steps: 67 },
      { param: 'by[0]', min: -1, max: 3, steps: 45 },
    );
    expect(L.backend).toBe('webgpu');
    const cpu = await cpuP;
    for (const [ix, iy] of [
      [0, 0],
      [66, 44],
      [13, 7],
      [64, 31],
      [40, 44],
      [1, 43],
    ]) {
      const params = base.params.slice();
      params[L.xIndex] = L.x[ix];
      params[L.yIndex] = L.y[iy];
      const want = (await cpu.run({ ...base, params }, data, { gradients: false })).loss!;
      const got = L.losses[iy * 67 + ix];
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, want));
    }
  });

  it("gives the notes' SSR and the same path as the CPU on the seed network", async () => {
    const base = statquest();
    const path = { optimizer: { kind: 'sgd' as const, lr: 0.05 }, steps: 30 };
    const a = await lossLandscape(
      gpu(),
      base,
      seedData(),
      { param: 'w1', min: 1.8, max: 2.8, steps: 3 },
      { param: 'w2', min: -0.5, max: 0.5, steps: 2 },
      { path },
    );
    const b = await lossLandscape(
      await cpuP,
      base,
      seedData(),
      { param: 'w1', min: 1.8, max: 2.8, steps: 3 },
      { param: 'w2', min: -0.5, max: 0.5, steps: 2 },
      { path },
    );
    expect(Math.abs(a.losses[0] - 0.0001)).toBeLessThan(1e-7);
    expect(a.path!.length).toBe(31);
    expectTrajectory(
      a.path!.map((p) => p.x),
      b.path!.map((p) => p.x),
      'path x',
    );
    expectTrajectory(
      a.path!.map((p) => p.y),
      b.path!.map((p) => p.y),
      'path y',
    );
    expectTrajectory(a.losses, b.losses, 'losses');
  });
});

await describeGpu('a 10,000-model population and a 512 × 512 landscape on WebGPU', (gpu) => {
  it('10,000 seed networks from random inits: the GPU population equals the CPU', async () => {
    const models = randomPopulation(statquest(), 10_000, 2024);
    const o = { optimizer: DEFAULT_OPTIMIZER, steps: 20, curveEvery: 5 };
    const a = await trainPopulation(gpu(), models, seedData(), o);
    const b = await trainPopulation(await cpuP, models, seedData(), o);
    expectTrajectory(a.params, b.params, 'params');
    expectTrajectory(a.finalLoss, b.finalLoss, 'finalLoss');
    expectTrajectory(a.curves, b.curves, 'curves');
    expect(a.status).toEqual(b.status);
  });

  it('a 512 × 512 landscape of w1 × w2 on the seed data equals the CPU everywhere', async () => {
    const x = { param: 'w1', min: -3, max: 3, steps: 512 };
    const y = { param: 'w2', min: -3, max: 3, steps: 512 };
    const a = await lossLandscape(gpu(), statquest(), seedData(), x, y);
    const b = await lossLandscape(await cpuP, statquest(), seedData(), x, y);
    expectTrajectory(a.losses, b.losses, 'losses');
  });
});

await describeGpu(
  'training after a lost device',
  (gpu) => {
    it("refuses training and loss evaluation with the runtime's lost-device error", async () => {
      const e = gpu();
      const o = { optimizer: { kind: 'sgd' as const, lr: 0.1 }, steps: 3 };
      expect((await train(e, statquest(), seedData(), o)).steps).toBe(3);
      e.device!.destroy();
      await new Promise((r) => setTimeout(r, 50));
      await expect(train(e, statquest(), seedData(), o)).rejects.toThrow(
        /the WebGPU device was lost .*create a new engine/,
      );
      await expect(
        lossLandscape(
          e,
          statquest(),
          seedData(),
          { param: 'w1', min: 0, max: 1, steps: 2 },
          { param: 'w2', min: 0, max: 1, steps: 2 },
        ),
      ).rejects.toThrow(/device was lost/);
    });
  },
  {},
  { errorScopes: false },
);
