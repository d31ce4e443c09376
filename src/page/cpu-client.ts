// The page's side of the CPU worker (cpu-worker.ts): `cpuRun` runs the CPU reference in the worker, so a long
// float64 run does not freeze the page, and falls back to running it here when workers are not available. Errors
// come back as the library's error types (InputError, NonFiniteError), so panels report them as usual.

import type { RunOptions } from '../backend.ts';
import { Engine, type Result } from '../engine.ts';
import { InputError, NonFiniteError } from '../errors.ts';
import type { Batch } from '../batch.ts';
import type { Model } from '../model.ts';

let worker: Worker | null | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void }>();
const local = new Map<string, Promise<Engine>>();

function getWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./cpu-worker.ts', import.meta.url), { type: 'module', name: 'webgpu-rnn CPU reference' });
    worker.onmessage = (e: MessageEvent<{ id: number; result?: Result; error?: { name: string; message: string } }>) => {
      const job = pending.get(e.data.id);
      if (!job) return;
      pending.delete(e.data.id);
      if (e.data.result) job.resolve(e.data.result);
      else job.reject(rebuild(e.data.error!));
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
  const proto = e.name === 'NonFiniteError' ? NonFiniteError.prototype : e.name === 'InputError' ? InputError.prototype : Error.prototype;
  const err = Object.setPrototypeOf(new Error(e.message), proto) as Error;
  Object.defineProperty(err, 'name', { value: e.name });
  return err;
}

/** Whether runs go to the worker (false before the first run, or where workers are unavailable). */
export const cpuInWorker = (): boolean => !!worker;

/** Runs `model` on `batch` on the CPU reference (float64, or float32 mode), in the worker where possible. */
export function cpuRun(model: Model, batch: Batch, opts: RunOptions, precision: 'f64' | 'f32' = 'f64'): Promise<Result> {
  const w = getWorker();
  if (!w) {
    let e = local.get(precision);
    if (!e) local.set(precision, (e = Engine.create({ backend: 'cpu', cpuPrecision: precision })));
    return e.then((engine) => engine.run(model, batch, opts));
  }
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    w.postMessage({ id, precision, model, batch, opts });
  });
}
