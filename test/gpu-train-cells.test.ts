// Training and the loss landscape with LSTM and GRU cells on WebGPU against the float64 CPU path: a small population
// (trajectories and final weights within 1e-4·max(1, |cpu value|), as in gpu-train.test.ts), a population against
// one-by-one training on the GPU (bit for bit), and a gated landscape against the CPU's at every grid point.

import { expect, it } from 'vitest';
import { batchFromArrays, type Batch } from '../src/batch.ts';
import type { CellName } from '../src/cells/index.ts';
import { compareArrays, gpuTolerance } from '../src/compare.ts';
import { Engine } from '../src/engine.ts';
import { modelFromJSON } from '../src/model.ts';
import {
  lossLandscape,
  randomPopulation,
  train,
  trainPopulation,
  zeroModel,
  type TrainOptions,
} from '../src/train/index.ts';
import { describeGpu } from './helpers/gpu.ts';
import { randomModelJSON, Rng } from './helpers/random-cases.ts';
import { expectTrajectory } from './helpers/train.ts';

const cpuP = Engine.create({ backend: 'cpu' });

function data(): Batch {
  const rng = new Rng(3);
  const seqs = Array.from({ length: 5 }, () =>
    Array.from({ length: 4 }, () => [rng.uniform(-1, 1), rng.uniform(-1, 1)]),
  );
  return batchFromArrays(
    seqs,
    seqs.map((s) => [s[0][0] - s[3][1]]),
    'last',
    2,
  );
}

const shape = { inputSize: 2, hiddenSize: 3, outputSize: 1, output: 'last' as const };

await describeGpu('training with LSTM and GRU cells on WebGPU', (gpu) => {
  for (const cell of ['lstm', 'gru'] as CellName[]) {
    it(`${cell}: a population follows the CPU for 60 Adam steps, and each model alone is bit-identical to the population`, async () => {
      const models = randomPopulation(zeroModel(cell, shape, 'tanh'), 3, 7, 0.7);
      const o: TrainOptions = { optimizer: { kind: 'adam', lr: 0.02 }, steps: 60, historyEvery: 1 };
      const a = await trainPopulation(gpu(), models, data(), o);
      const b = await trainPopulation(await cpuP, models, data(), o);
      expect(a.backend).toBe('webgpu');
      expectTrajectory(a.curves, b.curves, `${cell} curves`);
      expectTrajectory(a.params, b.params, `${cell} params`);
      expect(a.status).toEqual(['ok', 'ok', 'ok']);
      const P = a.paramCount;
      for (let m = 0; m < 3; m++) {
        const alone = await train(gpu(), models[m], data(), o);
        expect(Array.from(alone.model.params)).toEqual(Array.from(a.params.subarray(m * P, (m + 1) * P)));
        expect(alone.finalLoss).toBeLessThan(a.curves[m * a.curveSteps.length]);
      }
    });

    it(`${cell}: the landscape over bx[1] × Wh[2][0] and its path equal the CPU's`, async () => {
      const model = modelFromJSON(
        randomModelJSON(new Rng(cell.length), { ...shape, activation: 'tanh', cell, h0: true }),
      );
      const x = { param: 'bx[1]', min: -2, max: 2, steps: 5 };
      const y = { param: 'Wh[2][0]', min: -1, max: 1, steps: 4 };
      const path = { optimizer: { kind: 'sgd' as const, lr: 0.05 }, steps: 10 };
      const a = await lossLandscape(gpu(), model, data(), x, y, { path });
      const b = await lossLandscape(await cpuP, model, data(), x, y, { path });
      const c = compareArrays(a.losses, b.losses, gpuTolerance(4, b.losses));
      expect(c.ok, `max rel ${c.maxRel}`).toBe(true);
      expect(a.path!.length).toBe(b.path!.length);
      expectTrajectory(
        a.path!.map((p) => p.loss),
        b.path!.map((p) => p.loss),
        `${cell} path`,
      );
    });
  }
});
