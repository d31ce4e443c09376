// The CPU reference (src/cpu/reference.ts) checked against finite differences, an independent float64
// implementation (forward-mode dual numbers, test/helpers/independent-rnn.ts), hand formulas and its own
// float32 mode. Seeded, so every run checks the same cases.

import { describe, expect, it } from 'vitest';
import { batchFromArrays } from '../src/batch.ts';
import { compareArrays } from '../src/compare.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import {
  ACTIVATIONS,
  OUTPUT_MODES,
  modelFromJSON,
  paramLayout,
  paramName,
  type Activation,
  type Model,
  type ModelJSON,
  type OutputMode,
} from '../src/model.ts';
import { independentLossAndGrads } from './helpers/independent-rnn.ts';
import { expectClose } from './helpers/compare.ts';
import { Rng, finiteDifferences, makeCase, type CaseSpec, type TestCase } from './helpers/random-cases.ts';

const maxAbs = (a: ArrayLike<number>): number => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

const SHAPE = { I: 3, H: 4, O: 2 };
const RAGGED = [3, 1, 6, 2, 5];

/** This file's cases: stream-drawn, ReLU ones redrawn away from the kink; seeds 7919 apart leave room for redraws. */
const refCase = (seed: number, spec: CaseSpec): TestCase => makeCase({ ...spec, kinkFree: true }, seed * 7919);

describe('BPTT gradients equal central finite differences (float64, h = 1e-6), I=3 H=4 O=2, ragged lengths, given h0', () => {
  let seed = 100;
  for (const activation of ACTIVATIONS) {
    for (const output of OUTPUT_MODES) {
      const s = seed++;
      it(`${activation}, output ${output}: every one of the ${paramLayout({ inputSize: SHAPE.I, hiddenSize: SHAPE.H, outputSize: SHAPE.O }).count} parameters`, () => {
        const c = refCase(s, { ...SHAPE, act: activation, out: output, h0: true, lengths: RAGGED });
        expect(c.model.h0.some((v) => v !== 0)).toBe(true);
        const r = cpuRun(c.model, c.batch, { gradients: true });
        const fd = finiteDifferences(c.model, c.batch);
        // Relative 1e-6, with an absolute floor for gradients near 0 (FD rounding is ~ε·loss/h ≈ 1e-10·loss).
        const tol = { rtol: 1e-6, atol: 1e-8 * Math.max(1, r.loss!) };
        expectClose(`BPTT vs finite differences (${activation}, ${output})`, r.grads!, fd, tol, (k) =>
          paramName(c.model, k),
        );
        // The independent forward-mode implementation also matches the finite differences (it is checked on its own).
        expectClose(
          'independent vs finite differences',
          independentLossAndGrads(c.json, c.data.inputs, c.data.targets).grads,
          fd,
          tol,
          (k) => paramName(c.model, k),
        );
        // The comparison is not vacuous: most gradients are clearly nonzero.
        const nonzero = Array.from(r.grads!).filter((g) => Math.abs(g) > 1e-6).length;
        expect(nonzero).toBeGreaterThan(0.6 * r.grads!.length);
      });
    }
  }
});

describe('float32 mode (every operation rounded with Math.fround)', () => {
  let seed = 200;
  for (const activation of ACTIVATIONS) {
    for (const output of OUTPUT_MODES) {
      const s = seed++;
      it(`${activation}, output ${output}: agrees with float64 to ~1e-5 relative, yet really rounds`, () => {
        const c = refCase(s, { ...SHAPE, act: activation, out: output, h0: true, lengths: RAGGED });
        const f64 = cpuRun(c.model, c.batch, { gradients: true, outputs: true });
        const f32 = cpuRun(c.model, c.batch, { gradients: true, outputs: true, precision: 'f32' });
        expect(Math.abs(f32.loss! - f64.loss!)).toBeLessThanOrEqual(1e-5 * f64.loss!);
        expectClose('f32 vs f64 outputs', f32.outputs!, f64.outputs!, {
          rtol: 1e-5,
          atol: 1e-5 * Math.max(1, maxAbs(f64.outputs!)),
        });
        expectClose(
          'f32 vs f64 gradients',
          f32.grads!,
          f64.grads!,
          { rtol: 1e-5, atol: 1e-5 * maxAbs(f64.grads!) },
          (k) => paramName(c.model, k),
        );
        // Rounded: every output is a float32 value, and the results are not the float64 ones.
        for (const v of f32.outputs!) expect(Math.fround(v)).toBe(v);
        expect(Array.from(f32.outputs!).some((v, k) => v !== f64.outputs![k])).toBe(true);
        expect(Array.from(f32.grads!).some((v, k) => v !== f64.grads![k])).toBe(true);
      });
    }
  }
});

