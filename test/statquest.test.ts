// The seed notes' worked example (the project's seed lecture notes): forward passes, SSR, gradients, the closed-form dSSR/dw1 for
// 1–3 unrolled days, and the report that `webgpu-rnn statquest` prints. CPU only.

import { describe, expect, it } from 'vitest';
import { batchFromArrays } from '../src/batch.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { createEngine, type Engine } from '../src/engine.ts';
import { STATQUEST_JSON, modelFromJSON, preset } from '../src/model.ts';
import {
  STATQUEST_3DAY,
  STATQUEST_SEQUENCES,
  closedFormDPredictedDw1,
  closedFormDssrDw1,
  closedFormPredicted,
  closedFormSSR,
  fmt,
  formatStatquest,
  lastDays,
  scalarModel,
  statquestReport,
  statquestWeights,
  type ScalarData,
  type ScalarWeights,
} from '../src/statquest.ts';
import { Rng } from './helpers/random-cases.ts';

const steps = (seqs: number[][]): number[][][] => seqs.map((s) => s.map((v) => [v]));

/** Runs a 1-1-1 model on scalar sequences through the float64 CPU reference. */
function run1(w: ScalarWeights, activation: 'relu' | 'identity', data: ScalarData) {
  const model = modelFromJSON(scalarModel(w, activation));
  const batch = batchFromArrays(
    steps(data.inputs),
    data.observed.map((v) => [v]),
    'last',
  );
  const r = cpuRun(model, batch, { gradients: true, outputs: true });
  const g = r.grads!;
  // Canonical order for 1-1-1: Wx, Wh, bh, Wy, by = w1, w2, b1, w3, b2.
  return {
    loss: r.loss!,
    outputs: Array.from(r.outputs!),
    grads: { w1: g[0], w2: g[1], b1: g[2], w3: g[3], b2: g[4] },
  };
}

/** Hidden values after each step: a ReLU model with w3 = 1, b2 = 0 and output `all` emits h_t itself. */
function hiddenValues(days: number[]): number[] {
  const w = statquestWeights();
  const json = scalarModel({ ...w, w3: 1, b2: 0 }, 'relu', 'all');
  return Array.from(
    cpuRun(modelFromJSON(json), batchFromArrays(steps([days]), null, 'all', 1), { outputs: true }).outputs!,
  );
}

describe('the statquest preset is the notes network', () => {
  it('has w1 = 1.8, b1 = 0, w2 = -0.5, w3 = 1.1, b2 = 0 and ReLU', () => {
    expect(statquestWeights()).toEqual({ w1: 1.8, b1: 0, w2: -0.5, w3: 1.1, b2: 0 });
    expect(STATQUEST_JSON.activation).toBe('relu');
    expect(preset('statquest')).toEqual(scalarModel(statquestWeights(), 'relu'));
  });
});

describe("the notes' forward passes (ReLU, the notes' weights)", () => {
  it('yesterday = 1 (high), today = 0.5 (medium): hidden 1.8 then 0, predicted 0 (low)', () => {
    // ReLU(1·1.8 + 0) = 1.8;  ReLU(0.5·1.8 + 0 + 1.8·(−0.5)) = ReLU(0) = 0;  0·1.1 + 0 = 0.
    expect(hiddenValues([1, 0.5])).toEqual([1.8, 0]);
    const out = cpuRun(modelFromJSON(preset('statquest')), batchFromArrays(steps([[1, 0.5]]), null, 'last', 1), {
      outputs: true,
    }).outputs!;
    expect(out[0]).toBe(0);
  });

  it('yesterday = 0 (low), today = 0.5 (medium): hidden 0 then 0.9, predicted 0.99 (high)', () => {
    // ReLU(0·1.8 + 0) = 0;  ReLU(0.5·1.8 + 0 + 0·(−0.5)) = 0.9;  0.9·1.1 + 0 = 0.99 ≈ 1.
    const h = hiddenValues([0, 0.5]);
    expect(h[0]).toBe(0);
    expect(Math.abs(h[1] - 0.9)).toBeLessThanOrEqual(1e-15);
    const out = cpuRun(modelFromJSON(preset('statquest')), batchFromArrays(steps([[0, 0.5]]), null, 'last', 1), {
      outputs: true,
    }).outputs!;
    expect(Math.abs(out[0] - 0.99)).toBeLessThanOrEqual(1e-15);
    expect(fmt(out[0])).toBe('0.99');
  });
});

