// The cells' unroll study (src/study/cells.ts) against independent computations: central finite differences of the
// CPU reference's SSR for ∂SSR/∂x_{T−k} (perturbing one input) and ∂SSR/∂s_{T−k} (the suffix from a perturbed
// state as h0/c0), the step terms summing to cpuRun's dSSR/dWx, the notes' closed form for the 1-1-1 identity Elman
// network, and the saturated LSTM carrying c_0 with a flat state gradient.

import { describe, expect, it } from 'vitest';
import { batchFromArrays } from '../src/batch.ts';
import type { CellName } from '../src/cells/index.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { modelFromJSON, paramLayout, type Model } from '../src/model.ts';
import { scalarModel } from '../src/statquest.ts';
import { cellStudy, cellStudyRow, factorRange, perStepFactor, saturatedLstm, studyInputs } from '../src/study/cells.ts';
import { cellStudyOnEngine } from '../src/study/cells-engine.ts';
import { unrollStudyCpu } from '../src/study/unroll.ts';
import { Engine } from '../src/engine.ts';
import { CELL_NAMES } from '../src/cells/index.ts';
import { randomCellModels } from '../src/study/cells.ts';
import { randomPopulation, zeroModel } from '../src/train/index.ts';
import { PRESETS } from '../src/page/presets.ts';
import { randomModelJSON, Rng } from './helpers/random-cases.ts';

const T = 7;
const target = 0.3;

function model(cell: CellName): Model {
  return modelFromJSON(
    randomModelJSON(new Rng(cell.length + 5), {
      inputSize: 2,
      hiddenSize: 3,
      outputSize: 2,
      activation: 'tanh',
      output: 'last',
      cell,
      h0: true,
    }),
  );
}

/** SSR of `m` on one sequence (row-major T' × I) with every output's target `target`, by cpuRun. */
function ssr(m: Model, xs: ArrayLike<number>): number {
  const I = m.inputSize;
  const steps = Array.from({ length: xs.length / I }, (_, t) => Array.from(xs).slice(t * I, t * I + I));
  return cpuRun(m, batchFromArrays([steps], [new Array(m.outputSize).fill(target)], 'last', I)).loss!;
}

const CASES: [string, () => Model][] = [
  ['elman', () => model('elman')],
  ['lstm', () => model('lstm')],
  ['gru', () => model('gru')],
  ['lstm (saturated)', () => saturatedLstm(model('lstm'), 4)],
];

describe.each(CASES)('%s: the study against finite differences of cpuRun', (label, make) => {
  const m = make();
  const xs = studyInputs({ seed: 4 }, T, m.inputSize);
  const row = cellStudyRow({ label, model: m }, T, xs, target);
  const eps = 1e-5;
  const close = (a: number, b: number, scale: number): void => {
    if (!(Math.abs(a - b) <= 1e-7 * Math.max(1, scale))) expect.fail(`${a} vs ${b}`);
  };

  it("loss and predictions are cpuRun's", () => {
    expect(row.loss).toBeCloseTo(ssr(m, xs), 12);
  });

  it('∂SSR/∂x_{T−k} for every k and input', () => {
    for (let k = 0; k < T; k++) {
      for (let i = 0; i < m.inputSize; i++) {
        const p = (T - 1 - k) * m.inputSize + i;
        const up = xs.slice();
        const down = xs.slice();
        up[p] += eps;
        down[p] -= eps;
        close(row.dInput[k][i], (ssr(m, up) - ssr(m, down)) / (2 * eps), row.input[0]);
      }
      expect(row.input[k]).toBeCloseTo(Math.hypot(...row.dInput[k]), 14);
    }
  });

  it('∂SSR/∂s_{T−k} for every k (the suffix from the state as h0/c0) and the states themselves', () => {
    const H = m.hiddenSize;
    const S = row.dState[0].length;
    for (let k = 0; k <= T; k++) {
      const t = T - k;
      const suffix = xs.slice(t * m.inputSize);
      const at = (s: Float64Array): number => {
        if (k === 0) {
          // No step left: the SSR of the readout of h_T.
          const L = paramLayout(m).blocks;
          let v = 0;
          for (let o = 0; o < m.outputSize; o++) {
            let y = m.params[L.by.offset + o];
            for (let j = 0; j < H; j++) y += m.params[L.Wy.offset + o * H + j] * s[j];
            v += (y - target) ** 2;
          }
          return v;
        }
        return ssr({ ...m, h0: s.slice(0, H), ...(S > H ? { c0: s.slice(H) } : {}) }, suffix);
      };
      const s = row.states.slice(t * S, (t + 1) * S);
      // The forward states are the CPU reference's: the suffix from s_t gives the whole sequence's SSR.
      expect(at(s)).toBeCloseTo(row.loss, 12);
      for (let q = 0; q < S; q++) {
        const up = s.slice();
        const down = s.slice();
        up[q] += eps;
        down[q] -= eps;
        close(row.dState[k][q], (at(up) - at(down)) / (2 * eps), row.state[0]);
      }
    }
  });

  it("the step terms of dSSR/dWx sum to cpuRun's dSSR/dWx", () => {
    const I = m.inputSize;
    const steps = Array.from({ length: T }, (_, t) => Array.from(xs.slice(t * I, t * I + I)));
    const g = cpuRun(m, batchFromArrays([steps], [new Array(m.outputSize).fill(target)], 'last', I), {
      gradients: true,
    }).grads!;
    const L = paramLayout(m).blocks;
    row.dWx.forEach((v, p) => expect(v).toBeCloseTo(g[L.Wx.offset + p], 12));
  });
});

