// The training API: `train` (one model), `trainPopulation` (many independent models in one dispatch stream),
// `randomPopulation` and `lossLandscape`. Runs on the engine's backend: WebGPU (the training loop src/train/gpu.ts
// with the strategy's training program, or step by step through engine.run: src/train/stepwise.ts) or the float64
// CPU path (src/train/cpu.ts), with identical semantics (see TrainOptions in src/train/types.ts).

import type { BackendName } from '../backend.ts';
import type { Batch } from '../batch.ts';
import type { Engine } from '../engine.ts';
import { cpuOnlyModel } from '../cpu-only.ts';
import { InputError } from '../errors.ts';
import type { CellName } from '../cells/index.ts';
import {
  isLayered,
  modelFromJSON,
  paramLayout,
  paramName,
  unflattenParams,
  type Activation,
  type LayerShape,
  type Model,
  type ModelJSON,
  type Shape,
} from '../model.ts';
import { Rng } from '../random.ts';
import { checkFloat32Range, firstFloat32Overflow, parseModel } from '../validate.ts';
import {
  cpuLosses,
  cpuTrainPopulation,
  initialResult,
  STATUS_CONVERGED,
  STATUS_DIVERGED,
  STATUS_OK,
  type CoreExtras,
  type CoreResult,
  type TrainBackend,
} from './cpu.ts';
import type { TrainProgram } from './gpu-program.ts';
import { stepwise } from './stepwise.ts';
import {
  checkPopulation,
  defaultRecordEvery,
  resolveOptions,
  resolveParam,
  targetCount,
  type ResolvedOptions,
} from './options.ts';
import type {
  HistoryPoint,
  LandscapeAxis,
  LandscapeOptions,
  LandscapeResult,
  ModelStatus,
  OptimizerConfig,
  OptimizerState,
  PopulationOptions,
  PopulationReport,
  TrainOptions,
  TrainReport,
} from './types.ts';

export * from './types.ts';

/** The adapter string of training on the CPU: the float64 reference, whatever the engine's CPU precision. */
const CPU_ADAPTER = 'cpu (float64 reference)';

/**
 * The documented defaults for the seed notes' network and data (1-1-1 ReLU, [1, 0.5]→0 and [0, 0.5]→1): Adam with
 * lr 0.05 for 1000 steps. From `randomPopulation(statquest, …, scale 1)` inits about a third of the models reach an
 * SSR below 1e-3 with these (measured on 200 seeds: 72); the rest end with a dead ReLU at SSR 0.5 (the output
 * stuck at the mean, 0.5), which no optimizer setting fixes. Which inits succeed is what a population shows.
 */
export const DEFAULT_OPTIMIZER: OptimizerConfig = Object.freeze({ kind: 'adam', lr: 0.05 });
export const DEFAULT_STEPS = 1000;
export { minibatchOrder } from './options.ts';

/** The CPU training backend (src/train/cpu.ts). */
const cpuBackend: TrainBackend = {
  population: cpuTrainPopulation,
  losses: (base, params, sets, h0s, c0s) => Promise.resolve(cpuLosses(base, params, sets, h0s, c0s)),
};

/** Where a run trains: the backend and adapter of its report, and why it went to the CPU if it did. */
interface Place {
  backend: BackendName;
  adapter: string;
  fallbackReason?: string;
}

/**
 * Where a model trains on this engine: its backend, or the CPU for a stacked or bidirectional model of a shape the
 * layered kernels do not take on an `auto` engine that runs WebGPU (with the reason, as engine.run's
 * fallbackReason); `backend: 'webgpu'` refuses such a model with the engine's one-line error.
 */
function placeOf(engine: Engine, model: Model): Place {
  const fallbackReason = engine.cpuFallbackFor(cpuOnlyModel(model));
  if (fallbackReason === null) return { backend: engine.backend, adapter: engine.adapter };
  return { backend: 'cpu', adapter: CPU_ADAPTER, fallbackReason };
}

/** The training programs (src/train/gpu-program.ts), by the strategy they belong to (src/gpu/registry.ts). */
const PROGRAMS: Readonly<Record<string, () => Promise<TrainProgram>>> = {
  'per-sequence': async () => (await import('./gpu-per-sequence.ts')).perSequenceProgram,
  gemm: async () => (await import('./gpu-gemm.ts')).gemmProgram,
};

