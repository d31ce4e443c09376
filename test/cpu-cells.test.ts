// The CPU reference's LSTM and GRU (src/cpu/cells.ts through cpuRun) checked against central finite differences
// for every parameter, the independent forward-mode implementation (test/helpers/independent-rnn.ts, which also
// writes truncation its own way), PyTorch's layout conventions by hand, its own float32 mode, and the saturated LSTM
// that carries its cell state unchanged: the notes' vanishing gradient, inverted. Seeded, so every run checks the
// same cases.

import { describe, expect, it } from 'vitest';
import { batchFromArrays, type Batch } from '../src/batch.ts';
import type { CellName } from '../src/cells/index.ts';
import { compareArrays } from '../src/compare.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { InputError } from '../src/errors.ts';
import {
  modelFromJSON,
  modelToJSON,
  paramLayout,
  paramName,
  paramNames,
  type Model,
  type ModelJSON,
  type OutputMode,
} from '../src/model.ts';
import { parseModel } from '../src/validate.ts';
import { independentLossAndGrads } from './helpers/independent-rnn.ts';
import { expectClose } from './helpers/compare.ts';
import { finiteDifferences, makeCase } from './helpers/random-cases.ts';

const CELLS = ['lstm', 'gru'] as const satisfies readonly CellName[];
const OUTPUTS: OutputMode[] = ['last', 'all'];
const SHAPE = { inputSize: 2, hiddenSize: 3, outputSize: 2 };
const RAGGED = [4, 1, 7, 2];

/** This file's cases: stream-drawn (test/helpers/random-cases.ts) on the ragged lengths, with h0 (and c0). */
const CASE = {
  I: SHAPE.inputSize,
  H: SHAPE.hiddenSize,
  O: SHAPE.outputSize,
  act: 'tanh',
  lengths: RAGGED,
  h0: true,
} as const;

