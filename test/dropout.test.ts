// Inter-layer dropout on the CPU reference (src/dropout.ts): the mask drops a fraction p of a stacked model's
// inputs above the first layer, deterministically per seed; p = 0 and one-layer models give the bits of no
// dropout; the gradient with a fixed mask equals central finite differences of the loss with that mask; training
// with dropout is seeded (same seed, same bits); bad values are one-line errors naming the field (library and CLI).

import { describe, expect, it } from 'vitest';
import { cpuRun } from '../src/cpu/reference.ts';
import { dropKeep, dropThreshold, mix32, stepSeed } from '../src/dropout.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import { modelFromJSON } from '../src/model.ts';
import { train } from '../src/train/index.ts';
import { cli, expectInputError, json } from './helpers/cli.ts';
import { expectClose } from './helpers/compare.ts';
import { layeredCase } from './helpers/layered-cases.ts';
import { Rng, randomModelJSON, randomData } from './helpers/random-cases.ts';
import { batchFromArrays } from '../src/batch.ts';
import type { TrainReport } from './helpers/reports.ts';

describe('the dropout mask', () => {
  it('drops a fraction p of the values, the same ones for the same seed', () => {
    for (const p of [0.1, 0.5, 0.8]) {
      const t = dropThreshold(p);
      let dropped = 0;
      const n = 20000;
      for (let k = 0; k < n; k++) if (!dropKeep(7, 1, k % 100, Math.floor(k / 100), k % 13, t)) dropped++;
      // Binomial(n, p): within 4 standard deviations.
      expect(Math.abs(dropped - n * p)).toBeLessThan(4 * Math.sqrt(n * p * (1 - p)));
      expect(dropKeep(7, 1, 3, 4, 5, t)).toBe(dropKeep(7, 1, 3, 4, 5, t));
    }
    expect(dropThreshold(0)).toBe(0);
    expect(dropKeep(123, 2, 0, 0, 0, 0)).toBe(true);
    // A few fixed values of the hash, which the WGSL kernel recomputes (shaders/per_sequence/layer.wgsl mix32).
    expect([mix32(0), mix32(1), mix32(0xffffffff)]).toEqual([0, 1753845952, 1734902346]);
    expect(stepSeed(1, 2, 3)).not.toBe(stepSeed(1, 3, 2));
  });
});

describe('dropout in the CPU reference', () => {
  const c = layeredCase(
    new Rng(40),
    { cell: 'lstm', inputSize: 2, hiddenSize: 3, outputSize: 1, output: 'all', numLayers: 2, bidirectional: true },
    [4, 3],
  );

  it('p = 0 and one-layer models give the bits of no dropout; p > 0 changes a stacked model', () => {
    const plain = cpuRun(c.model, c.batch, { gradients: true, outputs: true });
    const zero = cpuRun(c.model, c.batch, { gradients: true, outputs: true, dropout: { p: 0, seed: 5 } });
    expect(zero.loss).toBe(plain.loss);
    expect(Array.from(zero.grads!)).toEqual(Array.from(plain.grads!));
    const dropped = cpuRun(c.model, c.batch, { gradients: true, dropout: { p: 0.5, seed: 5 } });
    expect(dropped.loss).not.toBe(plain.loss);
    const rng = new Rng(41);
    const one = randomModelJSON(rng, {
      inputSize: 2,
      hiddenSize: 3,
      outputSize: 1,
      activation: 'tanh',
      output: 'last',
    });
    const data = randomData(rng, one, [3, 2]);
    const b = batchFromArrays(data.inputs, data.targets, 'last');
    const m = modelFromJSON(one);
    expect(cpuRun(m, b, { gradients: true, dropout: { p: 0.5, seed: 5 } }).loss).toBe(
      cpuRun(m, b, { gradients: true }).loss,
    );
  });

  it('with a fixed mask, the gradient equals central finite differences of the loss', () => {
    const dropout = { p: 0.3, seed: 77 };
    const g = cpuRun(c.model, c.batch, { gradients: true, dropout }).grads!;
    const params = Float64Array.from(c.model.params);
    const m = { ...c.model, params };
    const h = 1e-6;
    const fd = new Float64Array(params.length);
    for (let p = 0; p < params.length; p++) {
      const saved = params[p];
      params[p] = saved + h;
      const up = cpuRun(m, c.batch, { dropout }).loss!;
      params[p] = saved - h;
      const down = cpuRun(m, c.batch, { dropout }).loss!;
      params[p] = saved;
      fd[p] = (up - down) / (2 * h);
    }
    expectClose('dSSR/dθ with dropout', g, fd, { atol: 1e-6, rtol: 1e-5 });
  });

  it('training with dropout is seeded: the same seed gives the same bits, another seed other weights', async () => {
    const engine = await Engine.create({ backend: 'cpu' });
    const opts = { optimizer: { kind: 'adam' as const, lr: 0.05 }, steps: 5, dropout: 0.4, seed: 3 };
    const a = await train(engine, c.model, c.batch, opts);
    const b = await train(engine, c.model, c.batch, opts);
    const other = await train(engine, c.model, c.batch, { ...opts, seed: 4 });
    const none = await train(engine, c.model, c.batch, { ...opts, dropout: 0 });
    expect(Array.from(a.model.params)).toEqual(Array.from(b.model.params));
    expect(Array.from(a.model.params)).not.toEqual(Array.from(other.model.params));
    expect(Array.from(a.model.params)).not.toEqual(Array.from(none.model.params));
    await expect(train(engine, c.model, c.batch, { ...opts, dropout: 1 })).rejects.toThrow(
      new InputError('dropout', 'must be a number in [0, 1), got 1', 'options'),
    );
    await expect(engine.run(c.model, c.batch, { dropout: { p: -0.1, seed: 1 } })).rejects.toThrow('dropout.p');
    await expect(engine.run(c.model, c.batch, { dropout: { p: 0.1, seed: 1.5 } })).rejects.toThrow('dropout.seed');
    engine.dispose();
  });

  it('the CLI: train --layers 2 --dropout p, and --dropout 1 exits 2', async () => {
    const SINE = ['--data', 'sine', '--samples', '24', '--window', '8', '--backend', 'cpu', '--steps', '5'];
    const r = await json<TrainReport>('train', ...SINE, '--layers', '2', '--dropout', '0.3');
    expect(r.finalLoss).toBeGreaterThan(0);
    expectInputError(await cli('train', ...SINE, '--layers', '2', '--dropout', '1'), '--dropout', 'must be in [0, 1)');
  });
});
