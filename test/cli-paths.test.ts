// Output files against input files and results against overflow: a command whose output is one of its inputs
// (the same file by device and inode: the same name, `./name`, a symlink or a hard link) refuses before any work
// with exit 2 and leaves the input's bytes as they were; forecast and predict whose results overflow when mapped
// back to the series' units (or in the MAE and RMSE) exit 3 naming what overflowed, with no file written; a naive
// forecast exact on the test part is reported as such, not as an infinite change.

import { copyFileSync, existsSync, linkSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelJSON } from '../src/model.ts';
import { cli, expectInputError, type Run } from './helpers/cli.ts';
import { smallDataFile, tempFiles } from './helpers/files.ts';

const { tmp } = tempFiles('webgpu-rnn-paths-');
const SUNSPOTS = new URL('../data/sunspots.csv', import.meta.url);

/** Runs a command line given as one string (the temporary paths have no spaces). */
const run = (line: string): Promise<Run> => cli(...line.split(' '));

/** A copy of the sunspots series. */
function series(): string {
  const p = tmp('s.csv');
  copyFileSync(SUNSPOTS, p);
  return p;
}

/** The same path with `./` before its last part. */
const dotted = (p: string): string => `${dirname(p)}/./${basename(p)}`;

/** The optimizer state file that train --out writes beside a model. */
const stateOf = (p: string): string => p.replace(/\.json$/, '.optimizer.json');

/** Runs the command line and asserts that every file in `unchanged` has the same bytes afterwards. */
async function keeping(unchanged: string[], line: string): Promise<Run> {
  const before = unchanged.map((f) => readFileSync(f));
  const r = await run(line);
  unchanged.forEach((f, k) => expect(readFileSync(f).equals(before[k]), `${f} changed`).toBe(true));
  return r;
}

let model: ModelJSON; // trained on sunspots with a test part and z-score normalisation
let modelNoTest: ModelJSON; // the same without a test part

beforeAll(async () => {
  const data = series();
  const trained = async (extra: string): Promise<ModelJSON> => {
    const out = tmp('m.json');
    const r = await run(`train --backend cpu --data ${data} --steps 20 --normalize zscore${extra} --out ${out}`);
    expect(r.stderr).toBe('');
    return JSON.parse(readFileSync(out, 'utf8')) as ModelJSON;
  };
  model = await trained(' --test 0.2');
  modelNoTest = await trained('');
});

/** A model file with the given JSON. */
function modelFile(m: ModelJSON): string {
  const p = tmp('m.json');
  writeFileSync(p, JSON.stringify(m));
  return p;
}

