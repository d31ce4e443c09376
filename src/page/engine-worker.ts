// A worker that runs the library off the page's main thread, on the float64 (or float32) CPU reference or, for a
// job with `backend: 'webgpu'`, on WebGPU (navigator.gpu in a dedicated worker). Jobs: `run` (Engine.run), `train`,
// `population` (trainPopulation, of the models sent or of a seeded `randomPopulation` drawn here, and optionally
// only the panel's summary of its curves), `landscape`
// (lossLandscape), `cells` (the cells' unroll study on seeded random models, its norms only), the Population
// playground's `play-frame` and `play-drop` (its population and optimizer state stay here between frames,
// population-play.ts; a frame's per-model arrays go back transferred, not copied) and the benchmark's `bench-*` on
// the CPU, with progress messages while they train and `abort` to stop one; the result, or the error's name and
// message, is posted back. Jobs run as they come: on WebGPU each `lane` has its own engine (its own
// device), so a short job on one lane does not wait behind a long one on another. The page's side is engine-client.ts.

import type { Batch } from '../batch.ts';
import type { RunOptions } from '../backend.ts';
import { Engine } from '../engine.ts';
import type { Model } from '../model.ts';
import { lossLandscape, randomPopulation, train, trainPopulation } from '../train/index.ts';
import { populationView } from './population-stats.ts';
import { PopulationPlay, type PlayFrame, type PlayFrameOptions, type PopulationRecipe } from './population-play.ts';
import { randomCellStudyNorms, type RandomCellsOptions } from '../study/cells.ts';
import type { LandscapeAxis, LandscapeOptions, PopulationOptions, TrainOptions } from '../train/types.ts';

/** Where a job runs: the CPU reference (the default), or WebGPU on the engine of `lane`. */
export type On = { backend?: 'cpu' | 'webgpu'; lane?: string };
/** A seeded population drawn in the worker (randomPopulation(base, count, seed, scale)), so it need not cross. */
export type { PopulationRecipe };

export type Job =
  | ({ id: number; kind: 'run'; precision: 'f64' | 'f32'; model: Model; batch: Batch; opts: RunOptions } & On)
  | ({ id: number; kind: 'train'; model: Model; batch: Batch; opts: TrainOptions } & On)
  | ({
      id: number;
      kind: 'population';
      models: Model[] | PopulationRecipe;
      batch: Batch;
      opts: PopulationOptions;
      /** With a threshold: what comes back is the panel's view (population-stats.ts `populationView`). */
      summarize?: number;
    } & On)
  | ({
      id: number;
      kind: 'landscape';
      model: Model;
      batch: Batch;
      x: LandscapeAxis;
      y: LandscapeAxis;
      opts: LandscapeOptions;
    } & On)
  | { id: number; kind: 'cells'; models: RandomCellsOptions; length: number; seed: number }
  // The Population playground: one frame of the population kept here under `key` (drawn from `start` on its first
  // frame); `play-drop` forgets it.
  | ({
      id: number;
      kind: 'play-frame';
      key: number;
      start?: PopulationRecipe;
      batch: Batch;
      opts: PlayFrameOptions;
      threshold: number;
    } & On)
  | { id: number; kind: 'play-drop'; key: number }
  | { id: number; kind: 'abort' }
  // Starts the WebGPU engine of `lane` (the result is its adapter), or fails where the worker has no WebGPU.
  | ({ id: number; kind: 'gpu-start' } & On)
  // The benchmark's CPU reference: `bench-load` keeps a model and batch here under `key` (sent once), `bench-run`
  // runs it (the worker times nothing: the page's runner times the round trip), `bench-drop` forgets it.
  | { id: number; kind: 'bench-load'; key: number; model: Model; batch: Batch }
  | { id: number; kind: 'bench-run'; key: number; gradients: boolean }
  | { id: number; kind: 'bench-drop'; key: number };

