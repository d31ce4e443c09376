// Options and helpers shared by the experiment commands (train, population, landscape, unroll-study): number and
// range parsers, the data set options (--data seed|sine|adding|FILE.csv …), the optimizer options, the initial
// model, output files (checked before the run, written atomically after it) and training progress on stderr.

import { basename, extname } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  addingData,
  parseCsv,
  seedData,
  sineData,
  slidingWindows,
  splitData,
  type ColumnRef,
  type DataSet,
  type SplitMode,
} from '../../data/index.ts';
import { InputError } from '../../errors.ts';
import { readModelFile, readTextFile } from '../../io/files.ts';
import { MAX_ARRAY_VALUES } from '../../io/rnnb.ts';
import { ACTIVATIONS, LIMITS, modelFromJSON, type Activation, type Model } from '../../model.ts';
import { CELL_NAMES, type CellName } from '../../cells/index.ts';
import { forecastSplit, type ForecastSplit, type NormalizationKind } from '../../data/series.ts';
import type { LossKind, Schedule, TrainOptions } from '../../train/types.ts';
import { DEFAULT_OPTIMIZER, DEFAULT_STEPS, zeroModel } from '../../train/index.ts';
import { initialWeights, RECURRENT_INITS, type RecurrentInit } from '../../train/init.ts';
import { printable, type CliIO } from '../io.ts';
import { fraction, integer, number } from '../options.ts';
import { startProgress, type CsvProgressHooks } from '../progress.ts';

// The number, list and interval parsers live in src/cli/options.ts (one parser for every option).
export { zeroModel } from '../../train/index.ts';
export { fraction, integer, number, parseInterval, parseValues } from '../options.ts';

// ---------------------------------------------------------------------------------------------------------------
// Data sets.
// ---------------------------------------------------------------------------------------------------------------

export interface DataCliOptions {
  data: string;
  column?: string;
  window?: number;
  horizon: number;
  samples: number;
  noise: number;
  dataSeed: number;
  validation?: number;
  split: SplitMode;
  /** train only (addSeriesOptions): the time column, the test fraction and the normalisation of a CSV series. */
  timeColumn?: string;
  test?: number;
  normalize?: NormalizationKind | 'none';
}

/** --data and its companions. */
export function addDataOptions(cmd: Command, { split = true }: { split?: boolean } = {}): Command {
  cmd
    .option(
      '--data <set>',
      "seed (the notes' toy stock data), sine (noisy sine, next value), adding (the adding problem), or a CSV file",
      'seed',
    )
    .option(
      '--column <names>',
      'CSV: the column(s) to read, by header name or number from 1, comma-separated (several give I > 1; default: all)',
    )
    .option(
      '--window <T>',
      `CSV: window length (default 8); sine and adding: sequence length (default 16 and 20); at most ${LIMITS.maxSteps}`,
      integer(1, LIMITS.maxSteps),
    )
    .option('--horizon <k>', 'CSV: predict the next k values', integer(1, LIMITS.maxOutputSize), 1)
    .option('--samples <n>', 'sine and adding: number of sequences', integer(1, 1 << 24), 256)
    .option('--noise <sigma>', 'sine: standard deviation of the noise', number('nonNegative'), 0.05)
    .option('--data-seed <n>', 'sine and adding: seed of the generated data', integer(-0x80000000, 0xffffffff), 1);
  if (!split) return cmd;
  return cmd
    .addOption(
      new Option(
        '--validation <fraction>',
        'hold out this fraction of the sequences for a validation loss (train on a CSV series: of the rows, before the test part)',
      ).argParser(fraction),
    )
    .addOption(
      new Option(
        '--split <how>',
        'validation split: time (the last fraction; honest for windows of one series) or random (seeded)',
      )
        .choices(['time', 'random'])
        .default('time'),
    );
}

