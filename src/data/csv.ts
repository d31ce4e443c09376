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
  /**
   * Called while the text is parsed with the fraction done so far, from 0 to 1 (about the share of the parse's
   * time: splitting the text into cells, walking its records, then reading the values), in whole percents, each
   * once and increasing (a long record may pass several at once), so at most 101 times; the last is 1.
   */
  onProgress?: (fraction: number) => void;
}

/** The parse's phases as shares of its time: cells (d3-dsv), the records' walk, the values (measured on 64 MiB). */
const PHASES = { cells: 0.5, records: 0.35, values: 0.15 } as const;

/** A phase's progress: called with the fraction of the phase done. */
type PhaseProgress = (fraction: number) => void;

/**
 * The phases' progress of one parse, reporting to `report` each whole percent of the parse passed (once each):
 * `phase(start, share)` is the phase from `start` of the parse, `share` of it long. Without `report`, no-ops.
 */
function parseProgress(report?: (fraction: number) => void): (start: number, share: number) => PhaseProgress {
  let last = -1;
  return (start, share) =>
    !report
      ? () => {}
      : (f) => {
          const pct = Math.floor(100 * (start + share * Math.min(1, Math.max(0, f))) + 1e-9);
          if (pct > last) {
            last = pct;
            report(pct / 100);
          }
        };
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
  /** Why that column is the time column (`timeReasonText` words it), or null when there is none. */
  timeReason: TimeReason | null;
  /** What was read but looks wrong (a time column that does not increase); the CLI prints them as warnings. */
  warnings: string[];
}

const TIME_NAMES = /^(date|time|year|month|week|day|quarter|period|timestamp|datetime|ds)$/i;
/** Year first with `-` or `/` (2024-01-31, 2024/1/31, 2024-01, a time after it), or day or month first (31/01/2024, 31.01.2024). */
const DATE_VALUE = /^\d{4}[-/]\d{1,2}([-/]\d{1,2})?([ T].*)?$|^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}([ T].*)?$/;
const MONTH_VALUE =
  /(^|[^a-z])(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july|august|september|october|november|december)([^a-z]|$)/i;
const INTEGER = /^[+-]?\d+$/;

/** Why a column was taken as the time column (for the report). */
export type TimeReason = 'named' | 'header' | 'dates' | 'months' | 'counting';

/** The reason as words: `its header "year" is a time word` … */
export function timeReasonText(reason: TimeReason, name: string, first: string): string {
  switch (reason) {
    case 'named':
      return 'named by the time column option';
    case 'header':
      return `its header "${name}" is a time word`;
    case 'dates':
      return `its values are dates (${JSON.stringify(first)})`;
    case 'months':
      return `its values name months (${JSON.stringify(first)})`;
    case 'counting':
      return `its values are integers that increase by one (${first}, …)`;
  }
}

/**
 * Whether column `c` of the data rows is whole numbers that increase by one from row to row (1, 2, 3 … or the years
 * 1700, 1701 …): a counter, not a measurement. Needs at least two rows.
 */
function countsByOne(rows: string[][], c: number): boolean {
  if (rows.length < 2) return false;
  let prev = NaN;
  for (const cells of rows) {
    const s = cells[c] ?? '';
    if (!INTEGER.test(s)) return false;
    const v = Number(s);
    if (!Number.isSafeInteger(v) || (!Number.isNaN(prev) && v !== prev + 1)) return false;
    prev = v;
  }
  return true;
}

/**
 * The time column (0-based) of a CSV file and why, from text that cannot be a measurement: the first column whose
 * header is a time word (date, time, year, month, week, day, quarter, period, timestamp, datetime, ds; any case),
 * whose first value is a date (2024-01-31, 2024/1/31, 31/01/2024, 31.01.2024) or names a month (Jan 2024,
 * 2024-Mar), or whose values are integers that increase by one (1, 2, 3 …; 1700, 1701 …); null when none is. A
 * decimal number such as 1234.5 is a value, never a date. `rows` are the data rows (only the counting test reads
 * past the first).
 */
