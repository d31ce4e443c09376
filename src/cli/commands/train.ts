// `webgpu-rnn train`: trains one model on a data set (seed, sine, adding or a CSV series) on WebGPU or the CPU, with
// progress on stderr; prints the final loss, the learned weights and the rate; --out saves the model JSON and its
// optimizer state beside it (M.optimizer.json), which --resume continues exactly. A CSV series is split by time into
// training, validation and test rows, optionally normalised (saved in the model). A run that diverges (a non-finite
// loss or gradient) exits 3 and saves nothing.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { BackendChoice } from '../../backend.ts';
import { NonFiniteError } from '../../errors.ts';
import { InputError } from '../../errors.ts';
import { blockName, modelFromJSON, modelToJSON, paramLayout, type Model } from '../../model.ts';
import { readJsonFile, readModelFile } from '../../io/files.ts';
import type { ForecastSplit } from '../../data/series.ts';
import { timeReasonText } from '../../data/csv.ts';
import type { OptimizerState } from '../../train/types.ts';
import { checkKeys, finiteNumber } from '../../validate.ts';
import { lossCurveSvg } from '../../svg/index.ts';
import { train } from '../../train/index.ts';
import type { TrainReport } from '../../train/types.ts';
import { checkOutputsAreNotInputs, printable, type CliIO } from '../io.ts';
import { backendOption } from '../options.ts';
import { withEngine } from '../run.ts';
import { withCsvProgress } from '../progress.ts';
import { jsonText, matrixText, num } from '../format.ts';
import { integer } from '../options.ts';
import {
  addDataOptions,
  addModelOptions,
  addSeriesOptions,
  addTrainOptions,
  initialModel,
  isCsvData,
  loadSeriesData,
  loadSplitData,
  optimizerText,
  outputKind,
  recurrentInitOption,
  trainOptionsFrom,
  trainProgress,
  writeOutputs,
  type DataCliOptions,
  type ModelCliOptions,
  type TrainCliOptions,
} from './experiment-options.ts';

interface TrainCommandOptions extends DataCliOptions, ModelCliOptions, TrainCliOptions {
  backend: BackendChoice;
  out?: string;
  svg?: string;
  json?: boolean;
  resume?: string;
  validateEvery?: number;
  patience?: number;
}

/** The optimizer state file saved beside a model: `M.json` → `M.optimizer.json`. */
export function stateFileOf(modelPath: string): string {
  return modelPath.replace(/(\.json)?$/i, '.optimizer.json');
}

/**
 * What a run was trained on, as saved in its state file: the data set and the options that shape its windows and
 * split, and for a CSV file the SHA-256 of its bytes (so a renamed copy is the same data, an edited file is not).
 * `--resume` refuses a run whose data differs.
 */
type DataRecord = Record<string, string | number | string[] | null>;

/** Each key of a DataRecord and the option that sets it. */
const DATA_OPTIONS: Record<string, string> = {
  data: '--data',
  sha256: '--data',
  columns: '--column',
  timeColumn: '--time-column',
  window: '--window',
  horizon: '--horizon',
  samples: '--samples',
  noise: '--noise',
  dataSeed: '--data-seed',
  validation: '--validation',
  test: '--test',
  split: '--split',
  normalize: '--normalize',
};

function dataRecord(o: TrainCommandOptions, fs: ForecastSplit | null): DataRecord {
  const validation = o.validation ?? 0;
  if (fs)
    return {
      data: 'csv',
      sha256: sha256(readFileSync(o.data)),
      columns: fs.info.columns,
      timeColumn: fs.info.timeColumn,
      window: fs.info.window,
      horizon: fs.info.horizon,
      validation,
      test: fs.info.test,
      // As asked for: a resumed run's split reuses the saved model's normalisation whatever --normalize says.
      normalize: o.normalize ?? 'none',
    };
  if (o.data === 'seed') return { data: 'seed', validation, split: o.split };
  const sine = o.data === 'sine';
  return {
    data: o.data,
    window: o.window ?? (sine ? 16 : 20),
    samples: o.samples,
    ...(sine ? { noise: o.noise } : {}),
    dataSeed: o.dataSeed,
    validation,
    split: o.split,
  };
}

