// Truncated BPTT on the CPU reference: the notes' unrolled dSSR/dw1 with the sum cut at the window, a hand-derived
// k = 1 formula for every parameter, k ≥ T equal to full BPTT bit for bit, unchanged forward values, the option's
// validation, and `webgpu-rnn grad --truncate` (and `--clip-norm`, whose CPU side lives in the same command). (Finite differences cannot check truncation: it is not a derivative.)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { batchFromArrays, maxLength } from '../src/batch.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import { ACTIVATIONS, OUTPUT_MODES, modelFromJSON, paramLayout, preset, type Model } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import {
  STATQUEST_3DAY,
  STATQUEST_SEQUENCES,
  closedFormPredicted,
  scalarModel,
  statquestWeights,
  type ScalarData,
  type ScalarWeights,
} from '../src/statquest.ts';
import { CLI } from './helpers/cli-process.ts';

const steps = (seqs: number[][]): number[][][] => seqs.map((s) => s.map((v) => [v]));

/**
 * The notes' dPredicted/dw1 for the identity network, hidden_0 = 0, with truncation k. Full BPTT gives
 * w3·Σ_{s=0}^{T−1} x_s·w2^{T−1−s} (0-based days, x_{T−1} = today). Truncation cuts the chain at the last positive
 * multiple of k at or before the last step, t0 = k·⌊(T−1)/k⌋, so only days t0..T−1 remain:
 *   dPredicted/dw1 = w3·Σ_{s=t0}^{T−1} x_s·w2^{T−1−s}.   For k = 1 that is w3·today.
 */
function truncatedDPredictedDw1(days: number[], w: ScalarWeights, k: number): number {
  const T = days.length;
  const t0 = k * Math.floor((T - 1) / k);
  let s = 0;
  for (let t = t0; t < T; t++) s += days[t] * w.w2 ** (T - 1 - t);
  return w.w3 * s;
}

/** dSSR/dw1 = Σ_i −2(observed_i − predicted_i)·dPredicted_i/dw1 with the truncated bracket (identity activation). */
function truncatedDssrDw1(data: ScalarData, w: ScalarWeights, k: number): number {
  let s = 0;
  data.inputs.forEach(
    (days, i) => (s += -2 * (data.observed[i] - closedFormPredicted(days, w)) * truncatedDPredictedDw1(days, w, k)),
  );
  return s;
}

function runScalar(w: ScalarWeights, activation: 'relu' | 'identity', data: ScalarData, truncation?: number) {
  const model = modelFromJSON(scalarModel(w, activation));
  const batch = batchFromArrays(
    steps(data.inputs),
    data.observed.map((v) => [v]),
    'last',
  );
  const r = cpuRun(model, batch, { gradients: true, outputs: true, truncation });
  const g = r.grads!;
  return {
    loss: r.loss!,
    outputs: Array.from(r.outputs!),
    grads: { w1: g[0], w2: g[1], b1: g[2], w3: g[3], b2: g[4] },
  };
}

