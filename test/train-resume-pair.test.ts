// The model and its optimizer state as one unit: train --out checks both paths before the run and writes both
// before renaming either; the state file is bound to its model (run id, step, the model file's SHA-256) and to the
// data it was trained on, so --resume refuses a pair from different saves (a save killed between the two renames,
// a model edited or replaced) and a run on other data or other window options; bad state files name the file.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seedData } from '../src/data/index.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import { modelFromJSON, preset } from '../src/model.ts';
import { train as trainModel } from '../src/train/index.ts';
import { cli, expectInputError, json, type Run } from './helpers/cli.ts';
import { CLI } from './helpers/cli-process.ts';
import { tempFiles } from './helpers/files.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SUNSPOTS = new URL('../data/sunspots.csv', import.meta.url);
const { tmp } = tempFiles('webgpu-rnn-resume-pair-');

const stateOf = (p: string): string => p.replace(/\.json$/, '.optimizer.json');

function series(): string {
  const p = tmp('s.csv');
  copyFileSync(SUNSPOTS, p);
  return p;
}

const train = (data: string, ...more: string[]): Promise<Run> =>
  cli('train', '--backend', 'cpu', '--data', data, '--steps', '3', ...more);

/** A saved pair M.json + M.optimizer.json from a short run on `data`. */
async function savedPair(data: string, ...more: string[]): Promise<string> {
  const m = tmp('m.json');
  const r = await train(data, ...more, '--out', m);
  expect(r.code, r.stderr).toBe(0);
  return m;
}

describe('train --out: the model and its optimizer state are checked and written together', () => {
  it('a directory at M.optimizer.json is refused before the run, and M.json keeps its bytes', async () => {
    const s = series();
    const k = await savedPair(s);
    rmSync(stateOf(k));
    mkdirSync(stateOf(k));
    const before = readFileSync(k);
    const r = await train(s, '--out', k);
    expectInputError(r, stateOf(k), 'it is a directory');
    expect(readFileSync(k).equals(before)).toBe(true);
    // Variant: no model there yet; none is created.
    const n = tmp('n.json');
    mkdirSync(stateOf(n));
    expectInputError(await train(s, '--out', n), 'it is a directory');
    expect(existsSync(n)).toBe(false);
  });

  it('both files are written when the run succeeds, bound to each other', async () => {
    const s = series();
    const m = await savedPair(s);
    const state = JSON.parse(readFileSync(stateOf(m), 'utf8')) as Record<string, unknown>;
    expect(state.step).toBe(3);
    expect(state.run).toMatch(/^[0-9a-f]{16}$/);
    expect(state.model).toMatch(/^[0-9a-f]{64}$/);
    expect(state.data).toMatchObject({ data: 'csv', columns: ['SUNACTIVITY'], timeColumn: 'YEAR', window: 8 });
    const r = await json<{ steps: number }>('train', '--backend', 'cpu', '--data', s, '--steps', '2', '--resume', m);
    expect(r.steps).toBe(5);
  });
});

/** Runs train as a child process that kills itself (SIGKILL) between the renames of its two output files. */
function trainKilledBetweenRenames(args: string[]): { status: number | null; signal: NodeJS.Signals | null } {
  const r = spawnSync(process.execPath, [...CLI, 'train', ...args], {
    cwd: root,
    env: { ...process.env, WEBGPU_RNN_TEST_KILL_BETWEEN_RENAMES: '1' },
    encoding: 'utf8',
  });
  return { status: r.status, signal: r.signal };
}

describe('--resume refuses a model and a state that were not saved together', () => {
  it('a save killed between the two renames leaves a new state beside the old model: --resume refuses the pair', async () => {
    const s = series();
    const k = await savedPair(s, '--seed', '1');
    const oldModel = readFileSync(k);
    const oldState = readFileSync(stateOf(k));
    // A second run (another seed) saving to the same pair, killed after the state's rename, before the model's.
    const r = trainKilledBetweenRenames(['--backend', 'cpu', '--data', s, '--steps', '4', '--seed', '2', '--out', k]);
    expect(r.signal).toBe('SIGKILL');
    expect(readFileSync(k).equals(oldModel)).toBe(true);
    expect(readFileSync(stateOf(k)).equals(oldState)).toBe(false);
    expect((JSON.parse(readFileSync(stateOf(k), 'utf8')) as { step: number }).step).toBe(4);
    const resumed = await train(s, '--resume', k, '--out', tmp('next.json'));
    expectInputError(resumed, '--resume', 'is not the model saved with its optimizer state', 'step 4');
    // The killed process left its model's temporary file (SIGKILL runs no clean-up); the pair is still refused.
    expect(readdirSync(dirname(k)).some((f) => f.endsWith('.tmp'))).toBe(true);
  });

  it('variants: a model edited by hand, and the state of another save copied beside the model', async () => {
    const s = series();
    const a = await savedPair(s);
    const edited = JSON.parse(readFileSync(a, 'utf8')) as { weights: { by: number[] } };
    edited.weights.by[0] += 1;
    writeFileSync(a, JSON.stringify(edited, null, 2) + '\n');
    expectInputError(await train(s, '--resume', a), '--resume', 'is not the model saved with its optimizer state');
    const b = await savedPair(s);
    const c = await savedPair(s, '--seed', '7');
    copyFileSync(stateOf(c), stateOf(b));
    expectInputError(await train(s, '--resume', b), '--resume', 'different saves');
    // A state file without the binding (an older format) is refused too, naming the file and the key.
    const d = await savedPair(s);
    const st = JSON.parse(readFileSync(stateOf(d), 'utf8')) as Record<string, unknown>;
    delete st.run;
    writeFileSync(stateOf(d), JSON.stringify(st));
    expectInputError(await train(s, '--resume', d), stateOf(d), 'run: missing');
  });
});