async function backendFor(engine: Engine, shape: Shape & LayerShape, backend: BackendName): Promise<TrainBackend> {
  const runtime = engine.runtime;
  if (backend === 'webgpu' && runtime) {
    // Stacked and bidirectional models: step by step through engine.run, whose layered kernels give the gradients.
    if (isLayered(shape)) return stepwise(engine);
    // The training program of the first strategy that has one for this shape, on the one training loop, on the
    // engine's runtime (the same pool, memory budget and queue as engine.run). Where none serves it (the adapter's
    // limits refuse the gemm kernels), step by step through engine.run.
    const { chooseTrainingStrategy } = await import('../gpu/registry.ts');
    const { strategy } = chooseTrainingStrategy(shape, runtime.device.limits);
    const load = strategy ? PROGRAMS[strategy.name] : undefined;
    if (!load) return stepwise(engine);
    const [{ GpuTrainer }, program] = await Promise.all([import('./gpu.ts'), load()]);
    const trainer = GpuTrainer.for(runtime, program);
    if (program.losses) return trainer;
    // Programs without their own loss evaluation (gemm): losses through engine.run.
    const steps = stepwise(engine);
    return { population: (...a) => trainer.population(...a), losses: (...a) => steps.losses(...a) };
  }
  return cpuBackend;
}

/** A validated model for training (a model JSON is checked and converted). */
const asModel = (m: Model | ModelJSON): Model => ('params' in m ? m : modelFromJSON(parseModel(m)));

function statusName(s: number): ModelStatus {
  return s === STATUS_CONVERGED ? 'converged' : s === STATUS_DIVERGED ? 'diverged' : 'ok';
}

async function runPopulation(
  engine: Engine,
  modelsIn: (Model | ModelJSON)[],
  data: Batch | Batch[],
  opts: PopulationOptions,
  x: Omit<CoreExtras, 'onProgress' | 'signal'>,
): Promise<{
  core: CoreResult;
  models: Model[];
  sets: Batch[];
  o: ResolvedOptions;
  finalLoss: Float64Array;
  validationLoss: Float64Array | null;
  place: Place;
  /** The final and validation losses (as finalLoss and validationLoss) of other weights, model-major. */
  evaluate: (params: Float64Array) => Promise<{ finalLoss: Float64Array; validationLoss: Float64Array | null }>;
}> {
  if (!Array.isArray(modelsIn) || modelsIn.length === 0)
    throw new InputError('models', 'a population needs at least one model, got 0', 'options');
  const models = modelsIn.map(asModel);
  const { sets, shared } = checkPopulation(models, data);
  if (sets.some((b) => b.initialStates !== undefined))
    throw new InputError(
      'initialStates',
      "training starts every sequence from the model's h0: carried states are for engine.run",
      'data',
    );
  const o = resolveOptions(opts, models.length, sets[0].count, sets[0], models[0].params.length);
  if (opts.validation) checkPopulation([models[0]], opts.validation);
  const place = placeOf(engine, models[0]);
  if (place.backend === 'webgpu') {
    sets.forEach((b, i) => checkFloat32Range(models[0], b, shared ? 'data' : `data[${i}]`));
    models.forEach((m, i) => {
      let k = firstFloat32Overflow(m.params);
      if (k >= 0)
        throw new InputError(
          `models[${i}].weights.${paramName(m, k)}`,
          `${m.params[k]} overflows float32 (the WebGPU backend computes in float32)`,
          'model',
        );
      k = firstFloat32Overflow(m.h0);
      if (k >= 0)
        throw new InputError(
          `models[${i}].h0[${k}]`,
          `${m.h0[k]} overflows float32 (the WebGPU backend computes in float32)`,
          'model',
        );
      k = m.c0 ? firstFloat32Overflow(m.c0) : -1;
      if (k >= 0)
        throw new InputError(
          `models[${i}].c0[${k}]`,
          `${m.c0![k]} overflows float32 (the WebGPU backend computes in float32)`,
          'model',
        );
    });
    if (opts.validation) checkFloat32Range(models[0], opts.validation, 'validation');
  }
  const be = await backendFor(engine, models[0], place.backend);
  const t0 = performance.now();
  let lastT = t0;
  let lastStep = 0;
  const core = await be.population(models, sets, shared, o, {
    ...x,
    signal: opts.signal,
    // Progress counts this call's steps (a resumed run's from 0).
    onProgress: (global, loss) => {
      const step = global - o.startStep;
      const now = performance.now();
      const stepsPerSecond = ((step - lastStep) * 1000) / Math.max(1e-3, now - lastT);
      lastT = now;
      lastStep = step;
      opts.onProgress?.({ step, steps: o.steps, loss, stepsPerSecond });
    },
  });
  const h0s = models.map((m) => m.h0);
  // Final and validation losses in the run's loss: the SSR, or the mean over the set's own target values.
  const scale = (b: Batch): number => (opts.loss === 'mean' ? 1 / targetCount(b) : 1);
  const c0s = models[0].c0 ? models.map((m) => m.c0) : null;
  const evaluate = async (
    params: Float64Array,
  ): Promise<{ finalLoss: Float64Array; validationLoss: Float64Array | null }> => {
    const finalLoss = await be.losses(models[0], params, shared ? [sets[0]] : sets, h0s, c0s);
    finalLoss.forEach((v, m) => (finalLoss[m] = v * scale(sets[shared ? 0 : m])));
    const validationLoss = opts.validation ? await be.losses(models[0], params, [opts.validation], h0s, c0s) : null;
    validationLoss?.forEach((v, m) => (validationLoss[m] = v * scale(opts.validation!)));
    return { finalLoss, validationLoss };
  };
  const { finalLoss, validationLoss } = await evaluate(core.params);
  const done = core.stepsDone.reduce((a, b) => Math.max(a, b), 0) - o.startStep;
  opts.onProgress?.({
    step: done,
    steps: o.steps,
    loss: core.lastLoss[0],
    stepsPerSecond: (done * 1000) / Math.max(1e-3, performance.now() - t0),
  });
  return { core, models, sets, o, finalLoss, validationLoss, place, evaluate };
}

