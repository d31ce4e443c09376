// The CLI's option values: limits named before any work is done (what gen-data writes at the limit, every reader
// accepts; nothing is written when an option is refused), and one decimal number parser for every option of every
// command (no hex, binary, Infinity or junk), each refusal exit 2 naming the option.

import { readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'commander';
import { buildProgram } from '../src/cli/app.ts';
import { integer, number, parseBytes } from '../src/cli/options.ts';
import { readDataFile } from '../src/io/files.ts';
import { LIMITS, preset } from '../src/model.ts';
import { cli, expectInputError } from './helpers/cli.ts';
import { smallDataFile, tempFiles } from './helpers/files.ts';

const { dir, tmp } = tempFiles('webgpu-rnn-cli-options-');

describe('option limits are checked first: exit 2 naming the option, nothing written', () => {
  it('gen-data: lengths past the step limit, --max-length below --min-length, too many values (--min-length 5000 included)', async () => {
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

  it('train: --window past the step limit and --samples × --window too big name the option (not "Invalid typed array length")', async () => {
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
    const program = buildProgram({ out: () => Promise.resolve(), err: () => undefined, progress: false, debug: false });
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

  it('the CLI refuses --clip-norm 0x10 (not 16), --lr 0x1, --noise Infinity, --memory-budget 0x100 with exit 2', async () => {
    const d = smallDataFile(tmp('d.json'));
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
