// The CLI against inputs, signals and streams that used to get past its checks: option limits named before any
// work (what gen-data writes, every reader accepts), one decimal number parser for every option, unknown keys,
// escaped file names, JSON error objects with --json, no temporary file left by SIGINT/SIGTERM/SIGHUP (exit
// 130/143/129), a closed stdout ending quietly and a full one in one line, and progress that never reaches stdout.

import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'commander';
import { buildProgram } from '../src/cli/app.ts';
import { integer, number, parseBytes } from '../src/cli/options.ts';
import { printable, type CliIO } from '../src/cli/io.ts';
import { startProgress } from '../src/cli/progress.ts';
import { readDataFile, writeJsonData } from '../src/io/files.ts';
import { LIMITS, preset, STATQUEST_JSON } from '../src/model.ts';
import { randomBatch } from '../src/random.ts';
import { cli, expectInputError } from './helpers/cli.ts';
import { CLI, CLI_SHELL } from './helpers/cli-process.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-hardening-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const tmp = (name: string): string => join(dir, `${fileNo++}-${name}`);

const seedData = (): string => {
  const p = tmp('d.json');
  writeJsonData(
    p,
    randomBatch({ count: 6, inputSize: 1, outputSize: 1, output: 'last', minLength: 1, maxLength: 4, seed: 1 }),
  );
  return p;
};

const tmpFiles = (d: string): string[] => readdirSync(d).filter((f) => f.endsWith('.tmp'));

