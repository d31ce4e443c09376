// A user's time series from CSV text (browser-safe: it parses a string; reading the file is the CLI's job), and
// sliding windows over it: window n reads rows n .. n+T−1 and its target is the next value (or the next k values)
// of the target columns. d3-dsv splits the records into cells (RFC 4180 quoting); the header, time column, column
// choice and errors are this file's. Errors are InputErrors naming the row (its first line in the file) and column.

import { dsvFormat } from 'd3-dsv';
import { offsetsFromLengths, type Batch } from '../batch.ts';
import { InputError } from '../errors.ts';
import { LIMITS } from '../model.ts';
import type { DataSet } from './dataset.ts';

/** A column by name (needs a header) or by 1-based index. */
export type ColumnRef = string | number;

export interface CsvOptions {
  /** `auto` (default): the first row is a header when none of its cells is a number. */
  header?: boolean | 'auto';
  /** Cell separator. Default: `,`, or `;` / tab when the first line has those and no comma. */
  delimiter?: string;
  /** Columns to read, by name or 1-based index. Default: every column but the time column. */
  columns?: ColumnRef[];
  /**
   * The time column (dates, years: read as labels, never as values), by name or 1-based index; `auto` (default)
   * detects it (see detectTimeColumn); `none`: there is none.
   */
  // eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- the two words are special; other strings are names
  timeColumn?: ColumnRef | 'auto' | 'none';
  /** Source name for error messages (the file name). */
  source?: string;
}

/** The selected columns of a CSV file, as float64 series. */
export interface TimeSeries {
  /** Column names: the header's, or `column N` without a header. */
  names: string[];
  /** 1-based column index in the file of each selected column. */
  indices: number[];
  /** values[c][r]: row r (0-based data row) of selected column c. */
  values: Float64Array[];
  /** File line number (1-based) of each data row. */
  lines: number[];
  /** Rows read. */
  length: number;
  hasHeader: boolean;
  /** The time column's name and its text in every data row, or null when there is none. */
  timeColumn: string | null;
  times: string[] | null;
}

const TIME_NAMES = /^(date|time|year|month|week|day|quarter|period|timestamp|datetime|ds)$/i;
const DATE_VALUE = /^\d{4}[-/.]\d{1,2}([-/.]\d{1,2})?([ T].*)?$|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$/;

/**
 * The time column (0-based) of a CSV file: the first column whose header is a time word (date, time, year, month,
 * week, day, quarter, period, timestamp, datetime, ds; any case) or whose first value is a date such as
 * 2024-01-31 or 31/01/2024; null when none is.
 */
export function detectTimeColumn(names: string[] | null, firstRow: string[]): number | null {
  for (let c = 0; c < firstRow.length; c++) {
    if ((names && TIME_NAMES.test(names[c] ?? '')) || DATE_VALUE.test(firstRow[c] ?? '')) return c;
  }
  return null;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** One record of the file: its cells, the file line it starts on, and what is wrong with it (thrown when it is read). */
interface CsvRecord {
  line: number;
  cells: string[];
  bad?: string;
}

const QUOTE = 34;
const QUOTED = /^"((?:[^"]|"")*)"$/;
const QUOTED_START = /^"(?:[^"]|"")*"/;
const BREAK = /\r\n|\n|\r/g;

/**
 * The records of CSV text: d3-dsv splits them into cells (a quoted cell may hold the delimiter, line breaks and ""
 * for a quote). d3-dsv gives no positions, so the text is walked alongside its cells (a cell's extent in the text
 * follows from its value) to number each record by the line it starts on, and to catch what d3-dsv reads without
 * a word: a quoted cell that is never closed, and text after a closing quote (spaces are allowed there). Unquoted
 * cells are trimmed; one that is a quoted string behind spaces (`1, "a"`) is that string. Blank lines are left
 * out. A bad record is the last one returned (what follows it was not split reliably).
 */
