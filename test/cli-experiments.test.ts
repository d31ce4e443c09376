// The experiment commands (train, population, landscape, unroll-study) run in-process through runCli, mostly on
// the CPU backend for speed: their reports and files against the library and the CPU reference, and every bad
// input (exit 2 with the row/column, option or file named, nothing on stdout, no output file left behind).

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seedData } from '../src/data/index.ts';
import { Engine } from '../src/engine.ts';
import { modelFromJSON, preset } from '../src/model.ts';
import { unrollClosedForm } from '../src/study/unroll.ts';
import { parseModel } from '../src/validate.ts';
import { cli, expectInputError, json } from './helpers/cli.ts';
import { tempFiles } from './helpers/files.ts';
import type {
  LandscapeFile,
  LandscapeReport,
  PopulationReport,
  TrainReport,
  UnrollStudyReport,
} from './helpers/reports.ts';
import { allElements, parseXml } from './helpers/xml.ts';

const { dir, tmp } = tempFiles('webgpu-rnn-exp-');

/** The directory holds no temporary or partial files (atomic writes clean up after themselves). */
function expectNoLeftovers(): void {
  expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}

const csvText =
  'date,close\n' +
  Array.from({ length: 40 }, (_, k) => `2024-01-${k + 1},${(Math.sin(k / 3) * 0.5 + 0.5).toFixed(4)}`).join('\n') +
  '\n';
const csvPath = tmp('prices.csv');
writeFileSync(csvPath, csvText);

