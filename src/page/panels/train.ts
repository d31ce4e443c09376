// Panel "Train": one model trained by src/train (`train`) on a chosen data set, with a live loss curve (uPlot,
// fed by onProgress), a progress bar, a stop button (AbortSignal) and the final report: training and validation
// SSR, state, speed and the learned weights.

import { outputCount, type Batch } from '../../batch.ts';
import { splitData, type DataSet } from '../../data/index.ts';
import { isLayered, modelToJSON, type Model } from '../../model.ts';
import { denormalize, forecastErrors, naiveForecast, type Normalization } from '../../data/series.ts';
import type { OptimizerConfig, TrainReport } from '../../train/index.ts';
import { movedToCpu, runOn, trainOn } from '../engine-client.ts';
import type uPlot from 'uplot';
import { forLog, lineChart, setChartData, type LineChartSpec } from '../chart.ts';
import { initDataForm } from '../dataset-form.ts';
import { rollForward } from '../../forecast.ts';
import { readStack, showFallback, stackedModel, stackText } from '../layers.ts';
import type { Session } from '../session.ts';
import {
  $,
  afterPaint,
  breathe,
  bindCellSelect,
  clearMarksOnEdit,
  FieldError,
  fillTable,
  num,
  rate,
  readNumber,
  readOptionalNumber,
  StatusLine,
  throttledDraw,
  timeLeftText,
  valueOf,
} from '../ui.ts';

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

export interface TrainResult {
  backend: string;
  adapter: string;
  data: string;
  initialLoss: number;
  finalLoss: number;
  validationLoss: number | null;
  steps: number;
  aborted: boolean;
  diverged: boolean;
  stoppedEarly: boolean;
  history: { step: number; loss: number }[];
  /** With a validation split: the validation SSR every few steps (training keeps the weights where it was lowest). */
  validationHistory: { step: number; loss: number }[];
  /** The step whose weights the report holds when a validation split chose them, else null. */
  bestStep: number | null;
  /** Target values (sequences × steps with a prediction × outputs) that one training step's SSR and the validation SSR sum over: the divisors of the mean view. */
  perTrainStep: number;
  perValidation: number | null;
  /**
   * The first recorded step whose SSR was not finite or beyond the float32 range (the same step on both backends:
   * the history is float32), or null.
   */
  overflowStep: number | null;
  /** Why the run went to the CPU although the page runs on WebGPU (a stacked or bidirectional model), or null. */
  fallbackReason: string | null;
  /** The predictions chart: output 1 of every training and validation sequence drawn (at most 400 of each), in the series' units. */
  predicted: {
    train: number;
    validation: number;
    units: 'series' | 'normalised' | 'data';
    /** The forecast past the end of a CSV series (output 1 of each row, the series' units); empty otherwise. */
    forecast: number[];
  } | null;
  /** A CSV series' test part (with a test fraction), or null. */
  test: TestErrors | null;
  /** A CSV series' normalisation (`zscore`, `minmax`), or null (none, or not a CSV). */
  normalization: string | null;
  /** The loss floor the run stopped at (SSR ≤ it), or null when it was not reached or not set. */
  floorReached: number | null;
  /** Whether the previous run's curve is drawn (only when it trained on the same data), and its label. */
  previousDrawn: boolean;
  previousLabel: string | null;
  /** Points the loss chart draws (non-null y values), and its last x. */
  chartPoints: number;
  /** onProgress calls seen while training. */
  progressCalls: number;
  model: ReturnType<typeof modelToJSON>;
}

/** A CSV series' test part after training: windows, and MAE and RMSE in the series' units (the CLI's `forecast`). */
export type TestErrors = {
  windows: number;
  model: { mae: number; rmse: number };
  naive: { mae: number; rmse: number };
};

/** The optimizer fields: kind, learning rate and (SGD) momentum. */
export function readOptimizer(prefix: string): OptimizerConfig {
  const kind = valueOf($<HTMLSelectElement>(`${prefix}-opt`));
  const lr = readNumber($<HTMLInputElement>(`${prefix}-lr`), { min: 1e-9, max: 100 });
  if (kind === 'adam') return { kind: 'adam', lr };
  return { kind: 'sgd', lr, momentum: kind === 'momentum' ? 0.9 : 0 };
}

