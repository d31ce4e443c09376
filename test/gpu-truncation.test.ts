// Truncated BPTT on WebGPU against the float64 CPU reference: several windows k on ragged batches (windows end at
// different places in different sequences), both output modes, unrolled and loop kernels; k ≥ T bit-identical to
// full BPTT on the GPU; forward values unchanged.

import { expect, it } from 'vitest';
import { maxLength } from '../src/batch.ts';
import { expectMatchesCpu } from './helpers/compare.ts';
import { describeGpu } from './helpers/gpu.ts';
import { makeCase, type DrawnCaseSpec, type TestCase } from './helpers/random-cases.ts';

const cases: DrawnCaseSpec[] = [
  { I: 1, H: 1, O: 1, act: 'identity', out: 'last', N: 70, minT: 1, maxT: 13 },
  { I: 2, H: 3, O: 2, act: 'tanh', out: 'all', N: 65, minT: 1, maxT: 11 },
  { I: 3, H: 5, O: 1, act: 'relu', out: 'last', N: 130, minT: 4, maxT: 17 },
];

/** This file's cases: randomModel weights in ±0.6 and an h0 ramp; the batch randomBatch(seed + 1). */
const truncationCase = (c: DrawnCaseSpec, seed: number): TestCase =>
  makeCase({ ...c, scale: 0.6, h0: (j) => 0.2 - 0.15 * j }, seed);

for (const unroll of [true, false]) {
  await describeGpu(
    `WebGPU truncated BPTT (${unroll ? 'unrolled' : 'loop'} kernel)`,
    (gpu) => {
      cases.forEach((c, ci) => {
        if (!unroll && ci > 0) return; // the loop kernel once; the unrolled (default) one for every case
        it(`I=${c.I} H=${c.H} O=${c.O} ${c.act} ${c.out}, N=${c.N}, lengths ${c.minT}..${c.maxT}: k = 1, 2, 3, 5 match the CPU reference`, async () => {
          const { json, batch } = truncationCase(c, 900 + ci);
          const full = await gpu().run(json, batch, { outputs: true });
          for (const k of [1, 2, 3, 5]) {
            const r = await gpu().run(json, batch, { outputs: true, truncation: k });
            await expectMatchesCpu(r, json, batch, { gradients: true, outputs: true, truncation: k }, `k=${k}`);
            // Forward values are those of the untruncated run, bit for bit; the gradients are not.
            expect(r.loss).toBe(full.loss);
            expect(Array.from(r.outputs!)).toEqual(Array.from(full.outputs!));
            expect(Array.from(r.gradsFlat!)).not.toEqual(Array.from(full.gradsFlat!));
          }
        });

        it(`I=${c.I} H=${c.H} O=${c.O}: k ≥ T is bit-identical to full BPTT on the GPU`, async () => {
          const { json, batch } = truncationCase(c, 900 + ci);
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
