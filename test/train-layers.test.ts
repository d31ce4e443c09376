// Training stacked and bidirectional models on the CPU backend: the trajectory of `train` against a hand-written
// loop of cpuRun gradients and the same optimizer step (SGD with momentum, Adam), resume, populations against
// one-by-one training, the landscape against cpuRun at grid points, and the initialisers on every layer.

import { describe, expect, it } from 'vitest';
import { cpuRun } from '../src/cpu/reference.ts';
import { Engine } from '../src/engine.ts';
import { layerLayouts, modelFromJSON, modelToJSON, paramName, type Model } from '../src/model.ts';
import { lossLandscape, randomPopulation, train, trainPopulation, zeroModel } from '../src/train/index.ts';
import { initialWeights } from '../src/train/init.ts';
import { resolveOptions, stepFactors } from '../src/train/options.ts';
import { optimizerStep, STATUS_OK } from '../src/train/optimizer.ts';
import { parseModel } from '../src/validate.ts';
import { layeredCase, type LayeredShape } from './helpers/layered-cases.ts';
import { Rng } from './helpers/random-cases.ts';

const engineP = Engine.create({ backend: 'cpu' });

const shape = (cell: LayeredShape['cell'], numLayers: number, bidirectional: boolean): LayeredShape => ({
  cell,
  inputSize: 2,
  hiddenSize: 3,
  outputSize: 2,
  output: 'all',
  numLayers,
  bidirectional,
  h0: true,
});

const CASES: [LayeredShape['cell'], number, boolean][] = [
  ['elman', 2, true],
  ['lstm', 3, false],
  ['gru', 2, true],
];

describe('train on a stacked or bidirectional model (CPU)', () => {
  for (const [cell, L, bi] of CASES) {
    it(`${cell}, ${L} layers${bi ? ', bidirectional' : ''}: SGD with momentum follows cpuRun gradients step by step`, async () => {
      const engine = await engineP;
      const c = layeredCase(new Rng(40 + L), shape(cell, L, bi), [4, 2, 3]);
      const steps = 5;
      const r = await train(engine, c.model, c.batch, {
        optimizer: { kind: 'sgd', lr: 0.02, momentum: 0.5 },
        steps,
        historyEvery: 1,
      });
      expect(r.backend).toBe('cpu');
      const theta = c.model.params.slice();
      const v = new Float64Array(theta.length);
      for (let k = 0; k < steps; k++) {
        const g = cpuRun({ ...c.model, params: theta }, c.batch, { gradients: true });
        expect(r.history[k]).toEqual({ step: k, loss: g.loss! });
        for (let p = 0; p < theta.length; p++) {
          v[p] = 0.5 * v[p] + g.grads![p];
          theta[p] -= 0.02 * v[p];
        }
      }
      for (let p = 0; p < theta.length; p++) expect(r.model.params[p]).toBeCloseTo(theta[p], 13);
      expect(r.finalLoss).toBe(cpuRun(r.model, c.batch, {}).loss);
    });

    it(`${cell}, ${L} layers${bi ? ', bidirectional' : ''}: Adam equals cpuRun gradients + optimizerStep, bit for bit`, async () => {
      const engine = await engineP;
      const c = layeredCase(new Rng(50 + L), shape(cell, L, bi), [3, 5]);
      const opts = { optimizer: { kind: 'adam' as const, lr: 0.03 }, steps: 4, historyEvery: 1 };
      const r = await train(engine, c.model, c.batch, opts);
      const P = c.model.params.length;
      const o = resolveOptions(opts, 1, c.batch.count, c.batch, P);
      const theta = c.model.params.slice();
      const state = { m: new Float64Array(P), v: new Float64Array(P) };
      for (let k = 0; k < opts.steps; k++) {
        const g = cpuRun({ ...c.model, params: theta }, c.batch, { gradients: true });
        const f = stepFactors(o, k);
        const s = optimizerStep(o.optimizer, theta, state, {
          loss: g.loss!,
          overflowed: g.overflowed,
          grads: g.grads!,
          lr: o.lrs[0] * f.a + f.b,
          c1: f.c1,
          c2: f.c2,
          lossThreshold: o.lossThreshold,
          clipNorm: o.clipNorm,
          mask: null,
          weightDecay: o.weightDecay,
          lossScale: o.lossScale,
        });
        expect(s).toBe(STATUS_OK);
      }
      expect(Array.from(r.model.params)).toEqual(Array.from(theta));
      expect(Array.from(r.optimizerState.m)).toEqual(Array.from(state.m));
      expect(Array.from(r.optimizerState.v)).toEqual(Array.from(state.v));
      // The trained model round-trips through its JSON (weights.layers), h0 and c0 included.
      const back = modelFromJSON(parseModel(JSON.parse(JSON.stringify(modelToJSON(r.model)))));
      expect(back.numLayers).toBe(L);
      expect(back.bidirectional).toBe(bi);
      expect(Array.from(back.params)).toEqual(Array.from(r.model.params));
      expect(Array.from(back.h0)).toEqual(Array.from(c.model.h0));
    });
  }

  it('resumes: 3 steps, then 4 more from the optimizer state, give the bits of 7 steps', async () => {
    const engine = await engineP;
    const c = layeredCase(new Rng(61), shape('lstm', 2, true), [3, 4]);
    const opt = { kind: 'adam' as const, lr: 0.02 };
    const all = await train(engine, c.model, c.batch, { optimizer: opt, steps: 7 });
    const a = await train(engine, c.model, c.batch, { optimizer: opt, steps: 3, scheduleSteps: 7 });
    const b = await train(engine, a.model, c.batch, { optimizer: opt, steps: 4, resume: a.optimizerState });
    expect(b.steps).toBe(7);
    expect(Array.from(b.model.params)).toEqual(Array.from(all.model.params));
  });

  it('a population of layered models equals training them one by one', async () => {
    const engine = await engineP;
    const c = layeredCase(new Rng(62), shape('gru', 2, true), [3, 2]);
    const models = randomPopulation(c.model, 3, 5, 0.5);
    const opts = { optimizer: { kind: 'adam' as const, lr: 0.02 }, steps: 6 };
    const pop = await trainPopulation(engine, models, c.batch, opts);
    const P = c.model.params.length;
    expect(pop.paramCount).toBe(P);
    for (let m = 0; m < 3; m++) {
      const one = await train(engine, models[m], c.batch, opts);
      expect(Array.from(pop.params.subarray(m * P, (m + 1) * P))).toEqual(Array.from(one.model.params));
      expect(pop.finalLoss[m]).toBe(one.finalLoss);
    }
  });

  it("the landscape over two parameters of upper layers equals cpuRun at the grid's points", async () => {
    const engine = await engineP;
    const c = layeredCase(new Rng(63), shape('elman', 3, false), [3, 4]);
    const x = { param: 'layers[2].Wh[0][1]', min: -1, max: 1, steps: 4 };
    const y = { param: 'layers[1].Wx[2][0]', min: -0.5, max: 0.5, steps: 3 };
    const L = await lossLandscape(engine, c.model, c.batch, x, y);
    expect(L.xName).toBe('layers[2].Wh[0][1]');
    expect(L.yName).toBe('layers[1].Wx[2][0]');
    expect(paramName(c.model, L.xIndex)).toBe(x.param);
    for (const [ix, iy] of [
      [0, 0],
      [3, 1],
      [2, 2],
    ]) {
      const params = c.model.params.slice();
      params[L.xIndex] = L.x[ix];
      params[L.yIndex] = L.y[iy];
      expect(L.losses[iy * 4 + ix]).toBe(cpuRun({ ...c.model, params }, c.batch, {}).loss);
    }
  });
});

