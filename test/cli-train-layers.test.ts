// The experiment commands on stacked and bidirectional models (in process, CPU backend): `train --layers N
// --bidirectional` lowers the loss on the sine data, saves a model that reloads (weights.layers) and resumes;
// `population` agrees with one-by-one training; `landscape` takes parameters of any layer by name; `gen-data`,
// `predict` and `forecast` serve layered models; `verify` compares WebGPU with the CPU on one beyond the per-sequence
// sizes; bad --layers exit 2.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchFromArrays } from '../src/batch.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { sineData } from '../src/data/index.ts';
import { modelFromJSON, type ModelJSON } from '../src/model.ts';
import { parseModel } from '../src/validate.ts';
import { cli, expectInputError, json } from './helpers/cli.ts';
import { randomLayeredModelJSON } from './helpers/layered-cases.ts';
import { Rng } from './helpers/random-cases.ts';
import { readDataFile } from '../src/io/files.ts';
import type {
  ForecastReport,
  GradReport,
  LandscapeReport,
  PopulationReport,
  PredictReport,
  TrainReport,
} from './helpers/reports.ts';

/** `landscape --json`, with the axes and the check's largest difference. */
type LandscapeJson = LandscapeReport & {
  x: { param: string };
  y: { param: string };
  check: { maxAbsDiff: number };
  model: { numLayers: number; bidirectional: boolean };
};

const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-cli-train-layers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SINE = ['--data', 'sine', '--samples', '24', '--window', '8'];

describe('train --layers --bidirectional (CPU)', () => {
  const out = join(dir, 'gru.json');

  it('trains a 2-layer bidirectional GRU on the sine: the loss falls, the model saves, reloads and resumes', async () => {
    const r = await json<TrainReport>(
      'train',
      ...SINE,
      '--cell',
      'gru',
      '--hidden',
      '3',
      '--layers',
      '2',
      '--bidirectional',
      '--steps',
      '40',
      '--backend',
      'cpu',
      '--out',
      out,
    );
    expect(r.backend).toBe('cpu');
    expect(r.steps).toBe(40);
    expect(r.initialLoss).not.toBeNull();
    expect(r.finalLoss).toBeLessThan(r.initialLoss! / 2);
    const saved = JSON.parse(readFileSync(out, 'utf8')) as ModelJSON;
    expect(saved.numLayers).toBe(2);
    expect(saved.bidirectional).toBe(true);
    expect((saved.weights as { layers: unknown[] }).layers).toHaveLength(4);
    const model = modelFromJSON(parseModel(saved));
    const data = sineData({ count: 24, length: 8, seed: 1 }).batch;
    expect(cpuRun(model, data, {}).loss).toBe(r.finalLoss);

    // 10 more steps from the saved model and its optimizer state.
    const more = await json<TrainReport>('train', ...SINE, '--resume', out, '--steps', '10', '--backend', 'cpu');
    expect(more.steps).toBe(50);
    expect(more.model.numLayers).toBe(2);
    expect(more.finalLoss).toBeLessThan(r.finalLoss);
  });

  it('the text report names every layer and its blocks', async () => {
    const r = await cli('train', ...SINE, '--hidden', '2', '--layers', '3', '--steps', '3', '--backend', 'cpu');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('elman I=1 H=2 O=1, 3 layers, ');
    expect(r.stdout).toContain('layers[2].Wx (2×2)');
    expect(r.stdout).toContain('Wy (1×2)');
  });

  it('refuses --layers outside 1..8 and --layers with --init, naming the option', async () => {
    expectInputError(await cli('train', ...SINE, '--layers', '9', '--backend', 'cpu'), '--layers');
    expectInputError(await cli('train', ...SINE, '--layers', '0', '--backend', 'cpu'), '--layers');
    expectInputError(
      await cli('train', ...SINE, '--init', 'statquest', '--layers', '2', '--backend', 'cpu'),
      '--init',
      '--layers',
    );
  });
});

