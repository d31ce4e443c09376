// The interface every GPU kernel strategy implements (src/gpu/<family>/strategy.ts): whether it can serve a shape on
// this device, and how to run a batch. The runtime (src/gpu/runtime.ts) owns the device, pool and error scopes and
// hands a strategy its StrategyContext; the backend (src/gpu/backend.ts) picks the strategy.

import type { Dropout } from '../dropout.ts';
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
  /** Stacked layers (absent: 1). */
  numLayers?: number;
  /** Both directions in every layer. */
  bidirectional?: boolean;
  /** The batch carries initial states, or the run returns final states. */
  carriedStates?: boolean;
}

/**
 * Why a strategy that runs one layer in one direction from the model's h0 cannot serve a shape (null when it can):
 * stacked and bidirectional networks and carried states run on the per-sequence strategy's layered kernels and on
 * gemm's.
 */
export function oneLayerOnly(s: StrategyShape): string | null {
  if ((s.numLayers ?? 1) > 1)
    return `it runs one layer, and this model has numLayers ${s.numLayers} (stacked networks run on the per-sequence and gemm strategies)`;
  if (s.bidirectional)
    return 'it runs one direction, and this model is bidirectional (use the per-sequence or gemm strategy)';
  if (s.carriedStates)
    return "it starts from the model's h0 and returns no final states (carried states use the per-sequence or gemm strategy)";
  return null;
}

export interface StrategyRequest {
  model: Model;
  batch: Batch;
  gradients: boolean;
  outputs: boolean;
  hasTargets: boolean;
  truncation?: number;
  /** Return each sequence's final states (RunOptions.finalStates). */
  finalStates?: boolean;
  /** Inter-layer dropout (RunOptions.dropout); only the layered kernels apply it. */
  dropout?: Dropout;
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

/** The sizes a strategy's training program needs to know (training starts every sequence from the model's h0). */
export type TrainingShape = Pick<
  StrategyShape,
  'cell' | 'inputSize' | 'hiddenSize' | 'outputSize' | 'numLayers' | 'bidirectional'
>;

/**
 * Which shapes a strategy's fused training program serves (the loop and the programs are src/train's, registered
 * there by strategy name; src/gpu/registry.ts lists which strategy has one).
 */
export interface TrainingSupport {
  /** null when the program can train the shape on a device with these limits, else the reason it cannot. */
  supports(shape: TrainingShape, limits: GPUSupportedLimits): string | null;
}

export interface Strategy {
  readonly name: StrategyName;
  /** null when the strategy can serve the shape on a device with these limits, else the reason it cannot. */
  supports(shape: StrategyShape, limits: GPUSupportedLimits): string | null;
  run(ctx: StrategyContext, req: StrategyRequest): Promise<StrategyResult>;
}
