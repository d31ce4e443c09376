// Stacked and bidirectional networks and carried states in the float64 CPU reference: the layered flat layout,
// reading and writing the layered model JSON (and its one-line errors), central finite differences for every
// parameter of every cell (numLayers 1–3, both directions, both output modes, ragged lengths, nonzero h0 and c0),
// the stacked path equal bit for bit to the one-layer path on one-layer models, chunked runs carrying their states
// equal to one run bit for bit, determinism, the engine's results, and the trainers' refusal. PyTorch's own
// modules check the same models in torch-cells.test.ts.

import { describe, expect, it } from 'vitest';
import { batchFromArrays, nestStates, type Batch, type RnnStates } from '../src/batch.ts';
import { cellByName, layoutOf, type CellName } from '../src/cells/index.ts';
import { compareArrays } from '../src/compare.ts';
import { cpuOnlyModel, cpuOnlyRun } from '../src/cpu-only.ts';
import { cpuRun, cpuRunStacked, type RawResult } from '../src/cpu/reference.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import {
  layerCount,
  modelFromJSON,
  modelToJSON,
  paramLayout,
  paramName,
  unflattenParams,
  type Model,
  type ModelJSON,
  type OutputMode,
} from '../src/model.ts';
import { randomPopulation, train } from '../src/training.ts';
import { checkInitialStates, parseModel, parseStates } from '../src/validate.ts';
import { expectClose } from './helpers/compare.ts';
import { layeredCase, randomLayeredModelJSON, type LayeredShape } from './helpers/layered-cases.ts';
import { Rng, finiteDifferences, randomData, randomModelJSON } from './helpers/random-cases.ts';

const CELLS: CellName[] = ['elman', 'lstm', 'gru'];
const OUTPUTS: OutputMode[] = ['last', 'all'];
const SMALL = { inputSize: 2, hiddenSize: 3, outputSize: 2 };

/** The same bits, value for value (NaN equal to NaN, 0 unequal to −0). */
function expectBits(what: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) expect.fail(`${what}[${k}]: ${a[k]} ≠ ${b[k]}`);
}

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const text = (e as Error).message;
    expect(text).not.toContain('\n');
    return text;
  }
  throw new Error('expected an InputError');
}

const shape = (cell: CellName, numLayers: number, bidirectional: boolean, output: OutputMode): LayeredShape => ({
  cell,
  ...SMALL,
  output,
  numLayers,
  bidirectional,
  h0: true,
  bx: cell === 'elman',
});

describe('the layered flat layout', () => {
  it("is every layer's cell blocks in PyTorch's order (l0, l0_reverse, l1, l1_reverse), then Wy (O×D·H) and by", () => {
    const s = { ...SMALL, cell: 'lstm' as const, numLayers: 2, bidirectional: true };
    const { inputSize: I, hiddenSize: H, outputSize: O } = SMALL;
    const L = paramLayout(s);
    const G = 4 * H;
    const layer = (cols: number): [string, number, number][] => [
      ['Wx', G, cols],
      ['Wh', G, H],
      ['bx', G, 0],
      ['bh', G, 0],
    ];
    expect(L.order.map((b) => [b.name, b.rows, b.cols])).toEqual([
      ...layer(I),
      ...layer(I),
      ...layer(2 * H),
      ...layer(2 * H),
      ['Wy', O, 2 * H],
      ['by', O, 0],
    ]);
    expect(L.order.map((b) => b.layer)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, undefined, undefined]);
    const per0 = G * I + G * H + 2 * G;
    const per1 = G * 2 * H + G * H + 2 * G;
    expect(L.layers!.map((l) => [l.index, l.layer, l.reverse, l.inputSize, l.offset, l.size])).toEqual([
      [0, 0, false, I, 0, per0],
      [1, 0, true, I, per0, per0],
      [2, 1, false, 2 * H, 2 * per0, per1],
      [3, 1, true, 2 * H, 2 * per0 + per1, per1],
    ]);
    expect(L.recurrent).toBe(2 * per0 + 2 * per1);
    expect(L.count).toBe(L.recurrent + O * 2 * H + O);
    expect(L.blocks.Wy.offset).toBe(L.recurrent);
    expect(paramName(s, L.layers![3].blocks.Wh.offset + H + 1)).toBe('layers[3].Wh[1][1]');
    expect(paramName(s, L.blocks.Wy.offset + 2 * H + 5)).toBe('Wy[1][5]');
  });

  it('keeps one layer in one direction exactly as before: the cell descriptor’s layout, no layers', () => {
    for (const cell of CELLS) {
      const L = paramLayout({ ...SMALL, cell, numLayers: 1, bidirectional: false });
      expect(L).toEqual(layoutOf(cellByName(cell), SMALL));
      expect(L.layers).toBeUndefined();
    }
  });

  it('a one-direction stack: layer k > 0 reads H values, the readout H', () => {
    const L = paramLayout({ ...SMALL, cell: 'gru', numLayers: 3 });
    expect(L.layers!.map((l) => l.inputSize)).toEqual([2, 3, 3]);
    expect(L.blocks.Wy.cols).toBe(3);
  });
});