describe.each(CELLS)('%s: the CPU reference', (cell) => {
  it("has PyTorch's layout: blocks Wx, Wh, bx, bh (gates stacked in rows), then Wy, by", () => {
    const G = cell === 'lstm' ? 4 : 3;
    const { inputSize: I, hiddenSize: H, outputSize: O } = SHAPE;
    const L = paramLayout({ ...SHAPE, cell });
    expect(paramNames({ cell })).toEqual(['Wx', 'Wh', 'bx', 'bh', 'Wy', 'by']);
    expect(L.order.map((b) => [b.name, b.rows, b.cols])).toEqual([
      ['Wx', G * H, I],
      ['Wh', G * H, H],
      ['bx', G * H, 0],
      ['bh', G * H, 0],
      ['Wy', O, H],
      ['by', O, 0],
    ]);
    expect(L.count).toBe(G * H * I + G * H * H + 2 * G * H + O * H + O);
    expect(paramName({ ...SHAPE, cell }, L.blocks.bx!.offset + H)).toBe(`bx[${H}]`);
  });

  for (const output of OUTPUTS) {
    it(`output ${output}, ragged lengths, nonzero initial state: loss, outputs and every gradient match the independent forward-mode reference`, () => {
      const c = makeCase({ ...CASE, cell, out: output }, 11 + output.length);
      const ind = independentLossAndGrads(c.json, c.data.inputs, c.data.targets);
      const r = cpuRun(c.model, c.batch, { gradients: true, outputs: true });
      const tol = { atol: 1e-12, rtol: 1e-10 };
      expectClose('loss', [r.loss!], [ind.loss], tol);
      expectClose('outputs', r.outputs!, ind.outputs, tol);
      expectClose('gradients', r.grads!, ind.grads, tol, (k) => paramName(c.model, k));
      expect(r.overflowed).toBe(0);
    });

    it(`output ${output}: central finite differences hold for every parameter`, () => {
      const c = makeCase({ ...CASE, cell, out: output }, 23 + output.length);
      const g = cpuRun(c.model, c.batch, { gradients: true }).grads!;
      const fd = finiteDifferences(c.model, c.batch);
      expect(Math.max(...Array.from(g, Math.abs))).toBeGreaterThan(1e-2);
      expectClose('dSSR/dθ against finite differences', g, fd, { atol: 1e-7, rtol: 1e-6 }, (k) =>
        paramName(c.model, k),
      );
    });

    for (const k of [1, 3]) {
      it(`output ${output}, truncation every ${k} steps: detaching the whole state matches the forward-mode reference`, () => {
        const c = makeCase({ ...CASE, cell, out: output }, 37 + k);
        const ind = independentLossAndGrads(c.json, c.data.inputs, c.data.targets, k);
        const r = cpuRun(c.model, c.batch, { gradients: true, truncation: k });
        expectClose('truncated gradients', r.grads!, ind.grads, { atol: 1e-12, rtol: 1e-10 }, (p) =>
          paramName(c.model, p),
        );
        const full = cpuRun(c.model, c.batch, { gradients: true }).grads!;
        expect(compareArrays(r.grads!, full, { atol: 1e-9, rtol: 1e-6 }).ok).toBe(false);
      });
    }
  }

  it('float32 mode stays within float32 rounding of float64, and differs from it', () => {
    const c = makeCase({ ...CASE, cell, out: 'all' }, 51);
    const r64 = cpuRun(c.model, c.batch, { gradients: true, outputs: true });
    const r32 = cpuRun(c.model, c.batch, { gradients: true, outputs: true, precision: 'f32' });
    expectClose('f32 loss', [r32.loss!], [r64.loss!], { atol: 1e-6, rtol: 1e-5 });
    expectClose('f32 gradients', r32.grads!, r64.grads!, { atol: 1e-5, rtol: 1e-4 }, (k) => paramName(c.model, k));
    expect(Array.from(r32.grads!).some((v, k) => v !== r64.grads![k])).toBe(true);
  });

  it('is deterministic: two runs give the same bits', () => {
    const c = makeCase({ ...CASE, cell, out: 'last' }, 61);
    const a = cpuRun(c.model, c.batch, { gradients: true, outputs: true });
    const b = cpuRun(c.model, c.batch, { gradients: true, outputs: true });
    expect(Array.from(b.grads!)).toEqual(Array.from(a.grads!));
    expect(Array.from(b.outputs!)).toEqual(Array.from(a.outputs!));
    expect(b.loss).toBe(a.loss);
  });

  it('model JSON round trip keeps the cell, bx and (LSTM) c0', () => {
    const c = makeCase({ ...CASE, cell, out: 'last' }, 71);
    const back = modelToJSON(c.model);
    expect(back.cell).toBe(cell);
    expect(back.weights.bx).toEqual(c.json.weights.bx);
    if (cell === 'lstm') expect(back.c0).toEqual(c.json.c0);
    else expect(back.c0).toBeUndefined();
    expect(Array.from(modelFromJSON(parseModel(JSON.parse(JSON.stringify(back)))).params)).toEqual(
      Array.from(c.model.params),
    );
  });
});