/** The Train panel's settings, read from its form (FieldError on a bad field). */
export type TrainSetup = ReturnType<ReturnType<typeof initTrain>['read']>;

export function initTrain(session: Session, publish: (r: TrainResult) => void) {
  const section = $('train');
  const status = new StatusLine($('tr-status'));
  const runButton = $<HTMLButtonElement>('tr-run');
  const stopButton = $<HTMLButtonElement>('tr-stop');
  const progress = $<HTMLProgressElement>('tr-progress');
  const progressText = $('tr-progress-text');
  const hidden = $<HTMLInputElement>('tr-hidden');
  const act = $<HTMLSelectElement>('tr-act');
  const cellSelect = bindCellSelect($<HTMLSelectElement>('tr-cell'), act);
  let controller: AbortController | null = null;
  /** The last run's loss history, drawn dashed beside the next run for comparison. */
  let previous: { history: { step: number; loss: number }[]; div: number; label: string; dataKey: string } | null =
    null;

  const data = initDataForm((kind) => {
    // Suggested shapes: the notes' network for their data, a small tanh network otherwise.
    hidden.value = kind === 'seed' ? '1' : '8';
    cellSelect.setElmanActivation(kind === 'seed' ? 'relu' : 'tanh');
    $<HTMLInputElement>('tr-lr').value = kind === 'seed' ? '0.05' : '0.01';
  });

  function read() {
    const form = data.read();
    const set: DataSet = form.set;
    const H = readNumber(hidden, { min: 1, max: 16, integer: true });
    const steps = readNumber($<HTMLInputElement>('tr-steps'), { min: 1, max: 100_000, integer: true });
    const batchField = $<HTMLInputElement>('tr-batch');
    const batchSize = readOptionalNumber(batchField, { min: 1, max: 1_000_000, integer: true }) ?? undefined;
    const fraction = readNumber($<HTMLInputElement>('tr-val'), { min: 0, max: 0.5 });
    const seed = readNumber($<HTMLInputElement>('tr-seed'), { min: 0, max: 4294967295, integer: true });
    let trainBatch = set.batch;
    let validation: Batch | undefined = undefined;
    if (form.validation !== undefined) {
      // A CSV series: split by rows and normalised by the form (the CLI's way).
      validation = form.validation?.batch;
    } else if (fraction > 0) {
      if (set.batch.count < 2)
        throw new FieldError(
          $('tr-val'),
          `Validation fraction: the ${set.name} data set has only ${set.batch.count} sequence`,
        );
      const split = splitData(set, { fraction, mode: set.timeOrdered ? 'time' : 'random', seed });
      trainBatch = split.train;
      validation = split.validation;
    }
    if (batchSize !== undefined && batchSize > trainBatch.count) {
      throw new FieldError(
        batchField,
        `Mini-batch size: ${batchSize} is more than the ${trainBatch.count} training sequences`,
      );
    }
    const { cell, activation } = cellSelect.read();
    const stack = readStack('tr');
    const model = stackedModel(
      { inputSize: set.suggest.inputSize, hiddenSize: H, outputSize: set.suggest.outputSize },
      activation,
      set.suggest.output,
      seed,
      set.name === 'seed' ? 1 : 0.5,
      cell,
      stack,
    );
    // The loss floor: a run whose training SSR reaches it stops there (below about 1e-12 float32 records rounding).
    const floor = readOptionalNumber($<HTMLInputElement>('tr-floor'), { min: 0, max: 1e12 }) ?? undefined;
    // What identifies the data trained on: a previous run is overlaid only when it is the same.
    const dataKey = JSON.stringify([
      set.name,
      set.description,
      trainBatch.count,
      trainBatch.offsets[trainBatch.count],
      validation?.count ?? 0,
      form.normalization?.kind ?? null,
    ]);
    return {
      set,
      trainBatch,
      validation,
      model,
      steps,
      batchSize,
      seed,
      floor,
      dataKey,
      normalization: form.normalization ?? null,
      series: form.series ?? null,
      forecast: form.forecast ?? 0,
      /** A CSV series' test windows (its last rows), evaluated after training as the CLI's `forecast` does. */
      test: form.test?.batch ?? null,
      optimizer: readOptimizer('tr'),
    };
  }

  /**
   * Target values one training step's SSR sums over: the whole training set's, or a mini-batch's (for output `all`
   * with ragged sequences, the mini-batch's average); and the validation set's. The mean view divides by these, so
   * training and validation compare fairly.
   */
  function divisors(p: {
    trainBatch: Batch;
    validation?: Batch;
    batchSize?: number;
    model: { output: 'last' | 'all' };
  }): { train: number; validation: number | null } {
    const all = outputCount(p.trainBatch, p.model.output);
    const train = p.batchSize === undefined ? all : (all / p.trainBatch.count) * p.batchSize;
    return { train, validation: p.validation ? outputCount(p.validation, p.model.output) : null };
  }

  /** The last run's curves, for redrawing when the shown loss changes. */
  let drawn: {
    history: { step: number; loss: number }[];
    validation: { step: number; loss: number }[];
    /** A run with a validation split (its validation curve may have no point yet). */
    validating?: boolean;
    div: { train: number; validation: number | null };
    prevLabel: string | null;
    prev: { history: { step: number; loss: number }[]; div: number } | null;
  } | null = null;

  /**
   * The loss chart's spec and columns for `d`: the training curve (and validation, and the previous run's curve) as
   * SSR or as a mean per target value. A run's live chart is built with its final spec (the series it will have), so
   * drawing its results gives the same chart new data instead of building another.
   */
  function lossChart(d: NonNullable<typeof drawn>): { spec: LineChartSpec; data: (number | null)[][] } {
    const mean = $<HTMLSelectElement>('tr-scale').value === 'mean';
    const unit = mean ? 'mean per value' : 'SSR';
    const per = (hist: { step: number; loss: number }[], div: number | null) =>
      hist.map((h) => ({ step: h.step, loss: mean && div ? h.loss / div : h.loss }));
    const curves: {
      label: string;
      hist: { step: number; loss: number }[];
      dash?: number[];
      width?: number;
      color?: string;
      points?: boolean;
    }[] = [{ label: `training ${unit}`, hist: per(d.history, d.div.train) }];
    if (d.validation.length > 0 || d.validating)
      curves.push({
        label: `validation ${unit}`,
        hist: per(d.validation, d.div.validation),
        points: true,
        color: '#a63c00',
      });
    if (d.prev)
      curves.push({
        label: `previous run (${d.prevLabel}), training ${unit}`,
        hist: per(d.prev.history, d.prev.div),
        dash: [6, 4],
        width: 1.5,
        color: '#5c5c5c',
      });
    const xs = [...new Set(curves.flatMap((c) => c.hist.map((h) => h.step)))].sort((a, b) => a - b);
    const cols = curves.map((c) => {
      const m = new Map(c.hist.map((h) => [h.step, forLog(h.loss)]));
      return xs.map((x) => m.get(x) ?? null);
    });
    return {
      spec: {
        xLabel: 'step',
        yLabel: `${unit} (log)`,
        logY: true,
        series: curves.map((c) => ({ label: c.label, dash: c.dash, width: c.width, color: c.color, points: c.points })),
      },
      data: [xs, ...cols],
    };
  }

  /** Draws the last run's loss chart (lossChart); the points of its training curve. */
  function draw(): number {
    if (!drawn) return 0;
    const { spec, data } = lossChart(drawn);
    lineChart($('tr-chart'), spec, data as never);
    return data[1].filter((v) => v !== null).length;
  }
  $<HTMLSelectElement>('tr-scale').addEventListener('change', () => void draw());

  function showReport(
    r: TrainReport,
    set: DataSet,
    initialLoss: number,
    overflowStep: number | null,
    div: { train: number; validation: number | null },
    round: number,
    floor: number | undefined,
    normalization: Normalization | null,
    test: TestErrors | null,
  ): void {
    const normText = !set.timeOrdered
      ? ''
      : normalization
        ? `; ${normalization.kind === 'zscore' ? 'z-score' : 'min-max'} normalisation fitted on the training rows (the SSR is in normalised units)`
        : '; no normalisation (raw values)';
    const m: Model = r.model;
    const w = modelToJSON(m).weights;
    const state = r.aborted
      ? 'stopped by you'
      : r.diverged
        ? `diverged${overflowStep !== null ? `: the SSR left the float32 range at step ${overflowStep}` : ''}; the weights shown are those of step ${r.steps}, the last whose values were finite`
        : r.stoppedEarly
          ? `stopped: the SSR reached the floor ${floor} (Stop at SSR ≤)`
          : 'ran every step';
    const after = Number.isFinite(r.finalLoss)
      ? num(r.finalLoss)
      : 'not finite: the SSR overflows at those weights too';
    const rows: (string | number)[][] = [
      ['data', `${set.name}: ${set.description}${normText}`],
      ['ran on', `${r.backend} (${r.adapter})${r.fallbackReason ? `, moved from WebGPU: ${r.fallbackReason}` : ''}`],
      ['steps', `${r.steps} (${state})`],
      [r.diverged ? 'SSR before → at the last finite weights' : 'SSR before → after', `${num(initialLoss)} → ${after}`],
      ...(test
        ? [
            [
              `test (last ${test.windows} windows), series units`,
              `model MAE ${num(test.model.mae)}, RMSE ${num(test.model.rmse)}; naive (last value) MAE ${num(test.naive.mae)}, RMSE ${num(test.naive.rmse)}`,
            ],
          ]
        : []),
      [
        'validation SSR',
        r.validationLoss === null
          ? '—'
          : `${num(r.validationLoss)}${div.validation ? ` (mean per value ${num(r.validationLoss / div.validation)}; training: ${Number.isFinite(r.finalLoss) ? num(r.finalLoss / div.train) : '—'})` : ''}`,
      ],
      ...(r.bestStep !== null
        ? [
            [
              'weights kept',
              `those after step ${r.bestStep}, where the validation SSR was lowest (checked every ${round} steps)`,
            ],
          ]
        : []),
      ['time', `${r.seconds.toFixed(2)} s (${rate(r.steps / Math.max(r.seconds, 1e-9))} steps/s)`],
    ];
    if (
      m.inputSize === 1 &&
      m.hiddenSize === 1 &&
      m.outputSize === 1 &&
      (m.cell ?? 'elman') === 'elman' &&
      !isLayered(m)
    ) {
      rows.push([
        'learned weights',
        `w1 ${num(w.Wx[0][0])}, b1 ${num(w.bh[0])}, w2 ${num(w.Wh[0][0])}, w3 ${num(w.Wy[0][0])}, b2 ${num(w.by[0])}`,
      ]);
    } else {
      rows.push([
        'learned weights',
        `${m.params.length} parameters (${m.cell && m.cell !== 'elman' ? m.cell.toUpperCase() : `Elman, ${m.activation}`}; I ${m.inputSize}, H ${m.hiddenSize}, O ${m.outputSize}${stackText(m)})`,
      ]);
    }
    fillTable($<HTMLTableElement>('tr-table'), ['', 'result'], rows);
    $('tr-model').textContent = JSON.stringify(modelToJSON(m));
    $('tr-model-box').hidden = false;
  }

  /** The predictions chart's spec (drawPredictions), with or without the forecast past the end of a CSV series. */
  function predictionSpec(p: TrainSetup, forecast: boolean): LineChartSpec {
    const ordered = p.set.timeOrdered === true;
    return {
      xLabel: ordered ? 'row of the series (time order)' : 'sequence (training, then validation)',
      yLabel: p.normalization ? 'value (series units)' : 'value',
      integerX: true,
      series: [
        { label: 'target', color: '#404040', width: 1, points: !ordered, line: ordered },
        { label: 'predicted, training', color: '#1f4e9c', points: !ordered, line: ordered },
        { label: 'predicted, validation', color: '#a63c00', points: !ordered, line: ordered },
        ...(forecast ? [{ label: 'forecast past the end', color: '#2c6e2c', dash: [6, 4], points: true }] : []),
      ],
    };
  }

  /**
   * Output 1 of the trained model against its target on every training sequence (blue) and validation sequence
   * (orange), at most 400 of each: a CSV series' windows in time order (x: the row of the target, values in the
   * series' units), other data one point per sequence (training first, then validation).
   */
  function drawPredictions(
    p: TrainSetup,
    train: Float64Array | Float32Array | null,
    val: Float64Array | Float32Array | null,
    future: Float64Array | null,
  ): TrainResult['predicted'] {
    const box = $('tr-pred');
    const cap = $('tr-pred-cap');
    if (!train || p.trainBatch.output !== 'last') {
      box.replaceChildren();
      cap.textContent = train ? 'Predictions are drawn for one prediction per sequence (output "last") only.' : '';
      return null;
    }
    const O = p.trainBatch.outputSize;
    const cols = p.normalization?.scale.length ?? O;
    const units = (v: ArrayLike<number>) =>
      p.normalization ? denormalize(v, p.normalization, cols) : Float64Array.from(v);
    const LIMIT = 400;
    const ordered = p.set.timeOrdered === true;
    const T = p.trainBatch.lengths[0] ?? 0;
    const xs: number[] = [];
    const target: (number | null)[] = [];
    const inTrain: (number | null)[] = [];
    const inVal: (number | null)[] = [];
    const add = (b: Batch, out: ArrayLike<number>, which: (number | null)[], other: (number | null)[], x0: number) => {
      const K = Math.min(LIMIT, b.count);
      const tg = units(b.targets!);
      const pr = units(out);
      for (let k = 0; k < K; k++) {
        xs.push(ordered ? x0 + k + T : xs.length + 1);
        target.push(tg[k * O]);
        which.push(pr[k * O]);
        other.push(null);
      }
      return K;
    };
    const nTrain = add(p.trainBatch, train, inTrain, inVal, 0);
    // A CSV's validation rows follow its training rows: their first window starts where the training rows end.
    const horizon = Math.max(1, Math.round(O / (p.series?.values.length ?? O)));
    const valStart = p.trainBatch.count + T + horizon - 1;
    const nVal = p.validation && val ? add(p.validation, val, inVal, inTrain, valStart) : 0;
    // The forecast past the end (output 1 of each row), in the series' units, after the series' last row.
    const ahead: (number | null)[] = xs.map(() => null);
    const C = p.series?.values.length ?? cols;
    const fut = future ? units(future) : null;
    const rows = p.series?.length ?? 0;
    if (fut)
      for (let k = 0; k < fut.length / C; k++) {
        xs.push(rows + k);
        target.push(null);
        inTrain.push(null);
        inVal.push(null);
        ahead.push(fut[k * C]);
      }
    lineChart(
      box,
      predictionSpec(p, fut !== null),
      (fut ? [xs, target, inTrain, inVal, ahead] : [xs, target, inTrain, inVal]) as never,
    );
    cap.textContent =
      `Predictions of the trained model (output 1) against the targets: ${nTrain} training sequence${nTrain === 1 ? '' : 's'} in blue` +
      (nVal ? `, ${nVal} validation sequence${nVal === 1 ? '' : 's'} in orange` : ' (no validation split)') +
      (ordered
        ? `, each window at the row of its target, joined in time order${p.normalization ? ", in the series' units (the normalisation undone)" : ''}.`
        : '; each point is its own sequence, so they are not joined.') +
      (p.trainBatch.count > LIMIT || (p.validation?.count ?? 0) > LIMIT ? ` At most ${LIMIT} of each are drawn.` : '') +
      (fut
        ? ` Green, dashed: the model rolled ${fut.length / C} rows past the end of the series (rows ${rows} to ${rows + fut.length / C - 1}), each prediction fed back as input, as the CLI's forecast does: ${Array.from({ length: Math.min(5, fut.length / C) }, (_, k) => num(fut[k * C])).join(', ')}${fut.length / C > 5 ? ', …' : ''}.`
        : '');
    return {
      train: nTrain,
      validation: nVal,
      units: p.normalization ? 'series' : 'data',
      forecast: fut ? Array.from({ length: fut.length / C }, (_, k) => fut[k * C]) : [],
    };
  }

  async function run(): Promise<void> {
    if (controller) return;
    await session.guard(status, section, async () => {
      const p = read();
      // Record every step of short runs, so the step where a diverging run overflowed is exact on both backends.
      const historyEvery = Math.max(1, Math.ceil(p.steps / 2000));
      const round = Math.max(1, Math.ceil(p.steps / 40));
      const div = divisors(p);
      controller = new AbortController();
      const signal = controller.signal;
      runButton.disabled = true;
      stopButton.disabled = false;
      progress.value = 0;
      progressText.textContent = '';
      const xs: number[] = [];
      const ys: (number | null)[] = [];
      let chart: uPlot | null = null;
      let calls = 0;
      let last = { fraction: 0, text: '' };
      // The previous run is drawn only when it trained on the same data (another data set's SSR is another scale).
      const same = previous !== null && previous.dataKey === p.dataKey;
      const otherData = previous !== null && !same ? previous.label : null;
      const curves: NonNullable<typeof drawn> = {
        history: [],
        validation: [],
        validating: p.validation !== undefined,
        div,
        prevLabel: same ? previous!.label : null,
        prev: same ? { history: previous!.history, div: previous!.div } : null,
      };
      const prebuild = p.trainBatch.output === 'last' && !$('tr-pred').hasChildNodes();
      let predictionsDrawn = false;
      // The live chart has the series the results will have (their curves empty until then), in the unit shown.
      const liveChart = lossChart(curves);
      const liveDiv = $<HTMLSelectElement>('tr-scale').value === 'mean' ? div.train : 1;
      // The live curve and progress, redrawn at most every 100 ms.
      const live = throttledDraw(() => {
        if (chart) {
          const empty = new Array<null>(xs.length).fill(null);
          setChartData(chart, [xs, ys, ...liveChart.spec.series.slice(1).map(() => empty)]);
        }
        progress.value = last.fraction;
        progressText.textContent = last.text;
      });
      try {
        const moved = movedToCpu(session.engine, p.model);
        showFallback('tr', moved);
        status.info(`Training on ${session.engine.backend === 'webgpu' && !moved ? 'WebGPU' : 'the CPU'}…`);
        const report = await session.exclusive(
          async () => {
            const engine = session.engine;
            const t0 = performance.now();
            const before = await runOn(engine, p.model, p.trainBatch, { gradients: false });
            await breathe();
            chart = lineChart($('tr-chart'), liveChart.spec, [[], ...liveChart.spec.series.map(() => [])]);
            if (prebuild) {
              // The panel has no predictions chart yet: it is built (empty) while the model trains in the worker,
              // so drawing the results gives it data instead of building, laying out and first drawing a chart then.
              const spec = predictionSpec(p, p.series !== null && p.forecast > 0);
              lineChart($('tr-pred'), spec, [[], ...spec.series.map(() => [])]);
            }
            // On the CPU backend the training runs in the page's CPU worker (the page stays responsive).
            const r = await trainOn(engine, p.model, p.trainBatch, {
              optimizer: p.optimizer,
              steps: p.steps,
              batchSize: p.batchSize,
              seed: p.seed,
              validation: p.validation,
              lossThreshold: p.floor,
              // With a validation split: its loss every `round` steps, for the chart, and the best weights kept.
              validateEvery: p.validation ? round : undefined,
              readbackEvery: Math.max(10, Math.min(200, Math.ceil(p.steps / 100))),
              historyEvery,
              signal,
              onProgress: ({ step, steps, loss, stepsPerSecond }) => {
                calls++;
                xs.push(step);
                ys.push(forLog(loss / liveDiv));
                const text = `step ${step} of ${steps}, SSR ${num(loss)}, ${rate(stepsPerSecond)} steps/s, ${step < steps ? timeLeftText(step, steps, (performance.now() - t0) / 1000) : 'done'}`;
                const fraction = step / steps;
                last = { fraction, text };
                live.request();
              },
            });
            // The predictions of the trained model on the training and the validation sequences, for the chart of
            // predictions against the data (unless it diverged).
            const predict = async (b: Batch | undefined) =>
              b && !r.diverged
                ? ((await runOn(engine, r.model, b, { outputs: true, gradients: false }).catch(() => null))?.outputs ??
                  null)
                : null;
            const predTrain = await predict(p.trainBatch);
            const predVal = await predict(p.validation);
            // A CSV series' test part: MAE and RMSE in the series' units, beside the naive last-value forecast,
            // as the CLI's `forecast` reports them for a model trained with --test.
            const C = p.series?.values.length ?? 1;
            const predTest = p.test ? await predict({ ...p.test, targets: null }) : null;
            const test =
              p.test && predTest
                ? {
                    windows: p.test.count,
                    model: forecastErrors(
                      denormalize(predTest, p.normalization, C),
                      denormalize(p.test.targets!, p.normalization, C),
                    ),
                    naive: forecastErrors(
                      denormalize(
                        naiveForecast(
                          p.test.inputs,
                          p.test.count,
                          p.test.lengths[0],
                          C,
                          Math.max(1, Math.round(p.test.outputSize / C)),
                        ),
                        p.normalization,
                        C,
                      ),
                      denormalize(p.test.targets!, p.normalization, C),
                    ),
                  }
                : null;
            // A CSV series: the model rolled past the end of the series, as the CLI's forecast does.
            const T = p.trainBatch.lengths[0] ?? 0;
            const cols = p.series?.values.length ?? 1;
            const byColumn =
              p.series && p.forecast > 0 && !r.diverged
                ? await rollForward(
                    engine,
                    r.model,
                    p.series,
                    T,
                    Math.max(1, Math.round(p.trainBatch.outputSize / cols)),
                    p.forecast,
                  ).catch(() => null)
                : null;
            // Row-major (rows × columns), as the normalisation is undone.
            const future = byColumn
              ? Float64Array.from({ length: p.forecast * cols }, (_, k) => byColumn[k % cols][Math.floor(k / cols)])
              : null;
            return { r, initialLoss: before.loss!, predTrain, predVal, future, test };
          },
          { status, panel: 'Train' },
          'long',
        );
        const r = report.r;
        // When the report reached the page: its drawing follows (the page-timer test measures from here).
        performance.mark('train-results');
        showFallback('tr', r.fallbackReason);
        live.cancel();
        // Each part of the results is drawn in its own frame: the page lays it out and paints it before the next
        // part, so no frame lays out and paints them all at once, and each part measures a laid-out page.
        await afterPaint();
        drawn = { ...curves, history: r.history, validation: r.validationHistory };
        const points = draw();
        const previousLabel = same ? previous!.label : null;
        previous = {
          dataKey: p.dataKey,
          history: r.history,
          div: div.train,
          label: `${p.set.name}, ${p.optimizer.kind} lr ${p.optimizer.lr}, H ${p.model.hiddenSize}${stackText(p.model)}`,
        };
        const overflow = r.history.find((h) => !Number.isFinite(h.loss) || h.loss > FLOAT32_MAX);
        const overflowStep = overflow ? overflow.step : null;
        await afterPaint();
        showReport(r, p.set, report.initialLoss, overflowStep, div, round, p.floor, p.normalization, report.test);
        await afterPaint();
        const predicted = drawPredictions(p, report.predTrain, report.predVal, report.future);
        predictionsDrawn = true;
        const first = r.history[0]?.loss ?? report.initialLoss;
        const lastFinite = r.history.filter((h) => Number.isFinite(h.loss)).at(-1);
        $('tr-summary').textContent =
          `Loss curve of ${r.history.length} recorded steps: the SSR went from ${num(first)} at step 0 to ${num(lastFinite?.loss ?? NaN)} at step ${lastFinite?.step ?? 0}` +
          (overflowStep !== null
            ? `, and left the float32 range at step ${overflowStep} (not drawn from there on)`
            : '') +
          `; ${Number.isFinite(r.finalLoss) ? `at the final weights the training SSR is ${num(r.finalLoss)}` : 'at the final weights the SSR is not finite'}. The log axis draws values below 1e-14, including 0, at 1e-14, and values above 1e15 at 1e15.` +
          (r.validationHistory.length > 0
            ? ` The validation loss, every ${round} steps, is drawn with points; it was lowest after step ${r.bestStep}, and those weights are kept. "Loss shown" divides each SSR by the target values it sums over (${num(div.train)} per training step, ${num(div.validation ?? NaN)} for validation), so the two compare fairly.`
            : '') +
          (r.stoppedEarly && p.floor !== undefined
            ? ` The run stopped at step ${r.steps} of ${p.steps}: the training SSR reached the floor ${p.floor} (Stop at SSR ≤; blank it to run every step).`
            : '') +
          (previousLabel
            ? ` Dashed: the previous run on the same data (${previousLabel}).`
            : otherData
              ? ` The previous run (${otherData}) trained on other data, so it is not drawn.`
              : '');
        publish({
          backend: r.backend,
          adapter: r.adapter,
          data: p.set.name,
          initialLoss: report.initialLoss,
          finalLoss: r.finalLoss,
          validationLoss: r.validationLoss,
          steps: r.steps,
          aborted: r.aborted,
          diverged: r.diverged,
          stoppedEarly: r.stoppedEarly,
          history: r.history,
          validationHistory: r.validationHistory,
          bestStep: r.bestStep,
          perTrainStep: div.train,
          perValidation: div.validation,
          overflowStep,
          fallbackReason: r.fallbackReason ?? null,
          normalization: p.normalization?.kind ?? null,
          test: report.test,
          predicted,
          floorReached: r.stoppedEarly && p.floor !== undefined ? p.floor : null,
          previousDrawn: previousLabel !== null,
          previousLabel,
          chartPoints: points,
          progressCalls: calls,
          model: modelToJSON(r.model),
        });
        progress.value = r.aborted || r.diverged ? r.steps / p.steps : 1;
        progressText.textContent = r.aborted
          ? `stopped at step ${r.steps} of ${p.steps}`
          : r.diverged
            ? `diverged at step ${r.steps} of ${p.steps}`
            : r.stoppedEarly
              ? `stopped at step ${r.steps} of ${p.steps}: the SSR reached the floor ${p.floor}`
              : `done: ${r.steps} steps`;
        const what = r.aborted
          ? `Stopped after ${r.steps} steps`
          : r.diverged
            ? 'Diverged'
            : `Trained ${r.steps} steps`;
        if (r.diverged) {
          // The CPU reference trains in float64 and stops only when float64 overflows; WebGPU stops when float32 does.
          const cpuNote =
            r.backend === 'cpu' && overflowStep !== null && overflowStep < r.steps
              ? ` (the float64 CPU reference went on until step ${r.steps}, where its own values overflowed)`
              : '';
          status.error(
            `${what}: the SSR left the float32 range at step ${overflowStep ?? r.steps}${cpuNote}. Try a smaller learning rate.`,
          );
        } else
          status.done(
            `${what} in ${r.seconds.toFixed(2)} s: SSR ${num(report.initialLoss)} → ${num(r.finalLoss)}.${r.stoppedEarly ? ` Stopped at the loss floor: the SSR reached ${p.floor} at step ${r.steps} of ${p.steps}.` : ''}`,
          );
      } finally {
        live.cancel();
        // A failed run leaves no empty predictions chart behind.
        if (prebuild && !predictionsDrawn) $('tr-pred').replaceChildren();
        controller = null;
        runButton.disabled = false;
        stopButton.disabled = true;
      }
    });
  }

  clearMarksOnEdit(section);
  $<HTMLFormElement>('tr-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  stopButton.addEventListener('click', () => controller?.abort());
  return { run, read };
}