describe('the layered model JSON', () => {
  it('reads and writes back: numLayers, bidirectional, weights.layers and h0, c0 as lists of vectors', () => {
    const json = randomLayeredModelJSON(new Rng(3), shape('lstm', 2, true, 'all'));
    const parsed = parseModel(json);
    expect(parsed.numLayers).toBe(2);
    expect(parsed.bidirectional).toBe(true);
    const model = modelFromJSON(parsed);
    expect(model.h0.length).toBe(4 * 3);
    expect(Array.from(model.h0.subarray(3, 6))).toEqual((json.h0 as number[][])[1]);
    const back = modelToJSON(model);
    expect(back).toEqual(parsed);
    expectBits('params', modelFromJSON(parseModel(back)).params, model.params);
    expect(unflattenParams(model, model.params)).toEqual(json.weights);
  });

  it('a one-layer model in the layered form is the flat model (Elman bx added into bh); h0 may be a list of one', () => {
    for (const cell of CELLS) {
      const json = randomLayeredModelJSON(new Rng(4), { ...shape(cell, 1, false, 'last') });
      const parsed = parseModel(json);
      expect(parsed.numLayers).toBeUndefined();
      expect(parsed.weights.layers).toBeUndefined();
      const l0 = json.weights.layers![0];
      expect(parsed.weights.Wx).toEqual(l0.Wx);
      expect(parsed.h0).toEqual((json.h0 as number[][])[0]);
      if (cell === 'elman') {
        expect(parsed.weights.bx).toBeUndefined();
        expect(parsed.weights.bh).toEqual(l0.bh.map((b, r) => b + l0.bx![r]));
      } else expect(parsed.weights.bx).toEqual(l0.bx);
      const flat = modelFromJSON(parsed);
      expect(flat.numLayers).toBeUndefined();
      expect(Object.keys(flat)).toEqual(Object.keys(modelFromJSON(parseModel(modelToJSON(flat)))));
    }
  });

  it('an Elman layer’s bx counts as bias: the same losses as bx folded into bh by hand, bh’s gradient for both', () => {
    const c = layeredCase(new Rng(5), shape('elman', 2, true, 'all'), [3, 2]);
    const folded = structuredClone(c.json);
    for (const l of folded.weights.layers!) {
      l.bh = l.bh.map((b, r) => b + l.bx![r]);
      delete l.bx;
    }
    const m2 = modelFromJSON(parseModel(folded));
    expectBits('params', m2.params, c.model.params);
    expect(paramLayout(c.model).layers!.every((l) => l.blocks.bx === undefined)).toBe(true);
  });

  const base = (): ModelJSON => randomLayeredModelJSON(new Rng(6), shape('lstm', 2, true, 'last'));
  const bad: [string, (j: ModelJSON) => void, string][] = [
    [
      'a block of the wrong shape names the layer, the shape and its formula',
      (j) => {
        j.hiddenSize = 5;
        const l = (k: number) => ({
          Wx: Array.from({ length: 20 }, () => new Array<number>(k < 2 ? 2 : 10).fill(0.1)),
          Wh: Array.from({ length: 20 }, () => new Array<number>(5).fill(0.1)),
          bx: new Array<number>(20).fill(0),
          bh: new Array<number>(20).fill(0),
        });
        j.weights.layers = [l(0), l(1), l(2), l(3)];
        j.weights.layers[3].Wx = Array.from({ length: 20 }, () => new Array<number>(5).fill(0.1));
        j.weights.Wy = [new Array<number>(10).fill(0), new Array<number>(10).fill(0)];
        delete j.h0;
        delete j.c0;
      },
      'model: weights.layers[3].Wx: expected 20×10 (4H×D·H for lstm layer 1), got 20×5',
    ],
    [
      'layers with the wrong count',
      (j) => j.weights.layers!.pop(),
      'weights.layers: expected 4 entries (numLayers 2 × 2 directions: l0, l0_reverse, l1, …), got 3',
    ],
    ['numLayers 0', (j) => (j.numLayers = 0), 'numLayers: must be an integer from 1 to 8, got 0'],
    ['numLayers 9', (j) => (j.numLayers = 9), 'numLayers: must be an integer from 1 to 8, got 9'],
    ['numLayers 1.5', (j) => (j.numLayers = 1.5), 'numLayers: must be an integer from 1 to 8, got 1.5'],
    [
      'numLayers as a string',
      (j) => ((j as { numLayers: unknown }).numLayers = '2'),
      'numLayers: expected a number, got the string "2"',
    ],
    [
      'bidirectional not a boolean',
      (j) => ((j as { bidirectional: unknown }).bidirectional = 1),
      'bidirectional: must be true or false, got the number 1',
    ],
    [
      'flat keys mixed with layers',
      (j) => (j.weights.Wx = [[1]]),
      'weights.Wx: flat recurrent weights cannot be mixed with weights.layers',
    ],
    [
      'a layered model with flat weights',
      (j) => {
        const l0 = j.weights.layers![0];
        delete j.weights.layers;
        Object.assign(j.weights, l0);
      },
      'weights.Wx: a model with numLayers 2, bidirectional takes its recurrent weights per layer and direction in weights.layers',
    ],
    [
      'the readout of a bidirectional model',
      (j) =>
        (j.weights.Wy = [
          [1, 2, 3],
          [4, 5, 6],
        ]),
      'weights.Wy: expected 2×6 (O×D·H for a bidirectional lstm model), got 2×3',
    ],
    [
      'an unknown key in a layer',
      (j) => ((j.weights.layers![2] as unknown as Record<string, unknown>).Whh = [[0]]),
      'weights.layers[2].Whh: unknown key (did you mean "Wh"?)',
    ],
    [
      'h0 with the wrong count',
      (j) => (j.h0 = [[0, 0, 0]]),
      'h0: expected 4 vectors of H = 3 (numLayers·D: one per layer and direction, in the order of weights.layers), got 1 vectors',
    ],
    ['a short c0 vector', (j) => ((j.c0 as number[][])[2] = [0, 0]), 'c0[2]: expected 3 entries, got 2'],
  ];
  for (const [what, edit, needle] of bad)
    it(`bad input is one line naming the field: ${what}`, () => {
      const j = base();
      edit(j);
      expect(message(() => parseModel(j))).toContain(needle);
    });

  it('the flat form of a one-layer Elman model still refuses bx', () => {
    const j = randomModelJSON(new Rng(7), { ...SMALL, activation: 'tanh', output: 'last' });
    j.weights.bx = [0, 0, 0];
    expect(message(() => parseModel(j))).toMatch(/weights\.bx.*elman cell has no bx/);
  });

  it('a hand-built Model object may be layered: params and h0 sized from numLayers and bidirectional', async () => {
    const c = layeredCase(new Rng(8), shape('gru', 2, true, 'last'), [2]);
    const { numLayers, bidirectional, inputSize, hiddenSize, outputSize, activation, output, cell } = c.model;
    const plain = { numLayers, bidirectional, inputSize, hiddenSize, outputSize, activation, output, cell };
    const ref = cpuRun(c.model, c.batch, { gradients: true });
    const engine = await Engine.create({ backend: 'cpu' });
    const r = await engine.run(
      { ...plain, params: Array.from(c.model.params), h0: Array.from(c.model.h0) } as never,
      c.batch,
    );
    expectBits('grads', r.gradsFlat!, ref.grads!);
    await expect(
      engine.run({ ...plain, params: Array.from(c.model.params).slice(1), h0: c.model.h0 } as never, c.batch),
    ).rejects.toThrow(`params: expected ${paramLayout(c.model).count} entries`);
    await expect(engine.run({ ...plain, params: c.model.params, h0: new Float64Array(3) }, c.batch)).rejects.toThrow(
      'h0: expected 12 entries, got 3',
    );
    engine.dispose();
  });
});