describe("truncated BPTT on the notes' network", () => {
  it('identity, 3 days [1, 1, 0.5]→0 and [0.5, 0, 0.5]→1: dSSR/dw1 is the unrolled sum cut at the window, for k = 1, 2, 3, 4', () => {
    const w = statquestWeights(); // w1 = 1.8, w2 = −0.5, w3 = 1.1
    const full = runScalar(w, 'identity', STATQUEST_3DAY);
    const values: number[] = [];
    for (const k of [1, 2, 3, 4]) {
      const r = runScalar(w, 'identity', STATQUEST_3DAY, k);
      const expected = truncatedDssrDw1(STATQUEST_3DAY, w, k);
      expect(Math.abs(r.grads.w1 - expected)).toBeLessThanOrEqual(1e-12);
      // Forward values do not depend on truncation.
      expect(r.loss).toBe(full.loss);
      expect(r.outputs).toEqual(full.outputs);
      expect(r.grads.w3).toBe(full.grads.w3);
      expect(r.grads.b2).toBe(full.grads.b2);
      values.push(r.grads.w1);
    }
    // k = 1: only today's term. predicted = 1.1·(0.5·1.8 − 0.5·1.8 + 0.25·1.8) = 0.495 and 1.1·(0.5·1.8 + 0 + 0.25·0.9)
    // = 1.2375; dSSR/dw1 = −2(0 − 0.495)·1.1·0.5 − 2(1 − 1.2375)·1.1·0.5 = 0.5445 + 0.26125 = 0.80575.
    expect(Math.abs(values[0] - 0.80575)).toBeLessThanOrEqual(1e-12);
    // k = 2 with T = 3: t = 2 is a multiple of 2, so the window is again only today.
    expect(values[1]).toBe(values[0]);
    // k = 3 ≥ T is full BPTT, bit for bit.
    expect(values[2]).toBe(full.grads.w1);
    expect(values[3]).toBe(full.grads.w1);
    expect(values[0]).not.toBe(full.grads.w1);
  });

  it("ReLU (the notes' weights), k = 1: dSSR/dw1 = Σ −2(observed − predicted)·w3·ReLU′(z_T)·today, and likewise w2, b1", () => {
    const w = statquestWeights();
    const r = runScalar(w, 'relu', STATQUEST_3DAY, 1);
    // Hidden values (ReLU): [1, 1, 0.5]: 1.8, ReLU(1.8 − 0.9) = 0.9, ReLU(0.9 − 0.45) = 0.45 → predicted 0.495.
    //                       [0.5, 0, 0.5]: 0.9, ReLU(0 − 0.45) = 0, ReLU(0.9 + 0) = 0.9 → predicted 0.99.
    // Both last pre-activations are positive, so ReLU′ = 1; dSSR/dw2 uses h_{T−1} (0.9 and 0), dSSR/db1 uses 1.
    const e = [-2 * (0 - 0.495), -2 * (1 - 0.99)];
    const dw1 = e[0] * w.w3 * 0.5 + e[1] * w.w3 * 0.5;
    const dw2 = e[0] * w.w3 * 0.9 + e[1] * w.w3 * 0;
    const db1 = e[0] * w.w3 + e[1] * w.w3;
    expect(Math.abs(r.grads.w1 - dw1)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(r.grads.w2 - dw2)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(r.grads.b1 - db1)).toBeLessThanOrEqual(1e-12);
    // Full BPTT differs (the chain through h_1 of the first sequence is alive).
    expect(Math.abs(runScalar(w, 'relu', STATQUEST_3DAY).grads.w1 - dw1)).toBeGreaterThan(1e-3);
  });

  it("the notes' 2-day example is unchanged by k = 1: its only multi-step path runs through a dead or zero hidden unit", () => {
    const w = statquestWeights();
    const full = runScalar(w, 'relu', STATQUEST_SEQUENCES);
    const k1 = runScalar(w, 'relu', STATQUEST_SEQUENCES, 1);
    // [1, 0.5]: z_2 = 0 so ReLU′ = 0, nothing flows; [0, 0.5]: h_1 = 0, so the w2 path adds w2·0·… = 0.
    expect(k1.grads).toEqual(full.grads);
    expect(Math.abs(k1.grads.w1 - -0.011)).toBeLessThanOrEqual(1e-15);
  });
});

/**
 * k = 1, derived by hand for any shape: no gradient crosses a step, so each step with an output contributes alone:
 *   dy_t = 2(y_t − target_t),  dz_t = act′(z_t) ⊙ Wy^T·dy_t,
 *   dWx += dz_t·x_t^T,  dWh += dz_t·h_{t−1}^T,  dbh += dz_t,  dWy += dy_t·h_t^T,  dby += dy_t.
 * Written from scratch here (float64, its own forward pass), not through the reference's loops.
 */
