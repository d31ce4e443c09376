// A CSV series on the page in Chromium (WebGPU on SwiftShader): an uploaded file shows its name, rows, columns and
// detected time column; Train splits it by time and normalises it as the CLI's `train` does (z-score by default,
// min-max or none, fitted on the training rows), with the same losses as the library's forecastSplit and train here
// in Node.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { rollForward } from '../src/forecast.ts';
import { denormalize, forecastSplit, parseCsv } from '../src/data/index.ts';
import { modelFromJSON } from '../src/model.ts';
import type { TrainResult } from '../src/page/panels/train.ts';
import { randomModel } from '../src/random.ts';
import { train } from '../src/train/index.ts';
import { describeBrowser, result, useBrowserPage, waitRuns } from './helpers/browser.ts';
import { json } from './helpers/cli.ts';

const SUNSPOTS = join(import.meta.dirname, '..', 'data', 'sunspots.csv');
const close = (a: number, b: number, rel: number): boolean =>
  Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

describeBrowser('a CSV series on the page', () => {
  const app = useBrowserPage();

  it('shows the uploaded file, and trains it normalised as the CLI does (z-score, min-max, none)', async () => {
    const { page, errors } = await app.open();
    await page.locator('#tr-data').selectOption('csv');
    expect(await page.locator('#tr-norm').inputValue()).toBe('zscore');
    await page.locator('#tr-file').setInputFiles(SUNSPOTS);
    const series = parseCsv(readFileSync(SUNSPOTS, 'utf8'), { timeColumn: 'auto' });
    expect(series.timeColumn).toBe('YEAR');
    await expect
      .poll(() => page.locator('#tr-csv-info').textContent())
      .toBe(
        `sunspots.csv: ${series.length} rows, 1 value column (SUNACTIVITY); time column: YEAR (detected; read as labels), 1700 to ${series.times!.at(-1)}.`,
      );
    await page.locator('#tr-len').fill('12');
    await page.locator('#tr-val').fill('0.2');
    await page.locator('#tr-steps').fill('150');
    const losses: Record<string, TrainResult> = {};
    let n = 0;
    for (const norm of ['zscore', 'minmax', 'none'] as const) {
      await page.locator('#tr-norm').selectOption(norm);
      await page.locator('#tr-run').click();
      await waitRuns(page, 'train', ++n);
      const r = await result<TrainResult>(page, 'train');
      losses[norm] = r;
      expect(r.normalization).toBe(norm === 'none' ? null : norm);
      // The library in Node: the CLI's split by rows and normalisation, the page's model (seed 1, scale 0.5).
      const split = forecastSplit(series, {
        window: 12,
        horizon: 1,
        validation: 0.2,
        test: 0,
        normalize: norm === 'none' ? null : norm,
      });
      const model = randomModel({ inputSize: 1, hiddenSize: 8, outputSize: 1 }, 'tanh', 'last', 1, 0.5);
      const ref = await train(app.cpu, model, split.train.batch, {
        optimizer: { kind: 'adam', lr: 0.01 },
        steps: 150,
        validation: split.validation!.batch,
        validateEvery: 4,
        seed: 1,
      });
      expect([r.perTrainStep, r.perValidation]).toEqual([split.train.batch.count, split.validation!.batch.count]);
      expect(close(r.finalLoss, ref.finalLoss, 1e-3), `${norm} training SSR`).toBe(true);
      expect(close(r.validationLoss!, ref.validationLoss!, 1e-3), `${norm} validation SSR`).toBe(true);
      // The predictions against the data, in the series' units: each window at the row of its target, training
      // windows first (blue), then the validation part's (orange), whose first target is 12 rows into that part.
      const drawn = (await page.evaluate(() => window.webgpuRnn!.chartData('tr-pred')))!;
      const nt = split.train.batch.count;
      const nv = split.validation!.batch.count;
      expect(drawn[0].length).toBe(nt + nv + 20);
      expect(drawn[0][0]).toBe(12);
      expect(drawn[0][nt]).toBe(split.a + 12);
      for (const k of [0, nt - 1, nt, nt + nv - 1]) expect(drawn[1][k]).toBeCloseTo(series.values[0][drawn[0][k]!], 6);
      expect(drawn[2].slice(0, nt).every((v) => v !== null)).toBe(true);
      expect(drawn[3].slice(0, nt).every((v) => v === null)).toBe(true);
      expect(drawn[3].slice(nt, nt + nv).every((v) => v !== null)).toBe(true);
      // The forecast: the trained model rolled 20 rows past the end as the CLI's forecast does, in the series' units.
      const future = await rollForward(app.cpu, modelFromJSON(r.model), split.normalized, 12, 1, 20);
      const want = Array.from(denormalize(future[0], split.normalization, 1));
      expect(r.predicted!.forecast).toHaveLength(20);
      r.predicted!.forecast.forEach((v, k) =>
        expect(Math.abs(v - want[k]), `${norm} forecast row ${k}`).toBeLessThanOrEqual(
          1e-3 * Math.max(1, Math.abs(want[k])),
        ),
      );
      expect(drawn[0].at(-1)).toBe(series.length + 19);
      expect(drawn[4].at(-1)).toBe(r.predicted!.forecast[19]);
      expect(r.predicted).toMatchObject({ train: nt, validation: nv, units: norm === 'none' ? 'data' : 'series' });
      expect(await page.locator('#tr-table').textContent()).toContain(
        norm === 'none'
          ? 'no normalisation (raw values)'
          : `${norm === 'zscore' ? 'z-score' : 'min-max'} normalisation fitted on the training rows`,
      );
    }
    // Raw sunspot numbers (tens to hundreds) give SSRs thousands of times those of the normalised series.
    expect(losses.none.initialLoss).toBeGreaterThan(1000 * losses.zscore.initialLoss);
    expect(losses.zscore.finalLoss).toBeLessThan(0.5 * losses.zscore.initialLoss);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
  it('reaches the test RMSE of the CLI (train --test, then forecast) on the uploaded sunspots, z-score normalised', async () => {
    const { page, errors } = await app.open();
    await page.locator('#tr-data').selectOption('csv');
    await page.locator('#tr-file').setInputFiles(SUNSPOTS);
    await expect.poll(() => page.locator('#tr-csv-info').textContent()).toMatch(/^sunspots\.csv: 309 rows/);
    await page.locator('#tr-norm').selectOption('zscore');
    await page.locator('#tr-len').fill('12');
    await page.locator('#tr-horizon').fill('1');
    await page.locator('#tr-val').fill('0');
    await page.locator('#tr-test').fill('0.15');
    await page.locator('#tr-steps').fill('300');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 1);
    const r = await result<TrainResult>(page, 'train');
    expect(r.normalization).toBe('zscore');
    // The CLI with the page's settings: the page's model is seed 1, scale 0.5, 8 tanh units; Adam at 0.01, every
    // window in each step.
    const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-csv-'));
    try {
      const out = join(dir, 'sunspots.json');
      await json(
        'train',
        '--data',
        SUNSPOTS,
        '--window',
        '12',
        '--horizon',
        '1',
        '--test',
        '0.15',
        '--normalize',
        'zscore',
        '--hidden',
        '8',
        '--activation',
        'tanh',
        '--scale',
        '0.5',
        '--seed',
        '1',
        '--optimizer',
        'adam',
        '--lr',
        '0.01',
        '--steps',
        '300',
        '--backend',
        'cpu',
        '--out',
        out,
      );
      const f = await json<{
        test: { windows: number; model: { rmse: number; mae: number }; naive: { rmse: number } };
      }>('forecast', '--model', out, '--data', SUNSPOTS, '--steps', '1', '--backend', 'cpu');
      expect(r.test!.windows).toBe(f.test.windows);
      // The naive forecast needs no model: the same test windows give the same errors.
      expect(r.test!.naive.rmse).toBeCloseTo(f.test.naive.rmse, 9);
      expect(
        Math.abs(r.test!.model.rmse - f.test.model.rmse),
        `page ${r.test!.model.rmse}, CLI ${f.test.model.rmse}`,
      ).toBeLessThanOrEqual(0.1 * f.test.model.rmse);
      // And the model learned something: below the naive forecast's error.
      expect(r.test!.model.rmse).toBeLessThan(r.test!.naive.rmse);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await page.locator('#tr-table').textContent()).toMatch(/test \(last \d+ windows\), series units/);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