describe('option limits are checked first: exit 2 naming the option, nothing written', () => {
  it('gen-data: lengths past the step limit, --max-length below --min-length, too many values (the issue: --min-length 5000 exited 0)', async () => {
    const sub = mkdtempSync(join(dir, 'gen-'));
    const out = join(sub, 'x.rnnb');
    expectInputError(
      await cli('gen-data', '--model', 'statquest', '--count', '3', '--min-length', '5000', '--out', out),
      '--min-length',
      `from 1 to ${LIMITS.maxSteps}`,
    );
    expectInputError(
      await cli(
        'gen-data',
        '--model',
        'statquest',
        '--count',
        '3',
        '--max-length',
        String(LIMITS.maxSteps + 1),
        '--out',
        out,
      ),
      '--max-length',
    );
    expectInputError(
      await cli('gen-data', '--model', 'statquest', '--count', '4294967295', '--min-length', '4096', '--out', out),
      '--count',
      'more than a reader can hold',
    );
    expectInputError(
      await cli('gen-data', '--model', 'statquest', '--count', '300000000', '--out', join(sub, 'x.json')),
      '--count',
      'JSON reader',
    );
    expect(readdirSync(sub)).toEqual([]);
  });

  it('gen-data at the limit writes a file that grad reads', async () => {
    const out = tmp('limit.rnnb');
    const g = await cli(
      'gen-data',
      '--model',
      'statquest',
      '--count',
      '2',
      '--min-length',
      String(LIMITS.maxSteps),
      '--max-length',
      String(LIMITS.maxSteps),
      '--out',
      out,
    );
    expect(g.code).toBe(0);
    expect(readDataFile(out, preset('statquest')).lengths[0]).toBe(LIMITS.maxSteps);
    const r = await cli('grad', '--model', 'statquest', '--data', out, '--backend', 'cpu', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('train: --window past the step limit and --samples × --window too big name the option (the issue: "Invalid typed array length")', async () => {
    expectInputError(
      await cli('train', '--backend', 'cpu', '--data', 'sine', '--samples', '16777216', '--window', '5000'),
      '--window',
      `from 1 to ${LIMITS.maxSteps}`,
    );
    expectInputError(
      await cli('train', '--backend', 'cpu', '--data', 'sine', '--samples', '16777216', '--window', '4096'),
      '--samples',
      'more than one array can hold',
    );
    expectInputError(
      await cli('train', '--backend', 'cpu', '--data', 'adding', '--samples', '16777216', '--window', '200'),
      '--samples',
    );
    const csv = tmp('s.csv');
    writeFileSync(csv, 'x\n1\n2\n3\n');
    expectInputError(await cli('train', '--backend', 'cpu', '--data', csv, '--window', '4097'), '--window');
  });
});

describe('one number parser for every option', () => {
  const bad = (f: (v: string) => number, v: string): void => {
    expect(() => f(v)).toThrow(InvalidArgumentError);
  };

  it('refuses hex, binary, Infinity, empty and junk everywhere; accepts decimals and exponents', () => {
    for (const v of ['0x10', '0b1', '0o7', 'Infinity', '', ' ', '1e999', '1,5', '--1', '1_000']) {
      bad(number(), v);
      bad(integer(1), v);
    }
    expect(number('positive')(' 2.5e-3 ')).toBe(0.0025);
    expect(integer(1, 2 ** 24)('1e6')).toBe(1_000_000);
    bad(integer(1), '1.5');
    expect(parseBytes('1.5K')).toBe(1536);
    expect(parseBytes('512M')).toBe(512 * 2 ** 20);
    for (const v of ['0x10', '0x10M', 'Infinity', '0.3', '-1K', '1T']) bad(parseBytes, v);
  });

  it('every option of every command that parses its value refuses 0x10 and Infinity', () => {
    const program = buildProgram({ out: async () => undefined, err: () => undefined, progress: false, debug: false });
    let checked = 0;
    for (const cmd of program.commands) {
      for (const opt of cmd.options) {
        if (!opt.parseArg || opt.argChoices) continue;
        for (const v of ['0x10', 'Infinity'])
          expect(() => opt.parseArg!(v, undefined), `${cmd.name()} ${opt.long} ${v}`).toThrow();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('the CLI refuses --clip-norm 0x10 (it used to run as 16), --lr 0x1, --noise Infinity, --memory-budget 0x100 with exit 2', async () => {
    const d = seedData();
    expectInputError(
      await cli('grad', '--model', 'statquest', '--data', d, '--backend', 'cpu', '--clip-norm', '0x10'),
      '--clip-norm',
      '0x10',
    );
    expectInputError(await cli('train', '--backend', 'cpu', '--lr', '0x1'), '--lr');
    expectInputError(await cli('train', '--backend', 'cpu', '--data', 'sine', '--noise', 'Infinity'), '--noise');
    expectInputError(
      await cli('forward', '--model', 'statquest', '--data', d, '--backend', 'cpu', '--memory-budget', '0x100'),
      '--memory-budget',
    );
    expectInputError(await cli('bench', '--n', '0x10'), '--n');
    expectInputError(await cli('bench', '--budget', 'Infinity'), '--budget');
  });
});

describe('the CLI layer: one file per command, no import cycle', () => {
  it('no command file imports src/cli/app.ts, and grad, forward, verify, gen-data, statquest have their own files', () => {
    const commands = join(root, 'src', 'cli', 'commands');
    const files = readdirSync(commands);
    for (const name of [
      'grad',
      'forward',
      'verify',
      'gen-data',
      'statquest',
      'train',
      'population',
      'landscape',
      'unroll-study',
      'bench',
    ])
      expect(files).toContain(`${name}.ts`);
    for (const f of files) expect(readFileSync(join(commands, f), 'utf8'), f).not.toMatch(/from '\.\.\/app\.ts'/);
    for (const f of ['io.ts', 'options.ts', 'progress.ts', 'run.ts'])
      expect(readFileSync(join(root, 'src', 'cli', f), 'utf8'), f).not.toMatch(
        /from '\.\/app\.ts'|from '\.\/commands\//,
      );
  });
});

describe('files: unknown keys, mode mismatch, escaped names', () => {
  it('a misspelt key in a model or data file is exit 2 naming it and the nearest key (it used to fall back to the default)', async () => {
    const d = seedData();
    const m = tmp('m.json');
    writeFileSync(m, JSON.stringify({ ...STATQUEST_JSON, Output: 'all' }));
    expectInputError(
      await cli('grad', '--model', m, '--data', d, '--backend', 'cpu'),
      `${m}: Output: unknown key (did you mean "output"?)`,
    );
    writeFileSync(m, JSON.stringify({ ...STATQUEST_JSON, h_0: [1] }));
    expectInputError(
      await cli('forward', '--model', m, '--data', d, '--backend', 'cpu'),
      'h_0: unknown key (did you mean "h0"?)',
    );
    const d2 = tmp('d2.json');
    writeFileSync(d2, JSON.stringify({ inputs: [[[1]]], targets: [[1]], weights: [] }));
    expectInputError(
      await cli('grad', '--model', 'statquest', '--data', d2, '--backend', 'cpu'),
      `${d2}: weights: unknown key`,
    );
    // train --init reads model files the same way.
    expectInputError(await cli('train', '--backend', 'cpu', '--init', m, '--steps', '1'), 'h_0');
  });

  it('an "all" model with "last" data says the output modes differ', async () => {
    const m = tmp('all.json');
    writeFileSync(m, JSON.stringify({ ...STATQUEST_JSON, output: 'all' }));
    expectInputError(
      await cli('grad', '--model', m, '--data', seedData(), '--backend', 'cpu'),
      'targets: the output modes differ',
      'output "last"',
      'output is "all"',
    );
  });

  it('file names with a newline, an ANSI escape or a bidi override are escaped: one line, no control characters', async () => {
    for (const name of ['a\nb.json', 'x\x1b[31mred.json', 'evil\u202etxt.json', 'bell\x07.rnnb']) {
      const r = await cli('grad', '--model', 'statquest', '--data', join(dir, name), '--backend', 'cpu');
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')).toHaveLength(2); // one line and the final newline
      expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
      expect(r.stderr).toContain(printable(name));
    }
    expect(printable('a\nb\x1b[0m\u2028')).toBe('a\\nb\\x1b[0m\\u2028');
    // Echoed in results too: gen-data's "wrote" line.
    const out = join(mkdtempSync(join(dir, 'esc-')), 'new\nline.json');
    const g = await cli('gen-data', '--model', 'statquest', '--count', '1', '--out', out);
    expect(g.code).toBe(0);
    expect(g.stdout).toContain('wrote ' + printable(out));
    expect(g.stdout.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('--json failures print a JSON error object on stdout as well', () => {
  it('bad input, a bad option value, an unknown option, a non-finite run', async () => {
    const d = seedData();
    const missing = join(dir, 'missing.json');
    const r = await cli('grad', '--model', 'statquest', '--data', missing, '--backend', 'cpu', '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`webgpu-rnn: ${missing}: file not found\n`);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { code: 'input', field: null, message: `${missing}: file not found` },
    });
    const m = tmp('m.json');
    writeFileSync(m, JSON.stringify({ ...STATQUEST_JSON, Output: 'all' }));
    expect(
      JSON.parse((await cli('forward', '--model', m, '--data', d, '--backend', 'cpu', '--json')).stdout).error,
    ).toMatchObject({ code: 'input', field: 'Output' });
    const o = await cli(
      'grad',
      '--model',
      'statquest',
      '--data',
      d,
      '--backend',
      'cpu',
      '--json',
      '--clip-norm',
      '0x10',
    );
    expect(o.code).toBe(2);
    expect(JSON.parse(o.stdout).error).toMatchObject({ code: 'usage', field: '--clip-norm' });
    const u = await cli('gen-data', '--json', '--model', 'statquest', '--count', '1', '--out', tmp('x.rnnb'), '--frob');
    expect(JSON.parse(u.stdout).error).toMatchObject({ code: 'usage', field: '--frob' });
    const big = tmp('big.json');
    writeFileSync(
      big,
      JSON.stringify({ ...STATQUEST_JSON, weights: { Wx: [[1]], Wh: [[1e200]], bh: [0], Wy: [[1]], by: [0] } }),
    );
    const n = await cli('forward', '--model', big, '--data', d, '--backend', 'cpu', '--json');
    expect(n.code).toBe(3);
    expect(JSON.parse(n.stdout).error.code).toBe('non-finite');
    // Without --json, stdout stays empty.
    expect((await cli('grad', '--model', 'statquest', '--data', missing, '--backend', 'cpu')).stdout).toBe('');
  });
});

describe('progress: on a terminal after about a second, on stderr only', () => {
  const capture = (progress: boolean): { io: CliIO; err: () => string } => {
    let err = '';
    return { io: { out: async () => undefined, err: (t) => void (err += t), progress, debug: false }, err: () => err };
  };

  it('short work shows nothing; long work shows a line that is cleared; not a terminal shows nothing unless asked', async () => {
    const quick = capture(true);
    const p1 = startProgress(quick.io, 'grad', 100, { unit: 'sequences' });
    p1.update(50);
    p1.done();
    expect(quick.err()).toBe('');
    const slow = capture(true);
    const p2 = startProgress(slow.io, 'grad', 100, { unit: 'sequences', delayMs: 0 });
    p2.update(42);
    p2.done();
    expect(slow.err()).toBe('\r\x1b[Kgrad: 42% (42 of 100 sequences)\r\x1b[K');
    const pipe = capture(false);
    const p3 = startProgress(pipe.io, 'grad', 100, { unit: 'sequences', delayMs: 0 });
    p3.update(42);
    p3.done();
    expect(pipe.err()).toBe('');
    const lines = capture(false);
    const p4 = startProgress(lines.io, 'train', 100, { unit: 'steps', lines: true, everyMs: 0 });
    await new Promise((r) => setTimeout(r, 2));
    p4.update(10, 'loss 0.5');
    expect(lines.err()).toBe('train: 10 of 100 steps, loss 0.5\n');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The real process: signals, pipes, a full disk.
// ---------------------------------------------------------------------------------------------------------------

/** Starts gen-data writing a large file, waits for its temporary file, sends `signal`; resolves with the exit code. */
async function interruptGenData(
  signal: NodeJS.Signals,
  out: string,
  count: string,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(
    process.execPath,
    [
      ...CLI,
      'gen-data',
      '--model',
      'statquest',
      '--count',
      count,
      '--min-length',
      '50',
      '--max-length',
      '100',
      '--out',
      out,
    ],
    { cwd: root },
  );
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const d = dirname(out);
  const deadline = Date.now() + 60_000;
  while (tmpFiles(d).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(tmpFiles(d).length).toBe(1); // the write is under way
  await new Promise((r) => setTimeout(r, 200));
  child.kill(signal);
  return { code: await exited, stderr };
}

describe('signals leave no litter', () => {
  it.each([
    ['SIGINT', 130, 'rnnb'],
    ['SIGTERM', 143, 'json'],
    ['SIGHUP', 129, 'rnnb'],
  ] as const)(
    '%s during gen-data (%s) removes the temporary file and exits %i; an existing file is untouched',
    async (signal, code, ext) => {
      const sub = mkdtempSync(join(dir, 'sig-'));
      const out = join(sub, `big.${ext}`);
      writeFileSync(out, 'old');
      chmodSync(out, 0o600);
      const r = await interruptGenData(signal, out, ext === 'json' ? '400000' : '3000000');
      expect(r.code).toBe(code);
      expect(readdirSync(sub)).toEqual([`big.${ext}`]);
      expect(statSync(out).size).toBe(3);
      expect(statSync(out).mode & 0o777).toBe(0o600);
    },
    90_000,
  );
});

describe('stdout closed or full', () => {
  const d = (() => {
    const p = join(mkdtempSync(join(tmpdir(), 'webgpu-rnn-pipe-')), 'd.json');
    writeJsonData(
      p,
      randomBatch({ count: 200, inputSize: 1, outputSize: 1, output: 'last', minLength: 1, maxLength: 4, seed: 1 }),
    );
    return p;
  })();
  const sh = (pipeline: string): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync('bash', ['-c', pipeline], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const grad = `${CLI_SHELL} forward --model statquest --data ${d} --backend cpu --json`;

  it('| head -c 10 and | true end quietly (no "Unhandled \'error\' event")', () => {
    const head = sh(`${grad} | head -c 10; echo " status=\${PIPESTATUS[0]}"`);
    expect(head.stderr).toBe('');
    expect(head.stdout).toBe('{\n  "backe status=0\n');
    const t = sh(`${grad} | true; echo "status=\${PIPESTATUS[0]}"`);
    expect(t.stderr).toBe('');
    expect(t.stdout).toBe('status=0\n');
    const help = sh(`${CLI_SHELL} --help | head -c 5; echo " status=\${PIPESTATUS[0]}"`);
    expect(help.stderr).toBe('');
    expect(help.stdout).toBe('Usage status=0\n');
  }, 60_000);

  it('>/dev/full: one line on stderr, exit 1', () => {
    const full = sh(`${grad} >/dev/full`);
    expect(full.code).toBe(1);
    expect(full.stderr).toBe('webgpu-rnn: cannot write to stdout: no space left on the device\n');
    const gen = sh(
      `${CLI_SHELL} gen-data --model statquest --count 2 --out ${join(dirname(d), 'g.json')} --json >/dev/full`,
    );
    expect(gen.code).toBe(1);
    expect(gen.stderr).toBe('webgpu-rnn: cannot write to stdout: no space left on the device\n');
    expect(existsSync(join(dirname(d), 'g.json'))).toBe(true); // the file was written before the summary failed
  }, 60_000);
});