describe("one hand-computed step (PyTorch's equations, H = I = O = 1)", () => {
  const sig = (a: number): number => 1 / (1 + Math.exp(-a));
  it('LSTM: gates i, f, g, o in that row order; c = f·c0 + i·g; h = o·tanh(c)', () => {
    const json: ModelJSON = {
      cell: 'lstm',
      inputSize: 1,
      hiddenSize: 1,
      outputSize: 1,
      activation: 'tanh',
      output: 'last',
      weights: {
        Wx: [[0.5], [-0.3], [0.8], [0.2]],
        Wh: [[0.1], [0.4], [-0.6], [0.7]],
        bx: [0.05, 0.1, -0.2, 0.3],
        bh: [-0.1, 0.2, 0.15, -0.05],
        Wy: [[1.5]],
        by: [0.25],
      },
      h0: [0.3],
      c0: [-0.4],
    };
    const x = 0.9;
    const a = (q: number): number =>
      json.weights.Wx[q][0] * x + json.weights.bx![q] + json.weights.Wh[q][0] * 0.3 + json.weights.bh[q];
    const c = sig(a(1)) * -0.4 + sig(a(0)) * Math.tanh(a(2));
    const h = sig(a(3)) * Math.tanh(c);
    const r = cpuRun(modelFromJSON(json), batchFromArrays([[[x]]], [[0]], 'last'), { outputs: true });
    expect(r.outputs![0]).toBeCloseTo(1.5 * h + 0.25, 14);
  });

  it('GRU: gates r, z, n in that row order; n = tanh(Wx_n·x + bx_n + r·(Wh_n·h + bh_n)); h = (1 − z)·n + z·h0', () => {
    const json: ModelJSON = {
      cell: 'gru',
      inputSize: 1,
      hiddenSize: 1,
      outputSize: 1,
      activation: 'tanh',
      output: 'last',
      weights: {
        Wx: [[0.5], [-0.3], [0.8]],
        Wh: [[0.1], [0.4], [-0.6]],
        bx: [0.05, 0.1, -0.2],
        bh: [-0.1, 0.2, 0.15],
        Wy: [[1.5]],
        by: [0.25],
      },
      h0: [0.3],
    };
    const x = 0.9;
    const W = json.weights;
    const r = sig(W.Wx[0][0] * x + W.bx![0] + W.Wh[0][0] * 0.3 + W.bh[0]);
    const z = sig(W.Wx[1][0] * x + W.bx![1] + W.Wh[1][0] * 0.3 + W.bh[1]);
    const n = Math.tanh(W.Wx[2][0] * x + W.bx![2] + r * (W.Wh[2][0] * 0.3 + W.bh[2]));
    const h = (1 - z) * n + z * 0.3;
    const out = cpuRun(modelFromJSON(json), batchFromArrays([[[x]]], [[0]], 'last'), { outputs: true });
    expect(out.outputs![0]).toBeCloseTo(1.5 * h + 0.25, 14);
  });
});

describe("a saturated LSTM carries c0 unchanged for any T (the notes' lesson inverted)", () => {
  // Forget gate saturated at 1 (bias +100: σ = 1 exactly in float64 and float32), input gate at 0 (bias −100:
  // i·g ≈ 4e-44, far below c0's last bit), no weights into those gates: c_t = c_{t−1} at every step. The output
  // reads h_T = o·tanh(c_T) with o = σ(0) = ½, so the prediction after T steps is the same for every T, and so is
  // the loss's sensitivity to c0 (finite differences), where the Elman net's sensitivity to h0 shrinks as w2^T.
  const lstmModel = (c0: number): Model =>
    modelFromJSON({
      cell: 'lstm',
      inputSize: 1,
      hiddenSize: 1,
      outputSize: 1,
      activation: 'tanh',
      output: 'last',
      weights: {
        Wx: [[0], [0], [1], [0]],
        Wh: [[0], [0], [0.5], [0]],
        bx: [-100, 100, 0, 0],
        bh: [0, 0, 0, 0],
        Wy: [[2]],
        by: [0],
      },
      c0: [c0],
    });
  const data = (T: number): Batch =>
    batchFromArrays([Array.from({ length: T }, (_, t) => [Math.sin(t)])], [[1]], 'last');
  const Ts = [1, 10, 100, 1000, 4096];

  for (const precision of ['f64', 'f32'] as const) {
    it(`${precision}: the prediction after T = ${Ts.join(', ')} steps is 2·½·tanh(c0) exactly`, () => {
      for (const T of Ts) {
        const r = cpuRun(lstmModel(0.7), data(T), { outputs: true, precision });
        const round = precision === 'f32' ? Math.fround : (v: number): number => v;
        expect(r.outputs![0], `T = ${T}`).toBe(round(2 * round(0.5 * round(Math.tanh(round(0.7))))));
      }
    });
  }

  it("dSSR/dc0 is the same at T = 1 and T = 4096, while the Elman net's dSSR/dh0 falls as w2^T", () => {
    const sens = (make: (v: number) => Model, T: number): number => {
      const e = 1e-6;
      return (cpuRun(make(0.7 + e), data(T)).loss! - cpuRun(make(0.7 - e), data(T)).loss!) / (2 * e);
    };
    const s1 = sens(lstmModel, 1);
    expect(Math.abs(s1)).toBeGreaterThan(0.1);
    for (const T of Ts) expect(sens(lstmModel, T), `T = ${T}`).toBeCloseTo(s1, 8);
    const elman = (h0: number): Model =>
      modelFromJSON({
        inputSize: 1,
        hiddenSize: 1,
        outputSize: 1,
        activation: 'identity',
        output: 'last',
        weights: { Wx: [[0]], Wh: [[0.5]], bh: [0], Wy: [[2]], by: [0] },
        h0: [h0],
      });
    const e1 = sens(elman, 1);
    const e20 = sens(elman, 20);
    // SSR = (2·0.5^T·h0 − 1)², so dSSR/dh0 = 4·0.5^T·(2·0.5^T·h0 − 1).
    expect(e1).toBeCloseTo(4 * 0.5 * (2 * 0.5 * 0.7 - 1), 6);
    expect(e20).toBeCloseTo(4 * 0.5 ** 20 * (2 * 0.5 ** 20 * 0.7 - 1), 10);
    expect(Math.abs(e20 / e1)).toBeLessThan(1e-5);
  });
});