const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

/**
 * The optimizer state file's text. It is bound to its model: `run` (an id drawn for this save), the global `step`
 * and `model`, the SHA-256 of the model file written with it, so `--resume` can tell that the two files were written
 * together; `data`: what the run was trained on.
 */
function stateText(kind: 'sgd' | 'adam', s: OptimizerState, modelText: string, data: DataRecord): string {
  return (
    jsonText({
      optimizer: kind,
      step: s.step,
      run: randomBytes(8).toString('hex'),
      model: sha256(modelText),
      data,
      m: Array.from(s.m),
      v: Array.from(s.v),
    }) + '\n'
  );
}

const shown = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v ?? null));

/**
 * Reads the optimizer state of `--resume M.json` (`path`: M.optimizer.json), checked against the model file (it must
 * be the one saved with this state), the model's parameter count, the optimizer, the steps to come and the data.
 */
function readState(
  path: string,
  modelPath: string,
  P: number,
  kind: 'sgd' | 'adam',
  steps: number,
  data: DataRecord,
): OptimizerState {
  const j = readJsonFile(path) as Record<string, unknown>;
  if (typeof j !== 'object' || j === null || Array.isArray(j))
    throw new InputError('', 'expected an optimizer state object', path);
  checkKeys(j, ['optimizer', 'step', 'run', 'model', 'data', 'm', 'v'], '', path);
  if (j.optimizer !== 'sgd' && j.optimizer !== 'adam')
    throw new InputError(
      'optimizer',
      j.optimizer === undefined
        ? 'missing: expected "sgd" or "adam"'
        : `expected "sgd" or "adam", got ${shown(j.optimizer)}`,
      path,
    );
  if (j.optimizer !== kind)
    throw new InputError('--optimizer', `the run being resumed used ${j.optimizer}, not ${kind} (${printable(path)})`);
  const step = finiteNumber(j.step, 'step', path);
  const maxStep = 2 ** 31 - 1 - steps;
  if (!Number.isInteger(step) || step < 0 || step > maxStep)
    throw new InputError(
      'step',
      `must be an integer from 0 to ${maxStep} (the global step count stays below 2^31 with --steps ${steps}), got ${step}`,
      path,
    );
  // The binding: this state was saved with this very model file.
  if (typeof j.run !== 'string' || typeof j.model !== 'string')
    throw new InputError(
      j.run === undefined || typeof j.run !== 'string' ? 'run' : 'model',
      'missing: the state file does not say which saved model it belongs to, so it cannot be resumed safely; start from the model with --init instead',
      path,
    );
  if (sha256(readFileSync(modelPath)) !== j.model)
    throw new InputError(
      '--resume',
      `${printable(modelPath)} is not the model saved with its optimizer state ${printable(path)} (run ${printable(j.run)}, step ${step}): the two files come from different saves (an interrupted save, or a file replaced or edited since); start from the model with --init instead`,
    );
  const saved = j.data;
  if (saved === null || typeof saved !== 'object' || Array.isArray(saved))
    throw new InputError('data', 'missing: expected what the run was trained on', path);
  for (const key of new Set([...Object.keys(saved), ...Object.keys(data)])) {
    const was = (saved as Record<string, unknown>)[key];
    const now = data[key];
    if (JSON.stringify(was) === JSON.stringify(now)) continue;
    const option = DATA_OPTIONS[key] ?? '--data';
    throw new InputError(
      option,
      key === 'sha256'
        ? `the run being resumed was trained on other data: the file's content differs from the one it was trained on (${printable(path)})`
        : `the run being resumed was trained with ${key === 'data' ? 'data' : key} ${shown(was)}, not ${shown(now)} (${printable(path)}); resume on the run's own data`,
    );
  }
  const vec = (key: 'm' | 'v'): number[] => {
    const a = j[key];
    if (!Array.isArray(a) || a.length !== P)
      throw new InputError(key, `expected ${P} values (one per parameter of the model)`, path);
    return a.map((x, i) => {
      const v = finiteNumber(x, `${key}[${i}]`, path);
      if (key === 'v' && v < 0)
        throw new InputError(`v[${i}]`, `must be ≥ 0 (a mean of squared gradients), got ${v}`, path);
      return v;
    });
  };
  return { step, m: vec('m'), v: vec('v') };
}