describe('population and landscape on layered models (CPU)', () => {
  it('population --layers 2 --bidirectional agrees with training the checked models one by one', async () => {
    const r = await json<PopulationReport>(
      'population',
      ...SINE,
      '--cell',
      'lstm',
      '--hidden',
      '2',
      '--layers',
      '2',
      '--bidirectional',
      '--count',
      '4',
      '--steps',
      '8',
      '--check',
      '2',
      '--backend',
      'cpu',
    );
    expect(r.backend).toBe('cpu');
    expect(r.model).toMatchObject({ cell: 'lstm', hiddenSize: 2, numLayers: 2, bidirectional: true });
    expect(r.check.sameBackend!.identical).toBe(2);
  });

  it('landscape over layers[3].Wh[0][1] × Wy[0][3] of a random bidirectional GRU equals cpuRun at checked points', async () => {
    const r = await json<LandscapeJson>(
      'landscape',
      ...SINE,
      '--cell',
      'gru',
      '--hidden',
      '2',
      '--layers',
      '2',
      '--bidirectional',
      '--x',
      'layers[3].Wh[0][1]',
      '--y',
      'Wy[0][3]',
      '--grid',
      '5',
      '--check',
      '8',
      '--backend',
      'cpu',
    );
    expect(r.x.param).toBe('layers[3].Wh[0][1]');
    expect(r.y.param).toBe('Wy[0][3]');
    expect(r.model).toMatchObject({ cell: 'gru', numLayers: 2, bidirectional: true });
    expect(r.check.failures).toBe(0);
    expect(r.check.maxAbsDiff).toBe(0);
    expectInputError(
      await cli('landscape', ...SINE, '--cell', 'gru', '--layers', '2', '--x', 'Wh[0][1]', '--backend', 'cpu'),
      '--x',
      'layers[0].Wx[0][0]',
    );
    expectInputError(await cli('landscape', ...SINE, '--layers', '2', '--backend', 'cpu'), '--layers', '--cell');
  });
});

describe('gen-data, predict, forecast and verify with a layered model (CPU)', () => {
  const values = [3, 5, 4, 6, 8, 7, 9, 12, 10, 11, 14, 13, 12, 15];
  const csv = join(dir, 'series.csv');
  writeFileSync(csv, 'year,level\n' + values.map((v, k) => `${1990 + k},${v}`).join('\n') + '\n');
  const model = join(dir, 'series-model.json');

  it('predict gives cpuRun on every window, and forecast starts from the last one', async () => {
    await json<TrainReport>(
      'train',
      '--data',
      csv,
      '--window',
      '3',
      '--cell',
      'lstm',
      '--hidden',
      '2',
      '--layers',
      '2',
      '--bidirectional',
      '--steps',
      '5',
      '--backend',
      'cpu',
      '--out',
      model,
    );
    const m = modelFromJSON(parseModel(JSON.parse(readFileSync(model, 'utf8')) as ModelJSON));
    expect(m.numLayers).toBe(2);
    const p = await json<PredictReport>('predict', '--backend', 'cpu', '--model', model, '--data', csv);
    const W = values.length - 3 + 1;
    expect(p.rows).toHaveLength(W);
    const windows = Array.from({ length: W }, (_, w) => values.slice(w, w + 3).map((v) => [v]));
    const ref = cpuRun(m, batchFromArrays(windows, null, 'last', 1), { outputs: true }).outputs!;
    p.rows.forEach((row, w) => expect(row[1]).toBe(ref[w]));
    const f = await json<ForecastReport>(
      'forecast',
      '--backend',
      'cpu',
      '--model',
      model,
      '--data',
      csv,
      '--steps',
      '2',
    );
    expect(f.forecast[0].level).toBe(ref[W - 1]);
    expect(f.forecast[0].year).toBe('2004');
  });

  it('gen-data writes data a layered model reads, and grad on it is cpuRun', async () => {
    const out = join(dir, 'gen.json');
    const r = await cli('gen-data', '--model', model, '--count', '4', '--max-length', '5', '--out', out);
    expect(r.code).toBe(0);
    const saved = JSON.parse(readFileSync(model, 'utf8')) as ModelJSON;
    const batch = readDataFile(out, saved);
    expect(batch.count).toBe(4);
    const g = await json<GradReport>('grad', '--model', model, '--data', out, '--backend', 'cpu');
    expect(g.loss).toBe(cpuRun(modelFromJSON(parseModel(saved)), batch, { gradients: true }).loss);
  });

  it('verify compares WebGPU with the CPU on a layered model beyond the per-sequence sizes (the gemm strategy)', async () => {
    const data = join(dir, 'gen.json');
    const wide = join(dir, 'wide.json');
    const json = randomLayeredModelJSON(new Rng(30), {
      cell: 'lstm',
      inputSize: 1,
      hiddenSize: 9,
      outputSize: 1,
      output: 'last',
      numLayers: 2,
      bidirectional: false,
    });
    writeFileSync(wide, JSON.stringify(json));
    const r = await cli('verify', '--model', wide, '--data', data, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; actual: { backend: string }; quantities: { name: string }[] };
    expect(report.ok).toBe(true);
    expect(report.actual.backend).toBe('webgpu');
    expect(report.quantities.map((x) => x.name)).toContain('layers[1].Wh');
  });
});
