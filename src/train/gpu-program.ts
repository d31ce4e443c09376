// The training program interface: what a GPU strategy supplies to the one training loop (src/train/gpu.ts). The
// loop owns the chunks of models, the per-step uniform table, the submits, the optimizer (shaders/optimizer/optimizer.wgsl)
// with its moments, status, records and read-back, abort and progress; a program owns the weights and whatever its
// forward + BPTT kernels need, and records each step's gradient sums for the optimizer to read. Programs:
// per-sequence (src/train/gpu-per-sequence.ts) and gemm (src/train/gpu-gemm.ts), registered by strategy name in
// src/train/index.ts.

import type { Batch } from '../batch.ts';
import { GpuError } from '../errors.ts';
import type { ParallelModel } from '../gpu/optimizer/kernel.ts';
import type { BufferPool } from '../gpu/pool.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import type { Model } from '../model.ts';
import type { CoreExtras } from './cpu.ts';
import type { ResolvedOptions } from './options.ts';

/** Bytes a chunk's budget sets aside for the 16-byte rounding of its buffers and the small uniforms. */
export const FIXED_SLACK = 1024;

/** One training call, as the loop hands it to a program. */
export interface TrainRun {
  models: Model[];
  sets: Batch[];
  shared: boolean;
  o: ResolvedOptions;
  x: CoreExtras;
  /** Longest sequence of the data sets. */
  T: number;
  /** Steps per submit (the step table's records). */
  L: number;
  /** Record slots one submit's records hold. */
  segSlots: number;
  /** Bytes between the step table's records. */
  stride: number;
}

/** The loop's buffers a program's kernels read. */
export interface LoopBuffers {
  /** Per model: 0 training, 1 converged, 2 diverged. */
  status: GPUBuffer;
  /** The per-step uniform table: record l (at l·stride) is step k0 + l of the submit. */
  steps: GPUBuffer;
}

/** The gradient sums one step leaves for the optimizer. */
export interface StepSums {
  /** Per-model sums (main) or the loss per output unit and the overflow count (the parallel entry points). */
  sums: GPUBuffer;
  /** The gradient (the parallel entry points; main reads it from `sums`). */
  grads: GPUBuffer;
}

/** Records the optimizer step of step table record `l` into `pass`, reading `g`. */
export type Optimize = (pass: GPUComputePassEncoder, l: number, g: StepSums) => void;

/** A chunk of models, ready to train. */
export interface ProgramChunk {
  /** Model m's parameters at [m·NWEIGHTS, +P), then its initial state (and whatever else the program keeps there). */
  weights: GPUBuffer;
  /** Steps per submit, at most the run's L. */
  steps: number;
  /** The parallel optimizer's model (where the weights hold the transposed copies), for update 'params'. */
  parallel?: ParallelModel;
  /**
   * Records steps k0 … k0 + n − 1 (table records 0 … n − 1; `picks`: the mini-batch draws of those steps, S each, or
   * null), each followed by `optimize`, and returns the encoder the loop reads back from (a program may submit
   * before it, in queue order).
   */
  encodeSteps(k0: number, n: number, picks: Uint32Array | null, optimize: Optimize): GPUCommandEncoder;
}

/** A program's state for one training call. */
export interface ProgramRun {
  /** Models per chunk. */
  modelsPerChunk: number;
  /** Buffers and kernels of models [m0, m0 + models.length) on `sets` (theirs, or the shared one). */
  chunk(pool: BufferPool, models: Model[], sets: Batch[], m0: number, loop: LoopBuffers): Promise<ProgramChunk>;
  /** Called when the call ends (its caches may go). */
  end?(): void;
}

export interface TrainProgram {
  /** The strategy it belongs to (src/gpu/registry.ts). */
  readonly name: string;
  /** Most steps one submit records. */
  readonly maxStepsPerSubmit: number;
  /** The optimizer's dispatch: one invocation per model ('models'), or one model parallel over its parameters. */
  readonly update: 'models' | 'params';
  /** The pool owner's name (src/gpu/runtime.ts claim). */
  readonly owner: string;
  /** Checks the run (InputError naming the field) and gives its state. */
  begin(rt: GpuRuntime, run: TrainRun): ProgramRun;
  /** The SSR of every weight set on its data set (GpuTrainer.losses), where the program evaluates losses itself. */
  losses?(
    rt: GpuRuntime,
    base: Model,
    params: Float64Array,
    sets: Batch[],
    h0s: Float64Array[] | null,
    c0s: (Float64Array | undefined)[] | null,
  ): Promise<Float64Array>;
}

/**
 * Models per chunk: per-model buffer bytes `largest` (the largest single buffer) and `total` (all), plus `fixed`
 * bytes whatever the chunk, within the runtime's budget and binding limit.
 */
export function modelsPerChunk(rt: GpuRuntime, what: string, largest: number, total: number, fixed: number): number {
  const budget = rt.budgetBytes;
  const maxBinding = rt.maxBindingBytes;
  const byBinding = Math.floor(maxBinding / Math.max(1, largest));
  const byBudget = Math.floor((budget - fixed) / Math.max(1, total));
  const n = Math.min(byBinding, byBudget);
  if (n < 1) {
    throw new GpuError(
      `${what}: one model needs ${largest} bytes in one buffer (${Math.ceil(total)} in all, plus ${Math.ceil(fixed)} per chunk), beyond this adapter's binding limit (${maxBinding}) or the ${budget}-byte memory budget; raise the budget, use fewer steps per read-back or the CPU backend`,
    );
  }
  return n;
}