describe('central finite differences hold for every parameter of stacked and bidirectional models', () => {
  const CONFIGS: [number, boolean][] = [
    [1, true],
    [2, false],
    [2, true],
    [3, true],
  ];
  for (const cell of CELLS)
    for (const output of OUTPUTS)
      for (const [L, bi] of CONFIGS)
        it(`${cell}, numLayers ${L}${bi ? ', bidirectional' : ''}, output ${output}, ragged lengths`, () => {
          const c = layeredCase(
            new Rng(100 + L * 7 + (bi ? 3 : 0) + output.length),
            shape(cell, L, bi, output),
            [5, 1, 3],
          );
          const g = cpuRun(c.model, c.batch, { gradients: true }).grads!;
          const fd = finiteDifferences(c.model, c.batch);
          // Every layer's gradient is alive (none vanishes), so the check covers them all.
          for (const l of paramLayout(c.model).layers!) {
            const part = g.subarray(l.offset, l.offset + l.size);
            expect(Math.max(...Array.from(part, Math.abs)), `layer ${l.index}`).toBeGreaterThan(1e-3);
          }
          expectClose('dSSR/dθ against finite differences', g, fd, { atol: 1e-7, rtol: 1e-6 }, (k) =>
            paramName(c.model, k),
          );
        });
});

