// Training on the CPU backend: optimizer math against hand-computed steps, schedules, the mini-batch order,
// early stopping, populations against one-by-one training, divergence, the loss landscape and bad input.

import { describe, expect, it } from 'vitest';
import { batchFromArrays, type Batch } from '../src/batch.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import { modelFromJSON, preset, type Model } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import {
  DEFAULT_OPTIMIZER,
  DEFAULT_STEPS,
  lossLandscape,
  minibatchOrder,
  randomPopulation,
  train,
  trainPopulation,
} from '../src/train/index.ts';
import { resolveOptions, stepFactors } from '../src/train/options.ts';
import { optimizerStep, STATUS_CONVERGED, STATUS_DIVERGED, STATUS_OK } from '../src/train/optimizer.ts';

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
const engineP = Engine.create({ backend: 'cpu' });

function stepInput(loss: number, grads: number[], lr: number, c1 = 1, c2 = 1) {
  return {
    loss,
    overflowed: 0,
    grads: Float64Array.from(grads),
    lr,
    c1,
    c2,
    lossThreshold: -Infinity,
    clipNorm: 0,
    mask: null,
    weightDecay: 0,
    lossScale: 1,
  };
}

describe('optimizer step (float64, by hand)', () => {
  it('SGD with momentum: v = μv + g, θ −= lr·v', () => {
    const o = resolveOptions({ optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 }, steps: 1 }, 1, 1).optimizer;
    const theta = Float64Array.from([1, 2]);
    const state = { m: Float64Array.from([1, -1]), v: new Float64Array(2) };
    expect(optimizerStep(o, theta, state, stepInput(3, [0.5, -4], 0.1))).toBe(STATUS_OK);
    expect(state.m[0]).toBeCloseTo(1.4, 15);
    expect(state.m[1]).toBeCloseTo(-4.9, 15);
    expect(theta[0]).toBeCloseTo(0.86, 15);
    expect(theta[1]).toBeCloseTo(2.49, 15);
  });

  it('Adam: two steps with bias correction', () => {
    const o = resolveOptions({ optimizer: { kind: 'adam', lr: 0.01 }, steps: 2 }, 1, 1).optimizer;
    const theta = Float64Array.from([1, 2]);
    const state = { m: new Float64Array(2), v: new Float64Array(2) };
    // Step 0: m = 0.1·g, v = 0.001·g², m̂ = g, v̂ = g², θ −= 0.01·g/(|g| + 1e-8).
    optimizerStep(o, theta, state, stepInput(1, [0.5, -4], 0.01, 1 - 0.9, 1 - 0.999));
    expect(theta[0]).toBeCloseTo(1 - (0.01 * 0.5) / (0.5 + 1e-8), 15);
    expect(theta[1]).toBeCloseTo(2 + (0.01 * 4) / (4 + 1e-8), 15);
    // Step 1 with g = [1, 2]: m = 0.9·m + 0.1·g, v = 0.999·v + 0.001·g², corrections 1 − 0.9², 1 − 0.999².
    optimizerStep(o, theta, state, stepInput(1, [1, 2], 0.01, 1 - 0.81, 1 - 0.998001));
    const m0 = 0.9 * 0.05 + 0.1 * 1;
    const v0 = 0.999 * 0.00025 + 0.001 * 1;
    const m1 = 0.9 * -0.4 + 0.1 * 2;
    const v1 = 0.999 * 0.016 + 0.001 * 4;
    const t0 = 1 - (0.01 * 0.5) / (0.5 + 1e-8) - (0.01 * (m0 / 0.19)) / (Math.sqrt(v0 / 0.001999) + 1e-8);
    const t1 = 2 + (0.01 * 4) / (4 + 1e-8) - (0.01 * (m1 / 0.19)) / (Math.sqrt(v1 / 0.001999) + 1e-8);
    expect(theta[0]).toBeCloseTo(t0, 14);
    expect(theta[1]).toBeCloseTo(t1, 14);
    expect(state.m[0]).toBeCloseTo(m0, 15);
    expect(state.v[1]).toBeCloseTo(v1, 15);
  });

  it('clips by global norm, honours the mask, and stops on threshold or non-finite values', () => {
    const o = resolveOptions({ optimizer: { kind: 'sgd', lr: 1 }, steps: 1 }, 1, 1).optimizer;
    const fresh = () => ({ m: new Float64Array(2), v: new Float64Array(2) });
    const theta = Float64Array.from([0, 0]);
    // ‖(3, 4)‖ = 5, clipped to 1: g = (0.6, 0.8).
    optimizerStep(o, theta, fresh(), { ...stepInput(1, [3, 4], 1), clipNorm: 1 });
    expect(theta[0]).toBeCloseTo(-0.6, 15);
    expect(theta[1]).toBeCloseTo(-0.8, 15);
    optimizerStep(o, theta, fresh(), { ...stepInput(1, [3, 4], 1), mask: Uint8Array.from([0, 1]) });
    expect(theta[0]).toBeCloseTo(-0.6, 15);
    expect(theta[1]).toBeCloseTo(-4.8, 15);
    const before = theta.slice();
    expect(optimizerStep(o, theta, fresh(), { ...stepInput(0.5, [1, 1], 1), lossThreshold: 0.5 })).toBe(
      STATUS_CONVERGED,
    );
    expect(optimizerStep(o, theta, fresh(), stepInput(NaN, [1, 1], 1))).toBe(STATUS_DIVERGED);
    expect(optimizerStep(o, theta, fresh(), stepInput(1, [1, Infinity], 1))).toBe(STATUS_DIVERGED);
    expect(optimizerStep(o, theta, fresh(), { ...stepInput(1, [1, 1], 1), overflowed: 1 })).toBe(STATUS_DIVERGED);
    expect(optimizerStep(o, theta, fresh(), stepInput(1, [1e300, 1], 1e300))).toBe(STATUS_DIVERGED);
    expect(Array.from(theta)).toEqual(Array.from(before));
  });

  it('schedules: step and cosine learning rates', () => {
    const step = resolveOptions(
      { optimizer: { kind: 'sgd', lr: 0.5 }, steps: 10, schedule: { kind: 'step', every: 3, gamma: 0.5 } },
      1,
      1,
    );
    expect([0, 2, 3, 6, 9].map((k) => 0.5 * stepFactors(step, k).a + stepFactors(step, k).b)).toEqual([
      0.5, 0.5, 0.25, 0.125, 0.0625,
    ]);
    const cos = resolveOptions(
      { optimizer: { kind: 'sgd', lr: 1 }, steps: 4, schedule: { kind: 'cosine', minLr: 0.2 } },
      1,
      1,
    );
    const lr = (k: number) => stepFactors(cos, k).a + stepFactors(cos, k).b;
    expect(lr(0)).toBeCloseTo(1, 15);
    expect(lr(2)).toBeCloseTo(0.6, 15);
    expect(lr(1)).toBeCloseTo(0.2 + (0.8 * (1 + Math.SQRT1_2)) / 2, 15);
  });

  it('the mini-batch order is a chain of seeded permutations, one per epoch', () => {
    const a = minibatchOrder(7, 3).take(21);
    expect(Array.from(minibatchOrder(7, 3).take(21))).toEqual(Array.from(a));
    for (let e = 0; e < 3; e++) expect(Array.from(a.subarray(e * 7, e * 7 + 7)).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(a.subarray(0, 7))).not.toEqual(Array.from(a.subarray(7, 14)));
    expect(Array.from(minibatchOrder(7, 4).take(7))).not.toEqual(Array.from(a.subarray(0, 7)));
  });
});