export function detectTimeColumn(
  names: string[] | null,
  firstRow: string[],
  rows: string[][] = [firstRow],
): { column: number; reason: TimeReason } | null {
  for (let c = 0; c < firstRow.length; c++) {
    if (names && TIME_NAMES.test(names[c] ?? '')) return { column: c, reason: 'header' };
    const v = firstRow[c] ?? '';
    if (NUMBER.test(v)) continue;
    if (DATE_VALUE.test(v)) return { column: c, reason: 'dates' };
    if (MONTH_VALUE.test(v)) return { column: c, reason: 'months' };
  }
  // A counter is the time column only beside another column (a file of one counting column is its values).
  if (firstRow.length > 1)
    for (let c = 0; c < firstRow.length; c++) if (countsByOne(rows, c)) return { column: c, reason: 'counting' };
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
function csvRecords(
  text: string,
  delim: string,
  phase: (start: number, share: number) => PhaseProgress,
  counted: boolean,
): CsvRecord[] {
  const cellsDone = phase(0, PHASES.cells);
  const walked = phase(PHASES.cells, PHASES.records);
  // d3-dsv gives no positions: the text split so far is about the row's cells, their separators and a line break.
  let seen = 0;
  const rows = !counted
    ? dsvFormat(delim).parseRows(text)
    : dsvFormat(delim).parseRows(text, (row) => {
        for (const v of row) seen += v.length + 1;
        cellsDone(seen / text.length);
        return row;
      });
  cellsDone(1);
  // d3-dsv drops one trailing line break before parsing.
  let n = text.length;
  if (text.charCodeAt(n - 1) === 10) n--;
  if (text.charCodeAt(n - 1) === 13) n--;
  const isSpace = (ch: string): boolean => (ch === ' ' || ch === '\t') && ch !== delim;
  const breaks = (s: string): number => (s.includes('\n') || s.includes('\r') ? s.match(BREAK)!.length : 0);
  const out: CsvRecord[] = [];
  let p = 0;
  let line = 1;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    walked(p / text.length);
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
  walked(1);
  return out;
}

/** The first line of `text` (split at \r\n, \n or \r) that is not blank, or undefined (without splitting it all). */
function firstLine(text: string): string | undefined {
  const br = /\r\n|\n|\r/g;
  let at = 0;
  while (at <= text.length) {
    const m = br.exec(text);
    const end = m ? m.index : text.length;
    const line = text.slice(at, end);
    if (line.trim() !== '') return line;
    if (!m) return undefined;
    at = br.lastIndex;
  }
  return undefined;
}

function colName(names: string[] | null, c: number): string {
  return names && names[c] ? `column ${c + 1} ("${names[c]}")` : `column ${c + 1}`;
}

/** Parses CSV text and returns the selected columns as numbers. */
export function parseCsv(text: string, opts: CsvOptions = {}): TimeSeries {
  const source = opts.source;
  const body = text.replace(/^\uFEFF/, '');
  const first = firstLine(body);
  if (first === undefined) throw new InputError('', 'the CSV file is empty', source);
  let delim = opts.delimiter;
  if (delim === undefined) {
    delim = first.includes(',') ? ',' : first.includes(';') ? ';' : first.includes('\t') ? '\t' : ',';
  }
  if (delim.length !== 1 || delim === '"') throw new InputError('delimiter', `must be one character other than a quote, got ${JSON.stringify(delim)}`, source);

  // Records keep their file line numbers; blank lines (a trailing newline, empty separators) are skipped.
  const phase = parseProgress(opts.onProgress);
  const lines = csvRecords(body, delim, phase, opts.onProgress !== undefined);
  const cellsOf = (r: CsvRecord): string[] => {
    if (r.bad !== undefined) throw new InputError(`row ${r.line}`, r.bad, source);
    return r.cells;
  };
  const firstCells = cellsOf(lines[0]);
  const isNum = (s: string): boolean => NUMBER.test(s);
  const hasHeader = opts.header === 'auto' || opts.header === undefined ? !firstCells.some(isNum) : opts.header;
  const names = hasHeader ? firstCells.map((n) => n.trim()) : null;
  const width = firstCells.length;
  const dataLines = hasHeader ? lines.slice(1) : lines;
  if (dataLines.length === 0) throw new InputError('', `the CSV file has a header but no data rows`, source);
  // Columns are looked up by name (forecast and predict find a model's columns so): two of one name are refused.
  if (names) {
    const seen = new Map<string, number>();
    names.forEach((n, c) => {
      const k = seen.get(n);
      if (k !== undefined && n !== '')
        throw new InputError(
          'header',
          `columns ${k + 1} and ${c + 1} have the same name "${n}"; give every column its own name`,
          source,
        );
      seen.set(n, c);
    });
  }

  // The time column.
  const resolve = (ref: ColumnRef, field: string): number => {
    if (typeof ref === 'number') {
      if (!Number.isInteger(ref) || ref < 1 || ref > width) {
        throw new InputError(field, `column ${ref} does not exist: the file has ${width} column${width === 1 ? '' : 's'} (columns count from 1)`, source);
      }
      return ref - 1;
    }
    if (ref.trim() === '') throw new InputError(field, 'an empty column name: give a name from the header or a number from 1', source);
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
  const explicit = opts.columns && opts.columns.length > 0 ? opts.columns.map((ref) => resolve(ref, 'column')) : null;
  let time: number | null;
  let timeReason: TimeReason | null = null;
  if (tc === 'none') time = null;
  else if (tc === 'auto') {
    // The counting test reads every data row (up to a bad record, which the loop below reports).
    const good = dataLines.findIndex((r) => r.bad !== undefined);
    const rows = (good < 0 ? dataLines : dataLines.slice(0, good)).map((r) => r.cells);
    const found = detectTimeColumn(names, firstData, rows);
    // A counter the user asks for as a value is one.
    time = found && !(found.reason === 'counting' && explicit?.includes(found.column)) ? found.column : null;
    timeReason = time === null ? null : found!.reason;
  } else {
    time = resolve(tc, 'time column');
    timeReason = 'named';
  }
  // Resolve the columns.
  // By default every column but the time column, and but a nameless one that is empty in every row (a trailing separator).
  const emptyColumn = (c: number): boolean => names?.[c] === '' && dataLines.every((r) => (r.cells[c] ?? '') === '');
  const defaults = (): number[] => Array.from({ length: width }, (_, c) => c).filter((c) => c !== time && !emptyColumn(c));
  let indices = explicit ?? defaults();
  if (indices.length === 0 && timeReason === 'counting') {
    // A counting column that is the only one is the values.
    time = null;
    timeReason = null;
    indices = defaults();
  }
  if (indices.length === 0) throw new InputError('column', 'the file has no column besides the time column', source);
  for (const k of indices) {
    if (k === time) throw new InputError('column', `${colName(names, k)} is the time column${tc === 'auto' ? ' (detected)' : ''}; pick a value column${tc === 'auto' ? ', or say --time-column none' : ''}`, source);
    if (names && names[k] === '') throw new InputError('header', `column ${k + 1} has no name; name it in the header (a value column is looked up by its name)`, source);
  }
  const times: string[] | null = time === null ? null : [];

  const values = indices.map(() => new Float64Array(dataLines.length));
  const lineNos: number[] = [];
  const read = phase(PHASES.cells + PHASES.records, PHASES.values);
  dataLines.forEach((line, r) => {
    read(r / dataLines.length);
    const cells = r === 0 && !hasHeader ? firstCells : cellsOf(line);
    // A row longer than the first is refused unless its extra cells are empty (a trailing separator).
    for (let c = width; c < cells.length; c++)
      if (cells[c] !== '')
        throw new InputError(`row ${line.line}`, `${cells.length} cells, but the ${hasHeader ? 'header' : 'first row'} has ${width}: cell ${c + 1} (${JSON.stringify(cells[c].length > 24 ? cells[c].slice(0, 24) + '…' : cells[c])}) belongs to no column`, source);
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
  read(1);
  const timeName = time === null ? null : names && names[time] ? names[time] : `column ${time + 1}`;
  const warnings: string[] = [];
  if (times && timeName !== null) {
    const bad = firstDecrease(times);
    if (bad > 0)
      warnings.push(
        `the time column ${JSON.stringify(timeName)} does not increase: row ${lineNos[bad]} (${JSON.stringify(times[bad])}) is not after row ${lineNos[bad - 1]} (${JSON.stringify(times[bad - 1])}); the rows are read in file order`,
      );
  }
  return {
    names: indices.map((c) => (names && names[c] ? names[c] : `column ${c + 1}`)),
    indices: indices.map((c) => c + 1),
    values,
    lines: lineNos,
    length: dataLines.length,
    hasHeader,
    timeColumn: timeName,
    times,
    timeReason,
    warnings,
  };
}

/**
 * The first row (> 0) whose time is not after the one before, or −1: numbers compared as numbers, ISO-like dates
 * (year first) as dates; other labels (month names, day-first dates) are not compared.
 */
function firstDecrease(times: string[]): number {
  const numeric = times.every((t) => NUMBER.test(t));
  const iso = !numeric && times.every((t) => /^\d{4}[-/]\d{1,2}([-/]\d{1,2})?([ T].*)?$/.test(t));
  if (!numeric && !iso) return -1;
  const key = (t: string): number => {
    if (numeric) return Number(t);
    const m = /^(\d{4})[-/](\d{1,2})(?:[-/](\d{1,2}))?(?:[ T](\d{1,2})(?::(\d{1,2}))?(?::(\d{1,2}(?:\.\d*)?))?)?/.exec(t)!;
    const [y, mo, d, h, mi, sec] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
    return ((((y * 13 + mo) * 32 + d) * 24 + h) * 60 + mi) * 61 + sec;
  };
  let prev = key(times[0]);
  for (let r = 1; r < times.length; r++) {
    const k = key(times[r]);
    if (!(k > prev)) return r;
    prev = k;
  }
  return -1;
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
