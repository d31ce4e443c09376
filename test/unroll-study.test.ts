// The vanishing/exploding gradient study on the CPU: BPTT equals the closed form term by term, the terms sum to
// the engine's dSSR/dw1, and overflow and bad input are refused (the GPU kernel: gpu-unroll-study.test.ts).

import { describe, expect, it } from 'vitest';
import { InputError, NonFiniteError } from '../src/errors.ts';
import { unrollClosedForm, unrollStudyCpu } from '../src/study/unroll.ts';
import { engineDw1, expectStudyClose, inputs, w2s } from './helpers/study.ts';

describe('unroll study on the CPU', () => {
  it('equals the closed form w3·w2^k·x_(T−k)·2(predicted − target), term by term', () => {
    const cpu = unrollStudyCpu({ inputs, w2: w2s });
    const cf = unrollClosedForm({ inputs, w2: w2s });
    expectStudyClose(cpu, cf, { atol: 1e-12, rtol: 1e-11 });
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