/** A run runs away when its last recorded loss is more than this many times its first (six orders of magnitude). */
export const RUNAWAY_FACTOR = 1e6;

/**
 * The run-away check of a loss history: the first and last recorded points when the last loss is more than
 * RUNAWAY_FACTOR times the first (and the first is > 0), with the point of the lowest recorded loss (the earliest
 * on ties); null otherwise.
 */
export function runawayOf(
  history: HistoryPoint[],
): { first: HistoryPoint; last: HistoryPoint; lowest: HistoryPoint } | null {
  const first = history[0];
  const last = history.at(-1);
  if (!first || !last || last === first || !(first.loss > 0) || !(last.loss > first.loss * RUNAWAY_FACTOR)) return null;
  let lowest = first;
  for (const p of history) if (p.loss < lowest.loss) lowest = p;
  return { first: { ...first }, last: { ...last }, lowest: { ...lowest } };
}

/**
 * The weights of a single run at global step `step` (a recorded step of `r`'s run, which went past it), with their
 * optimizer state and losses: the initial ones at the run's first step, else the same run replayed to that step
 * (training is deterministic on each backend, so these are the bits the run had there). No progress, no signal:
 * the replay is bounded by the steps already done.
 */
async function weightsAt(
  engine: Engine,
  model: Model | ModelJSON,
  data: Batch,
  opts: TrainOptions,
  r: Awaited<ReturnType<typeof runPopulation>>,
  step: number,
): Promise<{ core: CoreResult; finalLoss: number; validationLoss: number | null }> {
  const start = r.o.startStep;
  if (step === start) {
    const core = initialResult(r.models, r.o, false, true);
    const { finalLoss, validationLoss } = await r.evaluate(core.params);
    return { core, finalLoss: finalLoss[0], validationLoss: validationLoss ? validationLoss[0] : null };
  }
  const again = await runPopulation(
    engine,
    [model],
    data,
    {
      ...opts,
      steps: step - start,
      scheduleSteps: opts.scheduleSteps ?? start + opts.steps,
      onProgress: undefined,
      signal: undefined,
    },
    { mask: null, trajectory: false, moments: true },
  );
  if (again.core.stepsDone[0] !== step || again.core.status[0] !== STATUS_OK)
    throw new Error(`internal: replaying the run to step ${step} stopped at step ${again.core.stepsDone[0]}`);
  return {
    core: again.core,
    finalLoss: again.finalLoss[0],
    validationLoss: again.validationLoss ? again.validationLoss[0] : null,
  };
}

