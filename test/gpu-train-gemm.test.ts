// Fused training for shapes beyond the training kernel (H > 16): the gemm kernels of engine.run with the
// parameter-parallel optimizer, many steps per submit, against the float64 CPU path (trajectories, stop rules, the
// landscape's masked path), bit-identical run to run, and within the memory budget.
//
// Tolerance against the CPU: every recorded loss within 1e-4 relative and every weight within 1e-4·max(1, |w|), as
// for the small-shape training kernel (test/gpu-train.test.ts); measured differences here are about 1e-6.

import { expect, it } from 'vitest';
import type { Batch } from '../src/batch.ts';
import { Engine } from '../src/engine.ts';
import { modelFromJSON, type Model } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import { lossLandscape, train, trainPopulation, type TrainOptions } from '../src/train/index.ts';
import { describeGpu } from './helpers/gpu.ts';
import { expectTrajectory } from './helpers/train.ts';

const cpuP = Engine.create({ backend: 'cpu' });

const H = 20;
const model = (out: 'last' | 'all', seed: number, I = 2, O = 2): Model =>
  modelFromJSON(randomModel({ inputSize: I, hiddenSize: H, outputSize: O }, 'tanh', out, seed, 0.2));
const data = (
  out: 'last' | 'all',
  count: number,
  minLength: number,
  maxLength: number,
  seed: number,
  I = 2,
  O = 2,
): Batch => randomBatch({ count, inputSize: I, outputSize: O, output: out, minLength, maxLength, seed });

