// `webgpu-rnn forecast` and `webgpu-rnn predict`: a model trained on a CSV series (train --data F.csv) used on it.
// forecast: the test part's error (MAE, RMSE) beside the naive last-value forecast, then K steps rolled forward past
// the end of the series, each window fed the model's own predictions; predict: the prediction for every window of
// a data set. Both map normalised predictions back to the series' units through the model's `normalization`.

import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import type { BackendChoice } from '../../backend.ts';
import { offsetsFromLengths, type Batch } from '../../batch.ts';
import { parseCsv, slidingWindows, type TimeSeries } from '../../data/csv.ts';
import {
  denormalize,
  forecastErrors,
  forecastSplit,
  naiveForecast,
  normalizeSeries,
  type SeriesInfo,
} from '../../data/series.ts';
import type { Engine } from '../../engine.ts';
import { InputError, NonFiniteError } from '../../errors.ts';
import { readDataFile, readModelFile, readTextFile } from '../../io/files.ts';
import { modelFromJSON, type Model } from '../../model.ts';
import { linePlotSvg } from '../../svg/index.ts';
import { checkFloat32Range } from '../../validate.ts';
import { jsonText, num } from '../format.ts';
import { checkOutputsAreNotInputs, outputKind, printable, writeOutputs, type CliIO } from '../io.ts';
import { backendOption, integer } from '../options.ts';
import { withEngine } from '../run.ts';
import { withCsvProgress, type CsvProgressHooks } from '../progress.ts';
import { rollForward } from '../../forecast.ts';

/** The most steps `forecast --steps` rolls forward. */
export const MAX_FORECAST_STEPS = 100_000;

/** A model fitted to a series, or an InputError naming --model. */
function seriesModel(path: string): Model & { series: SeriesInfo } {
  const m = modelFromJSON(readModelFile(path));
  if (!m.series)
    throw new InputError(
      '--model',
      `${printable(path)} was not trained on a CSV series (it has no "series"); train it with --data FILE.csv`,
    );
  if (m.output !== 'last')
    throw new InputError('--model', `forecasting needs a model with output "last", got "${m.output}"`);
  return m as Model & { series: SeriesInfo };
}

/** The model's columns of a CSV file (by name; `column N` names from a file without a header are column numbers). */
function readModelSeries(
  path: string,
  m: Model & { series: SeriesInfo },
  timeColumn: string | undefined,
  hooks: CsvProgressHooks,
): TimeSeries {
  const columns = m.series.columns.map((c) => {
    const k = /^column (\d+)$/.exec(c);
    return k ? Number(k[1]) : c;
  });
  const tc = timeColumn ?? m.series.timeColumn ?? 'none';
  const ref = /^column (\d+)$/.exec(tc);
  const series = parseCsv(readTextFile(path, 'CSV', ''), {
    columns,
    timeColumn: ref ? Number(ref[1]) : tc,
    source: path,
    onProgress: hooks.onProgress,
  });
  hooks.onRows?.(series.length);
  return series;
}

/**
 * The model's split of a series (its window, horizon and fractions, its normalisation). What does not fit is the
 * data's fault here, not an option's (forecast has no --window or --test): such errors name --data and the model.
 */
function modelSplit(
  series: TimeSeries,
  m: Model & { series: SeriesInfo },
  source: string,
): ReturnType<typeof forecastSplit> {
  const info = m.series;
  try {
    return forecastSplit(series, {
      window: info.window,
      horizon: info.horizon,
      validation: info.validation,
      test: info.test,
      normalize: null,
      fixed: m.normalization ?? null,
      source,
    });
  } catch (e) {
    if (!(e instanceof InputError) || !/^--(window|horizon|test|validation)$/.test(e.field)) throw e;
    const option = e.field.slice(2);
    const value =
      option === 'window' ? info.window : option === 'horizon' ? info.horizon : info[option as 'test' | 'validation'];
    throw new InputError(
      '--data',
      `${series.length} rows are too few for the model's split (its ${option} ${value}, from training): ${e.reason}`,
      source,
    );
  }
}

/**
 * Refuses a non-finite result before anything is written or printed (exit 3): `values[k]` is named by `name(k)`.
 * Mapping back to the series' units, or squaring errors for the RMSE, can overflow where the run itself did not.
 */
function checkFinite(backend: string, values: ArrayLike<number>, name: (k: number) => string): void {
  for (let k = 0; k < values.length; k++)
    if (!Number.isFinite(values[k])) throw new NonFiniteError(backend, name(k), values[k]);
}

