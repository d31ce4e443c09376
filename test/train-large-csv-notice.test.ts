// Reading a CSV file of 64 MiB or more: train, population, landscape, forecast and predict say so on stderr, a line
// before, the parse's progress in percent of the file (elsewhere than a terminal a line at 25, 50 and 75 %; on a
// terminal one line redrawn in place and cleared), and a line after with the rows; a smaller file: nothing. Also
// parseCsv's onProgress: each whole percent once, increasing to 1, without changing what is read.

import { truncateSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../src/data/csv.ts';
import type { CliIO } from '../src/cli/io.ts';
import { LARGE_CSV_BYTES, withCsvProgress } from '../src/cli/progress.ts';
import { cli } from './helpers/cli.ts';
import { tempFiles } from './helpers/files.ts';

const { tmp } = tempFiles('webgpu-rnn-large-csv-');

const rows = 't,v\n' + Array.from({ length: 40 }, (_, i) => `${i},${Math.sin(i / 3).toFixed(4)}`).join('\n') + '\n';

/** 40 rows of t, v and a note of 1.6 MiB each (read with --column v): 64 MiB of rows, parsed in about a second. */
function wideFile(): string {
  const p = tmp('wide.csv');
  const note = 'x'.repeat(Math.ceil(LARGE_CSV_BYTES / 40));
  const text =
    't,v,note\n' + Array.from({ length: 40 }, (_, i) => `${i},${Math.sin(i / 3).toFixed(4)},${note}`).join('\n') + '\n';
  writeFileSync(p, text);
  return p;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The lines a command prints while it reads the 64 MiB file `p` (not on a terminal). */
function readingLines(label: string, p: string, windows: boolean): RegExp {
  const name = `${label}: reading ${esc(p)}`;
  return new RegExp(
    `^${name} \\(64 MiB\\)${windows ? ' and cutting its windows' : ''} …\\n` +
      `${name}: 25% \\(16 of 64 MiB\\)\\n${name}: 50% \\(32 of 64 MiB\\)\\n${name}: 75% \\(48 of 64 MiB\\)\\n` +
      `${label}: read 40 rows in \\d+\\.\\d s\\n$`,
  );
}

describe('reading a large CSV file', () => {
  it('train, then population, landscape, forecast and predict on its model: a line before, 25, 50 and 75 %, a line after', async () => {
    const p = wideFile();
    const m = tmp('m.json');
    const r = await cli('train', '--backend', 'cpu', '--data', p, '--column', 'v', '--steps', '1', '--out', m);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(readingLines('train', p, true));
    const runs: [string, string[], boolean][] = [
      ['population', ['--column', 'v', '--steps', '1', '--count', '2'], true],
      ['landscape', ['--column', 'v', '--cell', 'elman', '--x', 'Wx[0][0]', '--y', 'Wh[0][0]', '--grid', '3x3'], true],
      ['forecast', ['--model', m, '--steps', '2'], false],
      ['predict', ['--model', m], false],
    ];
    for (const [cmd, args, windows] of runs) {
      const c = await cli(cmd, '--backend', 'cpu', '--data', p, ...args);
      expect(c.code, `${cmd}: ${c.stderr}`).toBe(0);
      expect(c.stderr, cmd).toMatch(readingLines(cmd, p, windows));
    }
  }, 120_000);

  it('variant: a 64 MiB file of 40 rows and a blank line of spaces: the same lines, percentages from where the parse is', async () => {
    const p = tmp('large.csv');
    writeFileSync(p, rows + ' '.repeat(LARGE_CSV_BYTES) + '\n');
    const r = await cli('train', '--backend', 'cpu', '--data', p, '--steps', '1');
    expect(r.code).toBe(0);
    // The blank line is one record: the parse jumps past 25 % at once.
    const name = `train: reading ${esc(p)}`;
    expect(r.stderr).toMatch(
      new RegExp(
        `^${name} \\(64 MiB\\) and cutting its windows …\\n${name}: 50% \\(32 of 64 MiB\\)\\n${name}: 75% \\(48 of 64 MiB\\)\\ntrain: read 40 rows in \\d+\\.\\d s\\n$`,
      ),
    );
  }, 60_000);

  it('variant: a file just under the size says nothing', async () => {
    const p = tmp('small.csv');
    writeFileSync(p, rows + ' '.repeat(LARGE_CSV_BYTES - rows.length - 2) + '\n');
    const r = await cli('train', '--backend', 'cpu', '--data', p, '--steps', '1');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  }, 60_000);

  it('on a terminal: one line redrawn in place after a second, cleared before the line after', () => {
    const p = tmp('sparse.csv');
    writeFileSync(p, '');
    truncateSync(p, LARGE_CSV_BYTES); // its size is all that is looked at here
    let err = '';
    const io: CliIO = { out: () => Promise.resolve(), err: (t) => void (err += t), progress: true, debug: false };
    const value = withCsvProgress(io, 'train', p, ' and cutting its windows', (hooks) => {
      hooks.onProgress!(0.1); // before a second: not shown
      const t = performance.now();
      while (performance.now() - t < 1100);
      hooks.onProgress!(0.5);
      hooks.onProgress!(1);
      hooks.onRows!(1234);
      return 7;
    });
    expect(value).toBe(7);
    expect(err).toMatch(
      new RegExp(
        `^train: reading ${esc(p)} \\(64 MiB\\) and cutting its windows …\\n` +
          `\\r\\x1b\\[Ktrain: reading ${esc(p)}: 50% \\(32 of 64 MiB\\)` +
          `\\r\\x1b\\[Ktrain: reading ${esc(p)}: 100% \\(64 of 64 MiB\\)\\r\\x1b\\[K` +
          `train: read 1,234 rows in 1\\.\\d s\\n$`,
      ),
    );
    // A reader that fails still clears the line; a null path (no CSV) and a small file say nothing.
    err = '';
    expect(() =>
      withCsvProgress(io, 'train', p, '', (hooks) => {
        const t = performance.now();
        while (performance.now() - t < 1100);
        hooks.onProgress!(0.3);
        throw new Error('bad row');
      }),
    ).toThrow('bad row');
    expect(err.endsWith(`: 29% (19 of 64 MiB)\r\x1b[K`)).toBe(true); // 19 of the 64 MiB read
    err = '';
    expect(withCsvProgress(io, 'train', null, '', (hooks) => (hooks.onProgress ? 1 : 2))).toBe(2);
    truncateSync(p, LARGE_CSV_BYTES - 1);
    expect(withCsvProgress(io, 'train', p, '', (hooks) => (hooks.onProgress ? 1 : 2))).toBe(2);
    expect(err).toBe('');
  });
});

describe("parseCsv's onProgress", () => {
  it('reports each whole percent once, increasing to 1, and reads the same series', () => {
    const text =
      'date,a,b\n' + Array.from({ length: 5000 }, (_, i) => `2020-01-${i},${i / 7},"${-i}"`).join('\r\n') + '\n';
    const seen: number[] = [];
    const withProgress = parseCsv(text, { onProgress: (f) => seen.push(f) });
    expect(withProgress).toEqual(parseCsv(text));
    expect(withProgress.length).toBe(5000);
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(1);
    for (let k = 1; k < seen.length; k++) expect(seen[k]).toBeGreaterThan(seen[k - 1]);
    expect(
      seen.every((f) => Number.isInteger(Math.round(f * 100)) && Math.abs(f * 100 - Math.round(f * 100)) < 1e-9),
    ).toBe(true);
    // 5000 rows: running progress, nearly every percent (the cells' share is estimated from their lengths).
    expect(seen.length).toBeGreaterThan(90);
    expect(seen.filter((f) => f > 0.1 && f < 0.9).length).toBeGreaterThan(70);
  });
});
