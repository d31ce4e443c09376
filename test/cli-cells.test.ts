// The experiment commands with LSTM and GRU cells, in-process on the CPU backend: population --cell, landscape --cell
// and the cells' unroll study (unroll-study --cells / --model), their reports and files against the library and
// the CPU reference, and bad input (exit 2 naming the option).

import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuRun } from '../src/cpu/reference.ts';
import { sineData, seedData } from '../src/data/index.ts';
import { Engine } from '../src/engine.ts';
import { modelFromJSON, modelToJSON, paramLayout } from '../src/model.ts';
import { cellStudy, saturatedLstm } from '../src/study/cells.ts';
import { randomPopulation, trainPopulation, zeroModel } from '../src/train/index.ts';
import { cli, expectInputError, json } from './helpers/cli.ts';
import { tempFiles } from './helpers/files.ts';
import { randomModelJSON, Rng } from './helpers/random-cases.ts';
import type {
  CellStudyReport,
  LandscapeFile,
  LandscapeReport,
  PopulationFile,
  PopulationReport,
} from './helpers/reports.ts';
import { allElements, parseXml } from './helpers/xml.ts';

const { tmp } = tempFiles('webgpu-rnn-cells-');

describe('population --cell', () => {
  it('trains random LSTMs with the final losses of trainPopulation on the same models', async () => {
    const out = tmp('models.json');
    const args = [
      'population',
      '--backend',
      'cpu',
      '--cell',
      'lstm',
      '--count',
      '3',
      '--steps',
      '15',
      '--data',
      'sine',
      '--samples',
      '6',
      '--window',
      '4',
      '--hidden',
      '2',
      '--seed',
      '4',
    ];
    const rep = await json<PopulationReport>(...args, '--out', out);
    expect(rep.model).toMatchObject({ cell: 'lstm', inputSize: 1, hiddenSize: 2, outputSize: 1, activation: 'tanh' });
    expect(rep.nearNotes).toBe(null);
    const data = sineData({ count: 6, length: 4, seed: 1, noise: 0.05 });
    const models = randomPopulation(
      zeroModel('lstm', { inputSize: 1, hiddenSize: 2, outputSize: 1, output: 'last' }, 'tanh'),
      3,
      4,
    );
    const lib = await trainPopulation(await Engine.create({ backend: 'cpu' }), models, data.batch, {
      optimizer: { kind: 'adam', lr: 0.05 },
      steps: 15,
      seed: 4,
    });
    const file = JSON.parse(readFileSync(out, 'utf8')) as PopulationFile;
    expect(file.paramNames.length).toBe(4 * 2 * (1 + 2 + 2) + 1 * (2 + 1));
    expect(file.paramNames).toContain('bx[7]');
    file.models.forEach((m, i) => {
      expect(m.finalLoss).toBe(lib.finalLoss[i]);
      expect(m.params).toEqual(
        Array.from(lib.params.subarray(i * file.paramNames.length, (i + 1) * file.paramNames.length)),
      );
    });
    const text = await cli(...args);
    expect(text.stdout).toContain('× I=1 H=2 O=1 lstm, weights uniform');
  });

  it('refuses another activation for a gated cell, and --cell with --init', async () => {
    expectInputError(
      await cli(
        'population',
        '--backend',
        'cpu',
        '--cell',
        'gru',
        '--activation',
        'relu',
        '--count',
        '2',
        '--steps',
        '1',
      ),
      '--activation',
      'the gru cell takes "tanh" only',
    );
    expectInputError(
      await cli(
        'population',
        '--backend',
        'cpu',
        '--cell',
        'gru',
        '--init',
        'statquest',
        '--count',
        '2',
        '--steps',
        '1',
      ),
      '--init',
      '--cell',
    );
    expectInputError(await cli('population', '--backend', 'cpu', '--cell', 'rnn', '--count', '2'), '--cell');
  });
});

describe('landscape --cell', () => {
  it('a random GRU over bx[1] × Wh[0][0] equals cpuRun at every grid point', async () => {
    const out = tmp('grid.json');
    const rep = await json<LandscapeReport>(
      'landscape',
      '--backend',
      'cpu',
      '--cell',
      'gru',
      '--x',
      'bx[1]',
      '--y',
      'Wh[0][0]',
      '--grid',
      '3x2',
      '--range',
      '-1:2',
      '--seed',
      '3',
      '--out',
      out,
    );
    expect(rep.model).toMatchObject({ cell: 'gru', inputSize: 1, hiddenSize: 1 });
    const grid = JSON.parse(readFileSync(out, 'utf8')) as LandscapeFile;
    const model = randomPopulation(
      zeroModel('gru', { inputSize: 1, hiddenSize: 1, outputSize: 1, output: 'last' }, 'tanh'),
      1,
      3,
    )[0];
    const L = paramLayout(model).blocks;
    grid.y.values.forEach((y, iy) =>
      grid.x.values.forEach((x, ix) => {
        const params = model.params.slice();
        params[L.bx!.offset + 1] = x;
        params[L.Wh.offset] = y;
        expect(grid.ssr[iy][ix]).toBe(cpuRun({ ...model, params }, seedData().batch).loss);
      }),
    );
  });

  it("refuses the notes' names for a gated model, --cell with --model, and --hidden without --cell", async () => {
    expectInputError(
      await cli('landscape', '--backend', 'cpu', '--cell', 'lstm', '--grid', '2'),
      '--x',
      'unknown parameter "w1"',
    );
    expectInputError(
      await cli('landscape', '--backend', 'cpu', '--cell', 'lstm', '--model', 'statquest', '--grid', '2'),
      '--cell',
      '--model',
    );
    expectInputError(await cli('landscape', '--backend', 'cpu', '--hidden', '2', '--grid', '2'), '--hidden');
  });
});