/** The forecasting options of `train` on a CSV series: --time-column, --test, --normalize. */
export function addSeriesOptions(cmd: Command): Command {
  return cmd
    .option(
      '--time-column <name>',
      'CSV: the time column (dates or years: skipped as a value), by name or number from 1, or none (default: detected by its header or values)',
    )
    .addOption(
      new Option(
        '--test <fraction>',
        'CSV: hold out the last fraction of the rows as the test part (after the validation part)',
      ).argParser(fraction),
    )
    .addOption(
      new Option(
        '--normalize <kind>',
        'CSV: normalise each column, fitted on the training rows only: zscore, minmax or none (saved in the model)',
      )
        .choices(['none', 'zscore', 'minmax'])
        .default('none'),
    );
}

/** The data set named by --data (a CSV file is read and cut into windows). */
export function loadData(o: DataCliOptions, hooks: CsvProgressHooks = {}): DataSet {
  const name = o.data;
  const isCsv = extname(name).toLowerCase() === '.csv';
  if (!isCsv && o.column !== undefined) throw new InputError('--column', 'applies to CSV data only');
  if (!isCsv && o.horizon !== 1) throw new InputError('--horizon', 'applies to CSV data only');
  if (name === 'seed' && o.window !== undefined)
    throw new InputError('--window', 'the seed data has fixed sequences ([1, 0.5] and [0, 0.5])');
  if (name === 'seed') return seedData();
  if (name === 'sine' || name === 'adding') {
    // Checked before anything is drawn: the whole data set is one array of --samples × --window × I values.
    const T = o.window ?? (name === 'sine' ? 16 : 20);
    const values = o.samples * T * (name === 'sine' ? 1 : 2);
    if (values > MAX_ARRAY_VALUES) {
      throw new InputError(
        '--samples',
        `${o.samples} sequences of ${T} steps (--window) need ${values} input values, more than one array can hold (${MAX_ARRAY_VALUES})`,
      );
    }
  }
  if (name === 'sine') return sineData({ count: o.samples, length: o.window ?? 16, seed: o.dataSeed, noise: o.noise });
  if (name === 'adding') return addingData({ count: o.samples, length: o.window ?? 20, seed: o.dataSeed });
  if (extname(name).toLowerCase() !== '.csv') {
    throw new InputError('--data', `expected seed, sine, adding or a .csv file, got "${name}"`);
  }
  const columns: ColumnRef[] | undefined = o.column?.split(',').map((c) => c.trim()); // an empty name ('', `a,`) is refused by parseCsv, naming --column
  const series = parseCsv(readTextFile(name, 'CSV', ''), {
    columns,
    timeColumn: timeColumnRef(o.timeColumn),
    source: name,
    onProgress: hooks.onProgress,
  });
  hooks.onRows?.(series.length);
  return slidingWindows(series, { window: o.window ?? 8, horizon: o.horizon, source: name, name: basename(name) });
}

function timeColumnRef(v: string | undefined): ColumnRef {
  return v === undefined ? 'auto' : v.trim();
}

const isCsvName = (name: string): boolean => extname(name).toLowerCase() === '.csv';

/**
 * A CSV series for forecasting (train): its rows split by time into training, validation (--validation) and test
 * (--test) parts, normalised (--normalize) with statistics of the training rows, cut into windows inside each part.
 * `fixed`: the normalisation and split of a saved model (train --init/--resume), used instead of new ones.
 */
export function loadSeriesData(
  o: DataCliOptions,
  fixed?: Pick<Model, 'series' | 'normalization'>,
  hooks: CsvProgressHooks = {},
): ForecastSplit {
  const name = o.data;
  if (o.split === 'random')
    throw new InputError(
      '--split',
      'a CSV series is split by time (training, then validation, then test rows); random splits would let training see the future',
    );
  const columns: ColumnRef[] | undefined = o.column?.split(',').map((c) => c.trim()); // an empty name ('', `a,`) is refused by parseCsv, naming --column
  const series = parseCsv(readTextFile(name, 'CSV', ''), {
    columns,
    timeColumn: timeColumnRef(o.timeColumn),
    source: name,
    onProgress: hooks.onProgress,
  });
  hooks.onRows?.(series.length);
  const normalize = o.normalize === undefined || o.normalize === 'none' ? null : o.normalize;
  return forecastSplit(series, {
    window: o.window ?? 8,
    horizon: o.horizon,
    validation: o.validation ?? 0,
    test: o.test ?? 0,
    normalize,
    fixed: fixed?.normalization ?? null,
    source: name,
    name: basename(name),
  });
}

