// Training and the loss landscape with LSTM and GRU cells on the CPU backend: random gated populations, a
// population against one-by-one training, the final loss against cpuRun, parameter names of the gated blocks
// (bx[2] …) and a gated landscape against cpuRun at every grid point.

import { describe, expect, it } from 'vitest';
import { batchFromArrays, type Batch } from '../src/batch.ts';
import type { CellName } from '../src/cells/index.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import { modelFromJSON, paramLayout, paramName, type Model } from '../src/model.ts';
import { Rng } from '../src/random.ts';
import { randomModelJSON, Rng as CaseRng } from './helpers/random-cases.ts';
import { lossLandscape, randomPopulation, train, trainPopulation, zeroModel } from '../src/train/index.ts';
import { resolveParam } from '../src/train/options.ts';

const engineP = Engine.create({ backend: 'cpu' });

/** Four sequences of 5 steps, I = 2, O = 1, output last. */
function data(): Batch {
  const rng = new Rng(3);
  const seqs = Array.from({ length: 4 }, () =>
    Array.from({ length: 5 }, () => [rng.uniform(-1, 1), rng.uniform(-1, 1)]),
  );
  return batchFromArrays(
    seqs,
    seqs.map((s) => [s[0][0] - s[4][1]]),
    'last',
    1,
  );
}

const shape = { inputSize: 2, hiddenSize: 3, outputSize: 1, output: 'last' as const };

describe.each(['lstm', 'gru'] as CellName[])('%s training on the CPU', (cell) => {
  const G = cell === 'lstm' ? 4 : 3;

  it('randomPopulation draws every gated parameter in [−scale, scale] and keeps the cell and initial state', () => {
    const base = zeroModel(cell, shape, 'tanh');
    if (base.c0) base.c0.fill(0.25);
    const P = G * 3 * (2 + 3 + 2) + 1 * (3 + 1);
    expect(base.params.length).toBe(P);
    const ms = randomPopulation(base, 3, 9, 0.5);
    for (const m of ms) {
      expect(m.cell).toBe(cell);
      expect(m.params.length).toBe(P);
      expect(m.params.every((v) => Math.abs(v) <= 0.5 && v === Math.fround(v))).toBe(true);
      if (cell === 'lstm') {
        expect(Array.from(m.c0!)).toEqual([0.25, 0.25, 0.25]);
        expect(m.c0).not.toBe(base.c0);
      }
    }
    // Model m takes draws m·P … m·P+P−1 of one stream: model 1 differs from model 0 everywhere.
    expect(ms[0].params.some((v, p) => v === ms[1].params[p])).toBe(false);
  });

  it('a population trains each model exactly as train() does alone, and the final loss is cpuRun at the final weights', async () => {
    const engine = await engineP;
    const batch = data();
    const models = randomPopulation(zeroModel(cell, shape, 'tanh'), 3, 5, 0.7);
    const opts = { optimizer: { kind: 'adam' as const, lr: 0.02 }, steps: 40 };
    const pop = await trainPopulation(engine, models, batch, opts);
    const P = pop.paramCount;
    for (let m = 0; m < models.length; m++) {
      const alone = await train(engine, models[m], batch, opts);
      expect(Array.from(pop.params.subarray(m * P, (m + 1) * P))).toEqual(Array.from(alone.model.params));
      expect(pop.finalLoss[m]).toBe(alone.finalLoss);
      expect(alone.model.cell).toBe(cell);
      const direct = cpuRun(alone.model, batch).loss!;
      expect(alone.finalLoss).toBe(direct);
      // Adam with a small rate for 40 steps lowers the loss from the initial one.
      expect(alone.finalLoss).toBeLessThan(cpuRun(models[m], batch).loss!);
    }
  });

  it("names of gated blocks resolve (bx[2], Wh[5][1], by[0]); the notes' names do not", () => {
    const m = zeroModel(cell, shape, 'tanh');
    const L = paramLayout(m).blocks;
    expect(resolveParam(m, 'bx[2]', 'x')).toBe(L.bx!.offset + 2);
    expect(resolveParam(m, 'Wh[5][1]', 'x')).toBe(L.Wh.offset + 5 * 3 + 1);
    expect(resolveParam(m, 'by[0]', 'x')).toBe(L.by.offset);
    expect(paramName(m, resolveParam(m, `bh[${G * 3 - 1}]`, 'x'))).toBe(`bh[${G * 3 - 1}]`);
    expect(() => resolveParam(m, `bx[${G * 3}]`, 'x')).toThrow(InputError);
    const scalar = zeroModel(cell, { inputSize: 1, hiddenSize: 1, outputSize: 1, output: 'last' }, 'tanh');
    expect(() => resolveParam(scalar, 'w1', 'x.param')).toThrow(/unknown parameter "w1"/);
  });

  it('a gated landscape over bx[2] × Wh[1][0] equals cpuRun at every grid point, and its path lowers the loss', async () => {
    const engine = await engineP;
    const batch = data();
    const model = modelFromJSON(randomModelJSON(new CaseRng(11), { ...shape, activation: 'tanh', cell, h0: true }));
    const L = await lossLandscape(
      engine,
      model,
      batch,
      { param: 'bx[2]', min: -2, max: 2, steps: 4 },
      { param: 'Wh[1][0]', min: -1, max: 1.5, steps: 3 },
      {
        path: { optimizer: { kind: 'sgd', lr: 0.05 }, steps: 20 },
      },
    );
    expect(L.xName).toBe('bx[2]');
    expect(L.yName).toBe('Wh[1][0]');
    const B = paramLayout(model).blocks;
    for (let iy = 0; iy < 3; iy++) {
      for (let ix = 0; ix < 4; ix++) {
        const params = model.params.slice();
        params[B.bx!.offset + 2] = -2 + (4 * ix) / 3;
        params[B.Wh.offset + 1 * 3 + 0] = [-1, 0.25, 1.5][iy];
        expect(L.losses[iy * 4 + ix]).toBe(cpuRun({ ...model, params }, batch).loss);
      }
    }
    const path = L.path!;
    expect(path.length).toBe(21);
    expect(path[20].loss).toBeLessThan(path[0].loss);
  });
});

describe('populations of gated cells', () => {
  it('an LSTM population uses each model its own c0', async () => {
    const engine = await engineP;
    const batch = data();
    const [a] = randomPopulation(zeroModel('lstm', shape, 'tanh'), 1, 5, 0.7);
    const b: Model = { ...a, params: a.params.slice(), c0: Float64Array.from([0.9, -0.9, 0.5]) };
    const opts = { optimizer: { kind: 'sgd' as const, lr: 0.01 }, steps: 5 };
    const pop = await trainPopulation(engine, [a, b], batch, opts);
    const alone = await train(engine, b, batch, opts);
    expect(pop.finalLoss[1]).toBe(alone.finalLoss);
    expect(pop.finalLoss[0]).not.toBe(pop.finalLoss[1]);
  });

  it('refuses a population that mixes cells, naming the model', async () => {
    const engine = await engineP;
    const a = zeroModel('lstm', shape, 'tanh');
    const b = zeroModel('gru', shape, 'tanh');
    await expect(
      trainPopulation(engine, [a, b], data(), { optimizer: { kind: 'sgd', lr: 0.1 }, steps: 1 }),
    ).rejects.toThrow(
      /models\[1\]\.cell: every model of a population must have the cell of models\[0\] \(lstm\), got gru/,
    );
  });

  it('a gated model takes the activation tanh only', () => {
    expect(() => zeroModel('gru', shape, 'relu')).toThrow(/activation: the gru cell takes "tanh" only/);
  });
});
