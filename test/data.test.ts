// The data sets: the seed data equals the notes' sequences, synthetic tasks are exact and seeded, CSV parsing and
// windows give exact contents and errors naming row and column (RFC 4180 quoting included: the row of a record is
// the file line it starts on), and splits have the documented sizes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addingData,
  csvData,
  parseCsv,
  seedData,
  sineData,
  slidingWindows,
  splitData,
  subsetBatch,
} from '../src/data/index.ts';
import { InputError } from '../src/errors.ts';
import { checkBatch } from '../src/validate.ts';
import { Rng } from '../src/random.ts';
import { STATQUEST_SEQUENCES } from '../src/statquest.ts';

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('seed data', () => {
  it("is the notes' two sequences with their observed values", () => {
    const d = seedData();
    expect(d.batch.count).toBe(2);
    expect(Array.from(d.batch.inputs)).toEqual(STATQUEST_SEQUENCES.inputs.flat());
    expect(Array.from(d.batch.targets!)).toEqual(STATQUEST_SEQUENCES.observed);
    expect(Array.from(d.batch.lengths)).toEqual([2, 2]);
    expect(d.suggest).toMatchObject({ inputSize: 1, outputSize: 1, output: 'last', hiddenSize: 1, activation: 'relu' });
    expect(Array.from(seedData(3).batch.inputs)).toEqual([1, 1, 0.5, 0.5, 0, 0.5]);
  });
});

describe('noisy sine', () => {
  it('is a sine of the documented phase and period, with noise 0', () => {
    const d = sineData({ count: 3, length: 5, seed: 7, noise: 0, period: 8 });
    const rng = new Rng(7);
    for (let n = 0; n < 3; n++) {
      const phase = 2 * Math.PI * rng.next();
      for (let k = 0; k < 2 * 6; k++) rng.next(); // two uniforms per gaussian draw, one draw per value (noise 0 or not)
      for (let t = 0; t < 5; t++)
        expect(d.batch.inputs[n * 5 + t]).toBe(Math.fround(Math.sin(phase + (2 * Math.PI * t) / 8)));
      expect(d.batch.targets![n]).toBe(Math.fround(Math.sin(phase + (2 * Math.PI * 5) / 8)));
    }
  });

  it('is deterministic per seed and the noise has the requested size', () => {
    const a = sineData({ count: 2000, length: 4, seed: 3, noise: 0.1 });
    const b = sineData({ count: 2000, length: 4, seed: 3, noise: 0.1 });
    const c = sineData({ count: 2000, length: 4, seed: 4, noise: 0.1 });
    expect(a.batch.inputs).toEqual(b.batch.inputs);
    expect(a.batch.targets).toEqual(b.batch.targets);
    expect(a.batch.inputs).not.toEqual(c.batch.inputs);
    // Residuals against the clean sine: mean ≈ 0, std ≈ 0.1 (8000 draws: ±3%).
    const clean = sineData({ count: 2000, length: 4, seed: 3, noise: 0 });
    let s = 0;
    let s2 = 0;
    for (let k = 0; k < a.batch.inputs.length; k++) {
      const r = a.batch.inputs[k] - clean.batch.inputs[k];
      s += r;
      s2 += r * r;
    }
    const m = s / a.batch.inputs.length;
    expect(Math.abs(m)).toBeLessThan(0.005);
    expect(Math.sqrt(s2 / a.batch.inputs.length - m * m)).toBeCloseTo(0.1, 2);
    expect(checkBatch({ inputSize: 1, outputSize: 1, output: 'last' } as never, a.batch)).toBeUndefined();
  });
});

describe('adding problem', () => {
  it('has one marker in each half and the target is the sum of the marked values', () => {
    const T = 7;
    const d = addingData({ count: 500, length: T, seed: 11 });
    expect(d.batch.inputSize).toBe(2);
    for (let n = 0; n < 500; n++) {
      const marked: number[] = [];
      let sum = 0;
      for (let t = 0; t < T; t++) {
        const v = d.batch.inputs[(n * T + t) * 2];
        const m = d.batch.inputs[(n * T + t) * 2 + 1];
        expect(v >= 0 && v < 1).toBe(true);
        expect(m === 0 || m === 1).toBe(true);
        if (m === 1) {
          marked.push(t);
          sum += v;
        }
      }
      expect(marked.length).toBe(2);
      expect(marked[0]).toBeLessThan(4);
      expect(marked[1]).toBeGreaterThanOrEqual(4);
      expect(d.batch.targets![n]).toBe(Math.fround(sum));
    }
    expect(addingData({ count: 5, length: T, seed: 11 }).batch.inputs).toEqual(d.batch.inputs.subarray(0, 5 * T * 2));
    expect(inputError(() => addingData({ count: 1, length: 1, seed: 1 })).message).toContain('length');
  });
});