describe('train', () => {
  it('reaches SSR < 1e-3 on the seed data with the defaults, prints the weights and saves a model that reloads', async () => {
    const out = tmp('model.json');
    const svg = tmp('curve.svg');
    const r = await cli('train', '--backend', 'cpu', '--out', out, '--svg', svg);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('learned weights:');
    expect(r.stdout).toMatch(/in the notes' names: w1 = [-\d.e]+, b1 = .*, w2 = .*, w3 = .*, b2 = /);
    expect(r.stdout).toContain('steps/s');
    const m = parseModel(JSON.parse(readFileSync(out, 'utf8')) as unknown);
    // The saved model's loss on the seed data, from the engine, is the reported one, below 1e-3.
    const cpu = await Engine.create({ backend: 'cpu' });
    const loss = (await cpu.run(m, seedData().batch, { gradients: false })).loss!;
    expect(loss).toBeLessThan(1e-3);
    const rep = await json<TrainReport>('train', '--backend', 'cpu');
    expect(rep.finalLoss).toBe(loss);
    expect(rep.model).toEqual(m);
    expect(rep.steps).toBe(1000);
    expect(rep.history[0].step).toBe(0);
    const paths = allElements(parseXml(readFileSync(svg, 'utf8'))).filter((e) => e.attrs.class === 'series');
    expect(paths.length).toBe(1);
    // --init continues from the saved model: its first recorded loss is the saved model's loss (float64 on the CPU).
    const again = await json<TrainReport>('train', '--backend', 'cpu', '--init', out, '--steps', '5');
    expect(again.initialLoss).toBe(loss);
  });

  it('trains on CSV windows with a validation split by time, and on the synthetic sets', async () => {
    const rep = await json<TrainReport>(
      'train',
      '--backend',
      'cpu',
      '--data',
      csvPath,
      '--column',
      'close',
      '--window',
      '4',
      '--validation',
      '0.25',
      '--steps',
      '200',
      '--hidden',
      '3',
      '--activation',
      'tanh',
    );
    // 40 rows by time: 30 training rows (26 windows of 4 + 1), 10 validation rows (6 windows), each part's own.
    expect(rep.data.train).toBe(26);
    expect(rep.data.validation).toBe(6);
    expect(typeof rep.validationLoss).toBe('number');
    expect(rep.finalLoss).toBeLessThan(rep.initialLoss!);
    const sine = await json<TrainReport>(
      'train',
      '--backend',
      'cpu',
      '--data',
      'sine',
      '--samples',
      '64',
      '--window',
      '8',
      '--steps',
      '100',
      '--batch-size',
      '16',
      '--optimizer',
      'sgd',
      '--lr',
      '0.01',
      '--momentum',
      '0.9',
    );
    expect(sine.data.train).toBe(64);
    expect(sine.model.hiddenSize).toBe(8);
    const adding = await json<TrainReport>(
      'train',
      '--backend',
      'cpu',
      '--data',
      'adding',
      '--samples',
      '32',
      '--steps',
      '20',
      '--schedule',
      'cosine',
    );
    expect(adding.model.inputSize).toBe(2);
    expect(adding.options.schedule).toEqual({ kind: 'cosine' });
  });

  it('rejects bad input with exit 2, naming the row and column, option or file, and writes nothing', async () => {
    const bad = tmp('bad.csv');
    writeFileSync(bad, 'date,close\n2024-01-01,1.5\n\n2024-01-03,abc\n2024-01-04,2\n');
    const out = tmp('never.json');
    expectInputError(
      await cli('train', '--backend', 'cpu', '--data', bad, '--column', 'close', '--window', '1', '--out', out),
      'row 4, column 2 ("close")',
      'expected a number, got "abc"',
      bad,
    );
    expectInputError(
      await cli('train', '--backend', 'cpu', '--data', csvPath, '--column', 'close', '--window', '40', '--out', out),
      'window',
      'longer than the series (40 rows)',
    );
    for (const lr of ['0', '-1', 'nan', 'Infinity', '1e999'])
      expectInputError(await cli('train', '--backend', 'cpu', '--lr', lr, '--out', out), '--lr');
    expectInputError(await cli('train', '--backend', 'cpu', '--data', 'nope.csv'), 'nope.csv', 'file not found');
    expectInputError(await cli('train', '--backend', 'cpu', '--data', 'mnist'), '--data', 'seed, sine, adding');
    expectInputError(await cli('train', '--backend', 'cpu', '--out', 'model.txt'), '--out', '.json');
    expectInputError(
      await cli('train', '--backend', 'cpu', '--out', join(dir, 'missing', 'm.json')),
      'the directory does not exist',
    );
    expectInputError(await cli('train', '--backend', 'cpu', '--validation', '1'), '--validation');
    expectInputError(await cli('train', '--backend', 'cpu', '--validation', '0.1'), 'both need at least one');
    expectInputError(await cli('train', '--backend', 'cpu', '--schedule', 'step:0:0.5'), '--schedule');
    expectInputError(await cli('train', '--backend', 'cpu', '--init', 'statquest', '--data', 'adding'), 'inputSize');
    expect(existsSync(out)).toBe(false);
    expectNoLeftovers();
  });

  it('exits 3 and saves nothing when training diverges', async () => {
    const out = tmp('diverged.json');
    const r = await cli('train', '--backend', 'cpu', '--optimizer', 'sgd', '--lr', '5', '--steps', '200', '--out', out);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^webgpu-rnn: cpu: the training loss or gradient after \d+ steps \(diverged: try a smaller --lr, or --clip-norm\) became ±Infinity or NaN/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('population', () => {
  it('reports the loss distribution, solved and diverged counts that match the per-model file, and equals training one by one', async () => {
    const csv = tmp('pop.csv');
    const svg = tmp('hist.svg');
    const rep = await json<PopulationReport>(
      'population',
      '--backend',
      'cpu',
      '--count',
      '60',
      '--steps',
      '300',
      '--out',
      csv,
      '--svg',
      svg,
      '--check',
      '6',
    );
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('model,status,steps,diverged_at_step,final_loss,Wx[0][0],Wh[0][0],bh[0],Wy[0][0],by[0]');
    expect(rows.length).toBe(61);
    const losses = rows.slice(1).map((r) => Number(r.split(',')[4]));
    expect(rep.solved.count).toBe(losses.filter((v) => v < 1e-3).length);
    expect(rep.diverged).toBe(rows.slice(1).filter((r) => r.split(',')[1] === 'diverged').length);
    const sorted = losses.slice().sort((a, b) => a - b);
    expect(rep.quantiles[0].loss).toBe(sorted[0]);
    expect(rep.quantiles.at(-1)!.loss).toBe(sorted[59]);
    expect(rep.quantiles[4]).toEqual({ p: 0.5, loss: (sorted[29] + sorted[30]) / 2 });
    expect(
      rep.histogram.counts.reduce((a: number, b: number) => a + b, 0) +
        rep.histogram.below +
        rep.histogram.zero +
        rep.histogram.nonFinite,
    ).toBe(60);
    expect(rep.nearNotes!.count).toBeGreaterThanOrEqual(0);
    // Model m of the population is `train --seed 1` model m: the check retrained 6 of them alone, bit for bit.
    expect(rep.check.sameBackend).toMatchObject({ backend: 'cpu', identical: 6, agree: 6, maxAbsDiff: 0 });
    expect(rep.check.cpu).toBe(null);
    const first = await json<TrainReport>('train', '--backend', 'cpu', '--steps', '300');
    expect(first.finalLoss).toBe(losses[0]);
    const bars = allElements(parseXml(readFileSync(svg, 'utf8'))).filter((e) => e.attrs.class === 'bar');
    expect(bars.map((b) => Number(b.attrs['data-count']))).toEqual(rep.histogram.counts);
    const text = await cli('population', '--backend', 'cpu', '--count', '20', '--steps', '50');
    expect(text.stdout).toContain('solved (final SSR < 0.001)');
    expect(text.stdout).toContain("near the notes' weights");
    expect(text.stdout).toContain('histogram, one row per decade');
    const val = await json<PopulationReport>(
      'population',
      '--backend',
      'cpu',
      '--count',
      '8',
      '--steps',
      '50',
      '--data',
      'sine',
      '--samples',
      '20',
      '--window',
      '4',
      '--validation',
      '0.25',
    );
    expect(val.data).toMatchObject({ train: 15, validation: 5 });
    expect(val.validationQuantiles.length).toBe(9);
    expect(val.validationQuantiles[0].loss).toBeLessThanOrEqual(val.validationQuantiles[8].loss!);
  });

  it('reports diverged models per model and keeps the rest', async () => {
    const rep = await json<PopulationReport>(
      'population',
      '--backend',
      'cpu',
      '--count',
      '30',
      '--steps',
      '200',
      '--optimizer',
      'sgd',
      '--lr',
      '0.03',
      '--scale',
      '2',
      '--data',
      'sine',
      '--samples',
      '16',
      '--window',
      '4',
    );
    expect(rep.diverged).toBeGreaterThan(0);
    expect(rep.diverged).toBeLessThan(30);
    expect(rep.finite).toBe(30 - rep.histogram.nonFinite);
  });

  it('refuses a population of 0 and bad learning rates with exit 2', async () => {
    expectInputError(await cli('population', '--backend', 'cpu', '--count', '0'), '--count');
    expectInputError(await cli('population', '--backend', 'cpu', '--lr', '-0.1'), '--lr');
  });
});

describe('landscape', () => {
  it('writes the grid as CSV equal to the CPU reference, an SVG heatmap and a descent path', async () => {
    const csv = tmp('land.csv');
    const svg = tmp('land.svg');
    const rep = await json<LandscapeReport>(
      'landscape',
      '--backend',
      'cpu',
      '--grid',
      '13x9',
      '--x-range=-1:3',
      '--y-range=-2:1',
      '--out',
      csv,
      '--svg',
      svg,
      '--path',
      '--path-start',
      '0.5,0.5',
      '--check',
      '10',
    );
    expect(rep.points).toBe(117);
    expect(rep.check.failures).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('Wx[0][0],Wh[0][0],ssr');
    expect(lines.length).toBe(118);
    // Line 1 + iy·13 + ix holds (x_ix, y_iy); check two points against an engine run of the notes' model.
    const cpu = await Engine.create({ backend: 'cpu' });
    const m = modelFromJSON(preset('statquest'));
    for (const [ix, iy] of [
      [0, 0],
      [7, 5],
    ]) {
      const [x, y, ssr] = lines[1 + iy * 13 + ix].split(',').map(Number);
      expect(x).toBeCloseTo(-1 + (4 * ix) / 12, 12);
      expect(y).toBeCloseTo(-2 + (3 * iy) / 8, 12);
      const params = m.params.slice();
      params[0] = x;
      params[1] = y;
      expect(ssr).toBe((await cpu.run({ ...m, params }, seedData().batch, { gradients: false })).loss);
    }
    expect(rep.path!.start.x).toBe(0.5);
    expect(rep.path!.end.loss).toBeLessThan(rep.path!.start.loss);
    const els = allElements(parseXml(readFileSync(svg, 'utf8')));
    expect(els.filter((e) => e.attrs.class === 'cell').length).toBe(117);
    expect(els.filter((e) => e.attrs.class === 'descent-path').length).toBe(1);
    const js = tmp('land.json');
    await json('landscape', '--backend', 'cpu', '--grid', '4', '--out', js);
    const g = JSON.parse(readFileSync(js, 'utf8')) as LandscapeFile;
    expect(g.ssr.length).toBe(4);
    expect(g.ssr[0].length).toBe(4);
    expect(g.x.param).toBe('Wx[0][0]');
  });

  it('rejects bad parameters, ranges and grids with exit 2', async () => {
    expectInputError(await cli('landscape', '--backend', 'cpu', '--x', 'w9'), 'w9');
    expectInputError(await cli('landscape', '--backend', 'cpu', '--x', 'w1', '--y', 'w1'), 'y.param');
    expectInputError(await cli('landscape', '--backend', 'cpu', '--range', '3:1'), '--range');
    expectInputError(await cli('landscape', '--backend', 'cpu', '--grid', '1'), '--grid');
    expectInputError(await cli('landscape', '--backend', 'cpu', '--out', 'x.svg'), '--out');
  });
});

describe('unroll-study', () => {
  it('writes every term as CSV equal to the closed form, a plot with one line per w2, and a report', async () => {
    const csv = tmp('study.csv');
    const svg = tmp('study.svg');
    const r = await cli(
      'unroll-study',
      '--backend',
      'cpu',
      '--length',
      '6',
      '--w2',
      '-1.5:1.5:4',
      '--out',
      csv,
      '--svg',
      svg,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('explodes');
    expect(r.stdout).toContain('vanishes');
    expect(r.stdout).toContain('closed form: every term of every w2 matches');
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines.length).toBe(1 + 4 * 6);
    const cf = unrollClosedForm({ inputs: new Array(6).fill(1), w2: [-1.5, -0.5, 0.5, 1.5] });
    lines.slice(1).forEach((line, i) => {
      const [w2, k, step, x, , contribution, closed] = line.split(',').map(Number);
      const row = cf.rows[Math.floor(i / 6)];
      expect(w2).toBe(row.w2);
      expect(k).toBe(i % 6);
      expect(step).toBe(6 - k);
      expect(x).toBe(1);
      expect(closed).toBe(row.contributions[k]);
      expect(Math.abs(contribution - closed)).toBeLessThanOrEqual(1e-10 * Math.abs(closed));
    });
    const els = allElements(parseXml(readFileSync(svg, 'utf8')));
    expect(els.filter((e) => e.attrs.class === 'series').length).toBe(4);
    const rep = await json<UnrollStudyReport>(
      'unroll-study',
      '--backend',
      'cpu',
      '--length',
      '3',
      '--w2',
      '0.5,2',
      '--inputs',
      '1,0.5,0',
      '--activation',
      'relu',
    );
    expect(rep.rows.length).toBe(2);
    expect(rep.closedFormCheck).toBe(null);
    expect(rep.inputs).toEqual([1, 0.5, 0]);
  });

  it('rejects bad values with exit 2', async () => {
    expectInputError(await cli('unroll-study', '--backend', 'cpu', '--w2', '1,,2'), '--w2');
    expectInputError(await cli('unroll-study', '--backend', 'cpu', '--length', '3', '--inputs', '1,2'), '--inputs');
    expectInputError(await cli('unroll-study', '--backend', 'cpu', '--length', '0'), '--length');
    expectInputError(await cli('unroll-study', '--backend', 'cpu', '--target', 'x'), '--target');
  });
});
