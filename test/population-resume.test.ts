// A population continued in parts: trainPopulation with returnOptimizerState gives every model's moments and the
// run's global step, and `resume` with that state (every model's, model-major) continues it, so 12 steps then 18
// resumed steps give the bits of 30 uninterrupted steps, for Adam and SGD with momentum, with models that stop on
// the threshold on the way; on the CPU backend and on WebGPU. Also: one model's state still starts every model,
// and a state of the wrong length is refused naming the field.

import { describe, expect, it } from 'vitest';
import { batchFromArrays, type Batch } from '../src/batch.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import { preset } from '../src/model.ts';
import { randomPopulation, trainPopulation, type PopulationOptions } from '../src/train/index.ts';
import { describeGpu } from './helpers/gpu.ts';

const data = (): Batch =>
  batchFromArrays(
    [
      [[1], [0.5]],
      [[0], [0.5]],
    ],
    [[0], [1]],
    'last',
    1,
  );
const models = () => randomPopulation(preset('statquest'), 24, 5, 1);

function suite(name: string, engine: () => Engine): void {
  describe(`${name}: a population resumed with every model's optimizer state`, () => {
    for (const optimizer of [
      { kind: 'adam', lr: 0.05 },
      { kind: 'sgd', lr: 0.05, momentum: 0.9 },
    ] as const) {
      it(`${optimizer.kind}: 12 + 18 steps give the bits of 30`, async () => {
        const o: Omit<PopulationOptions, 'steps'> = { optimizer, lossThreshold: 1e-3, returnOptimizerState: true };
        const whole = await trainPopulation(engine(), models(), data(), { ...o, steps: 30 });
        const first = await trainPopulation(engine(), models(), data(), { ...o, steps: 12 });
        expect(first.optimizerState!.step).toBe(12);
        expect(first.optimizerState!.m.length).toBe(24 * first.paramCount);
        const P = first.paramCount;
        const next = models().map((m, i) => ({ ...m, params: first.params.slice(i * P, (i + 1) * P) }));
        const rest = await trainPopulation(engine(), next, data(), {
          ...o,
          steps: 18,
          resume: first.optimizerState,
        });
        expect(Array.from(rest.params)).toEqual(Array.from(whole.params));
        expect(Array.from(rest.optimizerState!.m)).toEqual(Array.from(whole.optimizerState!.m));
        expect(Array.from(rest.optimizerState!.v)).toEqual(Array.from(whole.optimizerState!.v));
        expect(rest.optimizerState!.step).toBe(whole.optimizerState!.step);
        expect(Array.from(rest.finalLoss)).toEqual(Array.from(whole.finalLoss));
        // Some models stopped on the threshold and some did not: both kinds continue as in one run.
        expect(whole.status).toContain('converged');
        expect(whole.status).toContain('ok');
      });
    }

    it('one model’s state starts every model, as before', async () => {
      const one = await trainPopulation(engine(), models().slice(0, 1), data(), {
        optimizer: { kind: 'adam', lr: 0.05 },
        steps: 5,
        returnOptimizerState: true,
      });
      const r = await trainPopulation(engine(), models(), data(), {
        optimizer: { kind: 'adam', lr: 0.05 },
        steps: 3,
        resume: one.optimizerState,
      });
      expect(r.stepsDone[0]).toBe(8);
      expect(r.optimizerState).toBeUndefined();
    });

    it('a state of the wrong length is refused, naming the field', async () => {
      const r = await trainPopulation(engine(), models(), data(), {
        optimizer: { kind: 'adam', lr: 0.05 },
        steps: 1,
        returnOptimizerState: true,
      });
      const bad = { step: 1, m: r.optimizerState!.m.slice(0, 3 * r.paramCount), v: r.optimizerState!.v };
      await expect(
        trainPopulation(engine(), models(), data(), { optimizer: { kind: 'adam', lr: 0.05 }, steps: 1, resume: bad }),
      ).rejects.toThrow(InputError);
      await expect(
        trainPopulation(engine(), models(), data(), { optimizer: { kind: 'adam', lr: 0.05 }, steps: 1, resume: bad }),
      ).rejects.toThrow(
        /resume\.m: expected \d+ values \(one per parameter\) or \d+ \(every model's, model-major\), got \d+/,
      );
    });
  });
}

const cpu = await Engine.create({ backend: 'cpu' });
suite('CPU', () => cpu);
await describeGpu('WebGPU', (gpu) => suite('WebGPU', gpu));