/** Whether --data names a CSV file. */
export function isCsvData(o: DataCliOptions): boolean {
  return isCsvName(o.data);
}

/** The data set and, with --validation, its split (by time or seeded). */
export function loadSplitData(
  o: DataCliOptions,
  seed: number,
  hooks: CsvProgressHooks = {},
): { data: DataSet; train: DataSet['batch']; validation: DataSet['batch'] | null; dropped: number } {
  const data = loadData(o, hooks);
  if (o.validation === undefined) return { data, train: data.batch, validation: null, dropped: 0 };
  const s = splitData(data, { fraction: o.validation, mode: o.split, seed });
  return { data, train: s.train, validation: s.validation, dropped: s.dropped };
}

// ---------------------------------------------------------------------------------------------------------------
// Models and training options.
// ---------------------------------------------------------------------------------------------------------------

export interface ModelCliOptions {
  init?: string;
  cell?: CellName;
  hidden?: number;
  /** Stacked recurrent layers (1 to LIMITS.maxLayers), and both directions in each. */
  layers?: number;
  bidirectional?: boolean;
  activation?: Activation;
  scale: number;
  /** train only (recurrentInitOption). */
  recurrentInit?: RecurrentInit;
  seed: number;
}

/** --recurrent-init (train): how the recurrent matrix Wh starts. */
export function recurrentInitOption(): Option {
  return new Option(
    '--recurrent-init <how>',
    'the recurrent matrix Wh, per gate block (H×H): uniform (in [-s, s], as the rest), xavier (Glorot uniform) or orthogonal',
  )
    .choices(RECURRENT_INITS)
    .default('uniform');
}

export function addModelOptions(cmd: Command, what: string): Command {
  return cmd
    .option('--init <model>', `start from this model JSON file (or a preset name: statquest) instead of ${what}`)
    .addOption(cellOption())
    .option(
      '--hidden <H>',
      'hidden units (default: what the data set suggests; 1 for seed)',
      integer(1, LIMITS.maxHiddenSize),
    )
    .option('--layers <N>', "stacked recurrent layers (PyTorch's num_layers; default 1)", integer(1, LIMITS.maxLayers))
    .option('--bidirectional', "every layer also runs in reverse (PyTorch's bidirectional)")
    .addOption(
      new Option(
        '--activation <name>',
        "Elman: relu, tanh or identity (default: the data set's suggestion; relu for seed); LSTM and GRU: tanh",
      ).choices(ACTIVATIONS),
    )
    .option('--scale <s>', 'random initial weights are uniform in [-s, s]', number('positive'), 1)
    .option(
      '--seed <n>',
      'seed of the random initial weights and of the mini-batch shuffle',
      integer(-0x80000000, 0xffffffff),
      1,
    );
}

/** --cell: the recurrent cell of the model the command builds (elman, lstm or gru). */
export function cellOption(): Option {
  return new Option(
    '--cell <name>',
    "the recurrent cell: elman (default), lstm or gru (PyTorch's nn.LSTM and nn.GRU)",
  ).choices(CELL_NAMES);
}

/**
 * The model shape for a data set: the data's I, O and output mode, --cell, --hidden, --layers, --bidirectional and
 * --activation or the suggestion.
 */
