// The GPU layer's shared vocabulary, below every other GPU module: the options a caller gives (GpuOptions, with the
// gemm tile), the kernel strategies' names and the statistics of a run. Types and one constant only; it imports
// nothing but the adapter names (tuning.ts), so the contract in src/backend.ts, the runtime, the strategies and the
// backend all take these from here without importing each other. Re-exported where they were first declared
// (src/gpu/backend.ts, src/gpu/strategy.ts, src/gpu/gemm/kernels.ts).

import type { AdapterChoice } from './tuning.ts';

export type StrategyName = 'per-sequence' | 'gemm' | 'rtrl';
export type StrategyChoice = StrategyName | 'auto';
export const STRATEGY_CHOICES: readonly StrategyChoice[] = ['auto', 'per-sequence', 'gemm', 'rtrl'];

/** A workgroup of tx×ty invocations computes (ty·rm) × (tx·rn) outputs, K in steps of bk. rm, rn ≤ 8. */
export interface GemmTile {
  tx: number;
  ty: number;
  rm: number;
  rn: number;
  bk: number;
}

export interface GpuOptions {
  /**
   * Which adapter (Node): `auto` (default: a hardware GPU, else the faster software driver), `hardware`,
   * `swiftshader` or `lavapipe`. Unset: the WEBGPU_RNN_ADAPTER environment variable, else `auto`. See docs/adapters.md.
   */
  adapter?: AdapterChoice;
  /** Use this device instead of requesting one (the caller keeps ownership: dispose() will not destroy it). */
  device?: GPUDevice;
  /**
   * Upper bound for the bytes of all per-chunk buffers of one call: an engine run, or one chunk of models in
   * training and loss evaluation. Default: 512 MiB or the device's maxBufferSize, whichever is smaller. The gemm
   * strategy stores every k-th hidden state (checkpointing) to stay under it; training splits the population.
   */
  memoryBudget?: number;
  /** Sequences per workgroup of the RNN kernel (default 64). */
  workgroupSize?: number;
  /** Unroll the RNN kernel's loops over H, I and O (default true): much faster per step, slower to compile. */
  unroll?: boolean;
  /** Invocations per reduction workgroup, a power of two (default 64). */
  reduceWorkgroupSize?: number;
  /** Columns each reduction invocation adds before the tree (default 64). */
  reducePerThread?: number;
  /** gemm strategy: one tile for every product instead of the per-shape default (tests, benchmarks). */
  gemmTile?: GemmTile;
  /**
   * gemm strategy: stage operand tiles in workgroup memory. Default: true on hardware, false on the software adapters
   * (SwiftShader, lavapipe: CPU drivers, where workgroup barriers are costly and the CPU caches stage the operands
   * anyway; src/gpu/tuning.ts). Same values either way (an exact zero may differ in sign).
   */
  gemmShared?: boolean;
  /** gemm strategy, BPTT: store every k-th hidden state and recompute the rest, whatever the budget (tests, benchmarks). */
  checkpointEvery?: number;
  /** Time the run's compute passes with 'timestamp-query' when the device has it (RunStats.gpuNanoseconds). */
  timestamps?: boolean;
}

export interface RunStats {
  /** The kernel strategy that ran (see src/gpu/registry.ts). */
  strategy: StrategyName;
  chunks: number;
  sequencesPerChunk: number;
  /** The most bytes of GPU buffers this engine held at once during the run (pooled buffers included). */
  peakBytes: number;
  /** BPTT: steps between stored hidden states (the longest sequence when every state is stored); absent without gradients. */
  checkpointEvery?: number;
  /** With GpuOptions.timestamps: summed duration of the run's compute passes (ns); null when it could not be timed. */
  gpuNanoseconds?: number | null;
  /** Wall milliseconds spent creating compute pipelines during the run (0 when every pipeline was cached). */
  pipelineMilliseconds?: number;
}