describe('an output that is an input is refused before any work (exit 2), the input unchanged', () => {
  it('forecast --out the --data file (the same name)', async () => {
    const [s, m] = [series(), modelFile(model)];
    const r = await keeping([s, m], `forecast --backend cpu --model ${m} --data ${s} --steps 3 --out ${s}`);
    expectInputError(r, `--out: "${s}" is the same file as --data "${s}"; writing it would destroy the input`);
  });

  it('forecast --out ./name of the --data file', async () => {
    const [s, m] = [series(), modelFile(model)];
    const r = await keeping([s, m], `forecast --backend cpu --model ${m} --data ${s} --steps 3 --out ${dotted(s)}`);
    expectInputError(r, `--out: "${dotted(s)}" is the same file as --data "${s}"`);
  });

  it('forecast --svg a symlink to the --data file', async () => {
    const [s, m] = [series(), modelFile(model)];
    const link = tmp('link.svg');
    symlinkSync(s, link);
    const r = await keeping([s, m], `forecast --backend cpu --model ${m} --data ${s} --steps 3 --svg ${link}`);
    expectInputError(r, `--svg: "${link}" is the same file as --data "${s}"`);
  });

  it('forecast --out the --model file, with the JSON error object', async () => {
    const [s, m] = [series(), modelFile(model)];
    const r = await keeping([s, m], `forecast --backend cpu --model ${m} --data ${s} --steps 3 --out ${m} --json`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `webgpu-rnn: --out: "${m}" is the same file as --model "${m}"; writing it would destroy the input\n`,
    );
    const e = (JSON.parse(r.stdout) as { error: { code: string; field: string } }).error;
    expect([e.code, e.field]).toEqual(['input', '--out']);
  });

  it('predict --out a hard link to the --data file, and a symlink to the --model file', async () => {
    const [s, m] = [series(), modelFile(model)];
    const hard = tmp('hard.csv');
    linkSync(s, hard);
    let r = await keeping([s, m], `predict --backend cpu --model ${m} --data ${s} --out ${hard}`);
    expectInputError(r, `--out: "${hard}" is the same file as --data "${s}"`);
    const soft = tmp('soft.json');
    symlinkSync(m, soft);
    r = await keeping([s, m], `predict --backend cpu --model ${m} --data ${s} --out ${soft}`);
    expectInputError(r, `--out: "${soft}" is the same file as --model "${m}"`);
  });

  it('train --out the --init or --resume model, or an optimizer state file that is the --init model', async () => {
    const [s, m] = [series(), modelFile(model)];
    const train = `train --backend cpu --data ${s} --steps 2`;
    let r = await keeping([s, m], `${train} --test 0.2 --init ${m} --out ${dotted(m)}`);
    expectInputError(r, `--out: "${dotted(m)}" is the same file as --init "${m}"`);
    // --resume reads M.json and M.optimizer.json.
    writeFileSync(stateOf(m), '{}');
    r = await keeping([s, m, stateOf(m)], `${train} --resume ${m} --out ${m}`);
    expectInputError(r, `--out: "${m}" is the same file as --resume "${m}"`);
    // --out N.json also writes N.optimizer.json: here a symlink to the --init model.
    const n = tmp('n.json');
    symlinkSync(m, stateOf(n));
    r = await keeping([s, m], `${train} --test 0.2 --init ${m} --out ${n}`);
    expectInputError(r, `--out (its optimizer state): "${stateOf(n)}" is the same file as --init "${m}"`);
    expect(existsSync(n)).toBe(false);
  });

  it('landscape --out the --data file, and --svg a hard link to the --model file', async () => {
    const s = series();
    let r = await keeping([s], `landscape --backend cpu --data ${s} --cell elman --grid 4 --out ${s}`);
    expectInputError(r, `--out: "${s}" is the same file as --data "${s}"`);
    const m = tmp('notes.json');
    const weights = { Wx: [[1.8]], Wh: [[0.5]], bh: [0], Wy: [[1.1]], by: [0] };
    writeFileSync(m, JSON.stringify({ inputSize: 1, hiddenSize: 1, outputSize: 1, activation: 'relu', weights }));
    const svg = tmp('m.svg');
    linkSync(m, svg);
    r = await keeping([m], `landscape --backend cpu --model ${m} --grid 4 --svg ${svg}`);
    expectInputError(r, `--svg: "${svg}" is the same file as --model "${m}"`);
  });

  it('gen-data --out the --model file', async () => {
    const m = modelFile(model);
    const r = await keeping([m], `gen-data --model ${m} --count 3 --out ${dotted(m)}`);
    expectInputError(r, `--out: "${dotted(m)}" is the same file as --model "${m}"`);
  });

  it('forward --states-out the --states-in file', async () => {
    const data = smallDataFile(tmp('d.json'));
    const states = tmp('states.json');
    writeFileSync(states, JSON.stringify({ h: [[[0], [0], [0], [0], [0], [0]]] }));
    const r = await keeping(
      [data, states],
      `forward --backend cpu --model statquest --data ${data} --states-in ${states} --states-out ${states}`,
    );
    expectInputError(r, `--states-out: "${states}" is the same file as --states-in "${states}"`);
  });

  it("population --out the --data or --init file, and unroll-study --out one of the cells' study's models", async () => {
    const [s, m] = [series(), modelFile(model)];
    let r = await keeping([s], `population --backend cpu --data ${s} --count 2 --steps 1 --out ${s}`);
    expectInputError(r, `--out: "${s}" is the same file as --data "${s}"`);
    r = await keeping([m], `population --backend cpu --init ${m} --count 2 --steps 1 --out ${dotted(m)}`);
    expectInputError(r, `--out: "${dotted(m)}" is the same file as --init "${m}"`);
    r = await keeping([m], `unroll-study --backend cpu --model statquest,${m} --out ${m}`);
    expectInputError(r, `--out: "${m}" is the same file as --model "${m}"`);
  });

  it('an existing output that is another file is replaced as before', async () => {
    const [s, m] = [series(), modelFile(model)];
    const out = tmp('f.csv');
    writeFileSync(out, 'old\n');
    const r = await keeping([s, m], `forecast --backend cpu --model ${m} --data ${s} --steps 3 --out ${out}`);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n')).toHaveLength(5); // the header, 3 rows and the final newline
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('YEAR,SUNACTIVITY');
  });
});