describe('the input side through engine.run (one-hot input columns) on the CPU engine', () => {
  it('equals the study for every cell, over two runs (T = 70 > 63 columns) and with I = 2', async () => {
    const engine = await Engine.create({ backend: 'cpu' });
    const models = [
      ...randomCellModels({ cells: CELL_NAMES, hidden: 3, seed: 5, saturation: 20 }),
      { label: 'lstm I=2', model: model('lstm') },
    ];
    // model('lstm') has two outputs: the target applies to both.
    const T2 = 70;
    const eng = await cellStudyOnEngine(engine, { models, length: T2, seed: 3, target });
    const ref = cellStudy({ models, length: T2, seed: 3, target });
    eng.rows.forEach((r, j) => {
      const c = ref.rows[j];
      expect(r.runs).toBe(2); // 63 (I = 1) or 62 (I = 2) steps per run
      expect(r.loss).toBeCloseTo(c.loss, 12);
      for (let k = 0; k < T2; k++) {
        r.dInput[k].forEach((v, i) =>
          expect(Math.abs(v - c.dInput[k][i])).toBeLessThanOrEqual(1e-12 * Math.max(1e-300, c.input[0])),
        );
        expect(Math.abs(r.wx[k] - c.wx[k])).toBeLessThanOrEqual(1e-12 * c.wx[0]);
      }
    });
    await expect(
      cellStudyOnEngine(engine, {
        models: [{ label: 'wide', model: { ...models[0].model, inputSize: 64 } }],
        length: 3,
      }),
    ).rejects.toThrow(/at most 63 inputs, got 64/);
  });
});

describe("the notes' network and the saturated LSTM", () => {
  it("1-1-1 identity Elman: the wx term is the unroll study's term k and the state gradient 2(predicted − target)·w3·w2^k", () => {
    const w = { w1: Math.fround(1.8), b1: 0, w3: Math.fround(1.1), b2: 0 };
    const xs = [1, 0.5, -0.25, 1, 0.75, -1, 0.5, 1].map(Math.fround);
    for (const w2 of [-1.5, -0.5, 0.5, 1.2]) {
      const m = modelFromJSON(scalarModel({ ...w, w2: Math.fround(w2) }, 'identity'));
      const row = cellStudyRow({ label: 'elman', model: m }, xs.length, Float64Array.from(xs), 1);
      const ref = unrollStudyCpu({ inputs: xs, w2: [w2], weights: w, target: 1 }).rows[0];
      const dy = 2 * (row.predicted[0] - 1);
      expect(row.predicted[0]).toBeCloseTo(ref.predicted, 12);
      for (let k = 0; k < xs.length; k++) {
        expect(row.wx[k]).toBeCloseTo(Math.abs(ref.contributions[k]), 10);
        expect(row.dState[k][0]).toBeCloseTo(dy * w.w3 * Math.fround(w2) ** k, 10);
      }
    }
  });

  it('an LSTM saturated at f = 1, i = 0 carries c_0 unchanged for T = 200 and its state gradient stays flat', () => {
    const base = randomPopulation(
      zeroModel('lstm', { inputSize: 1, hiddenSize: 4, outputSize: 1, output: 'last' }, 'tanh'),
      1,
      3,
      0.5,
    )[0];
    base.c0 = Float64Array.from([0.7, -0.4, 0.2, 1.5]);
    const m = saturatedLstm(base, 40); // σ(40 − |Wx·x + Wh·h|) = 1 within float64 here
    const T2 = 200;
    const [row] = cellStudy({ models: [{ label: 'saturated', model: m }], length: T2, seed: 2 }).rows;
    const H = 4;
    for (const t of [1, 50, T2])
      expect(Array.from(row.states.slice(t * 2 * H + H, t * 2 * H + 2 * H))).toEqual(Array.from(base.c0));
    // dc_{t−1} = f⊙(dc_t + what reaches c_t through h_t): once that h path has died out, the c part of the gradient
    // is one fixed vector all the way back to s_0. Nothing vanishes.
    const far = row.dState[T2].slice(H);
    const scale = Math.hypot(...far);
    expect(scale).toBeGreaterThan(0);
    for (let k = T2 / 2; k <= T2; k++)
      row.dState[k].slice(H).forEach((v, j) => expect(Math.abs(v - far[j])).toBeLessThan(1e-12 * scale));
    const [from, to] = factorRange('state', T2);
    expect(perStepFactor(row.state, from, to)!.verdict).toBe('flat');
    // Its unsaturated twin forgets: the state gradient vanishes.
    const [free] = cellStudy({ models: [{ label: 'free', model: base }], length: T2, seed: 2 }).rows;
    expect(perStepFactor(free.state, from, to)!.verdict).toBe('vanishes');
    expect(free.state[T2]).toBeLessThan(1e-6 * row.state[T2]);
  });

  it('refuses a model without output "last", a bad length and inputs of the wrong count', () => {
    const m = model('gru');
    expect(() => cellStudyRow({ label: 'g', model: { ...m, output: 'all' } }, 3, new Float64Array(6), 1)).toThrow(
      /output "last"/,
    );
    expect(() => cellStudy({ models: [{ label: 'g', model: m }], length: 0 })).toThrow(
      /length: must be an integer from 1/,
    );
    expect(() => cellStudy({ models: [{ label: 'g', model: m }], length: 3, inputs: [1, 2] })).toThrow(
      /inputs: expected T·I = 3·2 = 6 values, got 2/,
    );
    expect(() => saturatedLstm(m, 5)).toThrow(/needs an LSTM, got gru/);
  });
});

