// The vanishing/exploding gradient study: BPTT on the CPU equals the closed form term by term, the terms sum to
// the engine's dSSR/dw1, the GPU kernel equals both (float32 tolerance below), and overflow is refused.
//
// GPU tolerance: per w2 row, |gpu − expected| ≤ atol + rtol·max(|gpu|, |expected|) with the engine's documented
// gpuTolerance(T, row): rtol = 1e-4·√T, atol = 1e-5·max|row|. The float32 error of term k is about k·6e-8
// relative (one rounding per step back), far inside that.

import { describe, expect, it } from 'vitest';
import { batchFromArrays } from '../src/batch.ts';
import { compareArrays, gpuTolerance } from '../src/compare.ts';
import { Engine } from '../src/engine.ts';
import { InputError, NonFiniteError } from '../src/errors.ts';
import type { Activation } from '../src/model.ts';
import { Rng } from '../src/random.ts';
import { scalarModel } from '../src/statquest.ts';
import { unrollClosedForm, unrollStudy, unrollStudyCpu, type UnrollStudy } from '../src/study/unroll.ts';
import { describeGpu } from './helpers/gpu.ts';

const rng = new Rng(42);
const inputs = Array.from({ length: 23 }, () => rng.uniform(-1, 1));
const w2s = [-1.5, -1, -0.5, -0.1, 0, 0.3, 0.9, 1, 1.2, 1.5];

function expectClose(actual: UnrollStudy, expected: UnrollStudy, tol?: { atol: number; rtol: number }): void {
  expect(actual.rows.length).toBe(expected.rows.length);
  actual.rows.forEach((row, j) => {
    const exp = expected.rows[j];
    for (const key of ['dPredicted', 'contributions'] as const) {
      const t = tol ?? gpuTolerance(actual.length, exp[key]);
      const c = compareArrays(row[key], exp[key], t);
      if (!c.ok) throw new Error(`w2 = ${row.w2} ${key}: max rel ${c.maxRel}, first bad k = ${c.failures[0]}: ${row[key][c.failures[0]]} vs ${exp[key][c.failures[0]]}`);
    }
    const t = tol ?? gpuTolerance(actual.length, [exp.predicted]);
    expect(compareArrays([row.predicted], [exp.predicted], t).ok).toBe(true);
  });
}

async function engineDw1(activation: Activation, w2: number, xs: ArrayLike<number>, target: number): Promise<number> {
  const cpu = await Engine.create({ backend: 'cpu' });
  const r = await cpu.run(
    scalarModel({ w1: Math.fround(1.8), b1: 0, w2, w3: Math.fround(1.1), b2: 0 }, activation),
    batchFromArrays([Array.from(xs, (v) => [Math.fround(v)])], [[target]], 'last'),
  );
  return r.grads!.Wx[0][0];
}

describe('unroll study on the CPU', () => {
  it('equals the closed form w3·w2^k·x_(T−k)·2(predicted − target), term by term', () => {
    const cpu = unrollStudyCpu({ inputs, w2: w2s });
    const cf = unrollClosedForm({ inputs, w2: w2s });
    expectClose(cpu, cf, { atol: 1e-12, rtol: 1e-11 });
    // The documented form, computed here independently of the library.
    const row = cpu.rows[8];
    const x = cpu.inputs;
    expect(row.dPredicted[5]).toBeCloseTo(Math.fround(1.1) * Math.fround(1.2) ** 5 * x[22 - 5], 12);
  });

  it("sums over k to the engine's dSSR/dw1 for identity, ReLU and tanh", async () => {
    for (const activation of ['identity', 'relu', 'tanh'] as const) {
      const study = unrollStudyCpu({ inputs, w2: [-0.7, 0.4, 1.1], activation, target: 0.25 });
      for (const row of study.rows) {
        const expected = await engineDw1(activation, row.w2, inputs, 0.25);
        expect(row.dSSRdw1).toBeCloseTo(expected, 10);
      }
    }
  });

  it('vanishes for |w2| < 1 and explodes for |w2| > 1', () => {
    const ones = new Array(30).fill(1);
    const s = unrollStudyCpu({ inputs: ones, w2: [-0.5, 0.5, 1, 1.5, -1.5] });
    for (const row of s.rows) {
      const a = Array.from(row.dPredicted, Math.abs);
      const ratio = a[29] / a[0];
      expect(ratio).toBeCloseTo(Math.abs(row.w2) ** 29, 6);
      if (Math.abs(row.w2) < 1) expect(ratio).toBeLessThan(1e-8);
      if (Math.abs(row.w2) > 1) expect(ratio).toBeGreaterThan(1e5);
    }
  });

  it('rejects bad input and refuses overflow', () => {
    expect(() => unrollStudyCpu({ inputs: [], w2: [1] })).toThrow(InputError);
    expect(() => unrollStudyCpu({ inputs: [1], w2: [] })).toThrow(InputError);
    expect(() => unrollStudyCpu({ inputs: [1, NaN], w2: [1] })).toThrow(/inputs\[1\]/);
    expect(() => unrollStudyCpu({ inputs: [1], w2: [1e39] })).toThrow(/w2\[0\]/);
    expect(() => unrollClosedForm({ inputs: [1], w2: [1], activation: 'relu' })).toThrow(/identity/);
    expect(() => unrollStudyCpu({ inputs: new Array(400).fill(1), w2: [10] })).toThrow(NonFiniteError);
  });
});

await describeGpu('unroll study on WebGPU', (gpu) => {
  it('equals the closed form for 70 w2 values (not a multiple of the workgroup size)', async () => {
    const many = Array.from({ length: 70 }, (_, j) => -1.6 + (3.2 * j) / 69);
    const g = await unrollStudy(gpu(), { inputs, w2: many });
    expect(g.method).toBe('webgpu');
    expectClose(g, unrollClosedForm({ inputs, w2: many }));
  });

  it('equals the CPU for ReLU and tanh, and its terms sum to the CPU engine dSSR/dw1', async () => {
    for (const activation of ['relu', 'tanh'] as const) {
      const g = await unrollStudy(gpu(), { inputs, w2: w2s, activation, target: 0.25 });
      expectClose(g, unrollStudyCpu({ inputs, w2: w2s, activation, target: 0.25 }));
      for (const row of g.rows.slice(0, 3)) {
        const expected = await engineDw1(activation, row.w2, inputs, 0.25);
        expect(Math.abs(row.dSSRdw1 - expected)).toBeLessThan(1e-4 * Math.max(1, Math.abs(expected)));
      }
    }
  });

  it('refuses values beyond the float32 range', async () => {
    await expect(unrollStudy(gpu(), { inputs: new Array(60).fill(1), w2: [0.5, 10] })).rejects.toThrow(/w2 = 10/);
  });
});