describe('the stacked path on a one-layer model is the one-layer path, bit for bit', () => {
  for (const cell of CELLS)
    for (const output of OUTPUTS)
      it(`${cell}, output ${output}: full and truncated BPTT, float64 and float32`, () => {
        const rng = new Rng(200 + cell.length + output.length);
        const json = randomModelJSON(rng, { ...SMALL, activation: 'tanh', output, cell, h0: true });
        const data = randomData(rng, json, [4, 1, 6]);
        const model = modelFromJSON(json);
        const batch = batchFromArrays(data.inputs, data.targets, output);
        for (const opts of [{}, { truncation: 2 }, { precision: 'f32' as const }]) {
          const a = cpuRun(model, batch, { gradients: true, outputs: true, ...opts });
          const b = cpuRunStacked(model, batch, { gradients: true, outputs: true, ...opts });
          expect(b.loss).toBe(a.loss);
          expectBits('grads', b.grads!, a.grads!);
          expectBits('outputs', b.outputs!, a.outputs!);
        }
      });
});

/** Sequence n's steps [from, to) of a batch, as a batch of the same sequences (targets per step: output `all`). */
function slice(batch: Batch, from: number[], to: number[]): Batch {
  const I = batch.inputSize;
  const O = batch.outputSize;
  const inputs: number[][][] = [];
  const targets: number[][][] = [];
  for (let n = 0; n < batch.count; n++) {
    const seq: number[][] = [];
    const tg: number[][] = [];
    for (let t = from[n]; t < to[n]; t++) {
      const s = batch.offsets[n] + t;
      seq.push(Array.from(batch.inputs.subarray(s * I, (s + 1) * I)));
      tg.push(Array.from(batch.targets!.subarray(s * O, (s + 1) * O)));
    }
    inputs.push(seq);
    targets.push(tg);
  }
  return batchFromArrays(inputs, targets, 'all');
}