describe('float32 mode reads inputs, targets and weights as float32 (as the GPU receives them)', () => {
  for (const output of OUTPUT_MODES) {
    it(`output ${output}: float64 data and weights give bit-identical results to pre-rounded float32 copies`, () => {
      const c = refCase(output === 'last' ? 251 : 252, {
        ...SHAPE,
        act: 'tanh',
        out: output,
        h0: true,
        lengths: RAGGED,
      });
      const a = cpuRun(c.model, c.batch, { gradients: true, outputs: true, precision: 'f32' });
      const model32 = { ...c.model, params: c.model.params.map(Math.fround), h0: c.model.h0.map(Math.fround) };
      const batch32 = {
        ...c.batch,
        inputs: Float32Array.from(c.batch.inputs),
        targets: Float32Array.from(c.batch.targets!),
      };
      // The copies really differ from the float64 originals.
      expect(Array.from(batch32.inputs).some((v, k) => v !== c.batch.inputs[k])).toBe(true);
      expect(Array.from(model32.params).some((v, k) => v !== c.model.params[k])).toBe(true);
      const b = cpuRun(model32, batch32, { gradients: true, outputs: true, precision: 'f32' });
      expect(a.loss).toBe(b.loss);
      expect(Array.from(a.outputs!)).toEqual(Array.from(b.outputs!));
      expect(Array.from(a.grads!)).toEqual(Array.from(b.grads!));
    });
  }
});

describe('the loss is the SSR', () => {
  for (const output of OUTPUT_MODES) {
    it(`output ${output}: equals Σ (prediction − target)² recomputed directly from the outputs, and the independent loss`, () => {
      const c = refCase(output === 'last' ? 301 : 302, {
        ...SHAPE,
        act: 'tanh',
        out: output,
        h0: true,
        lengths: RAGGED,
      });
      const r = cpuRun(c.model, c.batch, { gradients: true, outputs: true });
      const t = c.batch.targets!;
      expect(r.outputs!.length).toBe(t.length);
      let ssr = 0;
      for (let k = 0; k < t.length; k++) ssr += (r.outputs![k] - t[k]) ** 2;
      expect(Math.abs(r.loss! - ssr)).toBeLessThanOrEqual(1e-13 * ssr);
      const ind = independentLossAndGrads(c.json, c.data.inputs, c.data.targets);
      expect(Math.abs(r.loss! - ind.loss)).toBeLessThanOrEqual(1e-12 * ind.loss);
      // Without targets there is no loss and no gradients, but the same outputs.
      const fwd = cpuRun(c.model, { ...c.batch, targets: null }, { outputs: true });
      expect(fwd.loss).toBeNull();
      expect(fwd.grads).toBeNull();
      expect(Array.from(fwd.outputs!)).toEqual(Array.from(r.outputs!));
    });
  }
});

describe('random held-out cases agree with the independent float64 implementation (forward-mode duals) to 1e-9', () => {
  const rng = new Rng(424242);
  const cases = Array.from({ length: 30 }, (_, n) => {
    const activation = rng.pick(ACTIVATIONS);
    const output = rng.pick(OUTPUT_MODES);
    const spec: CaseSpec = {
      I: rng.int(1, 5),
      H: rng.int(1, 6),
      O: rng.int(1, 3),
      act: activation,
      out: output,
      h0: rng.next() < 0.5,
    };
    const lengths = Array.from({ length: rng.int(1, 6) }, () => rng.int(1, 9));
    return { n, spec: { ...spec, lengths }, seed: 1000 + n };
  });
  for (const { n, spec, seed } of cases) {
    const label = `#${n}: ${spec.act}/${spec.out} I=${spec.I} H=${spec.H} O=${spec.O} lengths [${spec.lengths.join(',')}]${spec.h0 ? ' h0' : ''}`;
    it(label, () => {
      const c = refCase(seed, spec);
      const r = cpuRun(c.model, c.batch, { gradients: true, outputs: true });
      const ind = independentLossAndGrads(c.json, c.data.inputs, c.data.targets);
      expect(Math.abs(r.loss! - ind.loss)).toBeLessThanOrEqual(1e-9 * Math.max(ind.loss, 1e-12));
      expectClose('outputs', r.outputs!, ind.outputs, { rtol: 1e-9, atol: 1e-12 * Math.max(1, maxAbs(ind.outputs)) });
      expectClose('gradients', r.grads!, ind.grads, { rtol: 1e-9, atol: 1e-12 * Math.max(1, maxAbs(ind.grads)) }, (k) =>
        paramName(c.model, k),
      );
    });
  }
});