describe("SSR and all five gradients on the notes' two sequences (observed tomorrow 0 and 1)", () => {
  it('SSR = (0 − 0)² + (1 − 0.99)² = 1e-4 and the gradients equal the hand-derived chain rule', () => {
    const { w1, w3 } = statquestWeights();
    const r = run1(statquestWeights(), 'relu', STATQUEST_SEQUENCES);

    // Derivation by hand, b1 = b2 = 0, h0 = 0, ReLU'(z) = 1 for z > 0 and 0 for z ≤ 0.
    // Sequence A = [1, 0.5] → observed 0:
    //   z1 = w1·1 = 1.8 > 0, h1 = 1.8;  z2 = w1·0.5 + w2·h1 = 0.9 − 0.9 = 0, h2 = 0;  predicted = w3·0 = 0.
    //   dSSR/dpredicted = −2(0 − 0) = 0, so sequence A contributes nothing to any gradient.
    // Sequence B = [0, 0.5] → observed 1:
    //   z1 = w1·0 = 0, h1 = 0 (ReLU'(z1) = 0);  z2 = w1·0.5 + w2·0 = 0.9 > 0, h2 = 0.9;  predicted = w3·0.9 = 0.99.
    //   g = dSSR/dpredicted = −2(1 − 0.99) = −0.02
    //   dSSR/dw3 = g·h2 = −0.018;   dSSR/db2 = g = −0.02
    //   dSSR/dh2 = g·w3 = −0.022;   dSSR/dz2 = dSSR/dh2·ReLU'(z2) = −0.022
    //   dSSR/dh1 = dSSR/dz2·w2 = 0.011;  dSSR/dz1 = dSSR/dh1·ReLU'(z1) = 0
    //   dSSR/dw1 = dz2·x2 + dz1·x1 = −0.022·0.5 + 0 = −0.011
    //   dSSR/db1 = dz2 + dz1 = −0.022
    //   dSSR/dw2 = dz2·h1 + dz1·h0 = −0.022·0 + 0 = 0
    const h2 = w1 * 0.5;
    const g = -2 * (1 - w3 * h2);
    const dz2 = g * w3;
    const expected = { w1: dz2 * 0.5, b1: dz2, w2: 0, w3: g * h2, b2: g };
    const ssr = (0 - 0) ** 2 + (1 - w3 * h2) ** 2;
    // The formulas above, numerically:
    expect(expected.w1).toBeCloseTo(-0.011, 15);
    expect(expected.b1).toBeCloseTo(-0.022, 15);
    expect(expected.w3).toBeCloseTo(-0.018, 15);
    expect(expected.b2).toBeCloseTo(-0.02, 15);
    expect(ssr).toBeCloseTo(1e-4, 15);

    expect(r.outputs[0]).toBe(0);
    expect(Math.abs(r.outputs[1] - 0.99)).toBeLessThanOrEqual(1e-15);
    expect(Math.abs(r.loss - 1e-4)).toBeLessThanOrEqual(1e-15);
    expect(r.loss).toBe(ssr);
    for (const k of ['w1', 'b1', 'w2', 'w3', 'b2'] as const) {
      expect(
        Math.abs(r.grads[k] - expected[k]),
        `dSSR/d${k}: got ${r.grads[k]}, expected ${expected[k]}`,
      ).toBeLessThanOrEqual(1e-15);
    }
    // w2 = h1-path gradient is exactly 0 here because h1 = 0 in the only sequence with a nonzero residual.
    expect(r.grads.w2).toBe(0);
    // (With ReLU'(0) = 1 instead, dz1 would be 0.011 and db1 would be −0.011; the notes/PyTorch convention gives −0.022.)
  });
});

