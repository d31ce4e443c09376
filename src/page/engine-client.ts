// The page's side of its engine workers (engine-worker.ts): a CPU worker for the float64 reference, and on WebGPU a
// second worker with its own WebGPU engines, one per lane (`long`: Train, Population and their playgrounds;
// `short`: the loss landscape), so long work runs off the main thread on both backends and a short job does not
// queue behind a long one. `cpuRun` and `cellStudyOff` go to the CPU worker on every backend; `trainOn`,
// `populationOn`, `populationPlayOn` (the Population playground's population, kept there between frames) and
// `landscapeOn` go to the CPU worker on the CPU backend (or for a stacked or bidirectional model
// the library runs on the CPU under `auto`: its report carries the engine's fallbackReason as the library's would),
// and to the WebGPU worker on WebGPU once it has started (`startGpuWorker`); before that, or where the worker has no
// WebGPU, they call the library on the page's engine. Progress comes back as messages, and an AbortSignal stops the
// job there. Where workers are unavailable, everything runs here. Errors come back as the library's error types
// (InputError, NonFiniteError, GpuError), so panels report them as usual.

import type { RunOptions } from '../backend.ts';
import type { Batch } from '../batch.ts';
import { cpuOnlyModel } from '../cpu-only.ts';
import type { CellName } from '../cells/index.ts';
import { Engine, type Result } from '../engine.ts';
import { GpuError, InputError, NonFiniteError } from '../errors.ts';
import { modelFromJSON, type Model, type ModelJSON } from '../model.ts';
import { lossLandscape, randomPopulation, train, trainPopulation } from '../train/index.ts';
import type {
  LandscapeAxis,
  LandscapeOptions,
  LandscapeResult,
  PopulationOptions,
  PopulationReport,
  TrainOptions,
  TrainReport,
} from '../train/types.ts';
import { randomCellStudyNorms, type CellStudyNorms, type RandomCellsOptions } from '../study/cells.ts';
import { CpuRefPeer, type Peer, type PreparedRun } from '../benchmark/peer.ts';
import type { Phase } from '../benchmark/workloads.ts';
import type { Job, On, PopulationRecipe } from './engine-worker.ts';
import { populationView, type PopulationView } from './population-stats.ts';
import { PopulationPlay, type PlayFrame, type PlayFrameOptions } from './population-play.ts';

/** A job without its id (Omit over each member of the union). */
type NewJob = Job extends infer J ? (J extends { id: number } ? Omit<J, 'id'> : never) : never;
type Progress = { step: number; steps: number; loss: number; stepsPerSecond: number };
interface Pending {
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: (p: Progress) => void;
  kind: string;
}

/** The page's two workers: `cpu` (the CPU reference) and `gpu` (WebGPU engines, one per lane). */
type Which = 'cpu' | 'gpu';
const workers: Record<Which, Worker | null | undefined> = { cpu: undefined, gpu: undefined };
/** Whether the WebGPU worker has its engines (set by `startGpuWorker`). */
let gpuReady = false;
let nextId = 0;
const pending = new Map<number, Pending>();
const local = new Map<string, Promise<Engine>>();
const NAMES: Record<Which, string> = { cpu: 'webgpu-rnn CPU reference', gpu: 'webgpu-rnn WebGPU' };
/** The lanes of the WebGPU worker, each with its own engine (device). */
export type Lane = 'long' | 'short';

/** The ids of the jobs pending in each worker. */
const ids = new WeakMap<Worker, Set<number>>();

function getWorker(which: Which = 'cpu'): Worker | null {
  const existing = workers[which];
  if (existing !== undefined) return existing;
  let w: Worker;
  try {
    w = new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module', name: NAMES[which] });
  } catch {
    return (workers[which] = null);
  }
  workers[which] = w;
  const mine = new Set<number>();
  w.onmessage = (
    e: MessageEvent<{ id: number; result?: unknown; progress?: Progress; error?: { name: string; message: string } }>,
  ) => {
    const job = pending.get(e.data.id);
    if (!job) return;
    if (e.data.progress) {
      job.onProgress?.(e.data.progress);
      return;
    }
    pending.delete(e.data.id);
    mine.delete(e.data.id);
    // A job came back from a worker; how many of each kind did (for tests and the console).
    const key = which === 'cpu' ? 'cpuWorkerJobs' : 'gpuWorkerJobs';
    if (which === 'cpu') document.body.dataset.cpuWorker = 'true';
    const jobs = JSON.parse(document.body.dataset[key] ?? '{}') as Record<string, number>;
    jobs[job.kind] = (jobs[job.kind] ?? 0) + 1;
    document.body.dataset[key] = JSON.stringify(jobs);
    if (e.data.error) job.reject(rebuild(e.data.error));
    else job.resolve(e.data.result);
  };
  w.onerror = (e) => {
    // The worker could not start or crashed: fail what is pending, and run here from now on.
    for (const id of mine) pending.get(id)?.reject(new Error(`the ${NAMES[which]} worker failed: ${e.message}`));
    for (const id of mine) pending.delete(id);
    w.terminate();
    workers[which] = null;
    if (which === 'gpu') gpuReady = false;
  };
  ids.set(w, mine);
  return w;
}