function csvRecords(text: string, delim: string): CsvRecord[] {
  const rows = dsvFormat(delim).parseRows(text);
  // d3-dsv drops one trailing line break before parsing.
  let n = text.length;
  if (text.charCodeAt(n - 1) === 10) n--;
  if (text.charCodeAt(n - 1) === 13) n--;
  const isSpace = (ch: string): boolean => (ch === ' ' || ch === '\t') && ch !== delim;
  const breaks = (s: string): number => (s.includes('\n') || s.includes('\r') ? s.match(BREAK)!.length : 0);
  const out: CsvRecord[] = [];
  let p = 0;
  let line = 1;
  for (const row of rows) {
    const start = p;
    const first = line;
    const cells: string[] = [];
    let bad: string | undefined;
    let blank = true; // no quote, nothing but whitespace
    for (let k = 0; k < row.length; k++) {
      const v = row[k];
      if (text.charCodeAt(p) === QUOTE) {
        // Its text: the quotes around it and each quote inside doubled. Unclosed, it ran to the end of the text.
        const len = v.length + 2 + (v.includes('"') ? v.split('"').length - 1 : 0);
        if (p + len > n || text.charCodeAt(p + len - 1) !== QUOTE) {
          bad = 'a quoted cell is not closed';
          break;
        }
        p += len;
        line += breaks(v);
        cells.push(v);
        blank = false;
        // d3-dsv takes the character after a closing quote for the separator, whatever it is: after spaces, the
        // rest up to the real separator comes as one more cell, blank.
        const spaced = p < n && isSpace(text[p]) && k + 1 < row.length;
        if (spaced && text.charCodeAt(p + 1) !== QUOTE && row[k + 1].trim() === '') {
          p += 1 + row[k + 1].length;
          k++;
        }
        if (p < n && text[p] !== delim && text[p] !== '\n' && text[p] !== '\r') {
          bad = `unexpected text after a quoted cell in column ${cells.length}`;
          break;
        }
      } else {
        p += v.length;
        const t = v.trim();
        if (t.charCodeAt(0) === QUOTE) {
          // A quote behind spaces, which d3-dsv reads as text.
          const q = QUOTED.exec(t);
          if (!q) {
            bad = QUOTED_START.test(t)
              ? `unexpected text after a quoted cell in column ${cells.length + 1}`
              : `a quote after a space in column ${cells.length + 1}: a quoted cell that holds the delimiter or a line break must start right after the delimiter`;
            break;
          }
          cells.push(q[1].replace(/""/g, '"'));
        } else cells.push(t);
        if (t !== '') blank = false;
      }
      // The separator: the delimiter, or the record's line break (none at the end of the text).
      if (text[p] === delim && k + 1 < row.length) p++;
      else if (text[p] === '\r' || text[p] === '\n') {
        p += text[p] === '\r' && text[p + 1] === '\n' ? 2 : 1;
        line++;
      }
    }
    if (bad !== undefined) {
      out.push({ line: first, cells, bad });
      return out;
    }
    // Blank lines are skipped: whitespace only (a line of tabs in a tab-separated file too, but not `,,`).
    if (!blank || text.slice(start, p).trim() !== '') out.push({ line: first, cells });
  }
  return out;
}

function colName(names: string[] | null, c: number): string {
  return names && names[c] ? `column ${c + 1} ("${names[c]}")` : `column ${c + 1}`;
}

