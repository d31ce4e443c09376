// The interface every GPU kernel strategy implements (src/gpu/strategies/*.ts): whether it can serve a shape on
// this device, and how to run a batch. The backend (src/gpu/backend.ts) owns the device, pool and error scopes.

import type { RawResult } from '../backend.ts';
import type { Batch } from '../batch.ts';
import type { CellName } from '../cells/index.ts';
import type { Model } from '../model.ts';
import type { GpuOptions } from './backend.ts';
import type { BufferPool } from './pool.ts';
import type { GpuTimer } from './timing.ts';

export type StrategyName = 'per-sequence' | 'gemm' | 'rtrl';
export type StrategyChoice = StrategyName | 'auto';
export const STRATEGY_CHOICES: readonly StrategyChoice[] = ['auto', 'per-sequence', 'gemm', 'rtrl'];

/** What a strategy needs to know to say whether it can serve a run. */
export interface StrategyShape {
  /** The recurrent cell (default elman). */
  cell?: CellName;
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  /** Longest sequence of the batch. */
  maxSteps: number;
  count: number;
  gradients: boolean;
  /** Truncated BPTT window (RunOptions.truncation), if any. */
  truncation?: number;
}

export interface StrategyRequest {
  model: Model;
  batch: Batch;
  gradients: boolean;
  outputs: boolean;
  hasTargets: boolean;
  truncation?: number;
  /** RunOptions.clipNorm: measure the gradients' global norm on the GPU and clip to it (see runResult in sums.ts). */
  clipNorm?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface StrategyContext {
  device: GPUDevice;
  pool: BufferPool;
  opts: GpuOptions;
  /** Bytes all chunk buffers of one run may take together (GpuOptions.memoryBudget or the default). */
  budgetBytes: number;
  /** The largest buffer a binding may have: min(maxStorageBufferBindingSize, maxBufferSize). */
  maxBindingBytes: number;
  /** With GpuOptions.timestamps: spread `timer?.pass()` into every compute pass descriptor, and call `finish` on the last encoder. */
  timer: GpuTimer | null;
}

export interface StrategyResult {
  raw: RawResult;
  chunks: number;
  sequencesPerChunk: number;
  /** Steps between stored hidden states in BPTT (= the longest sequence when every state is stored). */
  checkpointEvery?: number;
}

export interface Strategy {
  readonly name: StrategyName;
  /** null when the strategy can serve the shape on a device with these limits, else the reason it cannot. */
  supports(shape: StrategyShape, limits: GPUSupportedLimits): string | null;
  run(ctx: StrategyContext, req: StrategyRequest): Promise<StrategyResult>;
}