describe('train on the CPU', () => {
  it('reaches SSR < 1e-3 on the seed data with the documented defaults from a seeded random init', async () => {
    const engine = await engineP;
    const [init] = randomPopulation(statquest(), 1, 1);
    const r = await train(engine, init, seedData(), {
      optimizer: DEFAULT_OPTIMIZER,
      steps: DEFAULT_STEPS,
      historyEvery: 50,
    });
    expect(r.backend).toBe('cpu');
    expect(r.finalLoss).toBeLessThan(1e-3);
    expect(r.history[0].loss).toBeGreaterThan(0.1);
    expect(r.history[0].step).toBe(0);
    expect(r.history.at(-1)!.step).toBe(DEFAULT_STEPS - 1);
    expect(r.steps).toBe(DEFAULT_STEPS);
    const check = cpuRun(r.model, seedData(), {});
    expect(r.finalLoss).toBe(check.loss);
  });

  it('follows a hand-written loop of forward + BPTT and SGD with momentum, mini-batches included', async () => {
    const engine = await engineP;
    const model = modelFromJSON(randomModel({ inputSize: 2, hiddenSize: 3, outputSize: 2 }, 'tanh', 'all', 5));
    const data = randomBatch({
      count: 7,
      inputSize: 2,
      outputSize: 2,
      output: 'all',
      minLength: 1,
      maxLength: 5,
      seed: 9,
    });
    const steps = 12;
    const r = await train(engine, model, data, {
      optimizer: { kind: 'sgd', lr: 0.02, momentum: 0.5 },
      steps,
      batchSize: 3,
      seed: 11,
      historyEvery: 1,
    });
    // By hand: the same order, cpuRun on each mini-batch, v = 0.5v + g, θ −= 0.02v.
    const order = minibatchOrder(7, 11);
    const theta = model.params.slice();
    const v = new Float64Array(theta.length);
    for (let k = 0; k < steps; k++) {
      const idx = Array.from(order.take(3));
      const sub = batchFromArrays(
        idx.map((n) =>
          Array.from({ length: data.lengths[n] }, (_, t) => [
            data.inputs[(data.offsets[n] + t) * 2],
            data.inputs[(data.offsets[n] + t) * 2 + 1],
          ]),
        ),
        idx.map((n) =>
          Array.from({ length: data.lengths[n] }, (_, t) => [
            data.targets![(data.offsets[n] + t) * 2],
            data.targets![(data.offsets[n] + t) * 2 + 1],
          ]),
        ),
        'all',
      );
      const g = cpuRun({ ...model, params: theta }, sub, { gradients: true });
      expect(r.history[k].loss).toBeCloseTo(g.loss!, 6); // history is float32
      for (let p = 0; p < theta.length; p++) {
        v[p] = 0.5 * v[p] + g.grads![p];
        theta[p] -= 0.02 * v[p];
      }
    }
    for (let p = 0; p < theta.length; p++) expect(r.model.params[p]).toBeCloseTo(theta[p], 13);
  });

  it('stops early exactly at the first step whose loss is ≤ the threshold, before its update', async () => {
    const engine = await engineP;
    const [init] = randomPopulation(statquest(), 1, 1);
    const full = await train(engine, init, seedData(), { optimizer: DEFAULT_OPTIMIZER, steps: 400, historyEvery: 1 });
    const threshold = 0.01;
    const first = full.history.findIndex((h) => h.loss <= threshold);
    expect(first).toBeGreaterThan(0);
    const r = await train(engine, init, seedData(), {
      optimizer: DEFAULT_OPTIMIZER,
      steps: 400,
      lossThreshold: threshold,
      historyEvery: 1000,
    });
    expect(r.stoppedEarly).toBe(true);
    expect(r.steps).toBe(first);
    expect(r.history.at(-1)).toEqual({ step: first, loss: full.history[first].loss });
    expect(r.finalLoss).toBeLessThanOrEqual(threshold);
  });

  it('a population equals training the models one by one, with per-model learning rates', async () => {
    const engine = await engineP;
    const models = randomPopulation(statquest(), 5, 7);
    const lrs = [0.01, 0.02, 0.05, 0.1, 0.03];
    const opts = { optimizer: { kind: 'adam' as const, lr: 1 }, steps: 60, curveEvery: 7 };
    const pop = await trainPopulation(engine, models, seedData(), { ...opts, lrs });
    expect(pop.curveSteps).toEqual([0, 7, 14, 21, 28, 35, 42, 49, 56]);
    for (let m = 0; m < 5; m++) {
      const one = await train(engine, models[m], seedData(), {
        ...opts,
        optimizer: { kind: 'adam', lr: lrs[m] },
        historyEvery: 7,
      });
      expect(Array.from(pop.params.subarray(m * 5, m * 5 + 5))).toEqual(Array.from(one.model.params));
      expect(pop.finalLoss[m]).toBe(one.finalLoss);
      expect(Array.from(pop.curves.subarray(m * 9, m * 9 + 9))).toEqual(one.history.slice(0, 9).map((h) => h.loss));
    }
  });

  it('a diverging model is frozen at its last finite weights and flagged; the others are unaffected', async () => {
    const engine = await engineP;
    const models = randomPopulation(statquest(), 4, 3);
    const lrs = [0.05, 1e200, 0.05, 0.1];
    const opts = { optimizer: { kind: 'sgd' as const, lr: 1 }, steps: 50 };
    const pop = await trainPopulation(engine, models, seedData(), { ...opts, lrs });
    expect(pop.status[1]).toBe('diverged');
    expect(pop.divergedAtStep[1]).toBeGreaterThanOrEqual(0);
    expect(pop.params.subarray(5, 10).every(Number.isFinite)).toBe(true);
    for (const m of [0, 2, 3]) {
      expect(pop.status[m]).toBe('ok');
      const one = await train(engine, models[m], seedData(), { ...opts, optimizer: { kind: 'sgd', lr: lrs[m] } });
      expect(Array.from(pop.params.subarray(m * 5, m * 5 + 5))).toEqual(Array.from(one.model.params));
    }
  });

  it('reports the validation loss at the final weights', async () => {
    const engine = await engineP;
    const validation = batchFromArrays(
      [
        [[0.5], [0.5]],
        [[1], [0]],
      ],
      [[0.2], [0.7]],
      'last',
      1,
    );
    const r = await train(engine, statquest(), seedData(), {
      optimizer: { kind: 'sgd', lr: 0.1 },
      steps: 5,
      validation,
    });
    expect(r.validationLoss).toBe(cpuRun(r.model, validation, {}).loss);
  });
});