/** Parses CSV text and returns the selected columns as numbers. */
export function parseCsv(text: string, opts: CsvOptions = {}): TimeSeries {
  const source = opts.source;
  const body = text.replace(/^\uFEFF/, '');
  const first = body.split(/\r\n|\n|\r/).find((t) => t.trim() !== '');
  if (first === undefined) throw new InputError('', 'the CSV file is empty', source);
  let delim = opts.delimiter;
  if (delim === undefined) {
    delim = first.includes(',') ? ',' : first.includes(';') ? ';' : first.includes('\t') ? '\t' : ',';
  }
  if (delim.length !== 1 || delim === '"') throw new InputError('delimiter', `must be one character other than a quote, got ${JSON.stringify(delim)}`, source);

  // Records keep their file line numbers; blank lines (a trailing newline, empty separators) are skipped.
  const lines = csvRecords(body, delim);
  const cellsOf = (r: CsvRecord): string[] => {
    if (r.bad !== undefined) throw new InputError(`row ${r.line}`, r.bad, source);
    return r.cells;
  };
  const firstCells = cellsOf(lines[0]);
  const isNum = (s: string): boolean => NUMBER.test(s);
  const hasHeader = opts.header === 'auto' || opts.header === undefined ? !firstCells.some(isNum) : opts.header;
  const names = hasHeader ? firstCells : null;
  const width = firstCells.length;
  const dataLines = hasHeader ? lines.slice(1) : lines;
  if (dataLines.length === 0) throw new InputError('', `the CSV file has a header but no data rows`, source);

  // The time column.
  const resolve = (ref: ColumnRef, field: string): number => {
    if (typeof ref === 'number') {
      if (!Number.isInteger(ref) || ref < 1 || ref > width) {
        throw new InputError(field, `column ${ref} does not exist: the file has ${width} column${width === 1 ? '' : 's'} (columns count from 1)`, source);
      }
      return ref - 1;
    }
    if (/^\d+$/.test(ref)) {
      const k = Number(ref);
      if (!names || !names.includes(ref)) {
        if (k < 1 || k > width) throw new InputError(field, `column ${k} does not exist: the file has ${width} column${width === 1 ? '' : 's'} (columns count from 1)`, source);
        return k - 1;
      }
    }
    if (!names) throw new InputError(field, `"${ref}" is a column name, but the file has no header row; give the column's number (from 1)`, source);
    const k = names.indexOf(ref);
    if (k < 0) throw new InputError(field, `no column named "${ref}" (the header has ${names.map((n) => `"${n}"`).join(', ')})`, source);
    return k;
  };
  const firstData = hasHeader ? cellsOf(dataLines[0]) : firstCells;
  const tc = opts.timeColumn ?? 'auto';
  const time = tc === 'none' ? null : tc === 'auto' ? detectTimeColumn(names, firstData) : resolve(tc, 'time column');
  // Resolve the columns.
  const refs = opts.columns && opts.columns.length > 0 ? opts.columns : Array.from({ length: width }, (_, c) => c + 1).filter((c) => c - 1 !== time);
  if (refs.length === 0) throw new InputError('column', 'the file has no column besides the time column', source);
  const indices = refs.map((ref) => {
    const k = resolve(ref, 'column');
    if (k === time && opts.columns?.length) throw new InputError('column', `${colName(names, k)} is the time column${tc === 'auto' ? ' (detected)' : ''}; pick a value column${tc === 'auto' ? ', or say --time-column none' : ''}`, source);
    return k;
  });
  const times: string[] | null = time === null ? null : [];

  const values = indices.map(() => new Float64Array(dataLines.length));
  const lineNos: number[] = [];
  dataLines.forEach((line, r) => {
    const cells = r === 0 && !hasHeader ? firstCells : cellsOf(line);
    indices.forEach((c, k) => {
      const where = `row ${line.line}, ${colName(names, c)}`;
      if (c >= cells.length) throw new InputError(where, `missing: the row has ${cells.length} cell${cells.length === 1 ? '' : 's'}`, source);
      const s = cells[c];
      if (s === '') throw new InputError(where, 'empty cell, expected a number', source);
      if (!isNum(s)) throw new InputError(where, `expected a number, got ${JSON.stringify(s.length > 24 ? s.slice(0, 24) + '…' : s)}`, source);
      const v = Number(s);
      if (!Number.isFinite(v)) throw new InputError(where, `${s} is out of range (not a finite number)`, source);
      values[k][r] = v;
    });
    if (times) times.push(cells[time!] ?? '');
    lineNos.push(line.line);
  });
  return {
    names: indices.map((c) => (names && names[c] ? names[c] : `column ${c + 1}`)),
    indices: indices.map((c) => c + 1),
    values,
    lines: lineNos,
    length: dataLines.length,
    hasHeader,
    timeColumn: time === null ? null : names && names[time] ? names[time] : `column ${time + 1}`,
    times,
  };
}

