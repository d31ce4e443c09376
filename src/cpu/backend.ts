// The CPU backend: wraps the float64 (or float32-rounded) reference so the engine can use it as a fallback, and
// measures (and clips) the gradient's global norm in float64.

import type { Backend, RunOptions } from '../backend.ts';
import type { Batch } from '../batch.ts';
import type { Model } from '../model.ts';
import { clipByGlobalNorm } from './clip.ts';
import { cpuRun, type Precision, type RawResult } from './reference.ts';

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly adapter: string;
  constructor(readonly precision: Precision = 'f64') {
    this.adapter = `cpu (${precision === 'f64' ? 'float64' : 'float32-rounded'} reference)`;
  }
  // async: a bad batch or a non-finite run rejects the promise, as on the GPU backend, rather than throwing at the call.
  // eslint-disable-next-line @typescript-eslint/require-await -- the CPU reference is synchronous
  async run(model: Model, batch: Batch, opts: RunOptions): Promise<RawResult> {
    const r = cpuRun(model, batch, { ...opts, precision: this.precision });
    if (r.grads) {
      const { norm, clipped } = clipByGlobalNorm(r.grads, opts.clipNorm);
      r.gradNorm = norm;
      r.clipped = clipped;
    }
    return r;
  }
  dispose(): void {}
}
