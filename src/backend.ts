// The contract between the public engine (src/engine.ts) and its backends (src/cpu/backend.ts, src/gpu/backend.ts).
// It sits below both backends: the GPU names it uses (strategies, run statistics) come from src/gpu/types.ts.

import type { Dropout } from './dropout.ts';
import type { Batch } from './batch.ts';
import type { RawResult } from './cpu/reference.ts';
import type { Model } from './model.ts';
import type { RunStats, StrategyChoice } from './gpu/types.ts';

export type { RawResult };

/** The backend that ran: WebGPU compute shaders, or the CPU reference. */
export type BackendName = 'webgpu' | 'cpu';
/** The backend asked for: `auto` takes WebGPU when an adapter exists, else the CPU reference. */
export type BackendChoice = BackendName | 'auto';

/** Options of {@link Engine.run}: what to compute, and how on WebGPU. */
export interface RunOptions {
  /** Compute dSSR/dθ summed over all sequences (needs targets). Default true when the batch has targets. */
  gradients?: boolean;
  /** Return the predictions. Default false. */
  outputs?: boolean;
  /**
   * Truncated BPTT window k, an integer ≥ 1 (absent: full BPTT). The hidden state is detached every k steps: with
   * 0-based step t within each sequence, the gradient does not flow from step t into h_{t−1} when t is a positive
   * multiple of k. Loss and outputs are unchanged; k ≥ the sequence length equals full BPTT.
   */
  truncation?: number;
  /**
   * Clip the gradient by global norm: when ‖dSSR/dθ‖₂ (all parameters together) exceeds clipNorm (finite, > 0),
   * scale the whole gradient by clipNorm/‖dSSR/dθ‖₂. The result reports the norm before clipping either way.
   */
  clipNorm?: number;
  /** Progress on long work: sequences done out of total. */
  onProgress?: (done: number, total: number) => void;
  /**
   * WebGPU kernel strategy (see docs/architecture.md, "Kernel strategies"): `auto` (default) picks from the shape and
   * the adapter's limits; naming one that cannot serve the run is an InputError that says why. The CPU ignores it.
   */
  strategy?: StrategyChoice;
  /**
   * Return each sequence's final states (`Result.finalStates`: h, and c for the LSTM, every layer and direction),
   * to carry into a later run as `Batch.initialStates`.
   */
  finalStates?: boolean;
  /**
   * Inter-layer dropout of a stacked model (PyTorch's `dropout`, for training): the inputs of every layer above the
   * first are zeroed with probability p and the rest scaled by 1/(1 − p), by a mask that depends only on the seed,
   * the layer, the sequence's index, the step and the unit (src/dropout.ts), the same on both backends. Ignored by
   * models with one layer.
   */
  dropout?: Dropout;
}

export interface Backend {
  readonly name: BackendName;
  /** Adapter description, e.g. `google swiftshader (SwiftShader driver 5.0.0)`, or `cpu (float64 reference)`. */
  readonly adapter: string;
  /** Runs one batch. Inputs are already validated against the model by the engine. */
  run(model: Model, batch: Batch, opts: RunOptions): Promise<RawResult>;
  /** The WebGPU device, for backends that have one. */
  readonly device?: GPUDevice;
  /** Chunking and memory figures of the last run, for backends that plan memory. */
  readonly lastRun?: RunStats | null;
  /** Frees every resource the backend holds. */
  dispose(): void;
}