/** Runs `batch` in chunks ending at each sequence's `cuts` (and its end), carrying the final states into the next. */
function chunked(model: Model, batch: Batch, cuts: number[][]): { outputs: Float64Array; states: RnnStates } {
  const N = batch.count;
  const O = model.outputSize;
  const outputs = new Float64Array(batch.offsets[N] * O);
  let from = new Array<number>(N).fill(0);
  let states: RnnStates | undefined;
  for (const cut of [...cuts, Array.from(batch.lengths)]) {
    const part = slice(batch, from, cut);
    if (states) part.initialStates = states;
    const r: RawResult = cpuRun(model, part, { outputs: true, finalStates: true });
    for (let n = 0; n < N; n++)
      outputs.set(r.outputs!.subarray(part.offsets[n] * O, part.offsets[n + 1] * O), (batch.offsets[n] + from[n]) * O);
    states = r.finalStates!;
    from = cut;
  }
  return { outputs, states: states! };
}

describe('carried states: a long series in chunks equals one run, bit for bit', () => {
  for (const cell of CELLS)
    for (const L of [1, 2, 3])
      it(`${cell}, numLayers ${L}, one direction: outputs and final states of 3 chunks equal one run's`, () => {
        const c = layeredCase(new Rng(300 + L + cell.length), shape(cell, L, false, 'all'), [9, 6, 7]);
        const whole = cpuRun(c.model, c.batch, { outputs: true, finalStates: true });
        const flat = cpuRun(c.model, c.batch, { outputs: true });
        expectBits('outputs with and without finalStates', whole.outputs!, flat.outputs!);
        const parts = chunked(c.model, c.batch, [
          [3, 1, 2],
          [7, 4, 5],
        ]);
        expectBits('outputs', parts.outputs, whole.outputs!);
        expectBits('final h', parts.states.h, whole.finalStates!.h);
        if (cell === 'lstm') expectBits('final c', parts.states.c!, whole.finalStates!.c!);
        else expect(whole.finalStates!.c).toBeUndefined();
        expect(whole.finalStates!.h.length).toBe(L * 3 * SMALL.hiddenSize);
      });

  it("final states are each layer's last hidden state (h_n), the top layer's at the sequence's last output", () => {
    const c = layeredCase(new Rng(310), shape('gru', 2, false, 'all'), [4, 2]);
    const r = cpuRun(c.model, c.batch, { outputs: true, finalStates: true });
    // The top layer's final h is what the readout read at the last step: y = Wy·h + by.
    const H = SMALL.hiddenSize;
    const { Wy, by } = paramLayout(c.model).blocks;
    for (let n = 0; n < 2; n++) {
      const h = r.finalStates!.h.subarray((1 * 2 + n) * H, (1 * 2 + n + 1) * H);
      const t = c.batch.offsets[n + 1] - 1;
      for (let o = 0; o < SMALL.outputSize; o++) {
        let v = c.model.params[by.offset + o];
        for (let j = 0; j < H; j++) v += c.model.params[Wy.offset + o * H + j] * h[j];
        expect(r.outputs![t * SMALL.outputSize + o]).toBeCloseTo(v, 12);
      }
    }
  });

  it('a bidirectional model in chunks is not one run: the reverse direction starts at each chunk’s end', () => {
    const c = layeredCase(new Rng(320), shape('lstm', 1, true, 'all'), [6, 6]);
    const whole = cpuRun(c.model, c.batch, { outputs: true, finalStates: true });
    const parts = chunked(c.model, c.batch, [[3, 3]]);
    expect(compareArrays(parts.outputs, whole.outputs!, { atol: 1e-6, rtol: 1e-6 }).ok).toBe(false);
  });

  it('gradients across a chunk boundary are truncated: two chunks’ gradients sum to truncated BPTT at the cut', () => {
    // One sequence of 8 steps cut at 4: the chunks' gradients add up to truncation every 4 steps.
    const c = layeredCase(new Rng(330), shape('lstm', 2, false, 'all'), [8]);
    const truncated = cpuRun(c.model, c.batch, { gradients: true, truncation: 4 }).grads!;
    const first = slice(c.batch, [0], [4]);
    const a = cpuRun(c.model, first, { gradients: true, finalStates: true });
    const second = slice(c.batch, [4], [8]);
    second.initialStates = a.finalStates!;
    const b = cpuRun(c.model, second, { gradients: true });
    const sum = a.grads!.map((v, k) => v + b.grads![k]);
    expectClose('chunks against truncation', sum, truncated, { atol: 1e-13, rtol: 1e-12 }, (k) =>
      paramName(c.model, k),
    );
  });

  it('per-sequence initial states replace the model’s h0 and c0 (a one-layer LSTM on the stacked path)', () => {
    const rng = new Rng(340);
    const json = randomModelJSON(rng, { ...SMALL, activation: 'tanh', output: 'last', cell: 'lstm', h0: true });
    const data = randomData(rng, json, [3, 5]);
    const model = modelFromJSON(json);
    const batch = batchFromArrays(data.inputs, data.targets, 'last');
    const h0 = Array.from(model.h0);
    const c0 = Array.from(model.c0!);
    batch.initialStates = { h: Float64Array.from([...h0, ...h0]), c: Float64Array.from([...c0, ...c0]) };
    const a = cpuRun(model, batch, { gradients: true, outputs: true });
    delete batch.initialStates;
    const b = cpuRun(model, batch, { gradients: true, outputs: true });
    expectBits('outputs', a.outputs!, b.outputs!);
    expectBits('grads', a.grads!, b.grads!);
  });
});