/**
 * A warning for a run whose loss ran away without overflowing (Adam with --lr 1e10 ends with weights near 1e10 and
 * a finite loss): the last recorded loss more than RUNAWAY_FACTOR times the first (both of a step's batch, so
 * mini-batches compare alike; TrainReport.runaway), naming the weights kept. Null otherwise.
 */
function runawayWarning(r: TrainReport, lr: number): string | null {
  if (!r.runaway) return null;
  const { first, last, kept } = r.runaway;
  const orders = Math.floor(Math.log10(last.loss / first.loss));
  const keptText = kept
    ? `the weights kept are those of step ${kept.step} (loss ${num(kept.loss)}), the lowest recorded loss, not the last ones`
    : `the weights kept are those of the best validation loss (step ${r.bestStep})`;
  return `the training loss ran away: from ${num(first.loss)} at step ${first.step} to ${num(last.loss)} at step ${last.step} (${orders} orders of magnitude higher); ${keptText}; try a smaller --lr than ${lr}, or --clip-norm`;
}

/** The goal the report states reaching or not: SSR below 1e-3 on the seed data. */
const GOAL = 1e-3;

/** The notes' names for a 1-1-1 model: w1 = 1.8 … */
function scalarNames(params: ArrayLike<number>): string {
  const [w1, w2, b1, w3, b2] = [params[0], params[1], params[2], params[3], params[4]];
  return `w1 = ${num(w1)}, b1 = ${num(b1)}, w2 = ${num(w2)}, w3 = ${num(w3)}, b2 = ${num(b2)}`;
}

