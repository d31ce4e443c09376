// Errors of a CSV series name their real cause: a z-score column near 1e160 (whose squares overflow) is normalised,
// not called constant, and a spread beyond float64 says so; a test fraction that leaves too few training rows names
// --test (not --horizon or --window); forecast, which has no --window or --test, names --data and the model's split.

import { copyFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../src/data/csv.ts';
import { fitNormalization, forecastSplit } from '../src/data/series.ts';
import { cli, expectInputError } from './helpers/cli.ts';
import { inputError, tempFiles } from './helpers/files.ts';

const { tmp } = tempFiles('webgpu-rnn-series-causes-');
const SUNSPOTS = new URL('../data/sunspots.csv', import.meta.url);

describe('normalisation of huge and tiny values', () => {
  it('a zscore column near 1e160 trains (its variance overflowed before), with the true mean and spread', async () => {
    const p = tmp('big.csv');
    const v = Array.from({ length: 60 }, (_, i) => (1 + (i % 7) / 10) * 1e160);
    writeFileSync(p, 'v\n' + v.join('\n') + '\n');
    const r = await cli('train', '--backend', 'cpu', '--data', p, '--normalize', 'zscore', '--steps', '2');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const n = fitNormalization(parseCsv(`v\n${v.join('\n')}\n`), 'zscore', 60);
    const mean = v.reduce((a, x) => a + x / 1e160, 0) / 60;
    const std = Math.sqrt(v.reduce((a, x) => a + (x / 1e160 - mean) ** 2, 0) / 60);
    expect(n.offset[0] / 1e160).toBeCloseTo(mean, 12);
    expect(n.scale[0] / 1e160).toBeCloseTo(std, 12);
  });

  it('variants: tiny values (1e-170) normalise; a constant column and a minmax spread past float64 say which', () => {
    const tiny = fitNormalization(parseCsv('v\n1e-170\n3e-170\n'), 'zscore', 2);
    expect(tiny.scale[0] / 1e-170).toBeCloseTo(1, 12);
    expect(tiny.offset[0] / 1e-170).toBeCloseTo(2, 12);
    expect(inputError(() => fitNormalization(parseCsv('v\n5\n5\n'), 'zscore', 2)).reason).toContain('is constant');
    const wide = inputError(() => fitNormalization(parseCsv('v\n-1.5e308\n1.5e308\n'), 'minmax', 2));
    expect(wide.reason).toContain('beyond the float64 range');
    expect(wide.reason).not.toContain('constant');
  });
});

describe('a split that leaves too few training rows names the fraction', () => {
  it('train --test 0.99 names --test, not --horizon', async () => {
    const s = tmp('s.csv');
    copyFileSync(SUNSPOTS, s);
    const r = await cli('train', '--backend', 'cpu', '--data', s, '--test', '0.99', '--steps', '2');
    expectInputError(
      r,
      '--test: a test fraction of 0.99 leaves 3 of the 309 rows for the training part, too few for a window of 8 rows plus 1 target row',
    );
    expect(r.stderr).not.toContain('--horizon');
  });

  it('variants: both fractions (named together, --test as the field); a window too long for any part names --window', () => {
    const series = parseCsv('v\n' + Array.from({ length: 20 }, (_, i) => (i * 7) % 5).join('\n') + '\n');
    const both = inputError(() =>
      forecastSplit(series, { window: 3, horizon: 1, validation: 0.4, test: 0.5, normalize: null }),
    );
    expect([both.field, both.reason]).toEqual([
      '--test',
      'a validation fraction of 0.4 and a test fraction of 0.5 leave 2 of the 20 rows for the training part, too few for a window of 3 rows plus 1 target row: use smaller fractions',
    ]);
    const val = inputError(() =>
      forecastSplit(series, { window: 3, horizon: 1, validation: 0.9, test: 0, normalize: null }),
    );
    expect(val.field).toBe('--validation');
    const long = inputError(() =>
      forecastSplit(series, { window: 30, horizon: 1, validation: 0, test: 0.2, normalize: null }),
    );
    expect(long.field).toBe('--window');
  });
});

describe('forecast has no --window or --test: a series too short for the model names --data', () => {
  it('a short series for a model with a test part', async () => {
    const s = tmp('s.csv');
    copyFileSync(SUNSPOTS, s);
    const m = tmp('m.json');
    expect(
      (await cli('train', '--backend', 'cpu', '--data', s, '--test', '0.2', '--steps', '2', '--out', m)).code,
    ).toBe(0);
    const short = tmp('short.csv');
    writeFileSync(
      short,
      'YEAR,SUNACTIVITY\n' + Array.from({ length: 40 }, (_, i) => `${1700 + i},${i % 9}`).join('\n'),
    );
    const r = await cli('forecast', '--backend', 'cpu', '--model', m, '--data', short, '--steps', '2');
    expectInputError(r, `${short}: --data: 40 rows are too few for the model's split`, 'test part (8 rows)');
    expect(r.stderr).not.toMatch(/--window|--test/);
    // Variant: shorter still, the test part is 2 rows.
    const shorter = tmp('shorter.csv');
    writeFileSync(
      shorter,
      'YEAR,SUNACTIVITY\n' + Array.from({ length: 12 }, (_, i) => `${1700 + i},${i % 9}`).join('\n'),
    );
    const r2 = await cli('forecast', '--backend', 'cpu', '--model', m, '--data', shorter, '--steps', '2');
    expectInputError(r2, '--data: 12 rows are too few', 'test part (2 rows)');
  });
});