describe('loss landscape on the CPU', () => {
  it('equals cpuRun at every grid point (7 × 5 grid, notes names w1 and w2)', async () => {
    const engine = await engineP;
    const base = statquest();
    const L = await lossLandscape(
      engine,
      base,
      seedData(),
      { param: 'w1', min: -2, max: 2, steps: 7 },
      { param: 'w2', min: -1, max: 1, steps: 5 },
    );
    expect(L.xName).toBe('Wx[0][0]');
    expect(L.yName).toBe('Wh[0][0]');
    expect(Array.from(L.x)).toEqual([-2, -2 + 4 / 6, -2 + 8 / 6, 0, -2 + 16 / 6, -2 + 20 / 6, 2]);
    for (let iy = 0; iy < 5; iy++) {
      for (let ix = 0; ix < 7; ix++) {
        const params = base.params.slice();
        params[0] = L.x[ix];
        params[1] = L.y[iy];
        expect(L.losses[iy * 7 + ix]).toBe(cpuRun({ ...base, params }, seedData(), {}).loss);
      }
    }
    // At the notes' weights (w1 = 1.8, w2 = −0.5) the SSR is 0.0001.
    const at = await lossLandscape(
      engine,
      base,
      seedData(),
      { param: 'Wx[0][0]', min: 1.8, max: 2.8, steps: 2 },
      { param: 1, min: -0.5, max: 0.5, steps: 2 },
    );
    expect(at.losses[0]).toBeCloseTo(0.0001, 12);
  });

  it('overlays a gradient-descent path over the two parameters only', async () => {
    const engine = await engineP;
    const base = statquest();
    const L = await lossLandscape(
      engine,
      base,
      seedData(),
      { param: 'w1', min: 0, max: 3, steps: 4 },
      { param: 'w3', min: 0, max: 2, steps: 3 },
      {
        path: { optimizer: { kind: 'sgd', lr: 0.05 }, steps: 20 },
      },
    );
    const path = L.path!;
    expect(path.length).toBe(21);
    expect(path[0]).toEqual({ step: 0, x: 1.8, y: 1.1, loss: cpuRun(base, seedData(), {}).loss! });
    // Each point is one SGD step over w1 and w3 with the other weights fixed.
    for (let k = 0; k < 20; k++) {
      const params = base.params.slice();
      params[0] = path[k].x;
      params[3] = path[k].y;
      const g = cpuRun({ ...base, params }, seedData(), { gradients: true }).grads!;
      expect(path[k + 1].x).toBeCloseTo(path[k].x - 0.05 * g[0], 13);
      expect(path[k + 1].y).toBeCloseTo(path[k].y - 0.05 * g[3], 13);
    }
    expect(path[20].loss).toBeLessThan(path[0].loss);
  });
});