describe('N = 1 and T = 1', () => {
  for (const activation of ACTIVATIONS) {
    it(`${activation}, 1-1-1, T = 1 with h0: matches the hand formula (h0 enters dSSR/dw2)`, () => {
      // y = w3·act(w1·x + w2·h0 + b1) + b2;  g = 2(y − target);  dw3 = g·h;  db2 = g;
      // dz = g·w3·act'(z);  dw1 = dz·x;  dw2 = dz·h0;  db1 = dz.
      const [w1, w2, b1, w3, b2, h0, x, target] = [0.7, -1.3, 0.2, 1.5, -0.4, 0.6, -0.9, 0.25];
      const json: ModelJSON = {
        inputSize: 1,
        hiddenSize: 1,
        outputSize: 1,
        activation,
        output: 'last',
        weights: { Wx: [[w1]], Wh: [[w2]], bh: [b1], Wy: [[w3]], by: [b2] },
        h0: [h0],
      };
      // z = 0.7·(−0.9) − 1.3·0.6 + 0.2 = −1.21 < 0: ReLU is dead here, so also try an input that makes z > 0.
      for (const xv of [x, 2.5]) {
        const z = w1 * xv + w2 * h0 + b1;
        const h = activation === 'relu' ? Math.max(z, 0) : activation === 'tanh' ? Math.tanh(z) : z;
        const dact = activation === 'relu' ? (z > 0 ? 1 : 0) : activation === 'tanh' ? 1 - h * h : 1;
        const y = w3 * h + b2;
        const g = 2 * (y - target);
        const dz = g * w3 * dact;
        const expected = [dz * xv, dz * h0, dz, g * h, g]; // canonical order: Wx, Wh, bh, Wy, by
        const r = cpuRun(modelFromJSON(json), batchFromArrays([[[xv]]], [[target]], 'last'), {
          gradients: true,
          outputs: true,
        });
        expect(Math.abs(r.outputs![0] - y)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(y)));
        expect(Math.abs(r.loss! - (y - target) ** 2)).toBeLessThanOrEqual(1e-14 * Math.max(1, (y - target) ** 2));
        expectClose(`T=1 gradients, x=${xv}`, r.grads!, expected, { rtol: 1e-13, atol: 1e-14 });
      }
    });
  }

  for (const output of OUTPUT_MODES) {
    it(`output ${output}: N = 1, T = 1 and N = 1, T = 12 (I=3 H=4 O=2, relu and tanh) match finite differences`, () => {
      for (const [k, activation] of (['relu', 'tanh'] as Activation[]).entries()) {
        for (const lengths of [[1], [12]]) {
          const c = refCase(500 + k * 10 + lengths[0] + (output === 'all' ? 100 : 0), {
            ...SHAPE,
            act: activation,
            out: output,
            h0: true,
            lengths,
          });
          expect(c.batch.count).toBe(1);
          const r = cpuRun(c.model, c.batch, { gradients: true });
          const fd = finiteDifferences(c.model, c.batch);
          expectClose(
            `${activation} lengths ${lengths.join(',')}`,
            r.grads!,
            fd,
            { rtol: 1e-6, atol: 1e-8 * Math.max(1, r.loss!) },
            (p) => paramName(c.model, p),
          );
        }
      }
    });
  }

  it('ReLU at exactly z = 0 passes no gradient (derivative 0 at the kink, as PyTorch)', () => {
    // x = 0, h0 = 0, b1 = 0 → z = 0 → h = 0; dSSR/dw1 = dSSR/db1 = 0 though the residual is not 0.
    const json: ModelJSON = {
      inputSize: 1,
      hiddenSize: 1,
      outputSize: 1,
      activation: 'relu',
      output: 'last',
      weights: { Wx: [[1]], Wh: [[1]], bh: [0], Wy: [[1]], by: [0] },
    };
    const r = cpuRun(modelFromJSON(json), batchFromArrays([[[0]]], [[1]], 'last'), { gradients: true });
    expect(Array.from(r.grads!)).toEqual([0, 0, 0, 0, -2]);
  });
});