describe("the notes' closed forms (identity activation)", () => {
  const w = statquestWeights();
  const notes: ScalarWeights = { ...w, w3: 1, b1: 0, b2: 0 };

  it("reduce to the notes' formulas for 1, 2 and 3 days when w3 = 1 and b1 = b2 = 0", () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 20; trial++) {
      const [DB, Y, T] = [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)];
      const ww: ScalarWeights = { w1: rng.uniform(-2, 2), w2: rng.uniform(-2, 2), w3: 1, b1: 0, b2: 0 };
      const { w1, w2 } = ww;
      const close = (a: number, b: number) =>
        expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(b)));
      // Predicted = Today·w1
      close(closedFormPredicted([T], ww), T * w1);
      close(closedFormDPredictedDw1([T], ww), T);
      // Predicted = Yesterday·w1·w2 + Today·w1;  dPredicted/dw1 = Yesterday·w2 + Today
      close(closedFormPredicted([Y, T], ww), Y * w1 * w2 + T * w1);
      close(closedFormDPredictedDw1([Y, T], ww), Y * w2 + T);
      // Predicted = DayBefore·w1·w2² + Yesterday·w1·w2 + Today·w1;  dPredicted/dw1 = DayBefore·w2² + Yesterday·w2 + Today
      close(closedFormPredicted([DB, Y, T], ww), DB * w1 * w2 * w2 + Y * w1 * w2 + T * w1);
      close(closedFormDPredictedDw1([DB, Y, T], ww), DB * w2 * w2 + Y * w2 + T);
      // dSSR/dw1 = Σ −2(observed − predicted)·dPredicted/dw1
      const data: ScalarData = {
        inputs: [
          [DB, Y, T],
          [T, DB, Y],
        ],
        observed: [0.5, -0.25],
      };
      const expected =
        -2 * (0.5 - (DB * w1 * w2 * w2 + Y * w1 * w2 + T * w1)) * (DB * w2 * w2 + Y * w2 + T) +
        -2 * (-0.25 - (T * w1 * w2 * w2 + DB * w1 * w2 + Y * w1)) * (T * w2 * w2 + DB * w2 + Y);
      close(closedFormDssrDw1(data, ww), expected);
    }
  });

  for (const [label, cw] of [
    ["the notes' exact form, w3 = 1", notes],
    ['the full network, w3 = 1.1', w],
  ] as const) {
    for (const days of [1, 2, 3]) {
      it(`${label}, ${days} day(s): closed-form dSSR/dw1, SSR and predictions equal BPTT to 1e-12`, () => {
        const data = lastDays(STATQUEST_3DAY, days);
        expect(data.inputs.every((s) => s.length === days)).toBe(true);
        const r = run1(cw, 'identity', data);
        const cf = closedFormDssrDw1(data, cw);
        expect(Math.abs(r.grads.w1 - cf)).toBeLessThanOrEqual(1e-12);
        expect(Math.abs(r.loss - closedFormSSR(data, cw))).toBeLessThanOrEqual(1e-12);
        data.inputs.forEach((s, i) =>
          expect(Math.abs(r.outputs[i] - closedFormPredicted(s, cw))).toBeLessThanOrEqual(1e-12),
        );
        // Not trivially zero: the comparison means something.
        expect(Math.abs(cf)).toBeGreaterThan(1e-3);
      });
    }
  }

  it('hold with nonzero biases and random weights and data too (identity activation vs BPTT)', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 25; trial++) {
      const cw: ScalarWeights = {
        w1: rng.uniform(-2, 2),
        b1: rng.uniform(-1, 1),
        w2: rng.uniform(-1.2, 1.2),
        w3: rng.uniform(-2, 2),
        b2: rng.uniform(-1, 1),
      };
      const T = rng.int(1, 6);
      const data: ScalarData = {
        inputs: Array.from({ length: 3 }, () => Array.from({ length: T }, () => rng.pick([0, 0.5, 1]))),
        observed: Array.from({ length: 3 }, () => rng.pick([0, 0.5, 1])),
      };
      const r = run1(cw, 'identity', data);
      const cf = closedFormDssrDw1(data, cw);
      expect(Math.abs(r.grads.w1 - cf)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(cf)));
      expect(Math.abs(r.loss - closedFormSSR(data, cw))).toBeLessThanOrEqual(1e-12 * Math.max(1, r.loss));
    }
  });
});