export interface WindowOptions {
  /** Window length T: steps read before predicting. */
  window: number;
  /** Predict the next `horizon` values (default 1). */
  horizon?: number;
  /** Windows start every `stride` rows (default 1). */
  stride?: number;
  /**
   * Which of the series' columns are targets (positions in `series.names`, 0-based). Default: all of them.
   * O = targets × horizon; target value o = k·C + c is column c, k+1 steps after the window.
   */
  targets?: number[];
  source?: string;
  name?: string;
}

/**
 * Sliding windows over a series: window n reads rows n·s .. n·s+T−1 (all selected columns: I = columns) and its
 * targets are the rows n·s+T .. n·s+T+k−1 of the target columns. Windows are in time order.
 */
export function slidingWindows(series: TimeSeries, opts: WindowOptions): DataSet {
  const source = opts.source;
  const T = opts.window;
  const k = opts.horizon ?? 1;
  const s = opts.stride ?? 1;
  if (!Number.isSafeInteger(T) || T < 1) throw new InputError('window', `must be an integer ≥ 1, got ${T}`, source);
  if (T > LIMITS.maxSteps) throw new InputError('window', `a sequence may have at most ${LIMITS.maxSteps} steps, got ${T}`, source);
  if (!Number.isSafeInteger(k) || k < 1) throw new InputError('horizon', `must be an integer ≥ 1, got ${k}`, source);
  if (!Number.isSafeInteger(s) || s < 1) throw new InputError('stride', `must be an integer ≥ 1, got ${s}`, source);
  const I = series.values.length;
  const tcols = opts.targets ?? series.values.map((_, c) => c);
  for (const c of tcols) if (!Number.isInteger(c) || c < 0 || c >= I) throw new InputError('targets', `no selected column ${c}`, source);
  const O = tcols.length * k;
  if (I > LIMITS.maxInputSize) throw new InputError('column', `${I} input columns exceed the model limit of ${LIMITS.maxInputSize}`, source);
  if (O > LIMITS.maxOutputSize) throw new InputError('horizon', `${tcols.length} target columns × horizon ${k} = ${O} outputs exceed the model limit of ${LIMITS.maxOutputSize}`, source);
  const L = series.length;
  if (T + k > L) {
    throw new InputError(
      'window',
      `a window of ${T} rows plus ${k} target row${k === 1 ? '' : 's'} is longer than the series (${L} row${L === 1 ? '' : 's'})`,
      source,
    );
  }
  const N = Math.floor((L - T - k) / s) + 1;
  if (N * T * I > 2 ** 32) {
    throw new InputError('window', `${N} windows of ${T} rows × ${I} columns need ${N * T * I} input values, more than one array can hold (${2 ** 32}): use a shorter window`, source);
  }
  const lengths = new Uint32Array(N).fill(T);
  const inputs = new Float64Array(N * T * I);
  const targets = new Float64Array(N * O);
  for (let n = 0; n < N; n++) {
    const start = n * s;
    for (let t = 0; t < T; t++) for (let c = 0; c < I; c++) inputs[(n * T + t) * I + c] = series.values[c][start + t];
    for (let j = 0; j < k; j++) tcols.forEach((c, ci) => (targets[n * O + j * tcols.length + ci] = series.values[c][start + T + j]));
  }
  const batch: Batch = { count: N, inputSize: I, outputSize: O, output: 'last', lengths, offsets: offsetsFromLengths(lengths), inputs, targets };
  return {
    name: opts.name ?? 'csv',
    description: `${N} sliding windows of ${T} rows over ${L} rows of ${series.names.join(', ')}; target: the next ${k === 1 ? 'value' : `${k} values`} of ${tcols.map((c) => series.names[c]).join(', ')}`,
    batch,
    suggest: { inputSize: I, outputSize: O, output: 'last', hiddenSize: Math.min(LIMITS.maxHiddenSize, 8), activation: 'tanh' },
    timeOrdered: true,
    gap: Math.ceil(k / s) - 1,
  };
}

/** parseCsv then slidingWindows: a user's CSV text as a data set. */
export function csvData(text: string, opts: CsvOptions & WindowOptions): DataSet {
  const series = parseCsv(text, opts);
  return slidingWindows(series, opts);
}
