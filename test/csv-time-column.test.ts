// The time column of a CSV series is detected only from text that cannot be a measurement: a time word as the
// header, ISO and day-first dates, month names, or whole numbers that increase by one. A value column whose numbers
// look like years with decimals (1234.5) is a value; the train report says which column was taken as time and why;
// a time column that does not increase is reported as a warning.

import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../src/data/csv.ts';
import type { ModelJSON } from '../src/model.ts';
import { cli } from './helpers/cli.ts';
import { tempFiles } from './helpers/files.ts';

const { tmp } = tempFiles('webgpu-rnn-csv-time-');

/** The price file: close values from about 1184 to 1404 with two decimals, and a volume. */
const priceCsv = (): string =>
  'close,volume\n' +
  Array.from({ length: 120 }, (_, i) => `${(1234.5 + i + 50 * Math.sin(i / 4)).toFixed(2)},${100 + (i % 7)}\n`).join(
    '',
  );

interface Report {
  model: ModelJSON;
  data: { timeColumn: string | null; timeColumnReason: string | null };
}

describe('a value column that looks like years with decimals is a value', () => {
  it('train on close,volume (close = 1234.50 …) trains on both columns, with no time column', async () => {
    const p = tmp('p.csv');
    writeFileSync(p, priceCsv());
    const r = await cli('train', '--backend', 'cpu', '--data', p, '--steps', '5', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as Report;
    expect(rep.model.series!.columns).toEqual(['close', 'volume']);
    expect(rep.model.series!.timeColumn).toBeNull();
    expect(rep.model.inputSize).toBe(2);
    expect(rep.data.timeColumn).toBeNull();
  });

  it('variants: one decimal column, a date-like first value with dots (2024.01), a decimal after a count', () => {
    expect(parseCsv('price\n1999.5\n2000.25\n2001.75\n').names).toEqual(['price']);
    const dotted = parseCsv('a,b\n2024.01,1\n2024.02,3\n2024.03,2\n');
    expect(dotted.timeColumn).toBeNull();
    expect(dotted.names).toEqual(['a', 'b']);
    // Integers that do not increase by one are values too.
    const steps = parseCsv('n,v\n1,5\n3,9\n4,7\n');
    expect(steps.timeColumn).toBeNull();
    expect(steps.names).toEqual(['n', 'v']);
  });
});

describe('what is taken as time, and why', () => {
  it('a time word header, ISO and day-first dates, month names, integers counting by one', () => {
    const cases: [string, string, string][] = [
      ['Year,v\n1990,1\n1995,2\n', 'Year', 'header'],
      ['when,v\n2024-01-31,1\n2024-02-29,2\n', 'when', 'dates'],
      ['when,v\n2024/1/31 10:00,1\n2024/2/1 10:00,2\n', 'when', 'dates'],
      ['when,v\n31/01/2024,1\n01/02/2024,2\n', 'when', 'dates'],
      ['when,v\n31.01.2024,1\n01.02.2024,2\n', 'when', 'dates'],
      ['m,v\nJan 2020,1\nFeb 2020,2\n', 'm', 'months'],
      ['m,v\n2020-Mar,1\n2020-Apr,2\n', 'm', 'months'],
      ['idx,v\n1700,1\n1701,2\n1702,4\n', 'idx', 'counting'],
      [',v\n0,1.5\n1,2.5\n2,0.5\n', 'column 1', 'counting'],
    ];
    for (const [text, name, reason] of cases) {
      const s = parseCsv(text);
      expect([s.timeColumn, s.timeReason], text).toEqual([name, reason]);
      expect(s.names, text).toEqual(['v']);
    }
    expect(parseCsv('t,v\n5,1\n9,2\n', { timeColumn: 't' }).timeReason).toBe('named');
    // A counting column asked for as a value is one; a file of one counting column is its values.
    expect(parseCsv('n,v\n1,5\n2,6\n', { columns: ['n', 'v'] }).names).toEqual(['n', 'v']);
    expect(parseCsv('n\n1\n2\n3\n').names).toEqual(['n']);
  });

  it('the train report names the time column and the reason, in text and JSON', async () => {
    const p = tmp('counted.csv');
    writeFileSync(
      p,
      'k,x\n' + Array.from({ length: 40 }, (_, i) => `${i + 1},${Math.sin(i / 3).toFixed(4)}`).join('\n'),
    );
    const r = await cli('train', '--backend', 'cpu', '--data', p, '--steps', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('(time column k skipped: its values are integers that increase by one (1, …))');
    const j = await cli('train', '--backend', 'cpu', '--data', p, '--steps', '2', '--json');
    const rep = JSON.parse(j.stdout) as Report;
    expect(rep.data.timeColumn).toBe('k');
    expect(rep.data.timeColumnReason).toBe('its values are integers that increase by one (1, …)');
  });
});

describe('a time column that does not increase is reported', () => {
  it('dates out of order: a warning naming the rows (train), and the same from parseCsv', async () => {
    const text =
      'date,v\n' +
      Array.from({ length: 30 }, (_, i) => `2024-01-${String(i === 10 ? 5 : i + 1).padStart(2, '0')},${i % 5}`).join(
        '\n',
      );
    const s = parseCsv(text);
    expect(s.warnings).toEqual([
      'the time column "date" does not increase: row 12 ("2024-01-05") is not after row 11 ("2024-01-10"); the rows are read in file order',
    ]);
    const p = tmp('unordered.csv');
    writeFileSync(p, text);
    const r = await cli('train', '--backend', 'cpu', '--data', p, '--steps', '2');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`webgpu-rnn: warning: ${p}: ${s.warnings[0]}\n`);
  });

  it('variants: repeated years warn; increasing ones and month names do not', () => {
    expect(parseCsv('year,v\n2000,1\n2001,2\n2001,3\n').warnings[0]).toContain('row 4 ("2001") is not after row 3');
    expect(parseCsv('year,v\n2000,1\n2001,2\n2005,3\n').warnings).toEqual([]);
    expect(parseCsv('m,v\nMar 2020,1\nJan 2020,2\n').warnings).toEqual([]);
  });
});