describe('gradients and losses sum over sequences', () => {
  for (const output of OUTPUT_MODES) {
    it(`output ${output}: the batch's gradient is the sum of single-sequence batches' gradients; outputs do not leak between sequences`, () => {
      const lengths = [4, 1, 7, 2, 2, 5];
      const c = refCase(output === 'last' ? 601 : 602, { ...SHAPE, act: 'tanh', out: output, h0: true, lengths });
      const all = cpuRun(c.model, c.batch, { gradients: true, outputs: true });
      const sum = new Float64Array(all.grads!.length);
      let loss = 0;
      const outs: number[] = [];
      c.data.inputs.forEach((seq, n) => {
        const tg = output === 'last' ? [(c.data.targets as number[][])[n]] : [(c.data.targets as number[][][])[n]];
        const one = cpuRun(c.model, batchFromArrays([seq], tg, output), { gradients: true, outputs: true });
        one.grads!.forEach((g, p) => (sum[p] += g));
        loss += one.loss!;
        outs.push(...one.outputs!);
      });
      expectClose('batch vs Σ single', all.grads!, sum, { rtol: 1e-12, atol: 1e-14 * maxAbs(sum) }, (p) =>
        paramName(c.model, p),
      );
      expect(Math.abs(all.loss! - loss)).toBeLessThanOrEqual(1e-13 * loss);
      expect(Array.from(all.outputs!)).toEqual(outs);
      // And the batch gradient is not that of a single sequence (so the sum is really a sum).
      expect(
        compareArrays(
          all.grads!,
          cpuRun(
            c.model,
            batchFromArrays(
              [c.data.inputs[0]],
              output === 'last' ? [(c.data.targets as number[][])[0]] : [(c.data.targets as number[][][])[0]],
              output,
            ),
            { gradients: true },
          ).grads!,
          { rtol: 1e-6, atol: 0 },
        ).ok,
      ).toBe(false);
    });
  }
});

describe('vanishing and exploding gradients (identity activation, H = I = O = 1): the input k steps back scales with w2^k', () => {
  const base = { w1: 0.7, b1: 0.1, w3: 1.3, b2: -0.2 };
  const model1 = (w2: number, output: OutputMode = 'last'): Model =>
    modelFromJSON({
      inputSize: 1,
      hiddenSize: 1,
      outputSize: 1,
      activation: 'identity',
      output,
      weights: { Wx: [[base.w1]], Wh: [[w2]], bh: [base.b1], Wy: [[base.w3]], by: [base.b2] },
    });

  for (const w2 of [0.5, -0.5, 1.5, -2]) {
    it(`w2 = ${w2}: d(prediction)/d(x_(T−k)) = w1·w3·w2^k by finite differences on the inputs (T = 6)`, () => {
      const rng = new Rng(77);
      const xs = Array.from({ length: 6 }, () => rng.uniform(-1, 1));
      const T = xs.length;
      const predict = (v: number[]): number =>
        cpuRun(model1(w2), batchFromArrays([v.map((x) => [x])], null, 'last', 1), { outputs: true }).outputs![0];
      for (let k = 0; k < T; k++) {
        const h = 1e-4;
        const up = xs.slice();
        const dn = xs.slice();
        up[T - 1 - k] += h;
        dn[T - 1 - k] -= h;
        const d = (predict(up) - predict(dn)) / (2 * h);
        const expected = base.w1 * base.w3 * w2 ** k;
        expect(Math.abs(d - expected), `k=${k}: ${d} vs ${expected}`).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(expected)),
        );
      }
    });

    it(`w2 = ${w2}: in BPTT's dSSR/dw1 a lone input k steps back is multiplied by w2^k (dSSR/dw1 ÷ dSSR/db2 = w3·w2^k)`, () => {
      const T = 6;
      const ratios: number[] = [];
      for (let k = 0; k < T; k++) {
        const seq = Array.from({ length: T }, (_, t) => [t === T - 1 - k ? 1 : 0]);
        const r = cpuRun(model1(w2), batchFromArrays([seq], [[3]], 'last'), { gradients: true });
        const L = paramLayout(model1(w2)).blocks;
        // dSSR/db2 = −2(observed − predicted); dSSR/dw1 = −2(observed − predicted)·dPredicted/dw1.
        const ratio = r.grads![L.Wx.offset] / r.grads![L.by.offset];
        ratios.push(ratio);
        expect(Math.abs(ratio - base.w3 * w2 ** k)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(w2) ** k));
      }
      for (let k = 1; k < T; k++) {
        expect(ratios[k] / ratios[k - 1]).toBeCloseTo(w2, 12);
        if (Math.abs(w2) < 1) expect(Math.abs(ratios[k])).toBeLessThan(Math.abs(ratios[k - 1]));
        else expect(Math.abs(ratios[k])).toBeGreaterThan(Math.abs(ratios[k - 1]));
      }
    });
  }

  it('two sequences that differ only in the input k steps back differ in dPredicted/dw1 by w3·w2^k·δ', () => {
    const w2 = -0.5;
    const T = 5;
    const rng = new Rng(9);
    const xs = Array.from({ length: T }, () => rng.uniform(0, 1));
    const dPdw1 = (v: number[]): number => {
      const r = cpuRun(model1(w2), batchFromArrays([v.map((x) => [x])], [[10]], 'last'), { gradients: true });
      return r.grads![0] / r.grads![4];
    };
    for (let k = 0; k < T; k++) {
      const other = xs.slice();
      other[T - 1 - k] += 0.5;
      expect(dPdw1(other) - dPdw1(xs)).toBeCloseTo(base.w3 * w2 ** k * 0.5, 12);
    }
  });
});