describe('--resume checks the data the run was trained on', () => {
  it('another --window, --normalize, CSV content or data set is refused, naming the option', async () => {
    const s = series();
    const m = await savedPair(s, '--normalize', 'zscore');
    const n = ['--normalize', 'zscore'];
    expectInputError(await train(s, ...n, '--resume', m, '--window', '12'), '--window', '8', '12');
    expectInputError(await train(s, '--resume', m), '--normalize', '"zscore"', '"none"');
    expectInputError(await train(s, ...n, '--resume', m, '--test', '0.2'), '--test');
    expectInputError(await train('sine', '--resume', m), '--data', '"csv"', '"sine"');
    const changed = tmp('changed.csv');
    writeFileSync(changed, readFileSync(s, 'utf8').replace('\n1700,5\n', '\n1700,6\n'));
    expect(readFileSync(changed, 'utf8')).not.toBe(readFileSync(s, 'utf8'));
    expectInputError(await train(changed, ...n, '--resume', m), '--data', 'content differs');
    // The same bytes under another name are the same data.
    const copy = tmp('copy.csv');
    copyFileSync(s, copy);
    expect((await train(copy, ...n, '--resume', m)).code).toBe(0);
  });

  it('built-in data sets: another --samples or --data-seed is refused', async () => {
    const m = await savedPair('sine', '--samples', '16');
    expectInputError(await train('sine', '--samples', '32', '--resume', m), '--samples', '16', '32');
    expectInputError(await train('sine', '--samples', '16', '--data-seed', '3', '--resume', m), '--data-seed');
    expect((await train('sine', '--samples', '16', '--resume', m)).code).toBe(0);
  });
});

describe('bad state files and options name the real cause', () => {
  async function withState(edit: (st: Record<string, unknown>) => void): Promise<{ s: string; m: string }> {
    const s = series();
    const m = await savedPair(s);
    const st = JSON.parse(readFileSync(stateOf(m), 'utf8')) as Record<string, unknown>;
    edit(st);
    writeFileSync(stateOf(m), JSON.stringify(st));
    return { s, m };
  }

  it('a missing optimizer kind says so (not "used undefined"); a negative Adam v is refused at once', async () => {
    let { s, m } = await withState((st) => delete st.optimizer);
    let r = await train(s, '--resume', m);
    expectInputError(r, stateOf(m), 'optimizer: missing: expected "sgd" or "adam"');
    expect(r.stderr).not.toContain('undefined');
    ({ s, m } = await withState((st) => ((st.v as number[])[2] = -1)));
    r = await train(s, '--resume', m);
    expectInputError(r, stateOf(m), 'v[2]: must be ≥ 0', '-1');
    expect(r.stderr).not.toContain('--lr');
  });

  it('the library refuses a negative Adam v in `resume` too, naming resume.v[k]', async () => {
    const engine = await Engine.create({ backend: 'cpu' });
    const m = modelFromJSON(preset('statquest'));
    const P = m.params.length;
    const resume = { step: 3, m: new Array<number>(P).fill(0), v: new Array<number>(P).fill(0) };
    resume.v[1] = -0.5;
    const opts = { optimizer: { kind: 'adam' as const, lr: 0.01 }, steps: 2, resume };
    const e = await trainModel(engine, m, seedData().batch, opts).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect([(e as InputError).field, (e as InputError).reason]).toEqual([
      'resume.v[1]',
      'must be a number ≥ 0 (a mean of squared gradients), got -0.5',
    ]);
    engine.dispose();
  });

  it('a step count out of range names the state file and the step', async () => {
    let { s, m } = await withState((st) => (st.step = 2 ** 31));
    expectInputError(await train(s, '--resume', m), stateOf(m), 'step: must be an integer from 0 to');
    ({ s, m } = await withState((st) => (st.step = 2.5)));
    expectInputError(await train(s, '--resume', m), stateOf(m), 'step:', '2.5');
  });

  it('--resume with --hidden or --cell names that option, not --init', async () => {
    const s = series();
    const m = await savedPair(s);
    let r = await train(s, '--resume', m, '--hidden', '4');
    expectInputError(r, '--hidden', 'comes from the --resume model');
    expect(r.stderr).not.toContain('--init');
    r = await train(s, '--resume', m, '--cell', 'gru');
    expectInputError(r, '--cell', 'comes from the --resume model');
  });
});