function reportText(
  r: TrainReport,
  o: TrainCommandOptions,
  extra: {
    data: string;
    count: number;
    validationCount: number;
    dropped: number;
    init: string;
    optimizer: string;
    initialLoss: number | undefined;
    series: string | null;
  },
): string {
  const m = r.model;
  const L: string[] = [];
  L.push(`backend    ${r.backend}, adapter ${r.adapter}`);
  if (r.fallbackReason) L.push(`           on the CPU: ${r.fallbackReason}`);
  L.push(`data       ${extra.data}`);
  L.push(
    `           training on ${extra.count} sequence${extra.count === 1 ? '' : 's'}${extra.validationCount ? `, validating on ${extra.validationCount} (${extra.series ? 'rows split by time' : `${o.split} split`}${extra.dropped ? `, ${extra.dropped} left out between` : ''})` : ''}`,
  );
  L.push(
    `model      ${m.cell ?? 'elman'} I=${m.inputSize} H=${m.hiddenSize} O=${m.outputSize}${layersText(m)}, ${m.activation}, output "${m.output}"; initial weights ${extra.init}`,
  );
  L.push(`optimizer  ${extra.optimizer}`);
  const status = r.stoppedOnValidation
    ? `stopped early: the validation loss did not improve for ${o.patience} checks; kept the best weights, of step ${r.bestStep}`
    : r.stoppedEarly
      ? 'stopped early at the loss threshold'
      : r.aborted
        ? 'aborted'
        : r.runaway?.kept
          ? `the loss ran away; kept the weights of the lowest recorded loss, of step ${r.runaway.kept.step}`
          : r.bestStep !== null && r.bestStep !== r.steps
            ? `done; kept the best weights (validation), of step ${r.bestStep}`
            : 'done';
  L.push(
    `steps      ${r.steps} in ${r.seconds.toFixed(2)} s (${Math.round(r.steps / Math.max(r.seconds, 1e-9)).toLocaleString('en-US')} steps/s); ${status}`,
  );
  const lossName = o.loss === 'mean' ? 'mean squared error per target value' : 'SSR';
  L.push(
    `loss       ${extra.initialLoss !== undefined ? `${num(extra.initialLoss)} → ` : ''}${num(r.finalLoss)}  (${lossName} over the training set${o.loss === 'mean' ? '' : `; ${r.finalLoss < GOAL ? 'below' : 'not below'} ${GOAL}`})`,
  );
  if (r.validationLoss !== null) L.push(`validation ${num(r.validationLoss)}  (${lossName} over the validation set)`);
  if (extra.series) L.push(`series     ${extra.series}`);
  L.push('', 'learned weights:');
  // Every block in the flat order: a stacked or bidirectional model's as layers[k].Wx … (PyTorch's layer order).
  for (const b of paramLayout(m).order) {
    const rows = Array.from({ length: b.cols === 0 ? 1 : b.rows }, (_, r) =>
      Array.from(m.params.subarray(b.offset + r * b.cols, b.offset + (b.cols === 0 ? b.rows : (r + 1) * b.cols))),
    );
    L.push(`${blockName(b)} (${b.cols === 0 ? b.rows : `${b.rows}×${b.cols}`})`, matrixText(rows));
  }
  if (m.inputSize === 1 && m.hiddenSize === 1 && m.outputSize === 1 && (m.cell ?? 'elman') === 'elman')
    L.push(`in the notes' names: ${scalarNames(m.params)}`);
  if (o.out) L.push('', `wrote ${printable(o.out)} and its optimizer state ${printable(stateFileOf(o.out))}`);
  if (o.svg) L.push(`${o.out ? '' : '\n'}wrote ${printable(o.svg)}`);
  return L.join('\n') + '\n';
}

/** `, 2 layers, bidirectional` for a stacked or bidirectional model, else empty. */
function layersText(m: Model): string {
  const parts = [(m.numLayers ?? 1) > 1 ? `${m.numLayers} layers` : '', m.bidirectional ? 'bidirectional' : ''];
  return parts
    .filter((x) => x)
    .map((x) => `, ${x}`)
    .join('');
}

/** Why the series' time column is one, in words, or null without one. */
function timeReason(fs: ForecastSplit): string | null {
  const t = fs.normalized;
  return t.timeReason && t.timeColumn ? timeReasonText(t.timeReason, t.timeColumn, t.times?.[0] ?? '') : null;
}

function seriesText(fs: ForecastSplit): string {
  const i = fs.info;
  const L = fs.normalized.length;
  const parts = [`rows 1–${fs.a} training`];
  if (fs.b > fs.a) parts.push(`${fs.a + 1}–${fs.b} validation`);
  if (L > fs.b) parts.push(`${fs.b + 1}–${L} test`);
  const norm = fs.normalization
    ? `${fs.normalization.kind} normalisation (fitted on the training rows)`
    : 'no normalisation';
  const why = timeReason(fs);
  return `${i.columns.join(', ')}${i.timeColumn ? ` (time column ${i.timeColumn} skipped${why ? `: ${why}` : ''})` : ''}; window ${i.window}, horizon ${i.horizon}; ${parts.join(', ')}; ${norm}`;
}

