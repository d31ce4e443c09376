// The page's side of the CPU worker (cpu-worker.ts). On the CPU backend, `cpuRun`, `trainOn`, `populationOn` and
// `landscapeOn` send the work to the worker (and `cellStudyOff` on every backend), so a long float64 run does not freeze the page (progress comes back
// as messages, and an AbortSignal stops the job there); on WebGPU they call the library on the page's engine as
// before, except for a stacked or bidirectional model, which the library runs on the CPU under `auto` (the WebGPU
// kernels serve one layer in one direction): that goes to the worker too, and its report carries the engine's
// fallbackReason as the library's would. Where workers are unavailable, everything runs here. Errors come back as the library's error types
// (InputError, NonFiniteError), so panels report them as usual.

import type { RunOptions } from '../backend.ts';
import type { Batch } from '../batch.ts';
import { cpuOnlyModel } from '../cpu-only.ts';
import type { CellName } from '../cells/index.ts';
import { Engine, type Result } from '../engine.ts';
import { InputError, NonFiniteError } from '../errors.ts';
import { modelFromJSON, type Model, type ModelJSON } from '../model.ts';
import { lossLandscape, train, trainPopulation } from '../train/index.ts';
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
import type { Job } from './cpu-worker.ts';

/** A job without its id (Omit over each member of the union). */
type NewJob = Job extends infer J ? (J extends { id: number } ? Omit<J, 'id'> : never) : never;
type Progress = { step: number; steps: number; loss: number; stepsPerSecond: number };
interface Pending {
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: (p: Progress) => void;
  kind: string;
}

let worker: Worker | null | undefined;
let nextId = 0;
const pending = new Map<number, Pending>();
const local = new Map<string, Promise<Engine>>();

function getWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./cpu-worker.ts', import.meta.url), {
      type: 'module',
      name: 'webgpu-rnn CPU reference',
    });
    worker.onmessage = (
      e: MessageEvent<{ id: number; result?: unknown; progress?: Progress; error?: { name: string; message: string } }>,
    ) => {
      const job = pending.get(e.data.id);
      if (!job) return;
      if (e.data.progress) {
        job.onProgress?.(e.data.progress);
        return;
      }
      pending.delete(e.data.id);
      // A job came back from the worker; how many of each kind did (for tests and the console).
      document.body.dataset.cpuWorker = 'true';
      const jobs = JSON.parse(document.body.dataset.cpuWorkerJobs ?? '{}') as Record<string, number>;
      jobs[job.kind] = (jobs[job.kind] ?? 0) + 1;
      document.body.dataset.cpuWorkerJobs = JSON.stringify(jobs);
      if (e.data.error) job.reject(rebuild(e.data.error));
      else job.resolve(e.data.result);
    };
    worker.onerror = (e) => {
      // The worker could not start or crashed: fail what is pending, and run here from now on.
      for (const job of pending.values()) job.reject(new Error(`the CPU worker failed: ${e.message}`));
      pending.clear();
      worker?.terminate();
      worker = null;
    };
  } catch {
    worker = null;
  }
  return worker;
}

/** The library's error type for an error that crossed from the worker (instanceof works; the message is kept). */
function rebuild(e: { name: string; message: string }): Error {
  const proto =
    e.name === 'NonFiniteError'
      ? NonFiniteError.prototype
      : e.name === 'InputError'
        ? InputError.prototype
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
    signal?.addEventListener('abort', () => w.postMessage({ id, kind: 'abort' }), { once: true });
    if (signal?.aborted) w.postMessage({ id, kind: 'abort' });
    w.postMessage({ ...job, id });
  });
}

/** Whether work goes to the worker (false before the first job, or where workers are unavailable). */
export const cpuInWorker = (): boolean => !!worker;

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

/** The worker, where a job on `engine` for `model` runs on the CPU (the CPU backend, or moved there); else null. */
function workerFor(engine: Engine, model: StackedShape): Worker | null {
  return engine.backend === 'cpu' || movedToCpu(engine, model) !== null ? getWorker() : null;
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

/** `train` on `engine`, or, on the CPU backend (or for a model moved to the CPU), in the worker. */
export function trainOn(
  engine: Engine,
  model: Model | ModelJSON,
  batch: Batch,
  opts: TrainOptions,
): Promise<TrainReport> {
  const w = workerFor(engine, model);
  if (!w) return train(engine, model, batch, opts);
  return withReason(
    engine,
    model,
    send<TrainReport>(
      w,
      { kind: 'train', model: asModel(model), batch, opts: plain(opts) },
      opts.onProgress,
      opts.signal,
    ),
  );
}

/** `trainPopulation` on `engine`, or, on the CPU backend (or for models moved to the CPU), in the worker. */
export function populationOn(
  engine: Engine,
  models: Model[],
  batch: Batch,
  opts: PopulationOptions,
): Promise<PopulationReport> {
  const w = models.length > 0 ? workerFor(engine, models[0]) : null;
  if (!w) return trainPopulation(engine, models, batch, opts);
  return withReason(
    engine,
    models[0],
    send<PopulationReport>(w, { kind: 'population', models, batch, opts: plain(opts) }, opts.onProgress, opts.signal),
  );
}

/** `lossLandscape` on `engine`, or, on the CPU backend (or for a model moved to the CPU), in the worker (the path's signal stops it there). */
export function landscapeOn(
  engine: Engine,
  model: Model | ModelJSON,
  batch: Batch,
  x: LandscapeAxis,
  y: LandscapeAxis,
  opts: LandscapeOptions = {},
): Promise<LandscapeResult> {
  const w = workerFor(engine, model);
  if (!w) return lossLandscape(engine, model, batch, x, y, opts);
  const signal = opts.path?.signal;
  const o: LandscapeOptions = opts.path ? { path: plain(opts.path) } : {};
  return withReason(
    engine,
    model,
    send<LandscapeResult>(w, { kind: 'landscape', model: asModel(model), batch, x, y, opts: o }, undefined, signal),
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
