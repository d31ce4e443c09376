// The WebGPU backend: hands each run to a kernel strategy (each family's strategy.ts: src/gpu/per-sequence/, gemm/, rtrl/), the one asked for or `auto`'s
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
import { chooseStrategy } from './registry.ts';
import { tuningFor } from './tuning.ts';
import type { GpuOptions, RunStats } from './types.ts';

export type { GpuOptions, RunStats } from './types.ts';

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
      numLayers: model.numLayers,
      bidirectional: model.bidirectional,
      carriedStates: batch.initialStates !== undefined || opts.finalStates === true,
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
      finalStates: opts.finalStates,
      dropout: opts.dropout,
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
        `strategy ${strategy.name} returned gradients without their norm: finish with runResult (src/gpu/reduce/sums.ts), which measures and clips them`,
      );
    }
    return r.raw;
  }

  dispose(): void {
    this.runtime.dispose();
  }
}