const loaded = new Map<number, { model: Model; batch: Batch }>();
/** The Population playgrounds' populations, by key. */
const plays = new Map<number, PopulationPlay>();

const engines = new Map<string, Promise<Engine>>();
const controllers = new Map<number, AbortController>();
const post = (m: unknown, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(m, transfer);

function engine(precision: 'f64' | 'f32' = 'f64'): Promise<Engine> {
  let e = engines.get(precision);
  if (!e) engines.set(precision, (e = Engine.create({ backend: 'cpu', cpuPrecision: precision })));
  return e;
}

/** The engine a job runs on: WebGPU of its lane (one device per lane), else the float64 CPU reference. */
function engineOn(on: On): Promise<Engine> {
  if (on.backend !== 'webgpu') return engine();
  const key = `webgpu:${on.lane ?? 'main'}`;
  let e = engines.get(key);
  if (!e) {
    e = Engine.create({ backend: 'webgpu' });
    engines.set(key, e);
    e.catch(() => engines.delete(key));
  }
  return e;
}

self.onmessage = async (e: MessageEvent<Job>) => {
  const job = e.data;
  if (job.kind === 'abort') {
    controllers.get(job.id)?.abort();
    return;
  }
  const controller = new AbortController();
  controllers.set(job.id, controller);
  const progress = (p: { step: number; steps: number; loss: number; stepsPerSecond: number }): void =>
    post({ id: job.id, progress: p });
  try {
    let result: unknown;
    let transfer: Transferable[] = [];
    if (job.kind === 'bench-load') loaded.set(job.key, { model: job.model, batch: job.batch });
    else if (job.kind === 'bench-drop') loaded.delete(job.key);
    else if (job.kind === 'bench-run') {
      const l = loaded.get(job.key);
      if (!l) throw new Error(`benchmark run ${job.key} was not loaded`);
      const r = await (await engine()).run(l.model, l.batch, { gradients: job.gradients });
      result = { loss: r.loss, grads: r.gradsFlat };
    } else if (job.kind === 'gpu-start') result = (await engineOn(job)).adapter;
    else if (job.kind === 'run')
      result = await (
        await (job.backend === 'webgpu' ? engineOn(job) : engine(job.precision))
      ).run(job.model, job.batch, job.opts);
    else if (job.kind === 'train')
      result = await train(await engineOn(job), job.model, job.batch, {
        ...job.opts,
        signal: controller.signal,
        onProgress: progress,
      });
    else if (job.kind === 'cells') result = randomCellStudyNorms(job.models, job.length, job.seed);
    else if (job.kind === 'play-drop') plays.delete(job.key);
    else if (job.kind === 'play-frame') {
      if (job.start) plays.set(job.key, new PopulationPlay(job.start));
      const play = plays.get(job.key);
      if (!play) throw new Error('the population playground has no models here (the worker restarted): press Reset');
      const f: PlayFrame = await play.frame(await engineOn(job), job.batch, job.opts, job.threshold);
      result = f;
      transfer = [...new Set([f.finalLoss.buffer, f.params.buffer])];
    } else if (job.kind === 'population') {
      const m = job.models;
      const models = Array.isArray(m) ? m : randomPopulation(m.base, m.count, m.seed, m.scale);
      const r = await trainPopulation(await engineOn(job), models, job.batch, {
        ...job.opts,
        signal: controller.signal,
        onProgress: progress,
      });
      result = job.summarize === undefined ? r : populationView(r, job.summarize);
    } else {
      const path = job.opts.path ? { ...job.opts.path, signal: controller.signal } : undefined;
      result = await lossLandscape(
        await engineOn(job),
        job.model,
        job.batch,
        job.x,
        job.y,
        path ? { ...job.opts, path } : job.opts,
      );
    }
    post({ id: job.id, result }, transfer);
  } catch (err) {
    const error = err as Error;
    post({ id: job.id, error: { name: error.name, message: error.message } });
  } finally {
    controllers.delete(job.id);
  }
};