/**
 * Trains `model` on `data` with `opts` on the engine's backend (WebGPU: weights, optimizer state and the loss
 * history stay on the GPU, many steps per submit; CPU: the float64 reference). Bad options are InputErrors naming
 * the field; a diverging model is reported (`diverged`), not thrown. With `validateEvery`, training runs in rounds
 * of that many steps, each resuming the last exactly, with the validation loss after each round; the report holds
 * the best round's weights and optimizer state.
 */
export async function train(
  engine: Engine,
  model: Model | ModelJSON,
  data: Batch,
  opts: TrainOptions,
): Promise<TrainReport> {
  const t0 = performance.now();
  const every = opts.validateEvery;
  if (every !== undefined && (!Number.isInteger(every) || every < 1))
    throw new InputError('validateEvery', `must be an integer ≥ 1, got ${String(every)}`, 'options');
  if (every !== undefined && !opts.validation)
    throw new InputError('validateEvery', 'needs a validation set', 'options');
  if (opts.patience !== undefined) {
    if (!Number.isInteger(opts.patience) || opts.patience < 1)
      throw new InputError('patience', `must be an integer ≥ 1, got ${String(opts.patience)}`, 'options');
    if (every === undefined)
      throw new InputError(
        'patience',
        'needs validateEvery (the validation loss is checked every validateEvery steps)',
        'options',
      );
  }
  if (every === undefined) {
    const r = await runPopulation(engine, [model], data, opts, { mask: null, trajectory: false, moments: true });
    const history = historyOf([r.core]);
    const ran = r.core.status[0] === STATUS_DIVERGED ? null : runawayOf(history);
    if (ran) {
      // Ran away: the weights of the lowest recorded loss, not the last ones (a normal run never gets here).
      const kept = await weightsAt(engine, model, data, opts, r, ran.lowest.step);
      return report(
        r.place,
        r.models[0],
        kept.core,
        kept.finalLoss,
        kept.validationLoss,
        history,
        [],
        null,
        false,
        t0,
        [r.core],
        { first: ran.first, last: ran.last, kept: ran.lowest },
      );
    }
    return report(
      r.place,
      r.models[0],
      r.core,
      r.finalLoss[0],
      r.validationLoss ? r.validationLoss[0] : null,
      history,
      [],
      null,
      false,
      t0,
    );
  }
  const steps = opts.steps;
  if (!Number.isInteger(steps) || steps < 1)
    throw new InputError('steps', `must be an integer from 1 to ${2 ** 31 - 1}, got ${String(steps)}`, 'options');
  const start = opts.resume?.step ?? 0;
  const scheduleSteps = opts.scheduleSteps ?? start + steps;
  const historyEvery = opts.historyEvery ?? defaultRecordEvery(steps);
  let current: Model | ModelJSON = model;
  let resume = opts.resume;
  const cores: CoreResult[] = [];
  const validationHistory: HistoryPoint[] = [];
  let best: { core: CoreResult; model: Model; finalLoss: number; validationLoss: number } | null = null;
  let since = 0;
  let stoppedOnValidation = false;
  let lastFinal = NaN;
  let place: Place = placeOf(engine, asModel(model));
  for (let done = 0; done < steps;) {
    const n = Math.min(every, steps - done);
    const base = done;
    const r = await runPopulation(
      engine,
      [current],
      data,
      {
        ...opts,
        steps: n,
        resume,
        scheduleSteps,
        historyEvery,
        onProgress: (p) => opts.onProgress?.({ ...p, step: base + p.step, steps }),
      },
      { mask: null, trajectory: false, moments: true },
    );
    cores.push(r.core);
    place = r.place;
    lastFinal = r.finalLoss[0];
    const core = r.core;
    const m0 = r.models[0];
    const stepNow = core.stepsDone[0];
    const P = m0.params.length;
    done = stepNow - start;
    const trained: Model = {
      ...m0,
      params: core.params.slice(),
      h0: m0.h0.slice(),
      ...(m0.c0 ? { c0: m0.c0.slice() } : {}),
    };
    const stopped = core.status[0] !== STATUS_OK || core.aborted;
    if (core.status[0] === STATUS_DIVERGED) break;
    const v = r.validationLoss![0];
    validationHistory.push({ step: stepNow, loss: v });
    if (best === null || v < best.validationLoss) {
      best = { core, model: trained, finalLoss: r.finalLoss[0], validationLoss: v };
      since = 0;
    } else if (opts.patience !== undefined && ++since >= opts.patience) {
      stoppedOnValidation = true;
      break;
    }
    if (stopped) break;
    current = trained;
    resume = { step: stepNow, m: core.moments.slice(0, P), v: core.moments.slice(P, 2 * P) };
  }
  const last = cores[cores.length - 1];
  const history = historyOf(cores);
  const ran = runawayOf(history);
  if (!best || last.status[0] === STATUS_DIVERGED) {
    // Diverged (before any validation, or after): the last finite weights, flagged, as without rounds.
    const m0 = asModel(current);
    return report(place, m0, last, lastFinal, null, history, validationHistory, null, false, t0, cores);
  }
  return report(
    place,
    best.model,
    best.core,
    best.finalLoss,
    best.validationLoss,
    history,
    validationHistory,
    best.core.stepsDone[0],
    stoppedOnValidation,
    t0,
    cores,
    // With rounds the validation loss picks the weights (bestStep), run-away or not.
    ran ? { first: ran.first, last: ran.last, kept: null } : null,
  );
}