describe('initial weights of a stacked or bidirectional model', () => {
  const base = (): Model =>
    zeroModel(
      'lstm',
      { inputSize: 2, hiddenSize: 3, outputSize: 1, output: 'last', numLayers: 2, bidirectional: true },
      'tanh',
    );

  it('zeroModel builds the layered layout: layer 0 reads I, the others D·H', () => {
    const m = base();
    expect(m.numLayers).toBe(2);
    expect(m.bidirectional).toBe(true);
    const layers = layerLayouts(m);
    expect(layers.map((l) => [l.inputSize, l.blocks.Wx.rows, l.blocks.Wx.cols])).toEqual([
      [2, 12, 2],
      [2, 12, 2],
      [6, 12, 6],
      [6, 12, 6],
    ]);
    expect(m.params.every((p) => p === 0)).toBe(true);
  });

  it("orthogonal: every gate block of every layer's Wh has QᵀQ = I; xavier: within the bound", () => {
    const H = 3;
    const orth = initialWeights(base(), 7, 0.1, 'orthogonal');
    for (const l of layerLayouts(orth)) {
      for (let g = 0; g < 4; g++) {
        const at = l.blocks.Wh.offset + g * H * H;
        for (let i = 0; i < H; i++)
          for (let j = 0; j < H; j++) {
            let dot = 0;
            for (let r = 0; r < H; r++) dot += orth.params[at + r * H + i] * orth.params[at + r * H + j];
            expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-6);
          }
      }
      // Wx and the biases keep the uniform draws in [−0.1, 0.1].
      for (let p = l.blocks.Wx.offset; p < l.blocks.Wx.offset + l.blocks.Wx.size; p++)
        expect(Math.abs(orth.params[p])).toBeLessThanOrEqual(Math.fround(0.1));
    }
    const xav = initialWeights(base(), 7, 0.01, 'xavier');
    const bound = Math.sqrt(6 / (H + H));
    for (const l of layerLayouts(xav)) {
      const wh = Array.from(xav.params.subarray(l.blocks.Wh.offset, l.blocks.Wh.offset + l.blocks.Wh.size));
      expect(wh.every((w) => Math.abs(w) <= bound)).toBe(true);
      // Re-drawn from the Xavier bound (≈1), not left at the uniform scale 0.01.
      expect(Math.max(...wh.map(Math.abs))).toBeGreaterThan(0.1);
    }
  });
});
