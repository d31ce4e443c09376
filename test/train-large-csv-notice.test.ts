// train says on stderr when it reads a CSV file of 64 MiB or more (before and after reading and windowing it, which
// takes a while before the first step), and says nothing for a smaller file.

import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LARGE_CSV_BYTES } from '../src/cli/commands/train.ts';
import { cli } from './helpers/cli.ts';
import { tempFiles } from './helpers/files.ts';

const { tmp } = tempFiles('webgpu-rnn-large-csv-');

const rows = 't,v\n' + Array.from({ length: 40 }, (_, i) => `${i},${Math.sin(i / 3).toFixed(4)}`).join('\n') + '\n';

describe('reading a large CSV file', () => {
  it('a 64 MiB file (40 rows and a blank line of spaces): a line before reading and one after, with the rows', async () => {
    const p = tmp('large.csv');
    writeFileSync(p, rows + ' '.repeat(LARGE_CSV_BYTES) + '\n');
    const r = await cli('train', '--backend', 'cpu', '--data', p, '--steps', '1');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `^train: reading ${p} \\(64 MiB\\) and cutting its windows …\\ntrain: read 40 rows in \\d+\\.\\d s\\n$`,
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
});