function k1Gradients(model: Model, batch: ReturnType<typeof randomBatch>): Float64Array {
  const { inputSize: I, hiddenSize: H, outputSize: O } = model;
  const L = paramLayout(model).blocks;
  const p = model.params;
  const g = new Float64Array(paramLayout(model).count);
  const act = (z: number): number =>
    model.activation === 'relu' ? Math.max(0, z) : model.activation === 'tanh' ? Math.tanh(z) : z;
  const dact = (z: number): number =>
    model.activation === 'relu' ? (z > 0 ? 1 : 0) : model.activation === 'tanh' ? 1 - Math.tanh(z) ** 2 : 1;
  for (let n = 0; n < batch.count; n++) {
    const T = batch.lengths[n];
    let h = Array.from(model.h0);
    for (let t = 0; t < T; t++) {
      const x = Array.from({ length: I }, (_, i) => batch.inputs[(batch.offsets[n] + t) * I + i]);
      const z = Array.from({ length: H }, (_, j) => {
        let s = p[L.bh.offset + j];
        for (let i = 0; i < I; i++) s += p[L.Wx.offset + j * I + i] * x[i];
        for (let k = 0; k < H; k++) s += p[L.Wh.offset + j * H + k] * h[k];
        return s;
      });
      const hNew = z.map(act);
      if (model.output === 'all' || t === T - 1) {
        const tBase = model.output === 'all' ? (batch.offsets[n] + t) * O : n * O;
        const dy = Array.from({ length: O }, (_, o) => {
          let y = p[L.by.offset + o];
          for (let j = 0; j < H; j++) y += p[L.Wy.offset + o * H + j] * hNew[j];
          return 2 * (y - batch.targets![tBase + o]);
        });
        for (let o = 0; o < O; o++) {
          g[L.by.offset + o] += dy[o];
          for (let j = 0; j < H; j++) g[L.Wy.offset + o * H + j] += dy[o] * hNew[j];
        }
        for (let j = 0; j < H; j++) {
          let back = 0;
          for (let o = 0; o < O; o++) back += p[L.Wy.offset + o * H + j] * dy[o];
          const dz = dact(z[j]) * back;
          g[L.bh.offset + j] += dz;
          for (let i = 0; i < I; i++) g[L.Wx.offset + j * I + i] += dz * x[i];
          for (let k = 0; k < H; k++) g[L.Wh.offset + j * H + k] += dz * h[k];
        }
      }
      h = hNew;
    }
  }
  return g;
}

const SHAPE = { inputSize: 3, hiddenSize: 4, outputSize: 2 };

describe('truncated BPTT on random networks (I=3, H=4, O=2, ragged lengths 1..9, given h0)', () => {
  let seed = 700;
  for (const activation of ACTIVATIONS) {
    for (const output of OUTPUT_MODES) {
      const s = seed++;
      const json = randomModel(SHAPE, activation, output, s, 0.6);
      json.h0 = [0.3, -0.2, 0.1, 0.4];
      const model = modelFromJSON(json);
      const batch = randomBatch({ count: 7, ...SHAPE, output, minLength: 1, maxLength: 9, seed: s + 50 });
      const T = maxLength(batch);

      it(`${activation}, ${output}: k = 1 equals the hand-derived per-step formula`, () => {
        const r = cpuRun(model, batch, { gradients: true, truncation: 1 });
        const want = k1Gradients(model, batch);
        for (let q = 0; q < want.length; q++)
          expect(Math.abs(r.grads![q] - want[q]), `param ${q}`).toBeLessThanOrEqual(
            1e-12 * Math.max(1, Math.abs(want[q])),
          );
      });

      it(`${activation}, ${output}: k ≥ T equals full BPTT bit for bit (float64 and float32 modes); 1 < k < T lies elsewhere`, () => {
        for (const precision of ['f64', 'f32'] as const) {
          const full = cpuRun(model, batch, { gradients: true, outputs: true, precision });
          for (const k of [T, T + 1, 1e9]) {
            const r = cpuRun(model, batch, { gradients: true, outputs: true, precision, truncation: k });
            expect(Array.from(r.grads!)).toEqual(Array.from(full.grads!));
            expect(r.loss).toBe(full.loss);
          }
          const mid = cpuRun(model, batch, { gradients: true, outputs: true, precision, truncation: 3 });
          expect(mid.loss).toBe(full.loss);
          expect(Array.from(mid.outputs!)).toEqual(Array.from(full.outputs!));
          // Cutting chains changes the recurrent gradients (sequences longer than 3 exist).
          expect(Array.from(mid.grads!)).not.toEqual(Array.from(full.grads!));
        }
      });
    }
  }
});

