// Truncated BPTT on WebGPU against the float64 CPU reference: several windows k on ragged batches (windows end at
// different places in different sequences), both output modes, unrolled and loop kernels; k ≥ T bit-identical to
// full BPTT on the GPU; forward values unchanged.

import { expect, it } from 'vitest';
import { maxLength, type Batch } from '../src/batch.ts';
import { Engine, type Result } from '../src/engine.ts';
import { modelFromJSON, type Activation, type ModelJSON, type OutputMode } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import { compareResults } from '../src/verify.ts';
import { describeGpu } from './helpers/gpu.ts';

const cpu = await Engine.create({ backend: 'cpu' });

async function expectMatchesCpu(
  gpu: Result,
  json: ModelJSON,
  batch: Batch,
  truncation: number | undefined,
): Promise<void> {
  const model = modelFromJSON(json);
  const ref = await cpu.run(model, batch, { gradients: true, outputs: true, truncation });
  const report = compareResults(model, batch, gpu, ref);
  expect(
    report.ok,
    `k=${truncation}\n` +
      report.checks
        .map((c) => c.details)
        .filter(Boolean)
        .join('\n'),
  ).toBe(true);
}

interface Case {
  I: number;
  H: number;
  O: number;
  act: Activation;
  out: OutputMode;
  N: number;
  minT: number;
  maxT: number;
}

const cases: Case[] = [
  { I: 1, H: 1, O: 1, act: 'identity', out: 'last', N: 70, minT: 1, maxT: 13 },
  { I: 2, H: 3, O: 2, act: 'tanh', out: 'all', N: 65, minT: 1, maxT: 11 },
  { I: 3, H: 5, O: 1, act: 'relu', out: 'last', N: 130, minT: 4, maxT: 17 },
];

function makeCase(c: Case, seed: number): { json: ModelJSON; batch: Batch } {
  const json = randomModel({ inputSize: c.I, hiddenSize: c.H, outputSize: c.O }, c.act, c.out, seed, 0.6);
  json.h0 = Array.from({ length: c.H }, (_, j) => 0.2 - 0.15 * j);
  const batch = randomBatch({
    count: c.N,
    inputSize: c.I,
    outputSize: c.O,
    output: c.out,
    minLength: c.minT,
    maxLength: c.maxT,
    seed: seed + 1,
  });
  return { json, batch };
}

for (const unroll of [true, false]) {
  await describeGpu(
    `WebGPU truncated BPTT (${unroll ? 'unrolled' : 'loop'} kernel)`,
    (gpu) => {
      cases.forEach((c, ci) => {
        if (!unroll && ci > 0) return; // the loop kernel once; the unrolled (default) one for every case
        it(`I=${c.I} H=${c.H} O=${c.O} ${c.act} ${c.out}, N=${c.N}, lengths ${c.minT}..${c.maxT}: k = 1, 2, 3, 5 match the CPU reference`, async () => {
          const { json, batch } = makeCase(c, 900 + ci);
          const full = await gpu().run(json, batch, { outputs: true });
          for (const k of [1, 2, 3, 5]) {
            const r = await gpu().run(json, batch, { outputs: true, truncation: k });
            await expectMatchesCpu(r, json, batch, k);
            // Forward values are those of the untruncated run, bit for bit; the gradients are not.
            expect(r.loss).toBe(full.loss);
            expect(Array.from(r.outputs!)).toEqual(Array.from(full.outputs!));
            expect(Array.from(r.gradsFlat!)).not.toEqual(Array.from(full.gradsFlat!));
          }
        });

        it(`I=${c.I} H=${c.H} O=${c.O}: k ≥ T is bit-identical to full BPTT on the GPU`, async () => {
          const { json, batch } = makeCase(c, 900 + ci);
          const T = maxLength(batch);
          const full = await gpu().run(json, batch, {});
          for (const k of [T, T + 7, 2 ** 40]) {
            const r = await gpu().run(json, batch, { truncation: k });
            expect(r.loss).toBe(full.loss);
            expect(Array.from(r.gradsFlat!)).toEqual(Array.from(full.gradsFlat!));
          }
        });
      });
    },
    { unroll },
  );
}
