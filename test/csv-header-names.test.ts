// Column names are how forecast and predict find a model's columns again, so a CSV header must name every value
// column once: two columns of one name (after trimming) are refused naming both positions, an empty name or
// `--column ''` is refused, and cells past the header's width are refused instead of ignored. Each case exits 2 on
// the CLI; a model trained on a good file refuses a file with duplicate names.

import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../src/data/csv.ts';
import { cli, expectInputError } from './helpers/cli.ts';
import { inputError, tempFiles } from './helpers/files.ts';

const { tmp } = tempFiles('webgpu-rnn-csv-names-');

const rows = (n: number, f: (i: number) => string): string =>
  Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n';

describe('duplicate header names', () => {
  it('train on a,a is refused with exit 2, naming both positions', async () => {
    const p = tmp('dup.csv');
    writeFileSync(p, 'a,a\n' + rows(30, (i) => `${i % 5},${(i * 7) % 11}`));
    const before = readFileSync(p);
    const r = await cli('train', '--backend', 'cpu', '--data', p, '--steps', '2', '--normalize', 'zscore');
    expectInputError(r, p, 'header: columns 1 and 2 have the same name "a"');
    expect(readFileSync(p).equals(before)).toBe(true);
  });

  it('variants: equal after trimming (quoted spaces), a third column, and forecast/predict on such a file', async () => {
    expect(inputError(() => parseCsv('"x ",y," x"\n1,2,3\n')).reason).toBe(
      'columns 1 and 3 have the same name "x"; give every column its own name',
    );
    expect(inputError(() => parseCsv('t,b,c,b\n1,2,3,4\n', { columns: ['c'] })).field).toBe('header');
    // A model trained on a,b; then a file whose header says a,a: predict and forecast refuse it.
    const good = tmp('good.csv');
    writeFileSync(good, 'a,b\n' + rows(40, (i) => `${i % 5},${(i * 3) % 7}`));
    const m = tmp('m.json');
    expect((await cli('train', '--backend', 'cpu', '--data', good, '--steps', '2', '--out', m)).code).toBe(0);
    const bad = tmp('bad.csv');
    writeFileSync(bad, 'a,a\n' + rows(40, (i) => `${i % 5},${(i * 3) % 7}`));
    expectInputError(await cli('predict', '--backend', 'cpu', '--model', m, '--data', bad), 'columns 1 and 2');
    expectInputError(
      await cli('forecast', '--backend', 'cpu', '--model', m, '--data', bad, '--steps', '2'),
      'columns 1 and 2',
    );
  });
});

describe('empty names, empty --column, extra cells', () => {
  it('value, as the header with a second column of values is refused; a trailing separator everywhere is not', () => {
    expect(inputError(() => parseCsv('value,\n1,2\n3,4\n')).reason).toContain('column 2 has no name');
    const trailing = parseCsv('value,\n1,\n3,\n');
    expect(trailing.names).toEqual(['value']);
    expect(Array.from(trailing.values[0])).toEqual([1, 3]);
  });

  it("--column '' and --column a, are refused, naming the column option", async () => {
    const p = tmp('v.csv');
    writeFileSync(p, 'a,b\n' + rows(30, (i) => `${i % 5},${(i * 7) % 11}`));
    expectInputError(
      await cli('train', '--backend', 'cpu', '--data', p, '--column', ''),
      'column: an empty column name',
    );
    expectInputError(await cli('train', '--backend', 'cpu', '--data', p, '--column', 'a,'), 'an empty column name');
  });

  it('a row with more cells than the header is refused, naming the row and the cell', async () => {
    const p = tmp('extra.csv');
    writeFileSync(p, 'a,b\n' + rows(30, (i) => (i === 4 ? `1,2,99` : `${i % 5},${i % 3}`)));
    expectInputError(
      await cli('train', '--backend', 'cpu', '--data', p, '--steps', '2'),
      'row 6: 3 cells, but the header has 2: cell 3 ("99") belongs to no column',
    );
    // Variant: without a header, the first row sets the width.
    expect(inputError(() => parseCsv('1,2\n3,4,5\n')).reason).toContain('but the first row has 2');
    // Empty extra cells (a trailing separator) are not values.
    expect(parseCsv('a,b\n1,2,\n3,4,\n').length).toBe(2);
  });
});
