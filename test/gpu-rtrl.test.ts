// Strategy `rtrl` (forward-mode gradients, shaders/rtrl/rtrl.wgsl) on WebGPU: equal to BPTT (the CPU reference and the
// per-sequence strategy) on random ragged batches with truncation and h0; the seed notes' dPredicted/dθ from the
// carried sensitivities; determinism; no stored hidden states in the memory figures; chunking; refusals.

import { describe, expect, it } from 'vitest';
import { batchFromArrays } from '../src/batch.ts';
import { compareArrays, gpuTolerance } from '../src/compare.ts';
import { Engine } from '../src/engine.ts';
import { InputError, NonFiniteError } from '../src/errors.ts';
import { carriedValues } from '../src/gpu/rtrl/kernel.ts';
import { RTRL_MAX_CARRIED, rtrl } from '../src/gpu/rtrl/strategy.ts';
import { modelFromJSON, preset, type ModelJSON } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import { scalarModel, statquestWeights, STATQUEST_3DAY, type ScalarWeights } from '../src/statquest.ts';
import { compareResults } from '../src/verify.ts';
import { describeGpu } from './helpers/gpu.ts';
import { makeCase, type DrawnCaseSpec, type TestCase } from './helpers/random-cases.ts';

const cpu = await Engine.create({ backend: 'cpu' });

interface Case extends DrawnCaseSpec {
  truncation?: number;
}

const cases: Case[] = [
  { I: 1, H: 1, O: 1, act: 'relu', out: 'last', N: 65, maxT: 20 },
  { I: 2, H: 3, O: 2, act: 'tanh', out: 'all', N: 100, maxT: 12 },
  { I: 3, H: 2, O: 1, act: 'identity', out: 'all', N: 33, maxT: 9, truncation: 2 },
  { I: 1, H: 4, O: 3, act: 'relu', out: 'last', N: 129, maxT: 15, truncation: 4 },
];

/** This file's cases: randomModel weights in ±0.6 and an h0 ramp; the batch randomBatch(seed + 1), lengths 1..maxT. */
const rtrlCase = (c: Case, seed: number): TestCase => makeCase({ ...c, scale: 0.6, h0: (j) => 0.3 - 0.2 * j }, seed);

/** dPredicted/dθ for the notes' identity network (h_0 = 0), by the closed forms the notes unroll. */
function closedFormDPredicted(days: number[], w: ScalarWeights) {
  const T = days.length;
  const h = [0];
  for (let t = 0; t < T; t++) h.push(w.w1 * days[t] + w.b1 + w.w2 * h[t]);
  let dw1 = 0;
  let db1 = 0;
  let dw2 = 0;
  for (let k = 0; k < T; k++) {
    dw1 += days[T - 1 - k] * w.w2 ** k; // the notes: Today + Yesterday·w2 + DayBefore·w2²
    db1 += w.w2 ** k;
    dw2 += h[T - 1 - k] * w.w2 ** k;
  }
  return { w1: w.w3 * dw1, w2: w.w3 * dw2, b1: w.w3 * db1, w3: h[T], b2: 1 };
}