export function baseModel(o: ModelCliOptions, data: DataSet): Model {
  if (o.init) {
    if (
      o.hidden !== undefined ||
      o.activation !== undefined ||
      o.cell !== undefined ||
      o.layers !== undefined ||
      o.bidirectional !== undefined
    )
      throw new InputError(
        '--init',
        '--cell, --hidden, --layers, --bidirectional and --activation come from the --init model; leave them out',
      );
    return modelFromJSON(readModelFile(o.init));
  }
  const s = data.suggest;
  const cell = o.cell ?? 'elman';
  // LSTM and GRU take tanh only (their gates are σ and tanh); zeroModel says so for any other --activation.
  const activation = o.activation ?? (cell === 'elman' ? s.activation : 'tanh');
  try {
    return zeroModel(
      cell,
      {
        inputSize: s.inputSize,
        hiddenSize: o.hidden ?? s.hiddenSize,
        outputSize: s.outputSize,
        output: s.output,
        ...(o.layers !== undefined && o.layers > 1 ? { numLayers: o.layers } : {}),
        ...(o.bidirectional ? { bidirectional: true } : {}),
      },
      activation,
    );
  } catch (e) {
    if (e instanceof InputError && e.field === 'activation') throw new InputError('--activation', e.reason);
    throw e;
  }
}

/** The model to train: --init as given, else random weights (seed --seed, scale --scale) = population model 0. */
export function initialModel(o: ModelCliOptions, data: DataSet): { model: Model; how: string } {
  const base = baseModel(o, data);
  if (o.init) return { model: base, how: `from ${printable(o.init)}` };
  const init = o.recurrentInit ?? 'uniform';
  const wh = init === 'uniform' ? '' : `, Wh ${init}`;
  return {
    model: initialWeights(base, o.seed, o.scale, init),
    how: `random, uniform in [-${o.scale}, ${o.scale}]${wh}, seed ${o.seed}`,
  };
}

export interface TrainCliOptions {
  optimizer: 'sgd' | 'adam';
  lr: number;
  momentum?: number;
  steps: number;
  batchSize?: number;
  schedule: string;
  lossThreshold?: number;
  clipNorm?: number;
  dropout?: number;
  loss: LossKind;
  weightDecay?: number;
}

export function addTrainOptions(
  cmd: Command,
  defaults: { optimizer: 'sgd' | 'adam'; lr: number; steps: number } = {
    optimizer: DEFAULT_OPTIMIZER.kind,
    lr: DEFAULT_OPTIMIZER.lr,
    steps: DEFAULT_STEPS,
  },
): Command {
  return cmd
    .addOption(
      new Option('--optimizer <name>', 'sgd (with --momentum) or adam')
        .choices(['sgd', 'adam'])
        .default(defaults.optimizer),
    )
    .option('--lr <rate>', 'learning rate (> 0)', number('positive'), defaults.lr)
    .option('--momentum <m>', 'SGD momentum in [0, 1)', number('nonNegative'))
    .option('--steps <n>', 'optimizer steps', integer(1, 2 ** 31 - 1), defaults.steps)
    .option(
      '--batch-size <n>',
      'sequences per mini-batch, drawn in a seeded shuffle (default: the whole data set every step)',
      integer(1, 0xffffffff),
    )
    .option('--schedule <s>', 'learning-rate schedule: constant, step:EVERY:GAMMA or cosine[:MIN_LR]', 'constant')
    .option('--loss-threshold <ssr>', 'stop early once the loss (SSR) is at most this', number('nonNegative'))
    .option('--clip-norm <c>', 'clip the gradient to this global L2 norm', number('positive'))
    .option(
      '--dropout <p>',
      "inter-layer dropout of a stacked model while training (PyTorch's dropout), 0 ≤ p < 1; seeded by --seed",
      number('nonNegative'),
    )
    .addOption(
      new Option(
        '--loss <kind>',
        'the loss minimised and reported: ssr (sum of squared residuals) or mean (per target value)',
      )
        .choices(['ssr', 'mean'])
        .default('ssr'),
    )
    .option(
      '--weight-decay <lambda>',
      'L2 weight decay: adds lambda·θ to the gradient (after clipping)',
      number('nonNegative'),
    );
}