/** The library's error type for an error that crossed from the worker (instanceof works; the message is kept). */
function rebuild(e: { name: string; message: string }): Error {
  const proto =
    e.name === 'NonFiniteError'
      ? NonFiniteError.prototype
      : e.name === 'InputError'
        ? InputError.prototype
        : e.name === 'GpuError'
          ? GpuError.prototype
          : Error.prototype;
  const err = Object.setPrototypeOf(new Error(e.message), proto) as Error;
  Object.defineProperty(err, 'name', { value: e.name });
  return err;
}

/** Sends a job; its progress goes to `onProgress`, and `signal` aborts it in the worker. */
function send<T>(w: Worker, job: NewJob, onProgress?: (p: Progress) => void, signal?: AbortSignal): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (r: unknown) => void, reject, onProgress, kind: job.kind });
    ids.get(w)?.add(id);
    signal?.addEventListener('abort', () => w.postMessage({ id, kind: 'abort' }), { once: true });
    if (signal?.aborted) w.postMessage({ id, kind: 'abort' });
    w.postMessage({ ...job, id });
  });
}

/**
 * Starts the WebGPU worker and its engines (one per lane), when the page runs WebGPU: true once they run there, false
 * where the worker has no WebGPU (the jobs then run on the page's engine, as before).
 */
export async function startGpuWorker(): Promise<boolean> {
  const w = getWorker('gpu');
  if (!w) return false;
  try {
    await Promise.all(
      (['long', 'short'] as const).map((lane) => send(w, { kind: 'gpu-start', backend: 'webgpu', lane })),
    );
    gpuReady = true;
  } catch (e) {
    console.warn('WebGPU in a worker', e);
    w.terminate();
    workers.gpu = null;
    gpuReady = false;
  }
  document.body.dataset.gpuWorker = String(gpuReady);
  return gpuReady;
}

/** Whether work goes to the worker (false before the first job, or where workers are unavailable). */
export const cpuInWorker = (): boolean => !!workers.cpu;

const asModel = (m: Model | ModelJSON): Model => ('params' in m ? m : modelFromJSON(m));

/** Options without the parts that cannot cross to a worker (callbacks, the signal). */
function plain<T extends TrainOptions>(o: T): Omit<T, 'onProgress' | 'signal'> {
  const { onProgress: _p, signal: _s, ...rest } = o;
  return rest;
}

/** Runs `model` on `batch` on the CPU reference (float64, or float32 mode), in the worker where possible. */
export function cpuRun(
  model: Model,
  batch: Batch,
  opts: RunOptions,
  precision: 'f64' | 'f32' = 'f64',
): Promise<Result> {
  const w = getWorker();
  if (!w) {
    let e = local.get(precision);
    if (!e) local.set(precision, (e = Engine.create({ backend: 'cpu', cpuPrecision: precision })));
    return e.then((engine) => engine.run(model, batch, opts));
  }
  return send<Result>(w, { kind: 'run', precision, model, batch, opts });
}

/**
 * `engine.run` in a worker, as `trainOn` places it (a Train run's loss before training and its predictions after,
 * which on the page would hold it for tens of ms on a large data set, or build a new kernel there on WebGPU).
 */
export function runOn(
  engine: Engine,
  model: Model | ModelJSON,
  batch: Batch,
  opts: RunOptions,
  lane: Lane = 'long',
): Promise<Result> {
  const to = workerFor(engine, model, lane);
  if (!to) return engine.run(model, batch, opts);
  return withReason(
    engine,
    model,
    send<Result>(to.w, { kind: 'run', precision: 'f64', model: asModel(model), batch, opts, ...to.on }),
  );
}

/** What decides where a model trains: its cell, sizes and stacking. */
type StackedShape = {
  cell?: CellName;
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  numLayers?: number;
  bidirectional?: boolean;
};