await describeGpu('WebGPU strategy rtrl (forward-mode gradients)', (gpu) => {
  cases.forEach((c, ci) => {
    const name = `I=${c.I} H=${c.H} O=${c.O} ${c.act} ${c.out}, N=${c.N}, lengths 1..${c.maxT}${c.truncation ? `, truncation ${c.truncation}` : ''}`;
    it(`${name}: equals the CPU reference and the per-sequence BPTT kernel; bit-identical on a second run`, async () => {
      const { json, batch } = rtrlCase(c, 1200 + ci);
      const model = modelFromJSON(json);
      const opts = { outputs: true, truncation: c.truncation };
      const r = await gpu().run(model, batch, { ...opts, strategy: 'rtrl' });
      expect(gpu().lastRunStats!.strategy).toBe('rtrl');
      const ref = await cpu.run(model, batch, opts);
      const report = compareResults(model, batch, r, ref);
      expect(
        report.ok,
        report.checks
          .map((x) => x.details)
          .filter(Boolean)
          .join('\n'),
      ).toBe(true);
      const bptt = await gpu().run(model, batch, { ...opts, strategy: 'per-sequence' });
      const tol = gpuTolerance(c.maxT, bptt.gradsFlat!);
      expect(compareArrays(r.gradsFlat!, bptt.gradsFlat!, tol).ok).toBe(true);
      expect(Array.from(r.outputs!)).toEqual(Array.from(bptt.outputs!)); // same forward arithmetic
      const again = await gpu().run(model, batch, { ...opts, strategy: 'rtrl' });
      expect(again.loss).toBe(r.loss);
      expect(Array.from(again.gradsFlat!)).toEqual(Array.from(r.gradsFlat!));
    });
  });

  it("the seed notes: the five gradients, and dPredicted/dθ of the notes' unrolled sums for 1, 2 and 3 days", async () => {
    const seed = batchFromArrays(
      [
        [[1], [0.5]],
        [[0], [0.5]],
      ],
      [[0], [1]],
      'last',
    );
    const g = (await gpu().run(preset('statquest'), seed, { strategy: 'rtrl' })).gradsFlat!;
    // Canonical order Wx, Wh, bh, Wy, by = w1, w2, b1, w3, b2: the notes' −0.011, 0, −0.022, −0.018, −0.02.
    [-0.011, 0, -0.022, -0.018, -0.02].forEach((want, p) => expect(Math.abs(g[p] - want)).toBeLessThanOrEqual(1e-7)); // float32

    // Identity network, one sequence at a time: dSSR/dθ = −2(observed − predicted)·dPredicted/dθ and
    // dSSR/db2 = −2(observed − predicted), so dSSR/dθ ÷ dSSR/db2 is dPredicted/dθ, built from the carried dh/dθ.
    const w = statquestWeights();
    for (const days of [1, 2, 3]) {
      for (const seq of STATQUEST_3DAY.inputs) {
        const x = seq.slice(seq.length - days);
        const r = await gpu().run(scalarModel(w, 'identity'), batchFromArrays([x.map((v) => [v])], [[5]], 'last'), {
          strategy: 'rtrl',
        });
        const d = r.gradsFlat!;
        const got = { w1: d[0] / d[4], w2: d[1] / d[4], b1: d[2] / d[4], w3: d[3] / d[4], b2: 1 };
        const want = closedFormDPredicted(x, w);
        for (const k of ['w1', 'w2', 'b1', 'w3', 'b2'] as const)
          expect(Math.abs(got[k] - want[k]), `${days} days ${x.join(',')}: ${k}`).toBeLessThanOrEqual(1e-6);
      }
    }
  });

  it("forward passes (no gradients; with and without targets) give the per-sequence kernel's outputs and loss bit for bit", async () => {
    const { json, batch } = rtrlCase({ I: 2, H: 3, O: 2, act: 'tanh', out: 'all', N: 70, maxT: 8 }, 1250);
    for (const b of [batch, { ...batch, targets: null }]) {
      const r = await gpu().run(json, b, { gradients: false, outputs: true, strategy: 'rtrl' });
      const p = await gpu().run(json, b, { gradients: false, outputs: true, strategy: 'per-sequence' });
      expect(r.gradsFlat).toBeUndefined();
      expect(r.loss).toBe(p.loss);
      expect(Array.from(r.outputs!)).toEqual(Array.from(p.outputs!));
    }
  });

  it('refuses a hidden state that overflowed, as the BPTT kernel does', async () => {
    for (const activation of ['identity', 'relu'] as const) {
      const json: ModelJSON = {
        inputSize: 1,
        hiddenSize: 1,
        outputSize: 1,
        activation,
        output: 'last',
        weights: { Wx: [[1]], Wh: [[40]], bh: [0.5], Wy: [[1]], by: [0] },
      };
      const batch = randomBatch({
        count: 10,
        inputSize: 1,
        outputSize: 1,
        output: 'last',
        minLength: 40,
        maxLength: 40,
        seed: 3,
      });
      const err = await gpu()
        .run(json, batch, { strategy: 'rtrl' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NonFiniteError);
      if (activation === 'identity')
        expect((err as Error).message).toMatch(
          /webgpu: the hidden state of 10 of 10 sequences became ±Infinity or NaN/,
        );
    }
  });

  it('stores no hidden states: its GPU memory does not grow with T·H, while per-sequence BPTT holds N·T·H floats', async () => {
    const json = randomModel({ inputSize: 1, hiddenSize: 4, outputSize: 1 }, 'tanh', 'last', 77, 0.5);
    const peak = async (strategy: 'rtrl' | 'per-sequence', T: number): Promise<number> => {
      const e = await Engine.create({ backend: 'webgpu', gpu: { device: gpu().device! } });
      const batch = randomBatch({
        count: 500,
        inputSize: 1,
        outputSize: 1,
        output: 'last',
        minLength: T,
        maxLength: T,
        seed: 3,
      });
      await e.run(json, batch, { strategy });
      const s = e.lastRunStats!;
      expect(s.checkpointEvery).toBe(strategy === 'rtrl' ? undefined : T);
      e.dispose();
      return s.peakBytes;
    };
    const statesBytes = 500 * 200 * 4 * 4; // N·T·H floats
    const inputBytes = 500 * 200 * 4; // N·T·I floats, which both need
    const [r20, r200, b200] = [await peak('rtrl', 20), await peak('rtrl', 200), await peak('per-sequence', 200)];
    expect(r200 - r20).toBeLessThanOrEqual(inputBytes + 4096);
    expect(b200 - r200).toBeGreaterThanOrEqual(statesBytes);
  });

  it('chunks under a small memory budget give the same gradients as one chunk', async () => {
    const { json, batch } = rtrlCase({ I: 2, H: 2, O: 1, act: 'tanh', out: 'last', N: 300, maxT: 10 }, 1300);
    const one = await gpu().run(json, batch, { strategy: 'rtrl' });
    const small = await Engine.create({ backend: 'webgpu', gpu: { device: gpu().device!, memoryBudget: 16 * 1024 } });
    const chunked = await small.run(json, batch, { strategy: 'rtrl' });
    expect(small.lastRunStats!.chunks).toBeGreaterThan(1);
    small.dispose();
    const tol = gpuTolerance(10, one.gradsFlat!);
    expect(compareArrays(chunked.gradsFlat!, one.gradsFlat!, tol).ok).toBe(true);
  });

  it('refuses shapes whose carried dh/dθ exceed the private-memory cap, naming why', async () => {
    const json = randomModel({ inputSize: 2, hiddenSize: 8, outputSize: 1 }, 'tanh', 'last', 5, 0.5);
    const batch = randomBatch({
      count: 3,
      inputSize: 2,
      outputSize: 1,
      output: 'last',
      minLength: 2,
      maxLength: 2,
      seed: 6,
    });
    const err = await gpu()
      .run(json, batch, { strategy: 'rtrl' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(
      /strategy "rtrl" cannot serve this run: it carries dh\/dθ, H·\(H·I \+ H² \+ H\) = 704 values per sequence/,
    );
  });
});

describe('rtrl.supports', () => {
  it(`accepts H·(H·I + H² + H) ≤ ${RTRL_MAX_CARRIED} and refuses beyond`, () => {
    const limits = {} as GPUSupportedLimits;
    const shape = (I: number, H: number) => ({
      inputSize: I,
      hiddenSize: H,
      outputSize: 3,
      maxSteps: 10,
      count: 5,
      gradients: true,
    });
    expect(carriedValues(shape(1, 1))).toBe(3); // the seed network: dh/dw1, dh/dw2, dh/db1
    expect(rtrl.supports(shape(1, 1), limits)).toBeNull();
    expect(carriedValues(shape(7, 6))).toBe(504);
    expect(rtrl.supports(shape(7, 6), limits)).toBeNull();
    expect(rtrl.supports(shape(8, 6), limits)).toMatch(/540 values per sequence/);
    expect(rtrl.supports({ ...shape(1, 2), truncation: 3 }, limits)).toBeNull();
  });
});
