// Forecasting one time series (browser-safe): the time column of a CSV file (detected or named), the split of its
// rows by time into training, validation and test parts (each part's windows lie wholly inside it, so nothing of a
// later part is ever seen earlier), normalisation fitted on the training rows only, and its inverse, which turns
// predictions back into the series' own units. The model JSON keeps both (`series`, `normalization`).

import { InputError } from '../errors.ts';
import { slidingWindows, type TimeSeries } from './csv.ts';
import type { DataSet } from './dataset.ts';
import type { Normalization, NormalizationKind, SeriesInfo } from '../model-types.ts';

export type { Normalization, NormalizationKind, SeriesInfo } from '../model-types.ts';

/** Rows [0, a) train, [a, b) validation, [b, L) test: the last round(L·test) rows test, round(L·validation) before them validation. */
export function splitRows(length: number, validation: number, test: number): { a: number; b: number } {
  const nTest = Math.round(length * test);
  const nVal = Math.round(length * validation);
  return { a: length - nTest - nVal, b: length - nTest };
}

/**
 * Fits the normalisation on rows [0, rows) of every column; a constant column is an InputError naming it. The
 * statistics of a column whose squares would overflow (1e160) or underflow are taken of its values divided by its
 * largest magnitude, so they give the true spread, not an infinite or zero one.
 */
export function fitNormalization(series: TimeSeries, kind: NormalizationKind, rows: number, source?: string): Normalization {
  const offset: number[] = [];
  const scale: number[] = [];
  series.values.forEach((v, c) => {
    const part = v.subarray(0, rows);
    let lo = Infinity;
    let hi = -Infinity;
    let big = 0;
    for (const x of part) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
      big = Math.max(big, Math.abs(x));
    }
    // Only where squares would overflow or underflow: elsewhere the plain sums (bit for bit as before).
    const u = big > 1e150 || (big > 0 && big < 1e-150) ? big : 1;
    let sum = 0;
    for (const x of part) sum += x / u;
    const mean = sum / part.length;
    let sq = 0;
    for (const x of part) sq += (x / u - mean) * (x / u - mean);
    const std = Math.sqrt(sq / part.length) * u;
    // max − min of values near ±1.8e308 overflows: the spread is then beyond float64.
    const s = kind === 'zscore' ? std : hi - lo;
    const name = `column "${series.names[c]}"`;
    if (lo === hi)
      throw new InputError(name, `is constant over the ${rows} training rows (every value is ${lo}): ${kind} normalisation would divide by zero`, source);
    if (!Number.isFinite(s))
      throw new InputError(name, `its spread over the ${rows} training rows (from ${lo} to ${hi}) is beyond the float64 range: ${kind} normalisation cannot represent it`, source);
    if (!(s > 0))
      throw new InputError(name, `its values over the ${rows} training rows (from ${lo} to ${hi}) differ by too little for ${kind} normalisation to divide by (their spread is below the float64 range)`, source);
    offset.push(kind === 'zscore' ? mean * u : lo);
    scale.push(s);
  });
  return { kind, offset, scale };
}

/** The series with every column normalised (a copy). */
export function normalizeSeries(series: TimeSeries, n: Normalization): TimeSeries {
  return { ...series, values: series.values.map((v, c) => v.map((x) => (x - n.offset[c]) / n.scale[c])) };
}

/** Rows [from, to) of a series (a view). */
export function seriesRows(series: TimeSeries, from: number, to: number): TimeSeries {
  return { ...series, values: series.values.map((v) => v.subarray(from, to)), lines: series.lines.slice(from, to), length: to - from };
}

/** Output o of a model over a series of C columns is column o mod C: its value in series units. */
export function denormalize(values: ArrayLike<number>, n: Normalization | null | undefined, columns: number): Float64Array {
  const out = Float64Array.from(values);
  if (!n) return out;
  for (let k = 0; k < out.length; k++) {
    const c = k % columns;
    out[k] = out[k] * n.scale[c] + n.offset[c];
  }
  return out;
}

/**
 * The windows of one part of the split (`part`: its name in messages), checked to fit it: errors name --window or
 * --horizon, or `fractions` (the option whose fraction made the part too small, when the window would fit the
 * whole series of `total` rows).
 */