export function parseSchedule(v: string): Schedule {
  const s = v.trim();
  if (s === 'constant') return { kind: 'constant' };
  let m = /^step:([^:]+):([^:]+)$/.exec(s);
  if (m) return { kind: 'step', every: integer(1)(m[1]), gamma: number('positive')(m[2]) };
  m = /^cosine(?::([^:]+))?$/.exec(s);
  if (m) return m[1] === undefined ? { kind: 'cosine' } : { kind: 'cosine', minLr: number('nonNegative')(m[1]) };
  throw new InputError('--schedule', `expected constant, step:EVERY:GAMMA or cosine[:MIN_LR], got "${v}"`);
}

/** TrainOptions from the CLI options. */
export function trainOptionsFrom(o: TrainCliOptions, seed: number): TrainOptions {
  if (o.momentum !== undefined && o.optimizer !== 'sgd')
    throw new InputError('--momentum', 'applies to --optimizer sgd only');
  if (o.momentum !== undefined && !(o.momentum < 1))
    throw new InputError('--momentum', `must be in [0, 1), got ${o.momentum}`);
  if (o.dropout !== undefined && !(o.dropout < 1))
    throw new InputError('--dropout', `must be in [0, 1), got ${o.dropout}`);
  let schedule: Schedule;
  try {
    schedule = parseSchedule(o.schedule);
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw new InputError('--schedule', e.message);
    throw e;
  }
  return {
    optimizer:
      o.optimizer === 'sgd' ? { kind: 'sgd', lr: o.lr, momentum: o.momentum ?? 0 } : { kind: 'adam', lr: o.lr },
    steps: o.steps,
    schedule,
    batchSize: o.batchSize,
    seed,
    lossThreshold: o.lossThreshold,
    clipNorm: o.clipNorm,
    ...(o.dropout ? { dropout: o.dropout } : {}),
    ...(o.loss === 'mean' ? { loss: 'mean' as const } : {}),
    ...(o.weightDecay ? { weightDecay: o.weightDecay } : {}),
  };
}

/** One line describing the optimizer settings. */
export function optimizerText(t: TrainOptions): string {
  const opt =
    t.optimizer.kind === 'sgd'
      ? `SGD lr ${t.optimizer.lr}${t.optimizer.momentum ? `, momentum ${t.optimizer.momentum}` : ''}`
      : `Adam lr ${t.optimizer.lr}`;
  const sch = t.schedule && t.schedule.kind !== 'constant' ? `, ${t.schedule.kind} schedule` : '';
  const batch = t.batchSize ? `mini-batches of ${t.batchSize} (seed ${t.seed})` : 'full batch';
  const lossName = t.loss === 'mean' ? 'mean loss' : 'SSR';
  return `${opt}${sch}, ${t.steps} steps, ${batch}${t.lossThreshold !== undefined ? `, stop at ${lossName} ≤ ${t.lossThreshold}` : ''}${t.clipNorm ? `, clip norm ${t.clipNorm}` : ''}${t.dropout ? `, dropout ${t.dropout}` : ''}${t.weightDecay ? `, weight decay ${t.weightDecay}` : ''}${t.loss === 'mean' ? ', loss: mean per target value' : ''}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Training progress.
// ---------------------------------------------------------------------------------------------------------------

// Output files are checked and written by outputKind and writeOutputs in src/cli/io.ts.
export { outputKind, writeOutputs } from '../io.ts';

/** Progress for a training run (src/cli/progress.ts): on a terminal a line with loss and rate, else a line every few seconds. */
export function trainProgress(
  io: CliIO,
  label: string,
  steps: number,
  showLoss = true,
): { onProgress: NonNullable<TrainOptions['onProgress']>; done(): void } {
  const progress = startProgress(io, label, steps, { unit: 'steps', lines: true });
  return {
    onProgress: (p) =>
      progress.update(
        p.step,
        `${showLoss ? `loss ${p.loss.toPrecision(4)}, ` : ''}${Math.round(p.stepsPerSecond).toLocaleString('en-US')} steps/s`,
      ),
    done: () => progress.done(),
  };
}