describe('unroll-study --cells', () => {
  it("Elman, LSTM, the saturated LSTM and GRU side by side: the library's values, a CSV row per k, one line each in the plot", async () => {
    const csv = tmp('cells.csv');
    const svg = tmp('cells.svg');
    const args = [
      'unroll-study',
      '--backend',
      'cpu',
      '--cells',
      'elman,lstm,gru',
      '--length',
      '12',
      '--hidden',
      '3',
      '--seed',
      '2',
    ];
    const rep = await json<CellStudyReport>(...args, '--out', csv, '--svg', svg);
    expect(rep.rows.map((r) => r.label)).toEqual(['elman (tanh)', 'lstm', 'lstm (saturated)', 'gru']);
    const mk = (cell: 'elman' | 'lstm' | 'gru') =>
      randomPopulation(
        zeroModel(cell, { inputSize: 1, hiddenSize: 3, outputSize: 1, output: 'last' }, 'tanh'),
        1,
        2,
      )[0];
    const lstm = mk('lstm');
    const lib = cellStudy({
      length: 12,
      seed: 2,
      models: [
        { label: 'elman', model: mk('elman') },
        { label: 'lstm', model: lstm },
        { label: 'sat', model: saturatedLstm(lstm, 20) },
        { label: 'gru', model: mk('gru') },
      ],
    });
    rep.rows.forEach((r, j) => {
      expect(r.state).toEqual(Array.from(lib.rows[j].state));
      expect(r.input).toEqual(Array.from(lib.rows[j].input));
      expect(r.wx).toEqual(Array.from(lib.rows[j].wx));
      expect(r.loss).toBe(lib.rows[j].loss);
    });
    expect(rep.rows[2].perStep.state.verdict).toBe('flat');
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('model,cell,k,step,state_grad,input_grad,wx_term');
    expect(lines.length).toBe(1 + 4 * 13);
    expect(lines[13 + 1].split(',').slice(0, 4)).toEqual(['lstm', 'lstm', '0', '12']);
    expect(Number(lines[13 + 1].split(',')[4])).toBe(lib.rows[1].state[0]);
    const series = allElements(parseXml(readFileSync(svg, 'utf8'))).filter((e) => e.attrs.class === 'series');
    expect(series.length).toBe(4);
    const text = await cli(...args, '--saturation', '0');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('state gradient: ‖∂SSR/∂s_(T−k)‖');
    expect(text.stdout).not.toContain('saturated');
  });

  it('--model: a model JSON file with a constant input', async () => {
    const file = tmp('lstm.json');
    const m = modelFromJSON(
      randomModelJSON(new Rng(8), {
        inputSize: 2,
        hiddenSize: 2,
        outputSize: 1,
        activation: 'tanh',
        output: 'last',
        cell: 'lstm',
        h0: true,
      }),
    );
    writeFileSync(file, JSON.stringify(modelToJSON(m)));
    const rep = await json<CellStudyReport>(
      'unroll-study',
      '--backend',
      'cpu',
      '--model',
      file,
      '--length',
      '5',
      '--inputs',
      '0.5',
      '--target',
      '0',
    );
    const lib = cellStudy({ length: 5, target: 0, inputs: () => 0.5, models: [{ label: 'm', model: m }] }).rows[0];
    expect(rep.rows[0].cell).toBe('lstm');
    expect(rep.rows[0].state).toEqual(Array.from(lib.state));
    expect(rep.rows[0].inputs).toEqual(new Array(10).fill(0.5));
    // Several models, comma-separated: each sees the same steps; the notes' network (a preset) has one input.
    const two = await json<CellStudyReport>(
      'unroll-study',
      '--backend',
      'cpu',
      '--model',
      `${file},statquest`,
      '--length',
      '5',
      '--inputs',
      '0.5',
      '--target',
      '0',
    );
    expect(two.rows.map((r) => [r.label, r.cell])).toEqual([
      [basename(file), 'lstm'],
      ['statquest', 'elman'],
    ]);
    expect(two.rows[0].state).toEqual(rep.rows[0].state);
  });

  it('rejects bad values with exit 2', async () => {
    expectInputError(await cli('unroll-study', '--cells', 'lstm,rnn'), '--cells');
    expectInputError(await cli('unroll-study', '--cells', 'lstm', '--w2', '1'), '--w2');
    expectInputError(await cli('unroll-study', '--model', 'statquest', '--hidden', '2'), '--hidden');
    expectInputError(await cli('unroll-study', '--cells', 'gru', '--length', '3', '--inputs', '1,2'), '--inputs');
    expectInputError(await cli('unroll-study', '--cells', 'gru', '--measure', 'h'), '--measure');
    const all = tmp('all.json');
    writeFileSync(
      all,
      JSON.stringify({
        ...modelToJSON(
          modelFromJSON(
            randomModelJSON(new Rng(1), {
              inputSize: 1,
              hiddenSize: 1,
              outputSize: 1,
              activation: 'tanh',
              output: 'all',
            }),
          ),
        ),
      }),
    );
    expectInputError(await cli('unroll-study', '--model', all), '--model', 'output "all"');
  });
});
