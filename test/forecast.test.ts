// Forecasting a series end to end on the CPU: the time column, the split of rows by time and its windows,
// normalisation fitted on the training rows and undone on predictions, the test error against the naive forecast
// and the rolled-forward forecast (against hand computation with a linear model), training a user can rely on
// (resume bit for bit, early stopping keeping the best weights, weight decay, the mean loss, initialisers), and
// bad input naming the field or option.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { batchFromArrays, type Batch } from '../src/batch.ts';
import { parseCsv } from '../src/data/csv.ts';
import {
  denormalize,
  forecastErrors,
  fitNormalization,
  forecastSplit,
  naiveForecast,
  normalizeSeries,
} from '../src/data/series.ts';
import { Engine } from '../src/engine.ts';
import { modelFromJSON, paramLayout, type Model, type ModelJSON } from '../src/model.ts';
import { randomModel } from '../src/random.ts';
import { train } from '../src/train/index.ts';
import { initialWeights } from '../src/train/init.ts';
import { resolveOptions } from '../src/train/options.ts';
import { optimizerStep, STATUS_OK } from '../src/train/optimizer.ts';
import { cli, expectInputError, json } from './helpers/cli.ts';
import { tempFiles } from './helpers/files.ts';
import type { ForecastReport, PredictReport, TrainReport } from './helpers/reports.ts';
import { parseModel } from '../src/validate.ts';

const { tmp } = tempFiles('webgpu-rnn-forecast-');
const engineP = Engine.create({ backend: 'cpu' });

/** year,value: 1..n as the value, so every window's rows can be read off its values. */
const countingCsv = (n: number): string =>
  'year,value\n' + Array.from({ length: n }, (_, k) => `${2000 + k},${k + 1}`).join('\n') + '\n';

