// The WebGPU backend: hands each run to a kernel strategy (src/gpu/strategies/), the one asked for or `auto`'s
// choice from the shape and the adapter's limits. The device, the buffer pool (per role, reused by calls of the
// same size), the memory budget, error scopes and the serial queue belong to its GpuRuntime (src/gpu/runtime.ts),
// which training, loss evaluation and the studies share.

import type { Backend, RawResult, RunOptions } from '../backend.ts';
import { maxLength, type Batch } from '../batch.ts';
import { GpuError } from '../errors.ts';
import type { Model } from '../model.ts';
import { acquireDevice, describeAdapter, type GpuContext } from './device.ts';
import { GpuRuntime } from './runtime.ts';
import { GpuTimer } from './timing.ts';
import { pipelineStats } from './kernel.ts';
import type { AdapterChoice } from './tuning.ts';
import type { GemmTile } from './kernels/gemm.ts';
import { chooseStrategy } from './strategies/index.ts';
import { tuningFor } from './tuning.ts';
import type { StrategyName } from './strategy.ts';

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
  /** The kernel strategy that ran (see src/gpu/strategies/). */
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

export { DEFAULT_BUDGET } from './runtime.ts';

export class GpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly adapter: string;
  readonly device: GPUDevice;
  /** Statistics of the last run. */
  lastRun: RunStats | null = null;
  /** Device, pool, budget, read-back, error scopes and the serial queue, shared with training and the studies. */
  readonly runtime: GpuRuntime;

  private constructor(
    ctx: GpuContext,
    private readonly opts: GpuOptions,
    ownsDevice: boolean,
  ) {
    this.runtime = new GpuRuntime(ctx, { memoryBudget: opts.memoryBudget, ownsDevice, gpu: opts });
    this.device = ctx.device;
    this.adapter = ctx.description;
  }

  static async create(opts: GpuOptions = {}): Promise<GpuBackend> {
    if (opts.device) {
      const d = opts.device;
      const info = d.adapterInfo;
      const ctx: GpuContext = {
        device: d,
        description: describeAdapter(info),
        hasTimestamps: d.features.has('timestamp-query'),
      };
      return new GpuBackend(ctx, opts, false);
    }
    return new GpuBackend(await acquireDevice(opts.adapter), opts, true);
  }

  get hasTimestamps(): boolean {
    return this.runtime.hasTimestamps;
  }

  /** Runs are queued on the runtime: one call at a time on the device, engine runs and training alike. */
  run(model: Model, batch: Batch, opts: RunOptions): Promise<RawResult> {
    return this.runtime
      .enqueue('webgpu-rnn run', () => this.runScoped(model, batch, opts))
      .catch((e: unknown) => {
        this.lastRun = null;
        throw e;
      });
  }

  private async runScoped(model: Model, batch: Batch, opts: RunOptions): Promise<RawResult> {
    const hasTargets = batch.targets !== null;
    const gradients = !!opts.gradients; // the engine has checked that gradients come with targets
    const outputs = !!opts.outputs;
    if (!hasTargets && !outputs) return { loss: null, grads: null, outputs: null, overflowed: 0 };
    const shape = {
      cell: model.cell,
      inputSize: model.inputSize,
      hiddenSize: model.hiddenSize,
      outputSize: model.outputSize,
      maxSteps: maxLength(batch),
      count: batch.count,
      gradients,
      truncation: opts.truncation,
    };
    const limits = this.device.limits;
    const strategy = chooseStrategy(opts.strategy, shape, limits, tuningFor(this.device));
    // Buffers of another strategy (or of training) would only inflate the memory held: start afresh on a change.
    const pool = this.runtime.claim(`run ${strategy.name}`);
    const timer = this.opts.timestamps ? GpuTimer.create(this.device, 4096) : null;
    const pipelineMsBefore = pipelineStats(this.device).milliseconds;
    const ctx = this.runtime.context(pool, timer);
    const job = {
      model,
      batch,
      gradients,
      outputs,
      hasTargets,
      truncation: opts.truncation,
      clipNorm: opts.clipNorm,
      onProgress: opts.onProgress,
    };
    // A failed run never reaches timer.read(), which frees the timer otherwise.
    const r = await strategy.run(ctx, job).catch((e: unknown) => {
      timer?.destroy();
      throw e;
    });
    this.lastRun = {
      strategy: strategy.name,
      chunks: r.chunks,
      sequencesPerChunk: r.sequencesPerChunk,
      peakBytes: pool.peakBytes(),
      pipelineMilliseconds: pipelineStats(this.device).milliseconds - pipelineMsBefore,
      ...(r.checkpointEvery !== undefined ? { checkpointEvery: r.checkpointEvery } : {}),
    };
    if (timer) this.lastRun.gpuNanoseconds = await timer.read();
    if (r.raw.grads && r.raw.gradNorm === undefined) {
      throw new GpuError(
        `strategy ${strategy.name} returned gradients without their norm: finish with runResult (src/gpu/sums.ts), which measures and clips them`,
      );
    }
    return r.raw;
  }

  dispose(): void {
    this.runtime.dispose();
  }
}