describe('determinism and truncation on stacked models', () => {
  it('two runs give the same bits', () => {
    const c = layeredCase(new Rng(400), shape('gru', 3, true, 'all'), [4, 2, 5]);
    const a = cpuRun(c.model, c.batch, { gradients: true, outputs: true, finalStates: true });
    const b = cpuRun(c.model, c.batch, { gradients: true, outputs: true, finalStates: true });
    expect(a.loss).toBe(b.loss);
    expectBits('grads', a.grads!, b.grads!);
    expectBits('outputs', a.outputs!, b.outputs!);
    expectBits('h_n', a.finalStates!.h, b.finalStates!.h);
  });

  it('a window as long as the sequences is full BPTT bit for bit; a window of 1 changes the gradients', () => {
    const c = layeredCase(new Rng(410), shape('elman', 2, true, 'all'), [4, 5]);
    const full = cpuRun(c.model, c.batch, { gradients: true }).grads!;
    expectBits('k = 5', cpuRun(c.model, c.batch, { gradients: true, truncation: 5 }).grads!, full);
    const k1 = cpuRun(c.model, c.batch, { gradients: true, truncation: 1 }).grads!;
    expect(compareArrays(k1, full, { atol: 1e-9, rtol: 1e-6 }).ok).toBe(false);
  });
});

