// The CLI's error reports: a misspelt key in a model or data file is exit 2 naming it and the nearest known key,
// mismatched output modes are said as such, file names with control or bidi characters are escaped to one line, and
// with --json every failure (bad input, a bad or unknown option, a non-finite run) is also a JSON error object on
// stdout.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { printable } from '../src/cli/io.ts';
import { STATQUEST_JSON } from '../src/model.ts';
import { cli, expectInputError } from './helpers/cli.ts';
import { smallDataFile, tempFiles } from './helpers/files.ts';
import type { ErrorJson } from './helpers/reports.ts';

const { dir, tmp } = tempFiles('webgpu-rnn-cli-errors-');

/** A control character other than the newline, DEL, or the right-to-left override. */
const unsafeChar = (ch: string): boolean => {
  const c = ch.codePointAt(0)!;
  return (c < 0x20 && c !== 0x0a) || c === 0x7f || c === 0x202e;
};

describe('files: unknown keys, mode mismatch, escaped names', () => {
  it('a misspelt key in a model or data file is exit 2 naming it and the nearest key (not a silent default)', async () => {
    const d = smallDataFile(tmp('d.json'));
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
      await cli('grad', '--model', m, '--data', smallDataFile(tmp('d.json')), '--backend', 'cpu'),
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
      expect([...r.stderr].filter(unsafeChar)).toEqual([]);
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
    const d = smallDataFile(tmp('d.json'));
    const missing = join(dir, 'missing.json');
    const r = await cli('grad', '--model', 'statquest', '--data', missing, '--backend', 'cpu', '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`webgpu-rnn: ${missing}: file not found\n`);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { code: 'input', field: null, message: `${missing}: file not found` },
    });
    const m = tmp('m.json');
    writeFileSync(m, JSON.stringify({ ...STATQUEST_JSON, Output: 'all' }));
    const e = await cli('forward', '--model', m, '--data', d, '--backend', 'cpu', '--json');
    expect((JSON.parse(e.stdout) as ErrorJson).error).toMatchObject({ code: 'input', field: 'Output' });
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
    expect((JSON.parse(o.stdout) as ErrorJson).error).toMatchObject({ code: 'usage', field: '--clip-norm' });
    const u = await cli('gen-data', '--json', '--model', 'statquest', '--count', '1', '--out', tmp('x.rnnb'), '--frob');
    expect((JSON.parse(u.stdout) as ErrorJson).error).toMatchObject({ code: 'usage', field: '--frob' });
    const big = tmp('big.json');
    writeFileSync(
      big,
      JSON.stringify({ ...STATQUEST_JSON, weights: { Wx: [[1]], Wh: [[1e200]], bh: [0], Wy: [[1]], by: [0] } }),
    );
    const n = await cli('forward', '--model', big, '--data', d, '--backend', 'cpu', '--json');
    expect(n.code).toBe(3);
    expect((JSON.parse(n.stdout) as ErrorJson).error.code).toBe('non-finite');
    // Without --json, stdout stays empty.
    expect((await cli('grad', '--model', 'statquest', '--data', missing, '--backend', 'cpu')).stdout).toBe('');
  });
});