export function partWindows(
  series: TimeSeries,
  from: number,
  to: number,
  window: number,
  horizon: number,
  part: string,
  source?: string,
  name?: string,
  fractions?: { option: string; what: string; total: number },
): DataSet {
  const rows = to - from;
  const need = `a window of ${window} rows plus ${horizon} target row${horizon === 1 ? '' : 's'}`;
  if (fractions && window + horizon <= fractions.total && window + horizon > rows) {
    throw new InputError(
      fractions.option,
      `${fractions.what} leave${fractions.what.includes(' and ') ? '' : 's'} ${rows} of the ${fractions.total} rows for ${part}, too few for ${need}: use ${fractions.what.includes(' and ') ? 'smaller fractions' : 'a smaller fraction'}`,
      source,
    );
  }
  if (horizon >= rows) {
    throw new InputError('--horizon', `a horizon of ${horizon} leaves no room for a window in ${part} (${rows} row${rows === 1 ? '' : 's'})`, source);
  }
  if (window + horizon > rows) {
    throw new InputError('--window', `${need} is longer than ${part} (${rows} row${rows === 1 ? '' : 's'})`, source);
  }
  return slidingWindows(seriesRows(series, from, to), { window, horizon, source, name });
}

export interface ForecastSplit {
  train: DataSet;
  validation: DataSet | null;
  test: DataSet | null;
  /** Row boundaries: train [0, a), validation [a, b), test [b, length). */
  a: number;
  b: number;
  normalization: Normalization | null;
  info: SeriesInfo;
  /** The series normalised (or as read, without normalisation). */
  normalized: TimeSeries;
}

/**
 * The forecasting data of a series: the rows split by time, normalisation fitted on the training rows, and the
 * windows of each part (the model's inputs are every column; its outputs every column at each of `horizon` steps).
 * `fixed`: a saved model's normalisation, used as it is (continuing a model's training, forecasting with it).
 */
export function forecastSplit(
  series: TimeSeries,
  o: { window: number; horizon: number; validation: number; test: number; normalize: NormalizationKind | null; fixed?: Normalization | null; source?: string; name?: string },
): ForecastSplit {
  const L = series.length;
  const { a, b } = splitRows(L, o.validation, o.test);
  if (o.test > 0 && L - b < 1) throw new InputError('--test', `a fraction of ${o.test} of ${L} rows leaves no test rows`, o.source);
  if (o.validation > 0 && b - a < 1) throw new InputError('--validation', `a fraction of ${o.validation} of ${L} rows leaves no validation rows`, o.source);
  if (a < 1) throw new InputError('--validation', `the validation and test fractions leave no training rows (of ${L})`, o.source);
  const normalization = o.fixed ?? (o.normalize ? fitNormalization(seriesRows(series, 0, a), o.normalize, a, o.source) : null);
  const normalized = normalization ? normalizeSeries(series, normalization) : series;
  // The training part is what the fractions leave: when the window would fit the whole series, they are at fault.
  const taken = [o.validation > 0 ? `a validation fraction of ${o.validation}` : '', o.test > 0 ? `a test fraction of ${o.test}` : ''].filter((x) => x);
  const fractions = taken.length ? { option: o.test > 0 ? '--test' : '--validation', what: taken.join(' and '), total: L } : undefined;
  const train = partWindows(normalized, 0, a, o.window, o.horizon, a === L ? 'the series' : 'the training part', o.source, o.name, fractions);
  const validation = b > a ? partWindows(normalized, a, b, o.window, o.horizon, 'the validation part', o.source, o.name) : null;
  const test = L > b ? partWindows(normalized, b, L, o.window, o.horizon, 'the test part', o.source, o.name) : null;
  const min = series.values.map((v) => v.subarray(0, a).reduce((x, y) => Math.min(x, y), Infinity));
  const max = series.values.map((v) => v.subarray(0, a).reduce((x, y) => Math.max(x, y), -Infinity));
  const info: SeriesInfo = { columns: series.names.slice(), timeColumn: series.timeColumn, window: o.window, horizon: o.horizon, validation: o.validation, test: o.test, min, max };
  return { train, validation, test, a, b, normalization, info, normalized };
}

/** Mean absolute error and root mean squared error of predictions against actual values. */
export function forecastErrors(pred: ArrayLike<number>, actual: ArrayLike<number>): { mae: number; rmse: number } {
  let abs = 0;
  let sq = 0;
  for (let k = 0; k < actual.length; k++) {
    const d = pred[k] - actual[k];
    abs += Math.abs(d);
    sq += d * d;
  }
  return { mae: abs / actual.length, rmse: Math.sqrt(sq / actual.length) };
}

/**
 * The naive last-value forecast of windowed data: every output of window n is the window's last value of its
 * column (outputs are column-major within a horizon step: output o is column o mod C).
 */
export function naiveForecast(inputs: ArrayLike<number>, count: number, window: number, columns: number, horizon: number): Float64Array {
  const out = new Float64Array(count * columns * horizon);
  for (let n = 0; n < count; n++) {
    for (let j = 0; j < horizon; j++) for (let c = 0; c < columns; c++) out[(n * horizon + j) * columns + c] = inputs[(n * window + window - 1) * columns + c];
  }
  return out;
}