describe('the engine on the CPU backend', () => {
  it('returns grads.layers[k].{Wx, Wh, bx, bh}, grads.Wy, grads.by and the final states', async () => {
    const c = layeredCase(new Rng(500), shape('lstm', 2, true, 'last'), [3, 4]);
    const engine = await Engine.create({ backend: 'cpu' });
    const r = await engine.run(c.json, c.batch, { outputs: true, finalStates: true });
    const ref = cpuRun(c.model, c.batch, { gradients: true, outputs: true, finalStates: true });
    expectBits('gradsFlat', r.gradsFlat!, ref.grads!);
    expect(Object.keys(r.grads!)).toEqual(['layers', 'Wy', 'by']);
    expect(r.grads!.layers!.length).toBe(4);
    expect(Object.keys(r.grads!.layers![3])).toEqual(['Wx', 'Wh', 'bx', 'bh']);
    expect(r.grads!.layers![2].Wx.length).toBe(12);
    expect(r.grads!.layers![2].Wx[0].length).toBe(6);
    expect(r.grads!.Wy[0].length).toBe(6);
    expectBits('h_n', r.finalStates!.h, ref.finalStates!.h);
    expectBits('c_n', r.finalStates!.c!, ref.finalStates!.c!);
    expect(r.fallbackReason).toBeUndefined();
    expect(nestStates(r.finalStates!.h, 4, 2, 3)[3][1]).toEqual(Array.from(r.finalStates!.h.subarray(21, 24)));
    engine.dispose();
  });

  it('checks initialStates against the model: size, finiteness, c for the LSTM only', async () => {
    const c = layeredCase(new Rng(510), shape('lstm', 2, false, 'last'), [3, 4]);
    const n = layerCount(c.model) * 2 * 3;
    const check = (s: unknown): string =>
      message(() => checkInitialStates(c.model, { ...c.batch, initialStates: s as RnnStates }));
    expect(check({ h: new Float64Array(n) })).toBe(
      'data: initialStates.c: missing: expected a Float64Array (the lstm cell carries h and c)',
    );
    expect(check({ h: new Float64Array(n - 1), c: new Float64Array(n) })).toBe(
      'data: initialStates.h: expected 12 values (2 layer-directions (numLayers·D) × 2 sequences × H = 3), got 11',
    );
    const bad = new Float64Array(n);
    bad[3 * 2 + 3 + 1] = NaN; // layer-direction 1, sequence 1, unit 1
    expect(check({ h: bad, c: new Float64Array(n) })).toBe('data: initialStates.h[1][1][1]: must be finite, got NaN');
    expect(check({ h: [0], c: new Float64Array(n) })).toContain(
      'initialStates.h: expected a Float64Array or Float32Array',
    );
    const g = layeredCase(new Rng(511), shape('gru', 1, false, 'last'), [2]);
    expect(
      message(() =>
        checkInitialStates(g.model, { ...g.batch, initialStates: { h: new Float64Array(3), c: new Float64Array(3) } }),
      ),
    ).toContain('initialStates.c: only the lstm cell has a cell state');
    const engine = await Engine.create({ backend: 'cpu' });
    await expect(engine.run(c.model, { ...c.batch, initialStates: { h: new Float64Array(1) } })).rejects.toThrow(
      'initialStates.h: expected',
    );
    engine.dispose();
  });

  it('a states file: [numLayers·D][N][H] nested, each count named', () => {
    const c = layeredCase(new Rng(520), shape('elman', 1, true, 'last'), [2, 2, 2]);
    const h = [0, 1].map((k) => [0, 1, 2].map((n) => [k, n, 0.5]));
    const s = parseStates({ h }, c.model, 3, 'f.json');
    expect(Array.from(s.h.subarray(3 * 4, 3 * 5))).toEqual([1, 1, 0.5]);
    expect(s.c).toBeUndefined();
    expect(message(() => parseStates({ h: h.slice(1) }, c.model, 3, 'f.json'))).toBe(
      'f.json: h: expected 2 entries (numLayers·D: one per layer and direction, in the order of weights.layers), got 1',
    );
    expect(message(() => parseStates({ h: [h[0], h[1].slice(1)] }, c.model, 3, 'f.json'))).toBe(
      'f.json: h[1]: expected 3 entries (one per sequence of the data), got 2',
    );
    expect(message(() => parseStates({ h, c: h }, c.model, 3, 'f.json'))).toContain('c: only the lstm cell');
    expect(message(() => parseStates({ h, hn: 1 }, c.model, 3, 'f.json'))).toContain('hn: unknown key');
  });
});