describe('CSV', () => {
  const text =
    'date,close,volume\n2024-01-01,1.5,100\n2024-01-02,2.5,200\n\n2024-01-03,3.5,300\n2024-01-04,4.5,400\n2024-01-05,5.5,500\n';

  it('reads a column by name and by number, keeping file line numbers', () => {
    const s = parseCsv(text, { columns: ['close'] });
    expect(s.hasHeader).toBe(true);
    expect(s.names).toEqual(['close']);
    expect(Array.from(s.values[0])).toEqual([1.5, 2.5, 3.5, 4.5, 5.5]);
    expect(s.lines).toEqual([2, 3, 5, 6, 7]);
    expect(Array.from(parseCsv(text, { columns: [3] }).values[0])).toEqual([100, 200, 300, 400, 500]);
    expect(Array.from(parseCsv(text, { columns: ['3'] }).values[0])).toEqual([100, 200, 300, 400, 500]);
  });

  it('cuts exact sliding windows with a next-value target', () => {
    const d = csvData(text, { columns: ['close'], window: 3 });
    expect(d.batch.count).toBe(2);
    expect(Array.from(d.batch.inputs)).toEqual([1.5, 2.5, 3.5, 2.5, 3.5, 4.5]);
    expect(Array.from(d.batch.targets!)).toEqual([4.5, 5.5]);
    expect(d.timeOrdered).toBe(true);
  });

  it('takes several columns as I > 1 and the next k values as targets', () => {
    const d = csvData(text, { columns: ['close', 'volume'], window: 2, horizon: 2 });
    expect(d.batch.inputSize).toBe(2);
    expect(d.batch.outputSize).toBe(4);
    expect(d.batch.count).toBe(2);
    expect(Array.from(d.batch.inputs.subarray(0, 4))).toEqual([1.5, 100, 2.5, 200]);
    // o = j·C + c: rows 3 and 4 of close and volume.
    expect(Array.from(d.batch.targets!.subarray(0, 4))).toEqual([3.5, 300, 4.5, 400]);
    expect(d.gap).toBe(1);
    expect(d.suggest).toMatchObject({ inputSize: 2, outputSize: 4 });
  });

  it('reads headerless files, semicolons and quoted cells', () => {
    const s = parseCsv('1;2\n3;4\n');
    expect(s.hasHeader).toBe(false);
    expect(s.names).toEqual(['column 1', 'column 2']);
    expect(Array.from(s.values[1])).toEqual([2, 4]);
    const q = parseCsv('"a, b",c\n"1",2\n', { columns: ['a, b'] });
    expect(Array.from(q.values[0])).toEqual([1]);
    const w = slidingWindows(parseCsv('0\n1\n2\n3\n4\n5\n6\n'), { window: 2, stride: 2 });
    expect(Array.from(w.batch.inputs)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(w.batch.targets!)).toEqual([2, 4, 6]);
  });

  it('names the row (as in the file) and the column of a bad cell', () => {
    const bad = 'date,close\n2024-01-01,1.5\n\n2024-01-03,abc\n';
    const e = inputError(() => parseCsv(bad, { columns: ['close'], source: 'prices.csv' }));
    expect(e.message).toBe('prices.csv: row 4, column 2 ("close"): expected a number, got "abc"');
    expect(inputError(() => parseCsv('1,2\n3,\n')).message).toContain('row 2, column 2: empty cell');
    expect(inputError(() => parseCsv('1,2\n3\n')).message).toContain('row 2, column 2: missing');
    expect(inputError(() => parseCsv('1\n1e999\n')).message).toContain('row 2, column 1: 1e999 is out of range');
    expect(inputError(() => parseCsv('1\nNaN\n')).message).toContain('row 2, column 1: expected a number, got "NaN"');
    // A first row with some numbers is data, so its bad cell is reported as row 1.
    expect(inputError(() => parseCsv('x,1\n2,3\n')).message).toContain('row 1, column 1');
  });

  it('reads quoted cells with the delimiter, line breaks and "" inside, with any line ending', () => {
    const file = [
      'date,note,value',
      '2024-01-01,"plain",1',
      '2024-01-02,"a, b; c",2',
      '2024-01-03,"two\nlines",3',
      '2024-01-04,"say ""hi""",4',
      '2024-01-05,"""",5',
      '2024-01-06,"three\n\nlines, and a ""quote""",6',
      '2024-01-07,,7',
    ];
    const expected = ['plain', 'a, b; c', 'two\nlines', 'say "hi"', '"', 'three\n\nlines, and a "quote"', ''];
    for (const eol of ['\n', '\r\n', '\r']) {
      const text = (file.join('\n') + '\n').replace(/\n/g, eol);
      const s = parseCsv(text, { columns: ['value'], timeColumn: 'note' });
      expect(Array.from(s.values[0])).toEqual([1, 2, 3, 4, 5, 6, 7]);
      // Line breaks inside a quoted cell are kept as written.
      expect(s.times).toEqual(expected.map((t) => t.replace(/\n/g, eol)));
      // Each row is numbered by the file line it starts on.
      expect(s.lines).toEqual([2, 3, 4, 6, 7, 8, 11]);
    }
    // A quoted header cell may hold the delimiter; spaces around a quoted cell are allowed.
    const q = parseCsv('"a, b" , "c"\n"1"  ,"2" \n "3" ,\t4\t\n', { columns: ['a, b', 'c'] });
    expect(q.names).toEqual(['a, b', 'c']);
    expect(Array.from(q.values[0])).toEqual([1, 3]);
    expect(Array.from(q.values[1])).toEqual([2, 4]);
    // A quoted tab-separated file, blank lines skipped but counted.
    const t = parseCsv('x\ty\n"1"\t"2"\n\t\n\n3\t4\n');
    expect(Array.from(t.values[1])).toEqual([2, 4]);
    expect(t.lines).toEqual([2, 5]);
  });

  it('names the line a record starts on after multi-line quoted cells', () => {
    const text = 'date,note,value\n2024-01-01,"one\ntwo\nthree",1.5\n2024-01-02,"a, ""b""\n",abc\n';
    const e = inputError(() => parseCsv(text, { columns: ['value'], source: 'notes.csv' }));
    expect(e.message).toBe('notes.csv: row 5, column 3 ("value"): expected a number, got "abc"');
    // The bad value on a later line of the record it belongs to: the row is where that record starts.
    const same = 'date,note,value\n2024-01-01,"one\ntwo",1.5\n2024-01-02,"x\r\ny\r\nz",\n2024-01-03,"",2\n';
    expect(inputError(() => parseCsv(same, { columns: ['value'] })).message).toBe(
      'row 4, column 3 ("value"): empty cell, expected a number',
    );
    const crlf = 'date,value\r\n"2024-01-01\r\n(revised)",1\r\n2024-01-02,"x"\r\n';
    expect(inputError(() => parseCsv(crlf, { columns: ['value'] })).message).toBe(
      'row 4, column 2 ("value"): expected a number, got "x"',
    );
  });

  it('refuses an unclosed quote and text after a closing quote, naming the row', () => {
    expect(inputError(() => parseCsv('a,b\n1,2\n"3\n4,5\n')).message).toBe('row 3: a quoted cell is not closed');
    expect(inputError(() => parseCsv('a,b\n1,"2""\n')).message).toBe('row 2: a quoted cell is not closed');
    expect(inputError(() => parseCsv('a,b\n"x\ny"z,1\n')).message).toBe(
      'row 2: unexpected text after a quoted cell in column 1',
    );
    expect(inputError(() => parseCsv('a,b\n1,"2" 3\n')).message).toBe(
      'row 2: unexpected text after a quoted cell in column 2',
    );
    expect(inputError(() => parseCsv('a,b\n1, "2" 3\n')).message).toBe(
      'row 2: unexpected text after a quoted cell in column 2',
    );
    // Behind a space, a quote does not open a cell that may hold the delimiter (RFC 4180).
    expect(inputError(() => parseCsv('a,b\n1, "2,5"\n')).message).toBe(
      'row 2: a quote after a space in column 2: a quoted cell that holds the delimiter or a line break must start right after the delimiter',
    );
  });

  it('numbers every record by its first line, whatever its quoted cells hold', () => {
    const cell = fc.stringMatching(/^[a1 ,;"\t\r\n]{0,6}$/);
    const eol = fc.constantFrom('\n', '\r\n', '\r');
    const record = fc.record({ note: cell, quote: fc.boolean(), eol, blank: fc.nat({ max: 2 }) });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), (records) => {
        let text = 'note,value\n';
        const lines: number[] = [];
        const notes: string[] = [];
        records.forEach((r, k) => {
          // A cell is quoted when it has to be (delimiter, quote, line break, spaces at an end, or empty), else when
          // the generator says so.
          const must = /[,"\r\n]/.test(r.note) || r.note.trim() !== r.note || r.note === '';
          const written = must || r.quote ? `"${r.note.replace(/"/g, '""')}"` : r.note;
          lines.push(1 + (text.match(/\r\n|\n|\r/g) ?? []).length);
          notes.push(r.note);
          text += `${written},${k}${r.eol}${r.eol.repeat(r.blank)}`;
        });
        const s = parseCsv(text, { columns: ['value'], timeColumn: 'note' });
        expect(s.times).toEqual(notes);
        expect(Array.from(s.values[0])).toEqual(records.map((_, k) => k));
        expect(s.lines).toEqual(lines);
      }),
      { numRuns: 400, seed: 20261207 },
    );
  });

  it('reports empty files, unknown columns and windows longer than the series', () => {
    expect(inputError(() => parseCsv('\n \n')).message).toContain('empty');
    expect(inputError(() => parseCsv('a,b\n')).message).toContain('no data rows');
    expect(inputError(() => parseCsv(text, { columns: ['open'] })).message).toContain('no column named "open"');
    expect(inputError(() => parseCsv(text, { columns: [4] })).message).toContain('column 4 does not exist');
    expect(inputError(() => parseCsv('1\n2\n', { columns: ['x'] })).message).toContain('no header');
    const e = inputError(() => csvData(text, { columns: ['close'], window: 5 }));
    expect(e.field).toBe('window');
    expect(e.message).toContain('a window of 5 rows plus 1 target row is longer than the series (5 rows)');
    expect(inputError(() => csvData(text, { columns: ['close'], window: 0 })).field).toBe('window');
  });
});

