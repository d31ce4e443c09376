// The interface every GPU kernel strategy implements (src/gpu/strategies/*.ts): whether it can serve a shape on
// this device, and how to run a batch. The runtime (src/gpu/runtime.ts) owns the device, pool and error scopes and
// hands a strategy its StrategyContext; the backend (src/gpu/backend.ts) picks the strategy.

import type { RawResult } from '../backend.ts';
import type { Batch } from '../batch.ts';
import type { CellName } from '../cells/index.ts';
import type { Model } from '../model.ts';
import type { StrategyContext } from './runtime.ts';
import type { StrategyName } from './types.ts';

export { STRATEGY_CHOICES, type StrategyChoice, type StrategyName } from './types.ts';
export type { StrategyContext } from './runtime.ts';

/** What a strategy needs to know to say whether it can serve a run. */
export interface StrategyShape {
  /** The model's recurrent cell (absent = elman). */
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