describe('what only the CPU serves', () => {
  it('names model.numLayers, model.bidirectional, initialStates and finalStates', () => {
    const stack = layeredCase(new Rng(600), shape('gru', 2, false, 'last'), [2]);
    const bi = layeredCase(new Rng(601), shape('gru', 1, true, 'last'), [2]);
    const flat = modelFromJSON(randomModelJSON(new Rng(602), { ...SMALL, activation: 'tanh', output: 'last' }));
    // Training: on WebGPU through the layered kernels where they take the shape (H = 3 here).
    expect(cpuOnlyModel(stack.model)).toBeNull();
    expect(cpuOnlyModel(bi.model)).toBeNull();
    expect(cpuOnlyModel(flat)).toBeNull();
    // Engine runs: the per-sequence strategy's layered kernels take these shapes (H = 3) ...
    const b = stack.batch;
    expect(cpuOnlyRun(stack.model, b, {})).toBeNull();
    expect(cpuOnlyRun(bi.model, bi.batch, {})).toBeNull();
    expect(cpuOnlyRun(flat, b, { finalStates: true })).toBeNull();
    // ... and beyond them (a gated cell past H = 8) the gemm strategy runs and trains them, carried states and
    // inter-layer dropout included.
    const wide = layeredCase(new Rng(603), { ...shape('gru', 2, true, 'last'), hiddenSize: 9 }, [2]);
    expect(cpuOnlyRun(wide.model, wide.batch, {})).toBeNull();
    expect(cpuOnlyRun(wide.model, wide.batch, { gradients: false })).toBeNull();
    expect(cpuOnlyRun(wide.model, wide.batch, { finalStates: true })).toBeNull();
    expect(cpuOnlyModel(wide.model)).toBeNull();
    const wideFlat = modelFromJSON(
      randomModelJSON(new Rng(604), { ...SMALL, hiddenSize: 9, cell: 'lstm', activation: 'tanh', output: 'last' }),
    );
    expect(cpuOnlyRun(wideFlat, b, { finalStates: true })).toBeNull();
    expect(cpuOnlyRun(wideFlat, { ...b, initialStates: { h: new Float64Array(9) } }, {})).toBeNull();
    // Beyond the gemm strategy's sizes too, both limits are named, with the field at fault.
    const huge = { cell: 'gru' as const, inputSize: 1, hiddenSize: 600, outputSize: 1, numLayers: 2 };
    const why = cpuOnlyRun(huge, wide.batch, {})!;
    expect(why.field).toBe('model.numLayers');
    expect(why.what).toMatch(
      /^on WebGPU, stacked models run on the per-sequence strategy, and it keeps the weights in private arrays and takes hiddenSize ≤ 8 for the gru cell .*, got 600, and on the gemm strategy it takes I ≤ \d+, H ≤ 512, O ≤ \d+$/,
    );
    expect(cpuOnlyModel(huge)!.what).toContain('got 600, and on the gemm strategy it takes');
    expect(cpuOnlyModel({ ...huge, numLayers: 1, bidirectional: true })!.field).toBe('model.bidirectional');
    const hugeFlat = { cell: 'gru' as const, inputSize: 1, hiddenSize: 600, outputSize: 1 };
    expect(cpuOnlyRun(hugeFlat, b, {})).toBeNull();
    expect(cpuOnlyRun(hugeFlat, b, { finalStates: true })!.field).toBe('finalStates');
    expect(cpuOnlyRun(hugeFlat, { ...b, initialStates: { h: new Float64Array(600) } }, {})!.field).toBe(
      'initialStates',
    );
  });

  it('the trainers take stacked and bidirectional models on the CPU, and refuse carried states', async () => {
    const c = layeredCase(new Rng(610), shape('lstm', 2, false, 'last'), [3]);
    const engine = await Engine.create({ backend: 'cpu' });
    const opts = { optimizer: { kind: 'adam' as const, lr: 0.01 }, steps: 2 };
    const r = await train(engine, c.json, c.batch, opts);
    expect(r.backend).toBe('cpu');
    expect(r.fallbackReason).toBeUndefined();
    expect(r.model.numLayers).toBe(2);
    expect(r.finalLoss).toBe(cpuRun(r.model, c.batch, {}).loss);
    const bi = layeredCase(new Rng(611), shape('elman', 1, true, 'last'), [3]);
    expect(randomPopulation(bi.model, 2, 1).map((m) => m.params.length)).toEqual([
      bi.model.params.length,
      bi.model.params.length,
    ]);
    const flat = modelFromJSON(randomModelJSON(new Rng(612), { ...SMALL, activation: 'tanh', output: 'last' }));
    const batch = batchFromArrays([[[0.1, 0.2]]], [[0, 1]], 'last');
    batch.initialStates = { h: new Float64Array(3) };
    await expect(train(engine, flat, batch, opts)).rejects.toThrow('data: initialStates: training starts');
    engine.dispose();
  });
});
