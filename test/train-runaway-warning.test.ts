// A training run whose loss runs away without overflowing (Adam with --lr 1e10: weights near 1e10, a finite loss)
// exits 0 but warns on stderr and in the JSON report's `warnings`, naming the loss at the start and at the end, and
// keeps (and saves) the weights of the lowest recorded loss instead of the last ones: the same bits as the run
// stopped at that step, on the CPU and on WebGPU. A run that learns does not warn and keeps its last weights.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchFromArrays, type Batch } from '../src/batch.ts';
import { Engine } from '../src/engine.ts';
import { modelFromJSON, preset } from '../src/model.ts';
import { randomPopulation, train, type TrainOptions, type TrainReport } from '../src/train/index.ts';
import { cli } from './helpers/cli.ts';
import { describeGpu } from './helpers/gpu.ts';

interface Report {
  initialLoss: number;
  finalLoss: number;
  history: { step: number; loss: number }[];
  warnings: string[];
  runaway: TrainReport['runaway'];
  model: { weights: Record<string, unknown> };
}

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
const [init] = randomPopulation(modelFromJSON(preset('statquest')), 1, 1);
// Adam at lr 0.05 learns, then the learning rate grows 100-fold every 30 steps and the loss runs away.
const growing: TrainOptions = {
  optimizer: { kind: 'adam', lr: 0.05 },
  steps: 300,
  schedule: { kind: 'step', every: 30, gamma: 100 },
  historyEvery: 2,
};

/** The run away from `init`, and the same run stopped at its kept step, on `engine`. */
async function keptAgainstStopped(engine: Engine): Promise<void> {
  const r = await train(engine, init, seedData(), growing);
  expect(r.runaway).not.toBeNull();
  const { first, last, kept } = r.runaway!;
  expect(first).toEqual(r.history[0]);
  expect(last).toEqual(r.history.at(-1));
  expect(last.loss / first.loss).toBeGreaterThan(1e6);
  const lowest = Math.min(...r.history.map((p) => p.loss));
  expect(kept!.loss).toBe(lowest);
  expect(kept!.step).toBe(r.history.find((p) => p.loss === lowest)!.step);
  expect(kept!.step).toBeGreaterThan(0); // learned first: the kept weights are neither the first nor the last
  expect(kept!.step).toBeLessThan(90);
  expect(r.steps).toBe(300);
  const stopped = await train(engine, init, seedData(), { ...growing, steps: kept!.step });
  expect(stopped.runaway).toBeNull();
  expect(Array.from(r.model.params)).toEqual(Array.from(stopped.model.params));
  expect(r.optimizerState.step).toBe(kept!.step);
  expect(Array.from(r.optimizerState.m)).toEqual(Array.from(stopped.optimizerState.m));
  expect(Array.from(r.optimizerState.v)).toEqual(Array.from(stopped.optimizerState.v));
  expect(r.finalLoss).toBe(stopped.finalLoss);
  expect(r.finalLoss).toBeLessThan(0.01);
}

const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-runaway-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runaway training is reported and keeps the best weights', () => {
  it('adam --lr 1e10 on the seed data: exit 0, one warning naming the losses and the kept step, the initial weights saved', async () => {
    const r = await cli('train', '--backend', 'cpu', '--optimizer', 'adam', '--lr', '1e10', '--steps', '200');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^webgpu-rnn: warning: the training loss ran away: from 0\.88\d+ at step 0 to [\d.e+]+ at step 199 \(\d+ orders of magnitude higher\); the weights kept are those of step 0 \(loss 0\.88\d+\), the lowest recorded loss, not the last ones; try a smaller --lr than 10000000000, or --clip-norm\n$/,
    );
    expect(r.stdout).toContain('the loss ran away; kept the weights of the lowest recorded loss, of step 0');
    const out = join(dir, 'm.json');
    const j = await cli(
      'train',
      '--backend',
      'cpu',
      '--optimizer',
      'adam',
      '--lr',
      '1e10',
      '--steps',
      '200',
      '--out',
      out,
      '--json',
    );
    expect(j.code).toBe(0);
    const rep = JSON.parse(j.stdout) as Report;
    expect(rep.history.at(-1)!.loss / rep.history[0].loss).toBeGreaterThan(1e6);
    expect(rep.warnings.length).toBe(1);
    expect(rep.warnings[0]).toContain('the training loss ran away');
    expect(rep.runaway).toEqual({ first: rep.history[0], last: rep.history.at(-1), kept: rep.history[0] });
    // The weights of step 0, the initial ones: the final loss is the initial loss, and the file holds them.
    expect(rep.finalLoss).toBe(rep.initialLoss);
    const saved = JSON.parse(readFileSync(out, 'utf8')) as { weights: Record<string, unknown> };
    expect(saved.weights).toEqual(rep.model.weights);
    const state = JSON.parse(readFileSync(join(dir, 'm.optimizer.json'), 'utf8')) as { step: number };
    expect(state.step).toBe(0);
  });

  it('a run that learns and then runs away keeps the weights of its lowest loss, the bits of the run stopped there (CPU)', async () => {
    await keptAgainstStopped(await Engine.create({ backend: 'cpu' }));
  });

  it('variants: the sine data runs away too; a run that learns has no warning and keeps its last weights', async () => {
    const r = await cli(
      'train',
      '--backend',
      'cpu',
      '--data',
      'sine',
      '--samples',
      '32',
      '--lr',
      '1e10',
      '--steps',
      '20',
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('the training loss ran away');
    const ok = await cli('train', '--backend', 'cpu', '--steps', '200', '--json');
    expect(ok.stderr).toBe('');
    const rep = JSON.parse(ok.stdout) as Report;
    expect(rep.warnings).toEqual([]);
    expect(rep.runaway).toBeNull();
    const cpu = await Engine.create({ backend: 'cpu' });
    const plain = await train(cpu, init, seedData(), { ...growing, schedule: undefined });
    expect(plain.runaway).toBeNull();
    expect(plain.optimizerState.step).toBe(300);
    const half = await train(cpu, init, seedData(), { ...growing, schedule: undefined, steps: 150 });
    const rest = await train(cpu, half.model, seedData(), {
      ...growing,
      schedule: undefined,
      steps: 150,
      resume: half.optimizerState,
    });
    expect(Array.from(plain.model.params)).toEqual(Array.from(rest.model.params));
  });
});

await describeGpu('runaway training on WebGPU', (gpu) => {
  it('keeps the weights of the lowest recorded loss, the bits of the run stopped there', async () => {
    await keptAgainstStopped(gpu());
  });
});
