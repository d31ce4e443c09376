// Shared by the unroll-study tests (CPU and GPU): the study's inputs and comparisons.
//
// GPU tolerance: per w2 row, |gpu − expected| ≤ atol + rtol·max(|gpu|, |expected|) with the engine's documented
// gpuTolerance(T, row): rtol = 1e-4·√T, atol = 1e-5·max|row|. The float32 error of term k is about k·6e-8
// relative (one rounding per step back), far inside that.

import { expect } from 'vitest';
import { batchFromArrays } from '../../src/batch.ts';
import { gpuTolerance, type Tolerance } from '../../src/compare.ts';
import { Engine } from '../../src/engine.ts';
import type { Activation } from '../../src/model.ts';
import { Rng } from '../../src/random.ts';
import { scalarModel } from '../../src/statquest.ts';
import type { UnrollStudy } from '../../src/study/unroll.ts';
import { expectClose } from './compare.ts';

const rng = new Rng(42);
export const inputs = Array.from({ length: 23 }, () => rng.uniform(-1, 1));
export const w2s = [-1.5, -1, -0.5, -0.1, 0, 0.3, 0.9, 1, 1.2, 1.5];

/** Every row's dPredicted, contributions and prediction within `tol` (default: gpuTolerance per row, as above). */
export function expectStudyClose(actual: UnrollStudy, expected: UnrollStudy, tol?: Tolerance): void {
  expect(actual.rows.length).toBe(expected.rows.length);
  actual.rows.forEach((row, j) => {
    const exp = expected.rows[j];
    for (const key of ['dPredicted', 'contributions'] as const)
      expectClose(`w2 = ${row.w2} ${key}`, row[key], exp[key], tol ?? gpuTolerance(actual.length, exp[key]));
    expectClose(
      `w2 = ${row.w2} predicted`,
      [row.predicted],
      [exp.predicted],
      tol ?? gpuTolerance(actual.length, [exp.predicted]),
    );
  });
}

export async function engineDw1(
  activation: Activation,
  w2: number,
  xs: ArrayLike<number>,
  target: number,
): Promise<number> {
  const cpu = await Engine.create({ backend: 'cpu' });
  const r = await cpu.run(
    scalarModel({ w1: Math.fround(1.8), b1: 0, w2, w3: Math.fround(1.1), b2: 0 }, activation),
    batchFromArrays([Array.from(xs, (v) => [Math.fround(v)])], [[target]], 'last'),
  );
  return r.grads!.Wx[0][0];
}