await describeGpu('fused training beyond the training kernel (gemm)', (gpu) => {
  it('follows the CPU trajectory: Adam with clipping and a cosine schedule, SGD momentum on ragged mini-batches, output all', async () => {
    const cases: [Model, Batch, TrainOptions][] = [
      [
        model('last', 5),
        data('last', 10, 2, 5, 9),
        {
          optimizer: { kind: 'adam', lr: 0.01 },
          steps: 30,
          historyEvery: 1,
          clipNorm: 3,
          readbackEvery: 7,
          schedule: { kind: 'cosine', minLr: 0.001 },
        },
      ],
      [
        model('all', 6),
        data('all', 13, 1, 6, 10),
        {
          optimizer: { kind: 'sgd', lr: 0.002, momentum: 0.9 },
          steps: 30,
          historyEvery: 1,
          batchSize: 5,
          seed: 3,
          readbackEvery: 8,
        },
      ],
      [
        model('last', 7),
        data('last', 12, 4, 4, 11),
        { optimizer: { kind: 'adam', lr: 0.02 }, steps: 25, historyEvery: 2, batchSize: 4, seed: 4 },
      ],
    ];
    for (const [m, d, o] of cases) {
      const a = await train(gpu(), m, d, o);
      const b = await train(await cpuP, m, d, o);
      expect(a.backend).toBe('webgpu');
      expect(a.steps).toBe(o.steps);
      expect(a.history.length).toBe(b.history.length);
      expectTrajectory(
        a.history.map((h) => h.loss),
        b.history.map((h) => h.loss),
        `${o.optimizer.kind} history`,
      );
      expectTrajectory(a.model.params, b.model.params, `${o.optimizer.kind} params`);
      expect(a.history.at(-1)!.loss).toBeLessThan(a.history[0].loss);
      expect(Math.abs(a.finalLoss - b.finalLoss)).toBeLessThan(1e-4 * Math.max(1, b.finalLoss));
    }
  });

  it('is deterministic whatever readbackEvery, and a population equals its models trained one by one, bit for bit', async () => {
    const m0 = model('last', 8);
    const d = data('last', 11, 1, 6, 12);
    const o: TrainOptions = {
      optimizer: { kind: 'adam', lr: 0.01 },
      steps: 21,
      batchSize: 4,
      seed: 9,
      historyEvery: 2,
    };
    const a = await train(gpu(), m0, d, o);
    const b = await train(gpu(), m0, d, { ...o, readbackEvery: 5 });
    expect(Array.from(b.model.params)).toEqual(Array.from(a.model.params));
    expect(b.history).toEqual(a.history);
    const models = [m0, model('last', 13), model('last', 14)];
    const sets = [d, data('last', 11, 2, 4, 13), data('last', 11, 3, 3, 14)];
    const pop = await trainPopulation(gpu(), models, sets, { ...o, lrs: [0.01, 0.02, 0.005] });
    const P = m0.params.length;
    for (let m = 0; m < 3; m++) {
      const one = await train(gpu(), models[m], sets[m], {
        ...o,
        optimizer: { kind: 'adam', lr: [0.01, 0.02, 0.005][m] },
      });
      expect(Array.from(pop.params.subarray(m * P, (m + 1) * P))).toEqual(Array.from(one.model.params));
      expect(pop.finalLoss[m]).toBe(one.finalLoss);
    }
  });

  it('stays within a small memory budget (several chunks of sequences a step, checkpointed states), like the CPU', async () => {
    const m = model('all', 15, 1, 1);
    const d = data('all', 300, 20, 24, 16, 1, 1);
    const budget = 400_000;
    const small = await Engine.create({ backend: 'webgpu', gpu: { device: gpu().device!, memoryBudget: budget } });
    try {
      const o: TrainOptions = { optimizer: { kind: 'adam', lr: 0.005 }, steps: 6, historyEvery: 1 };
      const a = await train(small, m, d, o);
      const stats = small.lastTrainStats!;
      expect(stats.kind).toBe('train');
      expect(stats.peakBytes).toBeGreaterThan(0);
      expect(stats.peakBytes).toBeLessThanOrEqual(budget);
      // The whole run in one chunk would need more than the budget: the gemm plan split it.
      await small.run(m, d, { gradients: true });
      expect(small.lastRunStats!.chunks).toBeGreaterThan(1);
      const b = await train(await cpuP, m, d, o);
      expectTrajectory(
        a.history.map((h) => h.loss),
        b.history.map((h) => h.loss),
        'history',
      );
      expectTrajectory(a.model.params, b.model.params, 'params');
      // Ragged mini-batches over several chunks: each step's chunks made from the lengths it drew.
      const mo: TrainOptions = { ...o, batchSize: 250, seed: 2 };
      const c = await train(small, m, d, mo);
      expect(small.lastTrainStats!.peakBytes).toBeLessThanOrEqual(budget);
      const e = await train(await cpuP, m, d, mo);
      expectTrajectory(
        c.history.map((h) => h.loss),
        e.history.map((h) => h.loss),
        'mini-batch history',
      );
      expectTrajectory(c.model.params, e.model.params, 'mini-batch params');
    } finally {
      small.dispose();
    }
  });

  it('stop rules: divergence freezes the last finite weights, a loss threshold stops at the CPU step, abort at the next read-back', async () => {
    const m = model('last', 17);
    const d = data('last', 8, 2, 4, 18);
    const bad = await train(gpu(), m, d, { optimizer: { kind: 'sgd', lr: 1e30 }, steps: 20 });
    const badCpu = await train(await cpuP, m, d, { optimizer: { kind: 'sgd', lr: 1e30 }, steps: 20 });
    expect(bad.diverged).toBe(true);
    expect(badCpu.diverged).toBe(true);
    expect(bad.steps).toBeLessThanOrEqual(badCpu.steps);
    expect(bad.model.params.every(Number.isFinite)).toBe(true);
    const o: TrainOptions = { optimizer: { kind: 'adam', lr: 0.02 }, steps: 300, lossThreshold: 0, readbackEvery: 40 };
    const first = await train(await cpuP, m, d, { ...o, steps: 60, historyEvery: 1 });
    const threshold = first.history[40].loss; // reached at step 40 or before
    const a = await train(gpu(), m, d, { ...o, lossThreshold: threshold });
    const b = await train(await cpuP, m, d, { ...o, lossThreshold: threshold });
    expect(b.stoppedEarly).toBe(true);
    expect(a.stoppedEarly).toBe(true);
    expect(Math.abs(a.steps - b.steps)).toBeLessThanOrEqual(1);
    const ctl = new AbortController();
    const aborted = await train(gpu(), m, d, {
      optimizer: { kind: 'sgd', lr: 0.001 },
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

  it("the landscape's descent path (two trainable parameters, weights recorded every step) follows the CPU", async () => {
    const m = model('last', 19, 1, 1);
    const d = data('last', 6, 2, 3, 20, 1, 1);
    const x = { param: 'Wh[0][1]', min: -1, max: 1, steps: 3 };
    const y = { param: 'by[0]', min: -1, max: 1, steps: 3 };
    const path = { optimizer: { kind: 'sgd' as const, lr: 0.01 }, steps: 15 };
    const a = await lossLandscape(gpu(), m, d, x, y, { path });
    const b = await lossLandscape(await cpuP, m, d, x, y, { path });
    expect(a.path!.length).toBe(b.path!.length);
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
    expectTrajectory(
      a.path!.map((p) => p.loss),
      b.path!.map((p) => p.loss),
      'path loss',
    );
    expectTrajectory(a.losses, b.losses, 'grid');
    // Only the two grid parameters moved.
    expect(a.path![0].x).toBe(m.params[a.xIndex]);
  });
});
