// Checks and derived values shared by both training backends: option validation (InputError naming the field),
// the per-step learning-rate and Adam bias-correction table, the seeded mini-batch order, parameter names.

import type { Batch } from '../batch.ts';
import { InputError } from '../errors.ts';
import type { CellName } from '../cells/index.ts';
import { paramLayout, paramName, paramNames, type LayerShape, type Model, type Shape } from '../model.ts';
import { Rng } from '../random.ts';
import { checkBatch } from '../validate.ts';
import type { OptimizerSettings } from '../gpu/optimizer/kernel.ts';
import type { OptimizerConfig, PopulationOptions, Schedule } from './types.ts';

/** Optimizer settings with every default filled in. */
export interface ResolvedOptimizer {
  kind: 'sgd' | 'adam';
  lr: number;
  momentum: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** Everything a backend needs, checked. */
export interface ResolvedOptions {
  optimizer: ResolvedOptimizer;
  steps: number;
  schedule: Schedule;
  /** Sequences per step per model (the batch size, or the data set's count). */
  batchSize: number;
  /** True when mini-batches are drawn (batchSize given). */
  minibatch: boolean;
  seed: number;
  lossThreshold: number;
  clipNorm: number;
  /** Inter-layer dropout probability (0: none). */
  dropout: number;
  /** Record every this many steps (history and curves). */
  recordEvery: number;
  readbackEvery: number;
  /** Per-model base learning rates. */
  lrs: Float64Array;
  /** Global index of the first step (a resumed run's earlier steps). */
  startStep: number;
  /** Steps the cosine schedule spans. */
  scheduleSteps: number;
  /** Initial optimizer state, model-major (model m: first moments at m·2P, second at m·2P + P), or null for zeros. */
  moments: Float64Array | null;
  /** L2 weight decay λ (g ← g + λθ after clipping). */
  weightDecay: number;
  /** Factor applied to each step's loss and gradient: 1 (SSR) or 1/(target values per step) (mean). */
  lossScale: number;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function positive(v: unknown, field: string): number {
  if (!isNum(v) || v <= 0) throw new InputError(field, `must be a finite number > 0, got ${String(v)}`, 'options');
  return v;
}

function positiveInt(v: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!isNum(v) || !Number.isInteger(v) || v < 1 || v > max) {
    throw new InputError(field, `must be an integer from 1 to ${max}, got ${String(v)}`, 'options');
  }
  return v;
}

function inRange(v: unknown, field: string, lo: number, hi: number, hiOpen: boolean): number {
  if (!isNum(v) || v < lo || (hiOpen ? v >= hi : v > hi)) {
    throw new InputError(field, `must be a number in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${String(v)}`, 'options');
  }
  return v;
}

export function resolveOptimizer(o: OptimizerConfig): ResolvedOptimizer {
  if (!o || typeof o !== 'object')
    throw new InputError('optimizer', 'expected { kind: "sgd" | "adam", lr }', 'options');
  const lr = positive(o.lr, 'optimizer.lr');
  if (o.kind === 'sgd') {
    const momentum = o.momentum === undefined ? 0 : inRange(o.momentum, 'optimizer.momentum', 0, 1, true);
    return { kind: 'sgd', lr, momentum, beta1: 0, beta2: 0, eps: 0 };
  }
  if (o.kind === 'adam') {
    const beta1 = o.beta1 === undefined ? 0.9 : inRange(o.beta1, 'optimizer.beta1', 0, 1, true);
    const beta2 = o.beta2 === undefined ? 0.999 : inRange(o.beta2, 'optimizer.beta2', 0, 1, true);
    const eps = o.eps === undefined ? 1e-8 : positive(o.eps, 'optimizer.eps');
    return { kind: 'adam', lr, momentum: 0, beta1, beta2, eps };
  }
  throw new InputError(
    'optimizer.kind',
    `must be "sgd" or "adam", got ${JSON.stringify((o as { kind: unknown }).kind)}`,
    'options',
  );
}

function resolveSchedule(s: Schedule | undefined): Schedule {
  if (s === undefined) return { kind: 'constant' };
  if (s.kind === 'constant') return s;
  if (s.kind === 'step') {
    positiveInt(s.every, 'schedule.every');
    positive(s.gamma, 'schedule.gamma');
    return s;
  }
  if (s.kind === 'cosine') {
    if (s.minLr !== undefined && (!isNum(s.minLr) || s.minLr < 0))
      throw new InputError('schedule.minLr', `must be a finite number ≥ 0, got ${String(s.minLr)}`, 'options');
    return s;
  }
  throw new InputError(
    'schedule.kind',
    `must be "constant", "step" or "cosine", got ${JSON.stringify((s as { kind: unknown }).kind)}`,
    'options',
  );
}

/** Default: about 200 recorded points over the run. */
export function defaultRecordEvery(steps: number): number {
  return Math.max(1, Math.ceil(steps / 200));
}

/** Target values of a batch: N·O (output `last`) or Σ lengths·O (`all`). */
export function targetCount(b: Batch): number {
  return (b.output === 'all' ? b.offsets[b.count] : b.count) * b.outputSize;
}

/** Validates options against `count` models of `paramCount` parameters training on data sets like `data`. */
export function resolveOptions(
  opts: PopulationOptions,
  count: number,
  dataCount: number,
  data?: Batch,
  paramCount = 0,
): ResolvedOptions {
  if (!opts || typeof opts !== 'object') throw new InputError('', 'training options are missing', 'options');
  const optimizer = resolveOptimizer(opts.optimizer);
  const steps = positiveInt(opts.steps, 'steps', 2 ** 31 - 1);
  const schedule = resolveSchedule(opts.schedule);
  const minibatch = opts.batchSize !== undefined;
  const batchSize = minibatch ? positiveInt(opts.batchSize, 'batchSize', dataCount) : dataCount;
  const seed = opts.seed === undefined ? 0 : opts.seed;
  if (!isNum(seed)) throw new InputError('seed', `must be a finite number, got ${String(seed)}`, 'options');
  let lossThreshold = -Infinity;
  if (opts.lossThreshold !== undefined) {
    if (!isNum(opts.lossThreshold) || opts.lossThreshold < 0)
      throw new InputError(
        'lossThreshold',
        `must be a finite number ≥ 0, got ${String(opts.lossThreshold)}`,
        'options',
      );
    lossThreshold = opts.lossThreshold;
  }
  const clipNorm = opts.clipNorm === undefined ? 0 : positive(opts.clipNorm, 'clipNorm');
  const dropout = opts.dropout === undefined ? 0 : opts.dropout;
  if (!isNum(dropout) || dropout < 0 || dropout >= 1)
    throw new InputError('dropout', `must be a number in [0, 1), got ${String(opts.dropout)}`, 'options');
  const recordEvery = positiveInt(
    opts.curveEvery ?? opts.historyEvery ?? defaultRecordEvery(steps),
    opts.curveEvery !== undefined ? 'curveEvery' : 'historyEvery',
  );
  const readbackEvery = opts.readbackEvery === undefined ? 200 : positiveInt(opts.readbackEvery, 'readbackEvery');
  const lrs = new Float64Array(count).fill(optimizer.lr);
  if (opts.lrs !== undefined) {
    if (opts.lrs.length !== count)
      throw new InputError(
        'lrs',
        `expected ${count} learning rates (one per model), got ${opts.lrs.length}`,
        'options',
      );
    for (let m = 0; m < count; m++) lrs[m] = positive(opts.lrs[m], `lrs[${m}]`);
  }
  const weightDecay =
    opts.weightDecay === undefined
      ? 0
      : isNum(opts.weightDecay) && opts.weightDecay >= 0
        ? opts.weightDecay
        : bad('weightDecay', opts.weightDecay, 'a finite number ≥ 0');
  if (opts.loss !== undefined && opts.loss !== 'ssr' && opts.loss !== 'mean')
    throw new InputError('loss', `must be "ssr" or "mean", got ${JSON.stringify(opts.loss)}`, 'options');
  // The mean: per target value of a full-size step (batchSize of the data set's N sequences).
  const lossScale = opts.loss === 'mean' && data ? dataCount / (batchSize * targetCount(data)) : 1;
  let startStep = 0;
  let moments: Float64Array | null = null;
  if (opts.resume !== undefined) {
    const r = opts.resume;
    if (!r || typeof r !== 'object') throw new InputError('resume', 'expected { step, m, v }', 'options');
    if (!isNum(r.step) || !Number.isInteger(r.step) || r.step < 0 || r.step > 2 ** 31 - 1 - steps)
      bad('resume.step', r.step, `an integer from 0 to ${2 ** 31 - 1 - steps}`);
    startStep = r.step;
    moments = new Float64Array(count * 2 * paramCount);
    // One model's state (every model of a population starts from it), or a population's, model-major.
    const perModel = count > 1 && r.m?.length === count * paramCount;
    for (const key of ['m', 'v'] as const) {
      const a = r[key];
      const want = perModel ? count * paramCount : paramCount;
      if (!a || a.length !== want)
        throw new InputError(
          `resume.${key}`,
          perModel || count > 1
            ? `expected ${paramCount} values (one per parameter) or ${count * paramCount} (every model's, model-major), got ${a ? a.length : String(a)}`
            : `expected ${paramCount} values (one per parameter), got ${a ? a.length : String(a)}`,
          'options',
        );
      for (let q = 0; q < want; q++) {
        if (!isNum(a[q])) bad(`resume.${key}[${q}]`, a[q], 'a finite number');
        // A second moment is a mean of squares: a negative one would make Adam's step NaN later, blamed on the run.
        if (key === 'v' && a[q] < 0) bad(`resume.v[${q}]`, a[q], 'a number ≥ 0 (a mean of squared gradients)');
      }
      const off = key === 'm' ? 0 : paramCount;
      for (let m = 0; m < count; m++)
        for (let p = 0; p < paramCount; p++)
          moments[m * 2 * paramCount + off + p] = a[perModel ? m * paramCount + p : p];
    }
  }
  const scheduleSteps =
    opts.scheduleSteps === undefined
      ? startStep + steps
      : positiveInt(opts.scheduleSteps, 'scheduleSteps', 2 ** 31 - 1);
  return {
    optimizer,
    steps,
    schedule,
    batchSize,
    minibatch,
    seed,
    lossThreshold,
    clipNorm,
    dropout,
    recordEvery,
    readbackEvery,
    lrs,
    startStep,
    scheduleSteps,
    moments,
    weightDecay,
    lossScale,
  };
}

function bad(field: string, v: unknown, want: string): never {
  throw new InputError(field, `must be ${want}, got ${String(v)}`, 'options');
}

/**
 * The learning rate at step k for base rate `lr` is lr·a_k + b_k (so one table serves per-model rates), and Adam's
 * bias corrections are c1_k = 1 − β1^(k+1), c2_k = 1 − β2^(k+1). All in float64.
 */
export function stepFactors(o: ResolvedOptions, k: number): { a: number; b: number; c1: number; c2: number } {
  const s = o.schedule;
  let a = 1;
  let b = 0;
  if (s.kind === 'step') a = Math.pow(s.gamma, Math.floor(k / s.every));
  else if (s.kind === 'cosine') {
    const c = (1 + Math.cos((Math.PI * k) / o.scheduleSteps)) / 2;
    const minLr = s.minLr ?? 0;
    a = c;
    b = minLr * (1 - c);
  }
  const c1 = o.optimizer.kind === 'adam' ? 1 - Math.pow(o.optimizer.beta1, k + 1) : 1;
  const c2 = o.optimizer.kind === 'adam' ? 1 - Math.pow(o.optimizer.beta2, k + 1) : 1;
  return { a, b, c1, c2 };
}

/**
 * The mini-batch order: an endless chain of permutations of 0..n−1 (Fisher–Yates with mulberry32 seeded by
 * `seed`, one permutation per epoch). `take(count)` returns the next `count` sequence indices; `skip` draws are
 * discarded first (a resumed run's earlier steps).
 */
export function minibatchOrder(n: number, seed: number, skip = 0): { take(count: number): Uint32Array } {
  const rng = new Rng(seed);
  const perm = new Uint32Array(n);
  let at = n; // exhausted: shuffle on first use
  const order = {
    take(count: number): Uint32Array {
      const out = new Uint32Array(count);
      for (let k = 0; k < count; k++) {
        if (at === n) {
          for (let i = 0; i < n; i++) perm[i] = i;
          for (let i = n - 1; i > 0; i--) {
            const j = Math.floor(rng.next() * (i + 1));
            const t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
          }
          at = 0;
        }
        out[k] = perm[at++];
      }
      return out;
    },
  };
  // A resumed run: the draws of the steps before it.
  for (let left = skip; left > 0; left -= Math.min(left, 1 << 20)) order.take(Math.min(left, 1 << 20));
  return order;
}

/** Checks that every model has the same shape, activation and output, and every data set fits them. */
export function checkPopulation(models: Model[], data: Batch | Batch[]): { sets: Batch[]; shared: boolean } {
  if (!Array.isArray(models) || models.length === 0)
    throw new InputError('models', 'a population needs at least one model, got 0', 'options');
  const m0 = models[0];
  const P = paramLayout(m0).count;
  models.forEach((m, i) => {
    if ((m.cell ?? 'elman') !== (m0.cell ?? 'elman')) {
      throw new InputError(
        `models[${i}].cell`,
        `every model of a population must have the cell of models[0] (${m0.cell ?? 'elman'}), got ${m.cell ?? 'elman'}`,
        'options',
      );
    }
    if (
      m.inputSize !== m0.inputSize ||
      m.hiddenSize !== m0.hiddenSize ||
      m.outputSize !== m0.outputSize ||
      m.activation !== m0.activation ||
      m.output !== m0.output
    ) {
      throw new InputError(
        `models[${i}]`,
        'every model of a population must have the shape, activation and output mode of models[0]',
        'options',
      );
    }
    if (!m.params || m.params.length !== P)
      throw new InputError(`models[${i}].params`, `expected ${P} parameters`, 'options');
    for (let p = 0; p < P; p++) {
      if (!Number.isFinite(m.params[p]))
        throw new InputError(`models[${i}].weights.${paramName(m0, p)}`, `must be finite, got ${m.params[p]}`, 'model');
    }
  });
  const shared = !Array.isArray(data);
  const sets = shared ? [data] : data;
  if (!shared && sets.length !== models.length)
    throw new InputError('data', `expected one data set per model (${models.length}), got ${sets.length}`, 'options');
  sets.forEach((b, i) => {
    const where = shared ? 'data' : `data[${i}]`;
    checkBatch(m0, b, where);
    if (!b.targets) throw new InputError('targets', 'training needs targets, and this data set has none', where);
    if (b.count !== sets[0].count)
      throw new InputError(
        'data',
        `every model's data set must have the same number of sequences: data[${i}] has ${b.count}, data[0] has ${sets[0].count}`,
        'options',
      );
  });
  return { sets, shared };
}

/**
 * The flat index of a parameter given by name (`Wx[0][0]`, `bh[1]`, `bx[2]` for LSTM and GRU, the notes'
 * w1/b1/w2/w3/b2 for a 1-1-1 Elman model; on a stacked or bidirectional model `layers[k].Wh[0][1]` for layer k's
 * blocks in PyTorch's order, and `Wy[0][1]`, `by[0]` for the readout) or index.
 */
export function resolveParam(
  shape: Shape & { cell?: CellName } & LayerShape,
  param: string | number,
  field: string,
): number {
  const L = paramLayout(shape);
  if (typeof param === 'number') {
    if (!Number.isInteger(param) || param < 0 || param >= L.count)
      throw new InputError(
        field,
        `parameter index must be an integer from 0 to ${L.count - 1}, got ${param}`,
        'options',
      );
    return param;
  }
  const s = String(param).trim();
  const scalar: Record<string, string> = { w1: 'Wx[0][0]', b1: 'bh[0]', w2: 'Wh[0][0]', w3: 'Wy[0][0]', b2: 'by[0]' };
  // The notes' names belong to their network: a 1-1-1 Elman model (a gated cell has 4 or 3 rows per block).
  const isScalarModel =
    shape.inputSize === 1 && shape.hiddenSize === 1 && shape.outputSize === 1 && (shape.cell ?? 'elman') === 'elman';
  const name = isScalarModel && scalar[s] ? scalar[s] : s;
  if (/^\d+$/.test(name)) return resolveParam(shape, Number(name), field);
  // `Wh[0][1]`, or on a stacked or bidirectional model `layers[2].Wh[0][1]` (the readout's Wy and by bare): the
  // block of that name (and layer) in the flat layout, as paramName writes it.
  const m = /^(?:layers\[(\d+)\]\.)?(\w+)\[(\d+)\](?:\[(\d+)\])?$/.exec(name);
  const layer = m?.[1] === undefined ? undefined : Number(m[1]);
  const block =
    m && (paramNames(shape) as readonly string[]).includes(m[2])
      ? (L.order.find((b) => b.name === m[2] && b.layer === layer) ?? null)
      : null;
  if (m && block) {
    const r = Number(m[3]);
    const c = m[4] === undefined ? null : Number(m[4]);
    if (block.cols === 0 && c === null && r < block.rows) return block.offset + r;
    if (block.cols > 0 && c !== null && r < block.rows && c < block.cols) return block.offset + r * block.cols + c;
  }
  const names = Array.from({ length: Math.min(L.count, 6) }, (_, p) => paramName(shape, p)).join(', ');
  throw new InputError(
    field,
    `unknown parameter ${JSON.stringify(s)} (expected a name such as ${names}${L.count > 6 ? ', …' : ''}${isScalarModel ? ', or w1, b1, w2, w3, b2' : ''}, or an index below ${L.count})`,
    'options',
  );
}

/** The optimizer kernels' settings for these options (trajectory: record the weights at `trajBase` of the records). */
export function optimizerSettings(o: ResolvedOptions, trajectory: boolean, trajBase: number): OptimizerSettings {
  return {
    adam: o.optimizer.kind === 'adam',
    momentum: o.optimizer.momentum,
    beta1: o.optimizer.beta1,
    beta2: o.optimizer.beta2,
    eps: o.optimizer.eps,
    threshold: o.lossThreshold,
    clipNorm: o.clipNorm,
    trajectory,
    trajBase,
    weightDecay: o.weightDecay,
    lossScale: o.lossScale,
  };
}