/**
 * Why `model` runs on the CPU on this engine although it runs WebGPU (a stacked or bidirectional model of a shape
 * the layered kernels do not take, on the page's `auto` engine), or null.
 */
export const movedToCpu = (engine: Engine, model: StackedShape): string | null =>
  engine.cpuFallbackFor(cpuOnlyModel(model));

/**
 * The worker a job on `engine` for `model` runs in, and where there: the CPU worker on the CPU backend (or for a
 * model moved to the CPU), the WebGPU worker's engine of `lane` on WebGPU once it has started; else null (the page's
 * engine).
 */
function workerFor(engine: Engine, model: StackedShape, lane: Lane): { w: Worker; on: On } | null {
  if (engine.backend === 'cpu' || movedToCpu(engine, model) !== null) {
    const w = getWorker('cpu');
    return w ? { w, on: {} } : null;
  }
  const w = gpuReady ? (workers.gpu ?? null) : null;
  return w ? { w, on: { backend: 'webgpu', lane } } : null;
}

/** Where the last job of each lane ran: `worker` (a worker) or `page` (the page's engine), for tests and the console. */
function mark(lane: Lane, where: 'worker' | 'page'): void {
  document.body.dataset[lane === 'long' ? 'longLane' : 'shortLane'] = where;
}

/** The worker's report with the fallback reason the library gives a run it moved to the CPU. */
async function withReason<T extends { fallbackReason?: string }>(
  engine: Engine,
  model: StackedShape,
  r: Promise<T>,
): Promise<T> {
  const reason = movedToCpu(engine, model);
  const out = await r;
  return reason && out.fallbackReason === undefined ? { ...out, fallbackReason: reason } : out;
}

/** `train` on `engine`'s backend in a worker (the CPU worker, or on WebGPU the worker's engine of `lane`). */
export function trainOn(
  engine: Engine,
  model: Model | ModelJSON,
  batch: Batch,
  opts: TrainOptions,
  lane: Lane = 'long',
): Promise<TrainReport> {
  const to = workerFor(engine, model, lane);
  mark(lane, to ? 'worker' : 'page');
  if (!to) return train(engine, model, batch, opts);
  return withReason(
    engine,
    model,
    send<TrainReport>(
      to.w,
      { kind: 'train', model: asModel(model), batch, opts: plain(opts), ...to.on },
      opts.onProgress,
      opts.signal,
    ),
  );
}

/**
 * `trainPopulation` on `engine`'s backend in a worker (as `trainOn`), of `models` or of a seeded population drawn
 * where it trains (`randomPopulation(base, count, seed, scale)`: a large population need not cross to the worker).
 */
export function populationOn(
  engine: Engine,
  models: Model[] | PopulationRecipe,
  batch: Batch,
  opts: PopulationOptions,
  lane: Lane = 'long',
): Promise<PopulationReport> {
  return population<PopulationReport>(engine, models, batch, opts, lane, undefined);
}

/**
 * `populationOn` for the Population panel: what comes back is its view (population-stats.ts `populationView`: the
 * histogram, sampled curves, median curve and counts at `threshold`, and the final losses), computed where the
 * population trained, so 100,000 models' weights and curves never cross to the page.
 */
export function populationViewOn(
  engine: Engine,
  models: Model[] | PopulationRecipe,
  batch: Batch,
  opts: PopulationOptions,
  threshold: number,
  lane: Lane = 'long',
): Promise<PopulationView> {
  return population<PopulationView>(engine, models, batch, opts, lane, threshold);
}

async function population<T extends { fallbackReason?: string }>(
  engine: Engine,
  models: Model[] | PopulationRecipe,
  batch: Batch,
  opts: PopulationOptions,
  lane: Lane,
  threshold: number | undefined,
): Promise<T> {
  const base = Array.isArray(models) ? models[0] : models.base;
  const to = base ? workerFor(engine, base, lane) : null;
  mark(lane, to ? 'worker' : 'page');
  if (!to) {
    const all = Array.isArray(models) ? models : randomPopulation(models.base, models.count, models.seed, models.scale);
    const r = await trainPopulation(engine, all, batch, opts);
    return (threshold === undefined ? r : populationView(r, threshold)) as unknown as T;
  }
  return withReason(
    engine,
    base,
    send<T>(
      to.w,
      { kind: 'population', models, batch, opts: plain(opts), summarize: threshold, ...to.on },
      opts.onProgress,
      opts.signal,
    ),
  );
}