export function registerTrain(program: Command, io: CliIO): void {
  const cmd = program
    .command('train')
    .description(
      'train a model on a data set (seed, sine, adding or CSV) with SGD or Adam; prints the loss and the learned weights',
    );
  addDataOptions(cmd);
  addSeriesOptions(cmd);
  addModelOptions(cmd, 'random weights');
  cmd.addOption(recurrentInitOption());
  addTrainOptions(cmd);
  cmd
    .option(
      '--resume <model.json>',
      'continue a run saved with --out: its model and the optimizer state beside it (M.optimizer.json), at its global step',
    )
    .option(
      '--validate-every <n>',
      'compute the validation loss every n steps and keep the best weights (needs --validation)',
      integer(1, 2 ** 31 - 1),
    )
    .option(
      '--patience <k>',
      'with --validate-every: stop after k checks without a better validation loss',
      integer(1, 2 ** 31 - 1),
    )
    .addOption(backendOption())
    .option(
      '--out <model.json>',
      'save the trained model (model JSON format) and its optimizer state (M.optimizer.json)',
    )
    .option('--svg <curve.svg>', 'plot the loss curve')
    .option('--json', 'print the report as JSON')
    .action(async (o: TrainCommandOptions) => {
      outputKind(o.out, '--out', ['json'] as const);
      // The model and its optimizer state are one unit: both paths are checked before the run.
      if (o.out !== undefined) outputKind(stateFileOf(o.out), '--out (its optimizer state)', ['json'] as const);
      outputKind(o.svg, '--svg', ['svg'] as const);
      checkOutputsAreNotInputs(
        [
          ['--out', o.out],
          ['--out (its optimizer state)', o.out === undefined ? undefined : stateFileOf(o.out)],
          ['--svg', o.svg],
        ],
        [
          ['--data', o.data],
          ['--init', o.init],
          ['--resume', o.resume],
          ['--resume (its optimizer state)', o.resume === undefined ? undefined : stateFileOf(o.resume)],
        ],
      );
      const topts = trainOptionsFrom(o, o.seed);
      if (o.resume !== undefined) {
        if (o.init !== undefined) throw new InputError('--resume', 'starts from its own model; leave out --init');
        for (const [flag, v] of [
          ['--cell', o.cell],
          ['--hidden', o.hidden],
          ['--layers', o.layers],
          ['--bidirectional', o.bidirectional],
          ['--activation', o.activation],
        ] as const)
          if (v !== undefined)
            throw new InputError(flag, 'comes from the --resume model (the run goes on with its shape); leave it out');
        o.init = o.resume;
      }
      if (o.patience !== undefined && o.validateEvery === undefined)
        throw new InputError('--patience', 'needs --validate-every (how often the validation loss is checked)');
      if (o.validateEvery !== undefined && o.validation === undefined)
        throw new InputError('--validate-every', 'needs a validation part (--validation)');
      const csv = isCsvData(o);
      if (!csv) {
        for (const [flag, v] of [
          ['--test', o.test],
          ['--time-column', o.timeColumn],
          ['--normalize', o.normalize === 'none' ? undefined : o.normalize],
        ] as const) {
          if (v !== undefined) throw new InputError(flag, 'applies to CSV data only');
        }
      }
      const saved: Model | null = o.init ? modelFromJSON(readModelFile(o.init)) : null;
      let fs: ForecastSplit | null = null;
      let split: ReturnType<typeof loadSplitData>;
      if (csv) {
        // Reading and windowing a large file takes a while before the first step: say so, how far, and how long.
        fs = withCsvProgress(io, 'train', o.data, ' and cutting its windows', (hooks) =>
          loadSeriesData(o, saved ?? undefined, hooks),
        );
        split = { data: fs.train, train: fs.train.batch, validation: fs.validation?.batch ?? null, dropped: 0 };
      } else split = loadSplitData(o, o.seed);
      const { data, train: batch, validation, dropped } = split;
      const { model, how } = initialModel(o, data);
      if (fs) {
        model.series = fs.info;
        if (fs.normalization) model.normalization = fs.normalization;
        else delete model.normalization;
      }
      const warnings = (fs?.normalized.warnings ?? []).map((w) => `${o.data}: ${w}`);
      for (const w of warnings) io.err(`webgpu-rnn: warning: ${printable(w)}\n`);
      // What the run trains on (for the state file, and checked against the resumed run's).
      const trainedOn = o.out !== undefined || o.resume !== undefined ? dataRecord(o, fs) : {};
      const resume =
        o.resume !== undefined
          ? readState(
              stateFileOf(o.resume),
              o.resume,
              model.params.length,
              topts.optimizer.kind,
              topts.steps,
              trainedOn,
            )
          : undefined;
      const report = await withEngine(o.backend, io, async (engine) => {
        const progress = trainProgress(io, 'train', topts.steps);
        try {
          return await train(engine, model, batch, {
            ...topts,
            validation: validation ?? undefined,
            validateEvery: o.validateEvery,
            patience: o.patience,
            resume,
            onProgress: progress.onProgress,
          });
        } finally {
          progress.done();
        }
      });
      if (report.diverged) {
        // Exit 3, as everywhere in the CLI: nothing is saved from a run whose values overflowed.
        throw new NonFiniteError(
          report.backend,
          `the training loss or gradient after ${report.steps} steps (diverged: try a smaller --lr, or --clip-norm)`,
          null,
        );
      }
      const runaway = runawayWarning(report, topts.optimizer.lr);
      if (runaway) {
        warnings.push(runaway);
        io.err(`webgpu-rnn: warning: ${runaway}\n`);
      }
      const modelJson = modelToJSON(report.model);
      const files: { path: string; text: string }[] = [];
      if (o.out) {
        // Written as one unit (both flushed before either is renamed), the state renamed first: the pair is bound by
        // the model's hash, so a save cut short between the renames leaves a pair that --resume refuses.
        const modelText = jsonText(modelJson) + '\n';
        files.push({
          path: stateFileOf(o.out),
          text: stateText(topts.optimizer.kind, report.optimizerState, modelText, trainedOn),
        });
        files.push({ path: o.out, text: modelText });
      }
      if (o.svg)
        files.push({
          path: o.svg,
          text: lossCurveSvg(report.history, {
            title: `training loss: ${data.name}, ${topts.optimizer.kind} lr ${topts.optimizer.lr}`,
          }),
        });
      writeOutputs(files);
      const initialLoss = report.history[0]?.step === 0 ? report.history[0].loss : undefined;
      if (o.json) {
        await io.out(
          jsonText({
            backend: report.backend,
            adapter: report.adapter,
            ...(report.fallbackReason ? { fallbackReason: report.fallbackReason } : {}),
            data: {
              name: data.name,
              description: data.description,
              train: batch.count,
              validation: validation?.count ?? 0,
              ...(fs
                ? {
                    test: fs.test?.batch.count ?? 0,
                    timeColumn: fs.normalized.timeColumn,
                    timeColumnReason: timeReason(fs),
                  }
                : {}),
            },
            options: { ...topts, validation: undefined },
            steps: report.steps,
            initialLoss: initialLoss ?? null,
            finalLoss: report.finalLoss,
            validationLoss: report.validationLoss,
            stoppedEarly: report.stoppedEarly,
            stoppedOnValidation: report.stoppedOnValidation,
            bestStep: report.bestStep,
            validationHistory: report.validationHistory,
            diverged: report.diverged,
            runaway: report.runaway,
            seconds: report.seconds,
            stepsPerSecond: report.steps / Math.max(report.seconds, 1e-9),
            model: modelJson,
            history: report.history,
            warnings,
            files: files.map((f) => f.path),
          }) + '\n',
        );
        return;
      }
      await io.out(
        reportText(report, o, {
          data: printable(`${data.name}: ${data.description}`),
          count: batch.count,
          validationCount: validation?.count ?? 0,
          dropped,
          init: how,
          optimizer: optimizerText(topts),
          initialLoss,
          series: fs ? seriesText(fs) : null,
        }),
      );
    });
}