describe('train/validation split', () => {
  it('splits by time: validation is the last fraction, with the gap for multi-step targets', () => {
    const series = Array.from({ length: 30 }, (_, k) => String(k)).join('\n');
    const d = csvData(series, { window: 4, horizon: 3 }); // 24 windows, gap 2
    expect(d.batch.count).toBe(24);
    const s = splitData(d, { fraction: 0.25 });
    expect(s.validation.count).toBe(6);
    expect(s.train.count).toBe(16);
    expect(s.dropped).toBe(2);
    expect(Array.from(s.trainIndices)).toEqual(Array.from({ length: 16 }, (_, k) => k));
    expect(Array.from(s.validationIndices)).toEqual([18, 19, 20, 21, 22, 23]);
    // No validation target is a training target.
    const trainTargets = new Set(s.train.targets);
    for (const v of s.validation.targets!) expect(trainTargets.has(v)).toBe(false);
    expect(Array.from(s.validation.inputs.subarray(0, 4))).toEqual([18, 19, 20, 21]);
    expect(inputError(() => splitData(d, { fraction: 0.2, mode: 'random' })).message).toContain('future');
  });

  it('splits independent sequences at random, deterministic per seed, every sequence once', () => {
    const d = sineData({ count: 101, length: 3, seed: 1 });
    const a = splitData(d, { fraction: 0.3, mode: 'random', seed: 5 });
    const b = splitData(d, { fraction: 0.3, mode: 'random', seed: 5 });
    const c = splitData(d, { fraction: 0.3, mode: 'random', seed: 6 });
    expect(a.validation.count).toBe(30);
    expect(a.train.count).toBe(71);
    expect(a.validationIndices).toEqual(b.validationIndices);
    expect(a.validationIndices).not.toEqual(c.validationIndices);
    expect([...a.trainIndices, ...a.validationIndices].sort((x, y) => x - y)).toEqual(
      Array.from({ length: 101 }, (_, k) => k),
    );
    const n = a.validationIndices[0];
    expect(Array.from(a.validation.inputs.subarray(0, 3))).toEqual(
      Array.from(d.batch.inputs.subarray(n * 3, n * 3 + 3)),
    );
    expect(a.validation.targets![0]).toBe(d.batch.targets![n]);
  });

  it('refuses fractions that leave a side empty', () => {
    expect(inputError(() => splitData(seedData(), { fraction: 0.1 })).message).toContain('both need at least one');
    expect(inputError(() => splitData(seedData(), { fraction: 1 })).field).toBe('validation');
    expect(splitData(seedData(), { fraction: 0.5 }).validation.count).toBe(1);
  });

  it('subsets ragged all-output batches', () => {
    const b = { ...seedData().batch };
    const sub = subsetBatch(b, [1, 0, 1]);
    expect(Array.from(sub.inputs)).toEqual([0, 0.5, 1, 0.5, 0, 0.5]);
    expect(Array.from(sub.targets!)).toEqual([1, 0, 1]);
  });
});
