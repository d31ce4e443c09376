// A worker that runs the CPU reference off the page's main thread. Jobs: `run` (Engine.run), `train`,
// `population` (trainPopulation), `landscape` (lossLandscape), `cells` (the cells' unroll study on seeded random
// models, its norms only) and the benchmark's `bench-*` on a float64 (or float32) CPU engine, with
// progress messages while they train and `abort` to stop one; the result, or the error's name and message, is
// posted back. The page's side is cpu-client.ts.

import type { Batch } from '../batch.ts';
import type { RunOptions } from '../backend.ts';
import { Engine } from '../engine.ts';
import type { Model } from '../model.ts';
import { lossLandscape, train, trainPopulation } from '../train/index.ts';
import { randomCellStudyNorms, type RandomCellsOptions } from '../study/cells.ts';
import type { LandscapeAxis, LandscapeOptions, PopulationOptions, TrainOptions } from '../train/types.ts';

export type Job =
  | { id: number; kind: 'run'; precision: 'f64' | 'f32'; model: Model; batch: Batch; opts: RunOptions }
  | { id: number; kind: 'train'; model: Model; batch: Batch; opts: TrainOptions }
  | { id: number; kind: 'population'; models: Model[]; batch: Batch; opts: PopulationOptions }
  | {
      id: number;
      kind: 'landscape';
      model: Model;
      batch: Batch;
      x: LandscapeAxis;
      y: LandscapeAxis;
      opts: LandscapeOptions;
    }
  | { id: number; kind: 'cells'; models: RandomCellsOptions; length: number; seed: number }
  | { id: number; kind: 'abort' }
  // The benchmark's CPU reference: `bench-load` keeps a model and batch here under `key` (sent once), `bench-run`
  // runs it (the worker times nothing: the page's runner times the round trip), `bench-drop` forgets it.
  | { id: number; kind: 'bench-load'; key: number; model: Model; batch: Batch }
  | { id: number; kind: 'bench-run'; key: number; gradients: boolean }
  | { id: number; kind: 'bench-drop'; key: number };

const loaded = new Map<number, { model: Model; batch: Batch }>();

const engines = new Map<string, Promise<Engine>>();
const controllers = new Map<number, AbortController>();
const post = (m: unknown): void => (self as unknown as Worker).postMessage(m);

function engine(precision: 'f64' | 'f32' = 'f64'): Promise<Engine> {
  let e = engines.get(precision);
  if (!e) engines.set(precision, (e = Engine.create({ backend: 'cpu', cpuPrecision: precision })));
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
    if (job.kind === 'bench-load') loaded.set(job.key, { model: job.model, batch: job.batch });
    else if (job.kind === 'bench-drop') loaded.delete(job.key);
    else if (job.kind === 'bench-run') {
      const l = loaded.get(job.key);
      if (!l) throw new Error(`benchmark run ${job.key} was not loaded`);
      const r = await (await engine()).run(l.model, l.batch, { gradients: job.gradients });
      result = { loss: r.loss, grads: r.gradsFlat };
    } else if (job.kind === 'run') result = await (await engine(job.precision)).run(job.model, job.batch, job.opts);
    else if (job.kind === 'train')
      result = await train(await engine(), job.model, job.batch, {
        ...job.opts,
        signal: controller.signal,
        onProgress: progress,
      });
    else if (job.kind === 'cells') result = randomCellStudyNorms(job.models, job.length, job.seed);
    else if (job.kind === 'population')
      result = await trainPopulation(await engine(), job.models, job.batch, {
        ...job.opts,
        signal: controller.signal,
        onProgress: progress,
      });
    else {
      const path = job.opts.path ? { ...job.opts.path, signal: controller.signal } : undefined;
      result = await lossLandscape(
        await engine(),
        job.model,
        job.batch,
        job.x,
        job.y,
        path ? { ...job.opts, path } : job.opts,
      );
    }
    post({ id: job.id, result });
  } catch (err) {
    const error = err as Error;
    post({ id: job.id, error: { name: error.name, message: error.message } });
  } finally {
    controllers.delete(job.id);
  }
};