/** Model outputs (normalised units) for a batch. */
async function outputsOf(engine: Engine, model: Model, batch: Batch, source: string): Promise<Float64Array> {
  if (engine.backend === 'webgpu') checkFloat32Range(model, batch, source);
  const r = await engine.run(model, { ...batch, targets: null }, { outputs: true, gradients: false });
  return r.outputs!;
}

/** The CSV reader's warnings (a time column that does not increase), on stderr. */
function warnSeries(io: CliIO, series: TimeSeries, source: string): void {
  for (const w of series.warnings) io.err(`webgpu-rnn: warning: ${printable(source)}: ${printable(w)}\n`);
}

/** Warns on stderr when a model without normalisation meets values far outside its training range. */
function warnOutOfRange(io: CliIO, m: Model & { series: SeriesInfo }, series: TimeSeries, source: string): void {
  if (m.normalization) return;
  series.values.forEach((v, c) => {
    const lo = m.series.min[c];
    const hi = m.series.max[c];
    const span = Math.max(hi - lo, Math.abs(hi), Math.abs(lo), 1e-12);
    let worst = NaN;
    for (const x of v)
      if (x > hi + span || x < lo - span) worst = Number.isNaN(worst) || Math.abs(x) > Math.abs(worst) ? x : worst;
    if (!Number.isNaN(worst)) {
      io.err(
        `webgpu-rnn: warning: ${printable(source)}: column "${series.names[c]}" has values far outside the model's training range [${num(lo)}, ${num(hi)}] (e.g. ${num(worst)}), and the model has no normalisation; its predictions there are extrapolations\n`,
      );
    }
  });
}

/** The time labels after the series: numbers continued at the last spacing (years), else +1, +2, …. */
function futureLabels(times: string[] | null, count: number): string[] {
  const n = times?.length ?? 0;
  const a = n >= 2 ? Number(times![n - 2]) : NaN;
  const b = n >= 1 ? Number(times![n - 1]) : NaN;
  if (times && Number.isFinite(a) && Number.isFinite(b) && times[n - 1].trim() !== '' && b > a) {
    return Array.from({ length: count }, (_, k) => String(+(b + (b - a) * (k + 1)).toFixed(10)));
  }
  return Array.from({ length: count }, (_, k) => `+${k + 1}`);
}

interface ForecastOptions {
  model: string;
  data: string;
  steps: number;
  timeColumn?: string;
  backend: BackendChoice;
  out?: string;
  svg?: string;
  json?: boolean;
}

interface PredictOptions {
  model: string;
  data: string;
  timeColumn?: string;
  backend: BackendChoice;
  out?: string;
  json?: boolean;
}

const csvCell = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const fmt = (x: number): string => String(+x.toPrecision(10));

