// A worker that runs the CPU reference off the page's main thread: it receives a model, a batch and run options,
// runs them on a float64 (or float32) CPU engine, and posts the result back, or the error's name and message.

import { Engine } from '../engine.ts';
import type { Model } from '../model.ts';
import type { Batch } from '../batch.ts';
import type { RunOptions } from '../backend.ts';

interface Job {
  id: number;
  precision: 'f64' | 'f32';
  model: Model;
  batch: Batch;
  opts: RunOptions;
}

const engines = new Map<string, Promise<Engine>>();

self.onmessage = async (e: MessageEvent<Job>) => {
  const { id, precision, model, batch, opts } = e.data;
  try {
    let engine = engines.get(precision);
    if (!engine) engines.set(precision, (engine = Engine.create({ backend: 'cpu', cpuPrecision: precision })));
    const result = await (await engine).run(model, batch, opts);
    (self as unknown as Worker).postMessage({ id, result });
  } catch (err) {
    const error = err as Error;
    (self as unknown as Worker).postMessage({ id, error: { name: error.name, message: error.message } });
  }
};