describe('the chaotic tanh preset (its cells study settings)', () => {
  const c = PRESETS.chaos.cells!;
  const study = cellStudy({
    models: randomCellModels({ cells: CELL_NAMES, hidden: c.hidden, seed: c.seed, scale: c.scale, saturation: c.sat }),
    length: c.t,
    seed: c.seed,
  });
  const [from, to] = factorRange('state', c.t);
  const row = (label: string) => study.rows.find((r) => r.label === label)!;
  const factor = (label: string) => perStepFactor(row(label).state, from, to)!;

  it("the Elman tanh network's state gradient explodes at the rate the note gives, while the LSTM and GRU vanish", () => {
    expect(c).toMatchObject({ hidden: 32, scale: 1, measure: 'state' });
    const elman = factor('elman (tanh)');
    expect(elman.verdict).toBe('explodes');
    expect(elman.factor).toBeGreaterThan(1.15);
    expect(PRESETS.chaos.note).toContain(`×${elman.factor.toFixed(2)} per step over ${c.t} steps`);
    expect(factor('lstm').verdict).toBe('vanishes');
    expect(factor('gru').verdict).toBe('vanishes');
    expect(factor('lstm (saturated)').verdict).toBe('flat');
  });

  it("is chaotic: states 1e-12 apart separate at about the gradient's rate until they are as far apart as the states are large", () => {
    const e = row('elman (tanh)');
    const model = randomCellModels({ cells: ['elman'], hidden: c.hidden, seed: c.seed, scale: c.scale })[0].model;
    const H = c.hidden;
    const T2 = 200;
    const xs = studyInputs({ seed: c.seed }, T2, 1);
    const h0 = new Float64Array(H);
    h0[0] = 1e-12;
    const a = cellStudyRow({ label: 'a', model }, T2, xs, 1).states;
    const b = cellStudyRow({ label: 'b', model: { ...model, h0 } }, T2, xs, 1).states;
    const apart = (t: number) => Math.hypot(...Array.from(a.slice(t * H, t * H + H), (v, j) => v - b[t * H + j]));
    expect(Array.from(a.slice(0, c.t * H + H))).toEqual(Array.from(e.states));
    // Over the study's T steps the separation grows by a per-step factor within 5% of the state gradient's.
    const growth = (apart(c.t) / 1e-12) ** (1 / c.t);
    expect(Math.abs(growth / factor('elman (tanh)').factor - 1)).toBeLessThan(0.05);
    // Then it saturates: after 200 steps the two runs are O(1) apart (tanh states lie in [−1, 1]^32).
    expect(apart(T2)).toBeGreaterThan(0.5);
    // Weights three tenths as large: the same network forgets (the gradient vanishes).
    const tame = cellStudy({
      models: randomCellModels({ cells: ['elman'], hidden: H, seed: c.seed, scale: 0.3 }),
      length: c.t,
      seed: c.seed,
    }).rows[0];
    expect(perStepFactor(tame.state, from, to)!.verdict).toBe('vanishes');
  });
});