/** The loss history of one or more consecutive runs: recorded points, and each run's last step computed. */
function historyOf(cores: CoreResult[]): HistoryPoint[] {
  const history: HistoryPoint[] = [];
  for (const core of cores) {
    // Steps … last were computed: `last` stopped training, or was the last step run.
    const last = core.status[0] !== 0 ? core.stepsDone[0] : core.stepsDone[0] - 1;
    core.curveSteps.forEach((step, j) => {
      if (step <= last && !(history.length && history[history.length - 1].step >= step))
        history.push({ step, loss: core.curves[j] });
    });
    if (last >= 0 && !Number.isNaN(core.lastLoss[0]) && (history.at(-1)?.step ?? -1) < last)
      history.push({ step: last, loss: core.lastLoss[0] });
  }
  return history;
}

function report(
  place: Place,
  model: Model,
  core: CoreResult,
  finalLoss: number,
  validationLoss: number | null,
  history: HistoryPoint[],
  validationHistory: HistoryPoint[],
  bestStep: number | null,
  stoppedOnValidation: boolean,
  t0: number,
  all: CoreResult[] = [core],
  runaway: TrainReport['runaway'] = null,
): TrainReport {
  const P = model.params.length;
  const last = all[all.length - 1];
  return {
    backend: place.backend,
    adapter: place.adapter,
    ...(place.fallbackReason ? { fallbackReason: place.fallbackReason } : {}),
    model: {
      ...model,
      params: core.params.slice(0, P),
      h0: model.h0.slice(),
      ...(model.c0 ? { c0: model.c0.slice() } : {}),
    },
    steps: last.stepsDone[0],
    stoppedOnValidation,
    finalLoss,
    history,
    validationLoss,
    stoppedEarly: last.status[0] === STATUS_CONVERGED,
    diverged: last.status[0] === STATUS_DIVERGED,
    aborted: last.aborted,
    seconds: (performance.now() - t0) / 1000,
    optimizerState: { step: core.stepsDone[0], m: core.moments.slice(0, P), v: core.moments.slice(P, 2 * P) },
    validationHistory,
    bestStep,
    runaway,
  };
}

/**
 * Trains `models` (same shape, activation and output mode) independently and at once: on WebGPU in one dispatch
 * stream, every model with its own weights, optimizer state and (with `lrs`) learning rate, on the shared data set
 * or on one data set per model (all with the same number of sequences). A model whose loss or gradient goes
 * non-finite is frozen at its last finite weights and flagged; the others train on unaffected.
 */