describe('the series: time column, split by time, windows, normalisation', () => {
  it('detects the time column by its header or its dates, or takes it by name, or none', () => {
    expect(parseCsv(countingCsv(5)).timeColumn).toBe('year');
    expect(parseCsv(countingCsv(5)).names).toEqual(['value']);
    expect(parseCsv(countingCsv(5)).times).toEqual(['2000', '2001', '2002', '2003', '2004']);
    const dated = parseCsv('when,a,b\n2024-01-01,1,2\n2024-01-02,3,4\n');
    expect(dated.timeColumn).toBe('when');
    expect(dated.names).toEqual(['a', 'b']);
    const named = parseCsv('t,a\n5,1\n6,2\n', { timeColumn: 't' });
    expect(named.names).toEqual(['a']);
    expect(named.times).toEqual(['5', '6']);
    expect(parseCsv(countingCsv(3), { timeColumn: 'none' }).names).toEqual(['year', 'value']);
  });

  it('splits the rows by time and cuts windows wholly inside each part', () => {
    const s = parseCsv(countingCsv(20));
    const f = forecastSplit(s, { window: 3, horizon: 2, validation: 0.25, test: 0.25, normalize: null });
    // 20 rows: training 1–10, validation 11–15, test 16–20.
    expect([f.a, f.b]).toEqual([10, 15]);
    const tr = f.train.batch;
    expect(tr.count).toBe(10 - 3 - 2 + 1);
    expect(Array.from(tr.inputs.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(Array.from(tr.targets!.subarray(0, 2))).toEqual([4, 5]);
    // The last training window's last target is row 10: nothing of the validation rows.
    expect(Array.from(tr.targets!.subarray(2 * (tr.count - 1)))).toEqual([9, 10]);
    expect(Array.from(f.validation!.batch.inputs.subarray(0, 3))).toEqual([11, 12, 13]);
    // A 5-row need (window 3 + horizon 2) does not fit the 4 validation rows: an error naming --window.
    expect(() => forecastSplit(s, { window: 3, horizon: 2, validation: 0.2, test: 0.2, normalize: null })).toThrow(
      /--window: .*validation part \(4 rows\)/,
    );
    const g = forecastSplit(s, { window: 2, horizon: 1, validation: 0.2, test: 0.2, normalize: null });
    expect(g.validation!.batch.count).toBe(2);
    expect(Array.from(g.validation!.batch.inputs)).toEqual([13, 14, 14, 15]);
    expect(Array.from(g.validation!.batch.targets!)).toEqual([15, 16]);
    expect(Array.from(g.test!.batch.inputs)).toEqual([17, 18, 18, 19]);
    expect(Array.from(g.test!.batch.targets!)).toEqual([19, 20]);
    expect(() => forecastSplit(s, { window: 4, horizon: 1, validation: 0.2, test: 0.2, normalize: null })).toThrow(
      /--window: a window of 4 rows plus 1 target row is longer than the validation part \(4 rows\)/,
    );
    expect(() => forecastSplit(s, { window: 1, horizon: 4, validation: 0.2, test: 0.2, normalize: null })).toThrow(
      /--horizon: a horizon of 4 leaves no room for a window in the validation part/,
    );
  });

  it('fits z-score and min-max on the training rows only, and undoes them exactly', () => {
    const s = parseCsv('v\n1\n2\n3\n4\n100\n100\n');
    const train = [1, 2, 3, 4];
    const mean = 2.5;
    const std = Math.sqrt(train.reduce((a, x) => a + (x - mean) ** 2, 0) / 4);
    const z = forecastSplit(s, {
      window: 1,
      horizon: 1,
      validation: 0,
      test: 0.34,
      normalize: 'zscore',
    }).normalization!;
    expect(z.offset[0]).toBe(mean);
    expect(z.scale[0]).toBeCloseTo(std, 15);
    const m = fitNormalization(s, 'minmax', 4);
    expect([m.offset[0], m.scale[0]]).toEqual([1, 3]);
    const n = normalizeSeries(s, m);
    expect(Array.from(n.values[0])).toEqual([0, 1 / 3, 2 / 3, 1, 33, 33]);
    const back = denormalize(n.values[0], m, 1);
    Array.from(back).forEach((x, k) => expect(x).toBeCloseTo(s.values[0][k], 12));
  });

  it('MAE, RMSE and the naive last-value forecast', () => {
    const e = forecastErrors([1, 2, 4], [2, 2, 1]);
    expect(e.mae).toBeCloseTo((1 + 0 + 3) / 3, 15);
    expect(e.rmse).toBeCloseTo(Math.sqrt((1 + 0 + 9) / 3), 15);
    // Two windows of 3 steps, 2 columns, horizon 2: every output is the window's last value of its column.
    const inputs = [1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60];
    expect(Array.from(naiveForecast(inputs, 2, 3, 2, 2))).toEqual([3, 30, 3, 30, 6, 60, 6, 60]);
  });
});

/** y = a·x_last + b in normalised units: Elman, identity activation, H = 1, Wh = 0. */
function linearModel(a: number, b: number, extra: Partial<ModelJSON>): string {
  const path = tmp('linear.json');
  const json: ModelJSON = {
    inputSize: 1,
    hiddenSize: 1,
    outputSize: 1,
    activation: 'identity',
    output: 'last',
    weights: { Wx: [[1]], Wh: [[0]], bh: [0], Wy: [[a]], by: [b] },
    ...extra,
  };
  writeFileSync(path, JSON.stringify(json));
  return path;
}

describe('forecast and predict (CLI) against hand computation', () => {
  const values = [3, 5, 4, 6, 8, 7, 9, 12, 10, 11, 14, 13];
  const csv = tmp('series.csv');
  writeFileSync(csv, 'year,level\n' + values.map((v, k) => `${1990 + k},${v}`).join('\n') + '\n');
  const series = {
    columns: ['level'],
    timeColumn: 'year',
    window: 2,
    horizon: 1,
    validation: 0,
    test: 0.25,
    min: [3],
    max: [12],
  };

  it("test errors beside the naive forecast, and K steps fed back, in the series' units (z-score)", async () => {
    const mu = 5;
    const sd = 2;
    const [a, b] = [0.9, 0.3];
    const model = linearModel(a, b, { series, normalization: { kind: 'zscore', offset: [mu], scale: [sd] } });
    const out = tmp('f.csv');
    const r = await json<ForecastReport>(
      'forecast',
      '--backend',
      'cpu',
      '--model',
      model,
      '--data',
      csv,
      '--steps',
      '3',
      '--out',
      out,
    );
    const f = (x: number): number => (a * ((x - mu) / sd) + b) * sd + mu;
    // Test rows: the last 3 (round(12·0.25)); windows of 2 rows + 1 target inside them: one window, rows 10, 11 → 12.
    const pred = [f(values[10])];
    const actual = [values[11]];
    const test = r.test!;
    expect(test.windows).toBe(1);
    expect(test.model.mae).toBeCloseTo(Math.abs(pred[0] - actual[0]), 12);
    expect(test.model.rmse).toBeCloseTo(Math.abs(pred[0] - actual[0]), 12);
    expect(test.naive.mae).toBeCloseTo(Math.abs(values[10] - actual[0]), 12);
    const y1 = f(values[11]);
    const y2 = f(y1);
    const y3 = f(y2);
    expect(r.forecast.map((p) => p.level)).toEqual([y1, y2, y3].map((y): unknown => expect.closeTo(y, 12)));
    expect(r.forecast.map((p) => p.year)).toEqual(['2002', '2003', '2004']);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('year,level');
    expect(Number(lines[1].split(',')[1])).toBeCloseTo(y1, 8);
  });

  it("predict gives every window in the series' units; forecast warns on a series far outside an unnormalised model's range", async () => {
    const [a, b] = [1.5, -2];
    const model = linearModel(a, b, { series });
    const r = await json<PredictReport>('predict', '--backend', 'cpu', '--model', model, '--data', csv);
    expect(r.rows.length).toBe(values.length - 2 + 1);
    r.rows.forEach((row, w) => {
      expect(row[1]).toBeCloseTo(a * values[w + 1] + b, 12);
      expect(row[2]).toBe(w + 2 < values.length ? values[w + 2] : null);
    });
    expect(r.rows[0][0]).toBe('1992');
    const far = tmp('far.csv');
    writeFileSync(far, 'year,level\n' + values.map((v, k) => `${1990 + k},${v * 100}`).join('\n') + '\n');
    const w = await cli('forecast', '--backend', 'cpu', '--model', model, '--data', far, '--steps', '1');
    expect(w.code).toBe(0);
    expect(w.stderr).toMatch(
      /^webgpu-rnn: warning: .*far\.csv: column "level" has values far outside the model's training range \[3, 12\]/,
    );
    const normalised = linearModel(a, b, { series, normalization: { kind: 'zscore', offset: [5], scale: [2] } });
    expect(
      (await cli('forecast', '--backend', 'cpu', '--model', normalised, '--data', far, '--steps', '1')).stderr,
    ).toBe('');
    // A data file: its inputs normalised with the model's normalisation, its outputs mapped back.
    const d = tmp('d.json');
    writeFileSync(d, JSON.stringify({ inputs: [[[4], [9]], [[7]]], targets: [[1], [2]] }));
    const p = await json<PredictReport>('predict', '--backend', 'cpu', '--model', normalised, '--data', d);
    expect(p.rows.map((r) => r[1])).toEqual(
      [9, 7].map((x): unknown => expect.closeTo((a * ((x - 5) / 2) + b) * 2 + 5, 12)),
    );
    expect(p.rows.map((r) => r[2])).toEqual([1, 2]);
  });
});

const data = (n: number, seed: number): Batch => {
  const xs = Array.from({ length: n }, (_, i) => Array.from({ length: 4 }, (_, t) => [Math.sin(0.7 * (i + t) + seed)]));
  return batchFromArrays(
    xs,
    xs.map((s) => [Math.sin(0.7 * s.length + seed) * 0.5 + s[3][0] * 0.3]),
    'last',
    1,
  );
};

describe('training a user can rely on', () => {
  const base = (cell: 'elman' | 'lstm' | 'gru'): Model => {
    const json = randomModel({ inputSize: 1, hiddenSize: 3, outputSize: 1 }, 'tanh', 'last', 7);
    if (cell === 'elman') return modelFromJSON(json);
    const shape = { cell, inputSize: 1, hiddenSize: 3, outputSize: 1 };
    const zero = modelFromJSON(
      parseModel({
        ...shape,
        activation: 'tanh',
        output: 'last',
        weights: {
          Wx: [[0], [0], [0], [0], [0], [0], [0], [0], [0], [0], [0], [0]].slice(0, (cell === 'lstm' ? 4 : 3) * 3),
          Wh: Array.from({ length: (cell === 'lstm' ? 4 : 3) * 3 }, () => [0, 0, 0]),
          bx: new Array((cell === 'lstm' ? 4 : 3) * 3).fill(0),
          bh: new Array((cell === 'lstm' ? 4 : 3) * 3).fill(0),
          Wy: [[0, 0, 0]],
          by: [0],
        },
      }),
    );
    return initialWeights(zero, 3, 0.5);
  };

  it('resumes Adam exactly: 2 × 15 steps with the saved state equal 30 uninterrupted, bit for bit (mini-batches, cosine, LSTM)', async () => {
    const engine = await engineP;
    const d = data(12, 0);
    const opts = {
      optimizer: { kind: 'adam' as const, lr: 0.02 },
      batchSize: 5,
      seed: 4,
      schedule: { kind: 'cosine' as const },
      clipNorm: 1,
      weightDecay: 0.01,
    };
    const m = base('lstm');
    const whole = await train(engine, m, d, { ...opts, steps: 30 });
    const first = await train(engine, m, d, { ...opts, steps: 15, scheduleSteps: 30 });
    expect(first.optimizerState.step).toBe(15);
    const second = await train(engine, first.model, d, { ...opts, steps: 15, resume: first.optimizerState });
    expect(second.steps).toBe(30);
    expect(Array.from(second.model.params)).toEqual(Array.from(whole.model.params));
    expect(Array.from(second.optimizerState.m)).toEqual(Array.from(whole.optimizerState.m));
    expect(second.history.at(-1)).toEqual(whole.history.at(-1));
  });

  it('train --resume continues the saved run exactly (model and M.optimizer.json)', async () => {
    const csv = tmp('sine.csv');
    writeFileSync(
      csv,
      'time,x\n' + Array.from({ length: 60 }, (_, k) => `${k},${Math.sin(k / 4).toFixed(5)}`).join('\n') + '\n',
    );
    const common = [
      '--backend',
      'cpu',
      '--data',
      csv,
      '--window',
      '6',
      '--validation',
      '0.2',
      '--normalize',
      'minmax',
      '--batch-size',
      '8',
      '--seed',
      '5',
      '--lr',
      '0.03',
    ];
    const a = tmp('a.json');
    const whole = tmp('whole.json');
    await json('train', ...common, '--hidden', '3', '--steps', '20', '--out', whole);
    await json('train', ...common, '--hidden', '3', '--steps', '10', '--out', a);
    expect(existsSync(a.replace(/\.json$/, '.optimizer.json'))).toBe(true);
    const b = tmp('b.json');
    const r = await json<TrainReport>('train', ...common, '--resume', a, '--steps', '10', '--out', b);
    expect(r.steps).toBe(20);
    const saved = JSON.parse(readFileSync(b, 'utf8')) as ModelJSON;
    expect(saved.weights).toEqual((JSON.parse(readFileSync(whole, 'utf8')) as ModelJSON).weights);
    expect(saved.normalization!.kind).toBe('minmax');
    expect(saved.series).toMatchObject({
      columns: ['x'],
      timeColumn: 'time',
      window: 6,
      horizon: 1,
      validation: 0.2,
      test: 0,
    });
    expectInputError(
      await cli('train', ...common, '--optimizer', 'sgd', '--resume', a, '--steps', '5'),
      '--optimizer',
      'adam',
    );
  });

  it('early stopping on the validation loss keeps the best weights (those of an uninterrupted run to that step)', async () => {
    const engine = await engineP;
    const d = data(10, 0);
    // A validation set whose targets are the negated training targets: training makes it worse.
    const v = { ...d, targets: Float64Array.from(d.targets!, (x) => -x) };
    const opts = { optimizer: { kind: 'adam' as const, lr: 0.05 } };
    const m = base('elman');
    const r = await train(engine, m, d, { ...opts, steps: 200, validation: v, validateEvery: 10, patience: 3 });
    expect(r.stoppedOnValidation).toBe(true);
    const losses = r.validationHistory.map((p) => p.loss);
    const best = Math.min(...losses);
    expect(r.validationLoss).toBe(best);
    expect(r.bestStep).toBe(r.validationHistory[losses.indexOf(best)].step);
    expect(r.steps).toBe(r.bestStep! + 3 * 10);
    const ref = await train(engine, m, d, { ...opts, steps: r.bestStep!, scheduleSteps: 200 });
    expect(Array.from(r.model.params)).toEqual(Array.from(ref.model.params));
  });

  it('weight decay: one SGD and one Adam step against hand computation (L2 added after clipping)', () => {
    const sgd = resolveOptions({ optimizer: { kind: 'sgd', lr: 0.1 }, steps: 1 }, 1, 1).optimizer;
    const step = (
      o: typeof sgd,
      theta: Float64Array,
      state: { m: Float64Array; v: Float64Array },
      c1 = 1,
      c2 = 1,
    ): number =>
      optimizerStep(o, theta, state, {
        loss: 1,
        overflowed: 0,
        grads: Float64Array.from([3, 4]),
        lr: 0.1,
        c1,
        c2,
        lossThreshold: -Infinity,
        clipNorm: 1,
        mask: null,
        weightDecay: 0.5,
        lossScale: 1,
      });
    const theta = Float64Array.from([2, -1]);
    expect(step(sgd, theta, { m: new Float64Array(2), v: new Float64Array(2) })).toBe(STATUS_OK);
    // g clipped to norm 1: (0.6, 0.8); plus 0.5·θ: (1.6, 0.3); θ − 0.1·g.
    expect(theta[0]).toBeCloseTo(2 - 0.1 * 1.6, 15);
    expect(theta[1]).toBeCloseTo(-1 - 0.1 * 0.3, 15);
    const adam = resolveOptions({ optimizer: { kind: 'adam', lr: 0.1 }, steps: 1 }, 1, 1).optimizer;
    const t2 = Float64Array.from([2, -1]);
    const st = { m: new Float64Array(2), v: new Float64Array(2) };
    step(adam, t2, st, 1 - 0.9, 1 - 0.999);
    const g = [1.6, 0.3];
    g.forEach((gp, p) => {
      expect(st.m[p]).toBeCloseTo(0.1 * gp, 15);
      expect(st.v[p]).toBeCloseTo(0.001 * gp * gp, 15);
    });
    expect(t2[0]).toBeCloseTo(2 - (0.1 * (0.16 / 0.1)) / (Math.sqrt((0.001 * 2.56) / 0.001) + 1e-8), 12);
  });

  it('the mean loss is the SSR per target value; SGD on it equals SGD on the SSR with lr / (N·O)', async () => {
    const engine = await engineP;
    const d = data(8, 1);
    const m = base('gru');
    const mean = await train(engine, m, d, { optimizer: { kind: 'sgd', lr: 0.4 }, steps: 5, loss: 'mean' });
    const ssr = await train(engine, m, d, { optimizer: { kind: 'sgd', lr: 0.4 / 8 }, steps: 5 });
    Array.from(mean.model.params).forEach((x, p) => expect(x).toBeCloseTo(ssr.model.params[p], 12));
    expect(mean.finalLoss).toBeCloseTo(ssr.finalLoss / 8, 12);
    expect(mean.history[0].loss).toBeCloseTo(ssr.history[0].loss / 8, 6);
  });

  it('initialisers: Xavier bounds and orthogonal Wh per gate block (WᵀW = I), the rest uniform in ±scale', () => {
    for (const cell of ['elman', 'lstm', 'gru'] as const) {
      const m = base(cell);
      const H = m.hiddenSize;
      const L = paramLayout(m);
      const gates = L.blocks.Wh.rows / H;
      const x = initialWeights(m, 9, 0.25, 'xavier');
      const bound = Math.sqrt(6 / (2 * H));
      const wh = x.params.subarray(L.blocks.Wh.offset, L.blocks.Wh.offset + L.blocks.Wh.size);
      expect(Math.max(...wh.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...wh.map(Math.abs))).toBeGreaterThan(0.25);
      const rest = Array.from(x.params).filter(
        (_, p) => p < L.blocks.Wh.offset || p >= L.blocks.Wh.offset + L.blocks.Wh.size,
      );
      expect(Math.max(...rest.map(Math.abs))).toBeLessThanOrEqual(0.25);
      const o = initialWeights(m, 9, 0.25, 'orthogonal');
      for (let g = 0; g < gates; g++) {
        const W = o.params.subarray(L.blocks.Wh.offset + g * H * H, L.blocks.Wh.offset + (g + 1) * H * H);
        for (let i = 0; i < H; i++) {
          for (let j = 0; j < H; j++) {
            let dot = 0;
            for (let k = 0; k < H; k++) dot += W[k * H + i] * W[k * H + j];
            expect(dot).toBeCloseTo(i === j ? 1 : 0, 6);
          }
        }
      }
      expect(Array.from(initialWeights(m, 9, 0.25, 'orthogonal').params)).toEqual(Array.from(o.params));
    }
  });
});

describe('bad input names the field or option', () => {
  it('CSV columns that are missing, non-numeric or constant; windows and horizons that do not fit their part', async () => {
    const csv = tmp('bad.csv');
    writeFileSync(
      csv,
      'date,price,flat,word\n' +
        Array.from({ length: 30 }, (_, k) => `2024-01-${k + 1},${k % 7},5,${k ? 'x' : 'y'}`).join('\n') +
        '\n',
    );
    const t = ['train', '--backend', 'cpu', '--data', csv, '--steps', '2'];
    expectInputError(await cli(...t, '--column', 'volume'), 'column', 'no column named "volume"');
    expectInputError(await cli(...t, '--column', 'word'), 'column 4 ("word")', 'expected a number, got "y"');
    expectInputError(
      await cli(...t, '--column', 'flat', '--normalize', 'zscore'),
      'column "flat"',
      'constant',
      'divide by zero',
    );
    expectInputError(
      await cli(...t, '--column', 'price', '--window', '5', '--test', '0.15'),
      '--window',
      'longer than the test part (5 rows)',
    );
    expectInputError(
      await cli(...t, '--column', 'price', '--window', '2', '--horizon', '5', '--test', '0.15'),
      '--horizon',
      'test part',
    );
    expectInputError(await cli(...t, '--column', 'date'), 'column', 'time column');
    expectInputError(await cli(...t, '--column', 'price', '--patience', '2'), '--patience', '--validate-every');
    expectInputError(await cli(...t, '--column', 'price', '--validate-every', '2'), '--validate-every', '--validation');
    expectInputError(
      await cli('train', '--backend', 'cpu', '--data', 'sine', '--normalize', 'zscore'),
      '--normalize',
      'CSV',
    );
    expectInputError(
      await cli('train', '--backend', 'cpu', '--cell', 'gru', '--activation', 'relu'),
      '--activation',
      'tanh',
    );
    const plain = tmp('plain.json');
    writeFileSync(
      plain,
      JSON.stringify({
        inputSize: 1,
        hiddenSize: 1,
        outputSize: 1,
        activation: 'relu',
        output: 'last',
        weights: { Wx: [[1]], Wh: [[0]], bh: [0], Wy: [[1]], by: [0] },
      }),
    );
    expectInputError(
      await cli('forecast', '--backend', 'cpu', '--model', plain, '--data', csv, '--steps', '2'),
      '--model',
      'no "series"',
    );
    expectInputError(
      await cli('forecast', '--backend', 'cpu', '--model', 'statquest', '--data', csv, '--steps', '0'),
      '--steps',
    );
    const badNorm = tmp('badnorm.json');
    writeFileSync(
      badNorm,
      JSON.stringify({
        ...JSON.parse(readFileSync(plain, 'utf8')),
        normalization: { kind: 'zscore', offset: [0], scale: [0] },
      }),
    );
    expectInputError(
      await cli('forward', '--backend', 'cpu', '--model', badNorm, '--data', csv),
      'normalization.scale[0]',
      'must be > 0',
    );
  });
});