export function registerForecast(program: Command, io: CliIO): void {
  program
    .command('forecast')
    .description(
      "roll a model trained on a CSV series K steps past its end; prints the forecast in the series' units and the test error beside the naive last-value forecast",
    )
    .requiredOption(
      '--model <file>',
      'a model trained with train --data FILE.csv (its series, window, horizon and normalisation)',
    )
    .requiredOption('--data <file.csv>', "the series (the model's columns, by name)")
    .requiredOption(
      '--steps <K>',
      `steps to forecast past the end of the series (1 to ${MAX_FORECAST_STEPS})`,
      integer(1, MAX_FORECAST_STEPS),
    )
    .option('--time-column <name>', "the time column (default: the model's), or none")
    .addOption(backendOption())
    .option('--out <file>', 'write the forecast as .csv or .json')
    .option('--svg <file.svg>', 'plot the series and the forecast')
    .option('--json', 'print the report as JSON')
    .action(async (o: ForecastOptions) => {
      const outKind = outputKind(o.out, '--out', ['csv', 'json'] as const);
      outputKind(o.svg, '--svg', ['svg'] as const);
      checkOutputsAreNotInputs(
        [
          ['--out', o.out],
          ['--svg', o.svg],
        ],
        [
          ['--model', o.model],
          ['--data', o.data],
        ],
      );
      if (extname(o.data).toLowerCase() !== '.csv')
        throw new InputError('--data', `expected a .csv file, got "${o.data}"`);
      const m = seriesModel(o.model);
      const info = m.series;
      const series = withCsvProgress(io, 'forecast', o.data, '', (hooks) =>
        readModelSeries(o.data, m, o.timeColumn, hooks),
      );
      warnSeries(io, series, o.data);
      warnOutOfRange(io, m, series, o.data);
      const C = info.columns.length;
      if (series.length < info.window)
        throw new InputError(
          '--data',
          `the series has ${series.length} rows, fewer than the model's window (${info.window})`,
          o.data,
        );
      const result = await withEngine(o.backend, io, async (engine) => {
        // The test part as the model was trained (the same split and normalisation): its error, and the naive one's.
        let test: {
          windows: number;
          from: number;
          model: { mae: number; rmse: number };
          naive: { mae: number; rmse: number };
        } | null = null;
        if (info.test > 0) {
          const fs = modelSplit(series, m, o.data);
          if (fs.test) {
            const b = fs.test.batch;
            const pred = denormalize(await outputsOf(engine, m, b, o.data), m.normalization, C);
            const actual = denormalize(b.targets!, m.normalization, C);
            const naive = denormalize(
              naiveForecast(b.inputs, b.count, info.window, C, info.horizon),
              m.normalization,
              C,
            );
            test = {
              windows: b.count,
              from: fs.b,
              model: forecastErrors(pred, actual),
              naive: forecastErrors(naive, actual),
            };
          }
        }
        const normalized = m.normalization ? normalizeSeries(series, m.normalization) : series;
        const future = await rollForward(engine, m, normalized, info.window, info.horizon, o.steps, (b) =>
          outputsOf(engine, m, b, 'forecast'),
        );
        const values = future.map((v, c) =>
          denormalize(
            v,
            m.normalization
              ? { ...m.normalization, offset: [m.normalization.offset[c]], scale: [m.normalization.scale[c]] }
              : null,
            1,
          ),
        );
        return { backend: engine.backend, adapter: engine.adapter, test, values };
      });
      const labels = futureLabels(series.times, o.steps);
      if (result.test) {
        const t = result.test;
        const errors = [t.model.mae, t.model.rmse, t.naive.mae, t.naive.rmse];
        const what = [
          "the model's test MAE",
          "the model's test RMSE",
          "the naive forecast's test MAE",
          "the naive forecast's test RMSE",
        ];
        checkFinite(result.backend, errors, (k) => `${what[k]} (in the series' units)`);
        if (t.naive.rmse > 0)
          checkFinite(
            result.backend,
            [(1 - t.model.rmse / t.naive.rmse) * 100],
            () => 'the RMSE change against the naive forecast (%)',
          );
      }
      result.values.forEach((v, c) =>
        checkFinite(
          result.backend,
          v,
          (k) => `the forecast of ${info.columns[c]} at ${labels[k]} (in the series' units)`,
        ),
      );
      const rows = labels.map((t, k) => [t, ...result.values.map((v) => v[k])] as [string, ...number[]]);
      const timeName = series.timeColumn ?? 'step';
      const files: { path: string; text: string }[] = [];
      const forecastJson = rows.map(([t, ...v]) => ({
        [timeName]: t,
        ...Object.fromEntries(info.columns.map((c, i) => [c, v[i]])),
      }));
      if (o.out) {
        files.push({
          path: o.out,
          text:
            outKind === 'json'
              ? jsonText(forecastJson) + '\n'
              : [
                  [timeName, ...info.columns].map(csvCell).join(','),
                  ...rows.map(([t, ...v]) => [csvCell(t), ...v.map(fmt)].join(',')),
                ].join('\n') + '\n',
        });
      }
      if (o.svg)
        files.push({
          path: o.svg,
          text: forecastSvg(series, result.values, info, result.test?.from ?? null, basename(o.data)),
        });
      writeOutputs(files);
      if (o.json) {
        await io.out(
          jsonText({
            backend: result.backend,
            adapter: result.adapter,
            columns: info.columns,
            window: info.window,
            horizon: info.horizon,
            normalization: m.normalization?.kind ?? null,
            test: result.test,
            forecast: forecastJson,
            files: files.map((f) => f.path),
          }) + '\n',
        );
        return;
      }
      const L: string[] = [];
      L.push(`backend   ${result.backend}, adapter ${result.adapter}`);
      L.push(
        `model     ${m.cell ?? 'elman'} H=${m.hiddenSize}${(m.numLayers ?? 1) > 1 ? `, ${m.numLayers} layers` : ''}${m.bidirectional ? ', bidirectional' : ''}, window ${info.window}, horizon ${info.horizon}, ${m.normalization ? `${m.normalization.kind} normalisation` : 'no normalisation'}`,
      );
      L.push(`series    ${printable(o.data)}: ${series.length} rows of ${info.columns.join(', ')}`);
      if (result.test) {
        const t = result.test;
        L.push(`test      rows ${t.from + 1}–${series.length}: ${t.windows} windows, in the series' units`);
        L.push(`          model         MAE ${num(t.model.mae)}   RMSE ${num(t.model.rmse)}`);
        L.push(`          naive (last)  MAE ${num(t.naive.mae)}   RMSE ${num(t.naive.rmse)}`);
        L.push(
          t.naive.rmse > 0
            ? `          the model ${t.model.rmse < t.naive.rmse ? 'beats' : 'does not beat'} the naive last-value forecast (RMSE ${((1 - t.model.rmse / t.naive.rmse) * 100).toFixed(1)} % lower)`
            : `          the naive last-value forecast is exact on the test part (RMSE 0)`,
        );
      } else L.push('test      none (the model was trained without --test)');
      L.push(
        '',
        `forecast, ${o.steps} step${o.steps === 1 ? '' : 's'} past the end (each window fed the model's own predictions):`,
      );
      L.push([timeName, ...info.columns].join('\t'));
      for (const [t, ...v] of rows) L.push([t, ...v.map((x) => num(x))].join('\t'));
      for (const f of files) L.push(`wrote ${printable(f.path)}`);
      await io.out(L.join('\n') + '\n');
    });

  program
    .command('predict')
    .description(
      "predictions for every window of a CSV series (or every sequence of a data file), in the data's own units",
    )
    .requiredOption('--model <file>', "a model JSON file (with a normalisation, the data is in the series' units)")
    .requiredOption(
      '--data <file>',
      "a CSV series (the model's columns; every window of its window length), or a data file (.json, .rnnb)",
    )
    .option('--time-column <name>', "CSV: the time column (default: the model's), or none")
    .addOption(backendOption())
    .option('--out <file>', 'write the predictions as .csv or .json')
    .option('--json', 'print the predictions as JSON')
    .action(async (o: PredictOptions) => {
      const outKind = outputKind(o.out, '--out', ['csv', 'json'] as const);
      checkOutputsAreNotInputs(
        [['--out', o.out]],
        [
          ['--model', o.model],
          ['--data', o.data],
        ],
      );
      const isCsv = extname(o.data).toLowerCase() === '.csv';
      const m = isCsv ? seriesModel(o.model) : modelFromJSON(readModelFile(o.model));
      const n = m.normalization ?? null;
      let batch: Batch;
      let labels: string[];
      let actual: Float64Array | null = null;
      const names = m.series ? m.series.columns : Array.from({ length: m.inputSize }, (_, i) => `column ${i + 1}`);
      if (isCsv) {
        const info = m.series!;
        const series = withCsvProgress(io, 'predict', o.data, '', (hooks) =>
          readModelSeries(o.data, m as Model & { series: SeriesInfo }, o.timeColumn, hooks),
        );
        warnSeries(io, series, o.data);
        warnOutOfRange(io, m as Model & { series: SeriesInfo }, series, o.data);
        const normalized = n ? normalizeSeries(series, n) : series;
        if (series.length < info.window)
          throw new InputError(
            '--data',
            `the series has ${series.length} rows, fewer than the model's window (${info.window})`,
            o.data,
          );
        // Every window, including the last ones whose targets lie past the end (their actual values are empty).
        const full =
          info.window + info.horizon <= series.length
            ? slidingWindows(normalized, { window: info.window, horizon: info.horizon, source: o.data }).batch
            : null;
        const N = series.length - info.window + 1;
        const lengths = new Uint32Array(N).fill(info.window);
        const C = info.columns.length;
        const inputs = new Float64Array(N * info.window * C);
        for (let w = 0; w < N; w++)
          for (let t = 0; t < info.window; t++)
            for (let c = 0; c < C; c++) inputs[(w * info.window + t) * C + c] = normalized.values[c][w + t];
        batch = {
          count: N,
          inputSize: C,
          outputSize: m.outputSize,
          output: 'last',
          lengths,
          offsets: offsetsFromLengths(lengths),
          inputs,
          targets: null,
        };
        labels = Array.from(
          { length: N },
          (_, w) =>
            series.times?.[w + info.window] ??
            (w + info.window < series.length ? String(w + info.window + 1) : `+${w + info.window - series.length + 1}`),
        );
        if (full) {
          actual = new Float64Array(N * m.outputSize).fill(NaN);
          actual.set(denormalize(full.targets!, n, C));
        }
      } else {
        const b = readDataFile(o.data, m);
        const inputs = Float64Array.from(b.inputs, (x, k) =>
          n ? (x - n.offset[k % b.inputSize]) / n.scale[k % b.inputSize] : x,
        );
        batch = { ...b, inputs, targets: null };
        labels = Array.from({ length: b.count }, (_, k) => String(k));
        actual = b.targets && b.output === 'last' ? Float64Array.from(b.targets) : null;
      }
      const result = await withEngine(o.backend, io, async (engine) => ({
        backend: engine.backend,
        adapter: engine.adapter,
        outputs: await outputsOf(engine, m, batch, o.data),
      }));
      const C = names.length;
      const pred = denormalize(result.outputs, n, C);
      const O = m.outputSize;
      checkFinite(result.backend, pred, (k) =>
        m.output === 'all'
          ? `prediction ${k} (output ${(k % O) + 1}, in the data's units)`
          : `the prediction for ${labels[Math.floor(k / O)]} (output ${(k % O) + 1}, in the data's units)`,
      );
      // Actual values past the end of the series are NaN (empty); any other non-finite one overflowed.
      if (actual)
        checkFinite(
          result.backend,
          actual.map((x) => (Number.isNaN(x) ? 0 : x)),
          (k) => `the actual value for ${labels[Math.floor(k / O)]} (output ${(k % O) + 1}, in the data's units)`,
        );
      const per = m.output === 'all' ? null : O;
      const outName = (k: number): string =>
        m.series ? `${names[k % C]}${m.series.horizon > 1 ? `+${Math.floor(k / C) + 1}` : ''}` : `output ${k + 1}`;
      const header = [
        isCsv ? (m.series?.timeColumn ?? 'row') : 'sequence',
        ...Array.from({ length: O }, (_, k) => outName(k)),
        ...(actual ? Array.from({ length: O }, (_, k) => `actual ${outName(k)}`) : []),
      ];
      const rowsOut: (string | number | null)[][] = [];
      if (per) {
        for (let w = 0; w < batch.count; w++) {
          rowsOut.push([
            labels[w],
            ...Array.from(pred.subarray(w * O, (w + 1) * O)),
            ...(actual ? Array.from(actual.subarray(w * O, (w + 1) * O), (x) => (Number.isNaN(x) ? null : x)) : []),
          ]);
        }
      } else {
        // output "all": one row per step of every sequence.
        header[0] = 'sequence:step';
        for (let s = 0; s < batch.count; s++)
          for (let t = 0; t < batch.lengths[s]; t++)
            rowsOut.push([
              `${s}:${t}`,
              ...Array.from(pred.subarray((batch.offsets[s] + t) * O, (batch.offsets[s] + t + 1) * O)),
            ]);
      }
      const asJson = { backend: result.backend, adapter: result.adapter, columns: header, rows: rowsOut };
      const csvText =
        [
          header.map(csvCell).join(','),
          ...rowsOut.map((r) =>
            r.map((x) => (x === null ? '' : typeof x === 'number' ? fmt(x) : csvCell(x))).join(','),
          ),
        ].join('\n') + '\n';
      if (o.out) writeOutputs([{ path: o.out, text: outKind === 'json' ? jsonText(asJson) + '\n' : csvText }]);
      if (o.json) await io.out(jsonText(asJson) + '\n');
      else if (o.out) await io.out(`${rowsOut.length} predictions (${result.backend}); wrote ${printable(o.out)}\n`);
      else await io.out(csvText);
    });
}