export async function trainPopulation(
  engine: Engine,
  models: (Model | ModelJSON)[],
  data: Batch | Batch[],
  opts: PopulationOptions,
): Promise<PopulationReport> {
  const t0 = performance.now();
  const {
    core,
    models: ms,
    finalLoss,
    validationLoss,
    place,
  } = await runPopulation(engine, models, data, opts, {
    mask: null,
    trajectory: false,
    moments: opts.returnOptimizerState === true,
  });
  return {
    backend: place.backend,
    adapter: place.adapter,
    ...(place.fallbackReason ? { fallbackReason: place.fallbackReason } : {}),
    count: ms.length,
    paramCount: ms[0].params.length,
    finalLoss,
    params: core.params,
    curves: core.curves,
    curveSteps: core.curveSteps,
    status: Array.from(core.status, statusName),
    stepsDone: core.stepsDone,
    divergedAtStep: core.divergedAt,
    validationLoss,
    aborted: core.aborted,
    seconds: (performance.now() - t0) / 1000,
    ...(opts.returnOptimizerState === true ? { optimizerState: populationState(core, ms.length) } : {}),
  };
}

/** Every model's optimizer state, model-major, and the furthest global step any model reached. */
function populationState(core: CoreResult, M: number): OptimizerState {
  const P = core.params.length / M;
  const m = new Float64Array(M * P);
  const v = new Float64Array(M * P);
  for (let k = 0; k < M; k++) {
    m.set(core.moments.subarray(k * 2 * P, k * 2 * P + P), k * P);
    v.set(core.moments.subarray(k * 2 * P + P, (k + 1) * 2 * P), k * P);
  }
  let step = 0;
  for (const s of core.stepsDone) step = Math.max(step, s);
  return { step, m, v };
}

/**
 * `count` copies of `base` (its cell, shape and initial state) with every trainable parameter drawn uniformly from
 * [−scale, scale] (default 1) and rounded to float32 (for LSTM and GRU every gate row of Wx, Wh, bx and bh too); model m takes the draws m·P … m·P+P−1 of one mulberry32 stream seeded by `seed`.
 */
export function randomPopulation(baseIn: Model | ModelJSON, count: number, seed: number, scale = 1): Model[] {
  const base = asModel(baseIn);
  if (!Number.isInteger(count) || count < 1)
    throw new InputError('count', `a population needs an integer count ≥ 1, got ${count}`, 'options');
  if (!Number.isFinite(scale) || scale <= 0)
    throw new InputError('scale', `must be a finite number > 0, got ${scale}`, 'options');
  const rng = new Rng(seed);
  const P = base.params.length;
  return Array.from({ length: count }, () => {
    const params = new Float64Array(P);
    for (let p = 0; p < P; p++) params[p] = Math.fround(rng.uniform(-scale, scale));
    return { ...base, params, h0: base.h0.slice(), ...(base.c0 ? { c0: base.c0.slice() } : {}) };
  });
}

/**
 * A model of `cell` with all weights 0 (the shape to draw random weights into, e.g. with randomPopulation): the
 * cell's blocks (LSTM and GRU stack 4H or 3H gate rows in Wx, Wh, bx and bh). Checked as a model JSON is: LSTM and
 * GRU take the activation tanh only (InputError on `activation`). With `numLayers` (1 to 8) and `bidirectional`, a
 * stacked or bidirectional model (every layer's blocks, in the layered layout), checked as the model JSON is.
 */
export function zeroModel(
  cell: CellName,
  shape: Shape & { output: Model['output'] } & LayerShape,
  activation: Activation,
): Model {
  const s = {
    cell,
    inputSize: shape.inputSize,
    hiddenSize: shape.hiddenSize,
    outputSize: shape.outputSize,
    ...(shape.numLayers !== undefined ? { numLayers: shape.numLayers } : {}),
    ...(shape.bidirectional !== undefined ? { bidirectional: shape.bidirectional } : {}),
  };
  return modelFromJSON(
    parseModel(
      { ...s, activation, output: shape.output, weights: unflattenParams(s, new Float64Array(paramLayout(s).count)) },
      'options',
    ),
  );
}