/** The Population playground's population, kept where it trains between frames (population-play.ts). */
export interface PopulationPlayHandle {
  /** One frame of `opts.steps` steps for every model on `engine`'s backend, from where the last frame left them. */
  frame(engine: Engine, opts: PlayFrameOptions, threshold: number): Promise<PlayFrame>;
  /** Forgets the population (Reset). */
  drop(): void;
}

let nextPlay = 0;

/**
 * A Population playground's population (`randomPopulation` of the recipe), drawn and kept where it trains: in the
 * worker `trainOn` would use for its base model on `engine` (the CPU worker, or the WebGPU worker's engine of
 * `lane`), else on the page. Only the frame's options cross to the worker, and only the panel's summary and the
 * per-model SSR and weights (typed arrays, transferred) come back.
 */
export function populationPlayOn(
  engine: Engine,
  recipe: PopulationRecipe,
  batch: Batch,
  lane: Lane = 'long',
): PopulationPlayHandle {
  const home = workerFor(engine, recipe.base, lane);
  if (!home) {
    const play = new PopulationPlay(recipe);
    return {
      frame: (e, opts, threshold) => {
        mark(lane, 'page');
        return play.frame(e, batch, opts, threshold);
      },
      drop: () => {},
    };
  }
  const key = nextPlay++;
  let start: PopulationRecipe | undefined = recipe;
  return {
    frame: async (e, opts, threshold) => {
      // The population lives in one worker: a frame meant for another (the page left WebGPU) cannot continue it.
      if (workerFor(e, recipe.base, lane)?.w !== home.w)
        throw new Error('the population playground trained on another backend: press Reset to start again here');
      mark(lane, 'worker');
      const first = start;
      const f = await withReason(
        e,
        recipe.base,
        send<PlayFrame>(home.w, {
          kind: 'play-frame',
          key,
          ...(first ? { start: first } : {}),
          batch,
          opts,
          threshold,
          ...home.on,
        }),
      );
      start = undefined;
      return f;
    },
    drop: () => void send(home.w, { kind: 'play-drop', key }).catch(() => {}),
  };
}

/** `lossLandscape` on `engine`'s backend in a worker (as `trainOn`; the path's signal stops it there). */
export function landscapeOn(
  engine: Engine,
  model: Model | ModelJSON,
  batch: Batch,
  x: LandscapeAxis,
  y: LandscapeAxis,
  opts: LandscapeOptions = {},
  lane: Lane = 'short',
): Promise<LandscapeResult> {
  const to = workerFor(engine, model, lane);
  mark(lane, to ? 'worker' : 'page');
  if (!to) return lossLandscape(engine, model, batch, x, y, opts);
  const signal = opts.path?.signal;
  const o: LandscapeOptions = opts.path ? { path: plain(opts.path) } : {};
  return withReason(
    engine,
    model,
    send<LandscapeResult>(
      to.w,
      { kind: 'landscape', model: asModel(model), batch, x, y, opts: o, ...to.on },
      undefined,
      signal,
    ),
  );
}

/** The cells' unroll study (float64, on seeded random models) in the worker on every backend: the engine cannot give the state gradient. */
export function cellStudyOff(models: RandomCellsOptions, length: number, seed: number): Promise<CellStudyNorms> {
  const w = getWorker();
  if (!w) return Promise.resolve().then(() => randomCellStudyNorms(models, length, seed));
  return send<CellStudyNorms>(w, { kind: 'cells', models, length, seed });
}

let nextKey = 0;

/**
 * The benchmark's CPU reference peer (`cpu-ref`) running in the worker, so the page stays responsive while it is
 * measured: the batch crosses once per size (`bench-load`), then each timed run is one message each way. Where
 * workers are unavailable it is the plain main-thread peer.
 */
export function workerCpuRefPeer(): Peer {
  const w = getWorker();
  if (!w) return new CpuRefPeer();
  const base = new CpuRefPeer();
  return {
    id: base.id,
    label: base.label,
    ours: false,
    detail: 'float64 loops, one thread (in a worker)',
    init: async () => {},
    unsupported: (model) => base.unsupported(model),
    prepare: async (model: ModelJSON, batch: Batch, phase: Phase): Promise<PreparedRun> => {
      const key = nextKey++;
      await send(w, { kind: 'bench-load', key, model: modelFromJSON(model), batch });
      return {
        run: async () => {
          const r = await send<{ loss: number | null; grads: Float64Array | null }>(w, {
            kind: 'bench-run',
            key,
            gradients: phase === 'gradient',
          });
          return { loss: r.loss ?? NaN, grads: r.grads };
        },
        dispose: () => void send(w, { kind: 'bench-drop', key }),
      };
    },
    dispose: () => {},
  };
}