/** The model with a huge normalisation scale: its predictions overflow when mapped back to the series' units. */
function overflowing(m: ModelJSON): string {
  const j = structuredClone(m);
  j.normalization!.scale = [1e308];
  j.weights.by = [10];
  return modelFile(j);
}

describe('forecast and predict: results that overflow exit 3, with nothing written', () => {
  it('forecast: the test MAE overflows', async () => {
    const [s, m] = [series(), overflowing(model)];
    const [out, svg] = [tmp('f.csv'), tmp('f.svg')];
    const r = await run(`forecast --backend cpu --model ${m} --data ${s} --steps 3 --out ${out} --svg ${svg}`);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^webgpu-rnn: cpu: the model's test MAE \(in the series' units\) is Infinity — /);
    expect([existsSync(out), existsSync(svg)]).toEqual([false, false]);
  });

  it('forecast without a test part: the forecast overflows; --json gives the non-finite error object', async () => {
    const [s, m] = [series(), overflowing(modelNoTest)];
    const out = tmp('f.json');
    const r = await run(`forecast --backend cpu --model ${m} --data ${s} --steps 3 --out ${out} --json`);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cpu: the forecast of SUNACTIVITY at 2009 (in the series' units) is Infinity");
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toBe('non-finite');
    expect(existsSync(out)).toBe(false);
  });

  it('predict: the predictions overflow', async () => {
    const [s, m] = [series(), overflowing(model)];
    const out = tmp('p.csv');
    const r = await run(`predict --backend cpu --model ${m} --data ${s} --out ${out}`);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cpu: the prediction for 1708 (output 1, in the data's units) is Infinity");
    expect(existsSync(out)).toBe(false);
  });

  it('forecast: an RMSE whose squares overflow though every prediction and error is finite', async () => {
    const s = tmp('big.csv');
    const rows = Array.from({ length: 40 }, (_, k) => `${2000 + k},${(k % 7) * 1e200}`);
    writeFileSync(s, ['year,v', ...rows].join('\n') + '\n');
    const m = tmp('big.json');
    let r = await run(`train --backend cpu --data ${s} --steps 2 --test 0.3 --window 4 --normalize minmax --out ${m}`);
    expect(r.code).toBe(0);
    const out = tmp('f.csv');
    r = await run(`forecast --backend cpu --model ${m} --data ${s} --steps 2 --out ${out}`);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cpu: the model's test RMSE (in the series' units) is Infinity");
    expect(existsSync(out)).toBe(false);
  });

  it('forecast: a naive forecast that is exact on the test part (RMSE 0) is said so, not an infinite % change', async () => {
    // 40 rows of 0..8 repeating, then 20 rows of 5: every test window's last value is its target.
    const s = tmp('flat.csv');
    const rows = Array.from({ length: 60 }, (_, k) => `${2000 + k},${k < 40 ? k % 9 : 5}`);
    writeFileSync(s, ['year,v', ...rows].join('\n') + '\n');
    const m = tmp('flat.json');
    let r = await run(`train --backend cpu --data ${s} --steps 5 --test 0.25 --window 3 --out ${m}`);
    expect(r.code).toBe(0);
    r = await run(`forecast --backend cpu --model ${m} --data ${s} --steps 1`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('          naive (last)  MAE 0   RMSE 0\n');
    expect(r.stdout).toContain('\n          the naive last-value forecast is exact on the test part (RMSE 0)\n');
    expect(r.stdout).not.toContain('Infinity');
  });
});
