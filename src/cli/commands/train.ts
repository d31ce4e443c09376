// `webgpu-rnn train`: trains one model on a data set (seed, sine, adding or a CSV series) on WebGPU or the CPU, with
// progress on stderr; prints the final loss, the learned weights and the rate; --out saves the model JSON and its
// optimizer state beside it (M.optimizer.json), which --resume continues exactly. A CSV series is split by time into
// training, validation and test rows, optionally normalised (saved in the model). A run that diverges (a non-finite
// loss or gradient) exits 3 and saves nothing.

import { Command } from 'commander';
import type { BackendChoice } from '../../backend.ts';
import { NonFiniteError } from '../../errors.ts';
import { InputError } from '../../errors.ts';
import { modelFromJSON, modelToJSON, paramLayout, type Model } from '../../model.ts';
import { readJsonFile, readModelFile } from '../../io/files.ts';
import type { ForecastSplit } from '../../data/series.ts';
import type { OptimizerState } from '../../train/types.ts';
import { checkKeys, finiteNumber } from '../../validate.ts';
import { lossCurveSvg } from '../../svg/index.ts';
import { train } from '../../train/index.ts';
import type { TrainReport } from '../../train/types.ts';
import { checkOutputsAreNotInputs, printable, type CliIO } from '../io.ts';
import { backendOption } from '../options.ts';
import { withEngine } from '../run.ts';
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

/** The optimizer state file's text. */
function stateText(kind: 'sgd' | 'adam', s: OptimizerState): string {
  return jsonText({ optimizer: kind, step: s.step, m: Array.from(s.m), v: Array.from(s.v) }) + '\n';
}

/** Reads an optimizer state file, checked against the model's parameter count and the optimizer. */
function readState(path: string, P: number, kind: 'sgd' | 'adam'): OptimizerState {
  const j = readJsonFile(path) as Record<string, unknown>;
  if (typeof j !== 'object' || j === null || Array.isArray(j))
    throw new InputError('', 'expected an optimizer state object', path);
  checkKeys(j, ['optimizer', 'step', 'm', 'v'], '', path);
  if (j.optimizer !== kind)
    throw new InputError(
      '--optimizer',
      `the run being resumed used ${JSON.stringify(j.optimizer)}, not ${kind} (${path})`,
    );
  const step = finiteNumber(j.step, 'step', path);
  if (!Number.isInteger(step) || step < 0) throw new InputError('step', `must be an integer ≥ 0, got ${step}`, path);
  const vec = (key: 'm' | 'v'): number[] => {
    const a = j[key];
    if (!Array.isArray(a) || a.length !== P)
      throw new InputError(key, `expected ${P} values (one per parameter of the model)`, path);
    return a.map((x, i) => finiteNumber(x, `${key}[${i}]`, path));
  };
  return { step, m: vec('m'), v: vec('v') };
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
    const name = b.layer === undefined ? b.name : `layers[${b.layer}].${b.name}`;
    L.push(`${name} (${b.cols === 0 ? b.rows : `${b.rows}×${b.cols}`})`, matrixText(rows));
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

function seriesText(fs: ForecastSplit): string {
  const i = fs.info;
  const L = fs.normalized.length;
  const parts = [`rows 1–${fs.a} training`];
  if (fs.b > fs.a) parts.push(`${fs.a + 1}–${fs.b} validation`);
  if (L > fs.b) parts.push(`${fs.b + 1}–${L} test`);
  const norm = fs.normalization
    ? `${fs.normalization.kind} normalisation (fitted on the training rows)`
    : 'no normalisation';
  return `${i.columns.join(', ')}${i.timeColumn ? ` (time column ${i.timeColumn} skipped)` : ''}; window ${i.window}, horizon ${i.horizon}; ${parts.join(', ')}; ${norm}`;
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
        fs = loadSeriesData(o, saved ?? undefined);
        split = { data: fs.train, train: fs.train.batch, validation: fs.validation?.batch ?? null, dropped: 0 };
      } else split = loadSplitData(o, o.seed);
      const { data, train: batch, validation, dropped } = split;
      const { model, how } = initialModel(o, data);
      if (fs) {
        model.series = fs.info;
        if (fs.normalization) model.normalization = fs.normalization;
        else delete model.normalization;
      }
      const resume =
        o.resume !== undefined
          ? readState(stateFileOf(o.resume), model.params.length, topts.optimizer.kind)
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
      const modelJson = modelToJSON(report.model);
      const files: { path: string; text: string }[] = [];
      if (o.out) {
        files.push({ path: o.out, text: jsonText(modelJson) + '\n' });
        files.push({ path: stateFileOf(o.out), text: stateText(topts.optimizer.kind, report.optimizerState) });
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
              ...(fs ? { test: fs.test?.batch.count ?? 0 } : {}),
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
            seconds: report.seconds,
            stepsPerSecond: report.steps / Math.max(report.seconds, 1e-9),
            model: modelJson,
            history: report.history,
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