/** The series (every column) and its forecast, dashed, against the row (or the numeric time). */
function forecastSvg(
  series: TimeSeries,
  future: Float64Array[],
  info: SeriesInfo,
  testFrom: number | null,
  name: string,
): string {
  const L = series.length;
  const times = series.times?.map(Number);
  const numeric = !!times && times.every(Number.isFinite);
  const xs = Float64Array.from({ length: L }, (_, r) => (numeric ? times[r] : r + 1));
  const step = numeric && L >= 2 ? times[L - 1] - times[L - 2] : 1;
  const fx = Float64Array.from({ length: future[0].length + 1 }, (_, k) => xs[L - 1] + step * k);
  const lines = info.columns.flatMap((c, i) => [
    { label: c, x: xs, y: series.values[i] },
    { label: `${c} forecast`, x: fx, y: Float64Array.from([series.values[i][L - 1], ...future[i]]), dashed: true },
  ]);
  const title = `${name}: ${info.columns.join(', ')} and a ${future[0].length}-step forecast${testFrom !== null ? ` (test rows from ${numeric ? times[testFrom] : testFrom + 1})` : ''}`;
  return linePlotSvg({
    series: lines,
    xLabel: numeric ? (series.timeColumn ?? 'time') : 'row',
    yLabel: info.columns.join(', '),
    title,
  });
}