function checkAxis(a: LandscapeAxis, field: string): void {
  if (!a || typeof a !== 'object') throw new InputError(field, 'expected { param, min, max, steps }', 'options');
  if (!Number.isFinite(a.min)) throw new InputError(`${field}.min`, `must be finite, got ${a.min}`, 'options');
  if (!Number.isFinite(a.max)) throw new InputError(`${field}.max`, `must be finite, got ${a.max}`, 'options');
  if (!(a.max > a.min))
    throw new InputError(`${field}.max`, `must be greater than ${field}.min (${a.min}), got ${a.max}`, 'options');
  if (!Number.isInteger(a.steps) || a.steps < 2 || a.steps > 1 << 16)
    throw new InputError(`${field}.steps`, `must be an integer from 2 to 65536, got ${a.steps}`, 'options');
}

/** The axis values: steps evenly spaced points from min to max, both included. */
export function axisValues(a: LandscapeAxis): Float64Array {
  return Float64Array.from({ length: a.steps }, (_, i) =>
    i === a.steps - 1 ? a.max : a.min + ((a.max - a.min) * i) / (a.steps - 1),
  );
}

/**
 * The SSR of `data` over a grid of two parameters (all others as in `model`): losses[iy·x.steps + ix] is the SSR
 * with the x parameter at x[ix] and the y parameter at y[iy]. On WebGPU every grid point is one model of a
 * population forward pass, all in one call. With `opts.path`, also the path of gradient descent over the two
 * parameters (the others fixed) from the model's values.
 */
export async function lossLandscape(
  engine: Engine,
  modelIn: Model | ModelJSON,
  data: Batch,
  x: LandscapeAxis,
  y: LandscapeAxis,
  opts: LandscapeOptions = {},
): Promise<LandscapeResult> {
  const t0 = performance.now();
  const model = asModel(modelIn);
  checkAxis(x, 'x');
  checkAxis(y, 'y');
  const xIndex = resolveParam(model, x.param, 'x.param');
  const yIndex = resolveParam(model, y.param, 'y.param');
  if (x.steps * y.steps > 1 << 24)
    throw new InputError(
      'y.steps',
      `the grid has ${x.steps} × ${y.steps} points; at most 2^24 (16,777,216) fit one call`,
      'options',
    );
  if (xIndex === yIndex)
    throw new InputError('y.param', `must differ from x.param (both are ${paramName(model, xIndex)})`, 'options');
  const { sets } = checkPopulation([model], data);
  const place = placeOf(engine, model);
  if (place.backend === 'webgpu') checkFloat32Range(model, data);
  const xs = axisValues(x);
  const ys = axisValues(y);
  const P = model.params.length;
  const M = x.steps * y.steps;
  const params = new Float64Array(M * P);
  for (let iy = 0; iy < y.steps; iy++) {
    for (let ix = 0; ix < x.steps; ix++) {
      const m = iy * x.steps + ix;
      params.set(model.params, m * P);
      params[m * P + xIndex] = xs[ix];
      params[m * P + yIndex] = ys[iy];
    }
  }
  const be = await backendFor(engine, model, place.backend);
  const losses = await be.losses(model, params, sets, null);
  let path: LandscapeResult['path'] = null;
  if (opts.path) {
    const mask = new Uint8Array(P);
    mask[xIndex] = 1;
    mask[yIndex] = 1;
    const { core, finalLoss } = await runPopulation(
      engine,
      [model],
      data,
      { ...opts.path, historyEvery: 1, curveEvery: 1 },
      { mask, trajectory: true },
    );
    path = [];
    const traj = core.trajectory!;
    for (let k = 0; k < core.curveSteps.length; k++) {
      const loss = core.curves[k];
      if (Number.isNaN(traj[k * P + xIndex])) break;
      path.push({ step: k, x: traj[k * P + xIndex], y: traj[k * P + yIndex], loss });
    }
    if (core.status[0] === 0)
      path.push({ step: core.stepsDone[0], x: core.params[xIndex], y: core.params[yIndex], loss: finalLoss[0] });
  }
  return {
    backend: place.backend,
    adapter: place.adapter,
    ...(place.fallbackReason ? { fallbackReason: place.fallbackReason } : {}),
    losses,
    x: xs,
    y: ys,
    xIndex,
    yIndex,
    xName: paramName(model, xIndex),
    yName: paramName(model, yIndex),
    path,
    seconds: (performance.now() - t0) / 1000,
  };
}