describe('statquestReport on the cpu engine', () => {
  it("contains the notes' numbers, the closed forms beside BPTT and the w2^k lesson", async () => {
    const engine = await createEngine({ backend: 'cpu' });
    const r = await statquestReport(engine);
    expect(r.backend).toBe('cpu');
    expect(r.adapter).toBe(engine.adapter);
    expect(r.weights).toEqual({ w1: 1.8, b1: 0, w2: -0.5, w3: 1.1, b2: 0 });

    expect(r.forward.map((f) => f.inputs)).toEqual([
      [1, 0.5],
      [0, 0.5],
    ]);
    expect(r.forward[0].hidden).toEqual([1.8, 0]);
    expect(r.forward[0].predicted).toBe(0);
    expect(r.forward[1].hidden[0]).toBe(0);
    expect(r.forward[1].hidden[1]).toBeCloseTo(0.9, 15);
    expect(r.forward[1].predicted).toBeCloseTo(0.99, 15);

    expect(r.ssr.observed).toEqual([0, 1]);
    expect(r.ssr.ssr).toBeCloseTo(1e-4, 15);
    const g = r.ssr.grads;
    expect([g.w1, g.b1, g.w2, g.w3, g.b2].map((v) => Number(v.toPrecision(10)))).toEqual([
      -0.011, -0.022, 0, -0.018, -0.02,
    ]);

    expect(r.closedForm.sections.map((s) => s.form)).toEqual(['notes', 'full']);
    expect(r.closedForm.sections[0].weights.w3).toBe(1);
    expect(r.closedForm.sections[1].weights.w3).toBe(1.1);
    for (const sec of r.closedForm.sections) {
      expect(sec.rows.map((row) => row.days)).toEqual([1, 2, 3]);
      for (const row of sec.rows) {
        expect(row.closedForm).toBe(closedFormDssrDw1({ inputs: row.inputs, observed: row.observed }, sec.weights));
        expect(Math.abs(row.difference)).toBeLessThanOrEqual(1e-12);
        expect(row.difference).toBe(row.bptt - row.closedForm);
      }
    }
    // The notes' exact form, 2 days: [1, 0.5]→0 predicts 0 (dPredicted/dw1 = 1·(−0.5) + 0.5 = 0); [0, 0.5]→1 predicts
    // 0.9 (dPredicted/dw1 = 0.5), so dSSR/dw1 = −2(1 − 0.9)·0.5 = −0.1.
    expect(r.closedForm.sections[0].rows[1].bptt).toBeCloseTo(-0.1, 14);

    expect(r.lesson[0].w2).toBe(-0.5);
    expect(r.lesson[0].k).toEqual([0, 1, 2, 3]);
    for (const row of r.lesson) {
      row.k.forEach((k, i) => {
        expect(row.closedForm[i]).toBe(row.w2 ** k);
        expect(Math.abs(row.bptt[i] - row.w2 ** k)).toBeLessThanOrEqual(1e-12);
        expect(Math.abs(row.predicted[i] - row.w2 ** k)).toBeLessThanOrEqual(1e-12);
      });
    }
    expect(r.lesson[0].bptt.map((v) => fmt(v))).toEqual(['1', '-0.5', '0.25', '-0.125']);

    // JSON-serialisable without loss.
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('formats the numbers as the notes write them', async () => {
    const text = formatStatquest(await statquestReport(await createEngine({ backend: 'cpu' })));
    expect(text).toContain('cpu backend');
    expect(text).toContain('hidden 1.8 then 0;');
    expect(text).toContain('hidden 0 then 0.9;');
    expect(text).toContain('= 0.99 ');
    expect(text).toContain('= 0 (≈ low)');
    expect(text).toContain('SSR = (0 − 0)² + (1 − 0.99)² = 0.0001');
    expect(text).toContain('dSSR/dw1 = -0.011');
    expect(text).toContain('dSSR/db1 = -0.022');
    expect(text).toContain('dSSR/dw2 = 0 ');
    expect(text).toContain('dSSR/dw3 = -0.018');
    expect(text).toContain('dSSR/db2 = -0.02');
    expect(text).toContain('1, -0.5, 0.25, -0.125');
    expect(text).toContain('DayBefore·w2² + Yesterday·w2 + Today');
    expect(text).not.toMatch(/0\.9900000|0\.8999999/);
  });

  it('on float32 arithmetic (the f32 CPU engine, like the GPU) still prints the notes numbers, to 5 significant digits', async () => {
    const r = await statquestReport(await createEngine({ backend: 'cpu', cpuPrecision: 'f32' }));
    // float32 really shows in the full-precision JSON: 1 − 0.99 cancels, so the SSR is off in its 6th digit.
    expect(r.ssr.ssr).not.toBe(1e-4);
    expect(fmt(r.ssr.ssr, 6)).not.toBe('0.0001');
    const text = formatStatquest(r);
    expect(text).toContain('5 significant digits');
    expect(text).toContain('SSR = (0 − 0)² + (1 − 0.99)² = 0.0001');
    expect(text).toContain('hidden 0 then 0.9;');
    expect(text).toContain('dSSR/dw1 = -0.011');
    expect(formatStatquest(r, { digits: 8 })).not.toContain('= 0.0001\n');
  });

  it('takes every non-closed-form number from engine.run (a doctored engine shows up in the report)', async () => {
    const cpu = await createEngine({ backend: 'cpu' });
    let calls = 0;
    // An engine whose results are all doubled: the report must change accordingly.
    const doctored = {
      backend: 'cpu',
      adapter: 'doctored',
      async run(...args: Parameters<Engine['run']>) {
        calls++;
        const res = await cpu.run(...args);
        const twice = (a: Float64Array | undefined) => a && Float64Array.from(a, (v) => 2 * v);
        const out = {
          ...res,
          loss: res.loss === null ? null : 2 * res.loss,
          outputs: twice(res.outputs),
          gradsFlat: twice(res.gradsFlat),
        };
        if (res.grads) {
          const d = (m: number[][]) => m.map((row) => row.map((v) => 2 * v));
          out.grads = {
            Wx: d(res.grads.Wx),
            Wh: d(res.grads.Wh),
            bh: res.grads.bh.map((v) => 2 * v),
            Wy: d(res.grads.Wy),
            by: res.grads.by.map((v) => 2 * v),
          };
        }
        return out;
      },
    } as unknown as Engine;
    const r = await statquestReport(doctored);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(r.adapter).toBe('doctored');
    expect(r.forward[0].hidden).toEqual([3.6, 0]);
    expect(r.forward[1].predicted).toBeCloseTo(1.98, 14);
    expect(r.ssr.ssr).toBeCloseTo(2e-4, 15);
    expect(r.ssr.grads.w1).toBeCloseTo(-0.022, 14);
    // BPTT doubled, closed form not: the difference column now shows it.
    expect(Math.abs(r.closedForm.sections[0].rows[2].difference)).toBeGreaterThan(0.1);
  });
});
