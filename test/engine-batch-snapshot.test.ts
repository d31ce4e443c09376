// engine.run runs the batch it validated: changing the batch right after the call (its count, its lengths, its
// inputs or targets in place, or whole arrays) changes neither the number of outputs nor the loss, on the CPU
// backend and on WebGPU (the GPU suite is skipped without an adapter, and fails instead under CI=true).

import { describe, expect, it } from 'vitest';
import type { Batch } from '../src/batch.ts';
import { Engine } from '../src/engine.ts';
import { modelFromJSON, type ModelJSON } from '../src/model.ts';
import { randomBatch } from '../src/random.ts';
import { describeGpu } from './helpers/gpu.ts';

const MODEL: ModelJSON = {
  inputSize: 2,
  hiddenSize: 3,
  outputSize: 1,
  activation: 'tanh',
  output: 'last',
  weights: {
    Wx: [
      [0.5, -0.25],
      [0.125, 0.75],
      [-0.5, 0.25],
    ],
    Wh: [
      [0.1, 0.2, -0.3],
      [0.0, -0.1, 0.2],
      [0.3, 0.1, 0.0],
    ],
    bh: [0.1, -0.2, 0.05],
    Wy: [[0.7, -0.4, 0.9]],
    by: [0.25],
  },
};
const model = modelFromJSON(MODEL);

/** Two sequences (lengths 3 and 4) with targets. */
const twoSequences = (): Batch =>
  randomBatch({ count: 2, inputSize: 2, outputSize: 1, output: 'last', minLength: 3, maxLength: 4, seed: 11 });

const copy = (b: Batch): Batch => ({
  ...b,
  lengths: b.lengths.slice(),
  offsets: b.offsets.slice(),
  inputs: b.inputs.slice(),
  targets: b.targets ? b.targets.slice() : null,
});

/** Every way of changing a batch right after engine.run started on it. */
const MUTATIONS: [string, (b: Batch) => void][] = [
  ['count 1000', (b) => (b.count = 1000)],
  [
    'lengths and offsets replaced by 1000 sequences',
    (b) => {
      b.count = 1000;
      b.lengths = new Uint32Array(1000).fill(1);
      b.offsets = Float64Array.from({ length: 1001 }, (_, k) => k);
      b.inputs = new Float64Array(2000).fill(1);
      b.targets = new Float64Array(1000);
    },
  ],
  [
    'lengths changed in place',
    (b) => {
      b.lengths[0] = 1;
      b.offsets[1] = 1;
    },
  ],
  [
    'inputs and targets changed in place',
    (b) => {
      b.inputs.fill(3);
      b.targets?.fill(-2);
    },
  ],
];

function suite(name: string, engine: () => Engine): void {
  describe(`${name}: a batch changed right after engine.run`, () => {
    it.each(MUTATIONS)('%s: the outputs are those of the batch as called', async (_, mutate) => {
      const e = engine();
      const expected = await e.run(model, { ...twoSequences(), targets: null }, { outputs: true, gradients: false });
      const b: Batch = { ...twoSequences(), targets: null };
      const running = e.run(model, b, { outputs: true, gradients: false });
      mutate(b);
      const r = await running;
      expect(r.outputs!.length).toBe(2);
      expect(Array.from(r.outputs!)).toEqual(Array.from(expected.outputs!));
    });

    it.each(MUTATIONS)('%s: the loss and gradients are those of the batch as called', async (_, mutate) => {
      const e = engine();
      const original = twoSequences();
      const expected = await e.run(model, copy(original));
      const running = e.run(model, original);
      mutate(original);
      const r = await running;
      expect(r.loss).toBe(expected.loss);
      expect(Array.from(r.gradsFlat!)).toEqual(Array.from(expected.gradsFlat!));
    });

    // Snapshots of large batches reuse the engine's scratch arrays across runs: concurrent runs of batches of the
    // same size each keep their own, and a run after another gets its own batch's values, not the last one's.
    it('concurrent and successive runs of same-sized large batches each run their own batch', async () => {
      const e = engine();
      const big = (seed: number): Batch =>
        randomBatch({ count: 700, inputSize: 2, outputSize: 1, output: 'last', minLength: 4, maxLength: 4, seed });
      const fresh = await Engine.create({ backend: 'cpu' });
      const want = await Promise.all([1, 2, 3].map(async (s) => (await fresh.run(model, big(s))).loss!));
      fresh.dispose();
      const together = await Promise.all([1, 2, 3].map(async (s) => (await e.run(model, big(s))).loss!));
      const after: number[] = [];
      for (const s of [3, 1, 2]) after.push((await e.run(model, big(s))).loss!);
      const close = (a: number, b: number) => expect(Math.abs(a - b) / Math.abs(b)).toBeLessThan(1e-5);
      [0, 1, 2].forEach((k) => close(together[k], want[k]));
      [2, 0, 1].forEach((k, j) => close(after[j], want[k]));
      expect(new Set(want).size).toBe(3);
    });
  });
}

const cpu = await Engine.create({ backend: 'cpu' });
suite('CPU', () => cpu);
await describeGpu('WebGPU', (gpu) => suite('WebGPU', gpu));