describe('bad training input', () => {
  const expectField = async (p: Promise<unknown>, field: string) => {
    const e = await p.then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).field).toBe(field);
  };

  it('names the field', async () => {
    const engine = await engineP;
    const m = statquest();
    const d = seedData();
    await expectField(train(engine, m, d, { optimizer: { kind: 'sgd', lr: 0 }, steps: 1 }), 'optimizer.lr');
    await expectField(train(engine, m, d, { optimizer: { kind: 'adam', lr: -1 }, steps: 1 }), 'optimizer.lr');
    await expectField(train(engine, m, d, { optimizer: { kind: 'adam', lr: NaN }, steps: 1 }), 'optimizer.lr');
    await expectField(train(engine, m, d, { optimizer: { kind: 'sgd', lr: Infinity }, steps: 1 }), 'optimizer.lr');
    await expectField(train(engine, m, d, { optimizer: { kind: 'sgd', lr: 0.1 }, steps: 0 }), 'steps');
    await expectField(train(engine, m, d, { optimizer: { kind: 'sgd', lr: 0.1 }, steps: 1.5 }), 'steps');
    await expectField(
      train(engine, m, d, { optimizer: { kind: 'sgd', lr: 0.1 }, steps: 1, batchSize: 3 }),
      'batchSize',
    );
    await expectField(
      train(engine, m, d, { optimizer: { kind: 'sgd', lr: 0.1, momentum: 1 }, steps: 1 }),
      'optimizer.momentum',
    );
    await expectField(
      train(engine, m, d, { optimizer: { kind: 'rmsprop', lr: 0.1 } as never, steps: 1 }),
      'optimizer.kind',
    );
    await expectField(train(engine, m, d, { optimizer: { kind: 'sgd', lr: 0.1 }, steps: 1, clipNorm: 0 }), 'clipNorm');
    await expectField(trainPopulation(engine, [], d, { optimizer: { kind: 'sgd', lr: 0.1 }, steps: 1 }), 'models');
    await expectField(
      trainPopulation(engine, [m, m], d, { optimizer: { kind: 'sgd', lr: 0.1 }, steps: 1, lrs: [0.1, 0] }),
      'lrs[1]',
    );
    const noTargets = batchFromArrays([[[1]]], null, 'last', 1);
    await expectField(train(engine, m, noTargets, { optimizer: { kind: 'sgd', lr: 0.1 }, steps: 1 }), 'targets');
    expect(() => randomPopulation(m, 0, 1)).toThrow(InputError);
    const x = { param: 'w1', min: 0, max: 1, steps: 3 };
    await expectField(lossLandscape(engine, m, d, { ...x, param: 'w9' }, { ...x, param: 'w2' }), 'x.param');
    await expectField(lossLandscape(engine, m, d, x, { ...x, param: 'Wh[1][0]' }), 'y.param');
    await expectField(lossLandscape(engine, m, d, x, { ...x, param: 'w2', steps: 1 }), 'y.steps');
    await expectField(lossLandscape(engine, m, d, { ...x, max: 0 }, { ...x, param: 'w2' }), 'x.max');
    await expectField(
      lossLandscape(engine, m, d, { ...x, steps: 65536 }, { ...x, param: 'w2', steps: 257 }),
      'y.steps',
    );
  });
});
