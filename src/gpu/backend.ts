// WebGPU backend (work in progress: being written now).
import type { Backend, RunOptions, RawResult } from '../backend.ts';
import type { Batch } from '../batch.ts';
import type { Model } from '../model.ts';
import { GpuError } from '../errors.ts';

export interface GpuOptions {
  device?: GPUDevice;
  memoryBudget?: number;
}

export class GpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly adapter = '';
  static async create(_opts: GpuOptions = {}): Promise<GpuBackend> {
    throw new GpuError('WebGPU backend not written yet');
  }
  async run(_m: Model, _b: Batch, _o: RunOptions): Promise<RawResult> {
    throw new GpuError('not yet');
  }
  dispose(): void {}
}