describe('bad input names the cell, the block and the expected shape', () => {
  const base = (cell = 'lstm', G = 4): Record<string, unknown> => ({
    cell,
    inputSize: 1,
    hiddenSize: 2,
    outputSize: 1,
    output: 'last',
    weights: {
      Wx: Array.from({ length: 2 * G }, () => [0]),
      Wh: Array.from({ length: 2 * G }, () => [0, 0]),
      bx: new Array(2 * G).fill(0),
      bh: new Array(2 * G).fill(0),
      Wy: [[0, 0]],
      by: [0],
    },
  });
  const message = (json: unknown): string => {
    try {
      parseModel(json);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return (e as Error).message;
    }
    throw new Error('expected an InputError');
  };

  it('accepts the valid LSTM (activation defaults to tanh)', () => {
    expect(parseModel(base()).activation).toBe('tanh');
  });
  it('an unknown cell is an error naming it', () => {
    expect(message({ ...base(), cell: 'lstn' })).toMatch(
      /cell.*"lstn".*known: "elman", "lstm", "gru".*did you mean "lstm"/,
    );
  });
  it('weights of the wrong shape name the block and the expected shape with its formula', () => {
    const m = base();
    (m.weights as Record<string, unknown>).Wx = [[0], [0]];
    expect(message(m)).toMatch(/weights\.Wx: expected 8×1 \(4H×I for lstm\), got 2×1/);
    const g = { ...base(), cell: 'gru' };
    expect(message(g)).toMatch(/weights\.Wx: expected 6×1 \(3H×I for gru\), got 8×1/);
    const b = base();
    (b.weights as Record<string, unknown>).bh = [0, 0];
    expect(message(b)).toMatch(/weights\.bh: expected 8 \(4H for lstm\), got 2/);
  });
  it('an Elman model with bx, a GRU with c0 and an LSTM with relu are refused by name', () => {
    const e = {
      inputSize: 1,
      hiddenSize: 1,
      outputSize: 1,
      activation: 'relu',
      weights: { Wx: [[1]], Wh: [[1]], bx: [0], bh: [0], Wy: [[1]], by: [0] },
    };
    expect(message(e)).toMatch(/weights\.bx.*elman cell has no bx/);
    expect(parseModel(base('gru', 3)).cell).toBe('gru');
    expect(message({ ...base('gru', 3), c0: [0, 0] })).toMatch(/^.*c0.*only the lstm cell/);
    expect(message({ ...base(), activation: 'relu' })).toMatch(/activation.*lstm cell takes "tanh" only/);
  });
});