describe('the truncation option is validated', () => {
  const batch = batchFromArrays(
    steps(STATQUEST_SEQUENCES.inputs),
    STATQUEST_SEQUENCES.observed.map((v) => [v]),
    'last',
  );
  for (const bad of [0, -1, 1.5, NaN, Infinity, -Infinity, '3' as unknown as number]) {
    it(`rejects ${typeof bad === 'string' ? JSON.stringify(bad) : bad} with an InputError naming truncation`, async () => {
      const engine = await Engine.create({ backend: 'cpu' });
      const err = await engine.run(preset('statquest'), batch, { truncation: bad }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).field).toBe('truncation');
      expect((err as Error).message).toMatch(/truncation/);
    });
  }
});

describe('webgpu-rnn grad --truncate and --clip-norm', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-trunc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const data = join(dir, 'three-days.json');
  writeFileSync(
    data,
    JSON.stringify({ inputs: steps(STATQUEST_3DAY.inputs), targets: STATQUEST_3DAY.observed.map((v) => [v]) }),
  );
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [...CLI, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

  it('--truncate 1 gives the k = 1 gradients of the reference; --truncate 3 (= T) the full ones', () => {
    const model = modelFromJSON(preset('statquest'));
    const batch = batchFromArrays(
      steps(STATQUEST_3DAY.inputs),
      STATQUEST_3DAY.observed.map((v) => [v]),
      'last',
    );
    for (const k of [1, 3]) {
      const r = cli(
        'grad',
        '--model',
        'statquest',
        '--data',
        data,
        '--backend',
        'cpu',
        '--json',
        '--truncate',
        String(k),
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as { grads: { Wx: number[][] } };
      expect(out.grads.Wx[0][0]).toBe(cpuRun(model, batch, { gradients: true, truncation: k }).grads![0]);
    }
  });

  it('--clip-norm: JSON and text report the norm before clipping and whether it clipped; the gradient has norm c', () => {
    const model = modelFromJSON(preset('statquest'));
    const batch = batchFromArrays(
      steps(STATQUEST_3DAY.inputs),
      STATQUEST_3DAY.observed.map((v) => [v]),
      'last',
    );
    const ref = cpuRun(model, batch, { gradients: true });
    const norm = Math.hypot(...ref.grads!);
    const r = cli('grad', '--model', 'statquest', '--data', data, '--backend', 'cpu', '--json', '--clip-norm', '0.1');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as {
      gradNorm: number;
      clipped: boolean;
      grads: Record<string, number[] | number[][]>;
    };
    expect(Math.abs(out.gradNorm - norm)).toBeLessThanOrEqual(1e-12 * norm);
    expect(out.clipped).toBe(norm > 0.1);
    expect(Math.abs(Math.hypot(...Object.values(out.grads).flat(2)) - 0.1)).toBeLessThanOrEqual(1e-12);
    const text = cli('grad', '--model', 'statquest', '--data', data, '--backend', 'cpu', '--clip-norm', '0.1');
    expect(text.stdout).toMatch(/^grad norm \S+ {2}\(‖dSSR\/dθ‖₂ before clipping; clipped\)$/m);
    const plain = cli('grad', '--model', 'statquest', '--data', data, '--backend', 'cpu', '--json');
    expect((JSON.parse(plain.stdout) as { clipped: boolean }).clipped).toBe(false);
  });

  for (const bad of ['0', '-1', 'inf', 'NaN', '']) {
    it(`--clip-norm ${JSON.stringify(bad)} exits 2 naming the option, nothing on stdout`, () => {
      const r = cli('grad', '--model', 'statquest', '--data', data, '--backend', 'cpu', '--clip-norm', bad);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('--clip-norm');
    });
  }

  for (const bad of ['0', '-2', '1.5', 'x']) {
    it(`--truncate ${bad} exits 2 naming the option, nothing on stdout`, () => {
      const r = cli('grad', '--model', 'statquest', '--data', data, '--backend', 'cpu', '--truncate', bad);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('--truncate');
    });
  }
});
