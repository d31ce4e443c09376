// The GPU runtime an engine owns and shares with everything it runs on the GPU (engine runs, training, loss
// evaluation, landscapes, the unroll study): the device and its lost-state, the buffer pool with its peak
// accounting, the memory budget, read-back, error scopes, and one serial queue per device, so that calls of every
// kind on one device run one at a time, in the order they were made.

import { GpuError } from '../errors.ts';
import { withErrorScopes, type GpuContext } from './device.ts';
import { BufferPool, BufferUsage } from './pool.ts';
import type { GpuTimer } from './timing.ts';
import type { GpuOptions } from './types.ts';

const { MAP_READ, COPY_DST } = BufferUsage;

/** Default memory budget: this much, or the device's maxBufferSize when that is smaller. */
export const DEFAULT_BUDGET = 512 * 1024 * 1024;

/** Chunking and memory figures of the last training or loss-evaluation call (Engine.lastTrainStats). */
export interface TrainStats {
  kind: 'train' | 'losses';
  /** Models in the call, and the chunks of models it ran in (more when the memory budget is small). */
  models: number;
  chunks: number;
  modelsPerChunk: number;
  /** The most bytes of GPU buffers the engine's pool held at once during the call. */
  peakBytes: number;
}

/** What a kernel strategy (src/gpu/strategy.ts) runs with: from {@link GpuRuntime.context}. */
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

export interface RuntimeOptions {
  /** Bytes of GPU buffers one call's chunk may hold (GpuOptions.memoryBudget). */
  memoryBudget?: number;
  /** Whether dispose() destroys the device (false when the caller passed its own). */
  ownsDevice: boolean;
  /** The engine's GPU options (tiles, checkpointing, reduction sizes), for training's kernels too. */
  gpu?: GpuOptions;
}

/** The tail of the serial queue of each device: every runtime on a device chains its calls here. */
const queues = new WeakMap<GPUDevice, { tail: Promise<unknown> }>();

/**
 * Copies each [buffer, bytes] into one pooled read-back buffer after the work recorded in `enc` (with a timer,
 * after resolving its queries), submits `enc` and returns the bytes, in order. Every size must be a multiple of 4.
 */
export async function readBuffers(
  device: GPUDevice,
  pool: BufferPool,
  enc: GPUCommandEncoder,
  srcs: [GPUBuffer, number][],
  timer: GpuTimer | null = null,
): Promise<ArrayBuffer> {
  const bytes = srcs.reduce((s, [, b]) => s + b, 0);
  const read = pool.get('readback', bytes, MAP_READ | COPY_DST);
  let at = 0;
  for (const [src, b] of srcs) {
    enc.copyBufferToBuffer(src, 0, read, at, b);
    at += b;
  }
  timer?.finish(enc);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(MAP_READ, 0, Math.max(4, bytes));
  const out = read.getMappedRange(0, Math.max(4, bytes)).slice(0, bytes);
  read.unmap();
  return out;
}

export class GpuRuntime {
  readonly device: GPUDevice;
  /** e.g. `google swiftshader (SwiftShader driver 5.0.0)` */
  readonly adapter: string;
  readonly hasTimestamps: boolean;
  readonly pool: BufferPool;
  /** Bytes all chunk buffers of one call may take together (GpuOptions.memoryBudget or the default). */
  readonly budgetBytes: number;
  /** The largest buffer a binding may have: min(maxStorageBufferBindingSize, maxBufferSize). */
  readonly maxBindingBytes: number;
  /** The engine's GPU options, which training's kernels follow as engine runs do. */
  readonly options: GpuOptions;
  /** Figures of the last training or loss-evaluation call on this runtime. */
  lastTrain: TrainStats | null = null;
  private lost: string | null = null;
  private disposed = false;
  /** Who filled the pool last (a strategy, training, …): another user starts from an empty pool. */
  private owner: string | null = null;
  private readonly ownsDevice: boolean;

  constructor(ctx: GpuContext, opts: RuntimeOptions) {
    this.device = ctx.device;
    this.adapter = ctx.description;
    this.hasTimestamps = ctx.hasTimestamps;
    this.ownsDevice = opts.ownsDevice;
    this.options = opts.gpu ?? {};
    this.pool = new BufferPool(this.device);
    const limits = this.device.limits;
    this.budgetBytes = opts.memoryBudget ?? Math.min(DEFAULT_BUDGET, limits.maxBufferSize);
    this.maxBindingBytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    void this.device.lost.then((info) => {
      if (!this.disposed) this.lost = `${info.reason}: ${info.message}`;
    });
  }

  /**
   * Runs `work` on the device's serial queue, after every call queued before it on this device (by this runtime or
   * another one on the same device), inside validation, out-of-memory and internal error scopes. `work` must not
   * wait for another queued call (that would wait forever). A failure empties the pool (its buffers may be invalid,
   * e.g. after out-of-memory) and names a lost device plainly.
   */
  enqueue<T>(what: string, work: () => Promise<T>): Promise<T> {
    let q = queues.get(this.device);
    if (!q) queues.set(this.device, (q = { tail: Promise.resolve() }));
    const next = q.tail.then(() => this.runNow(what, work));
    q.tail = next.catch(() => undefined);
    return next;
  }

  private async runNow<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.disposed) throw new GpuError('this engine was disposed');
    if (this.lost) throw new GpuError(`the WebGPU device was lost (${this.lost}); create a new engine`);
    try {
      return await withErrorScopes(this.device, what, work);
    } catch (e) {
      this.pool.destroy();
      this.owner = null;
      // A lost device shows up as failed mappings or scopes; say so plainly.
      await Promise.resolve();
      if (this.lost)
        throw new GpuError(`the WebGPU device was lost during the ${what.replace(/^webgpu-rnn /, '')} (${this.lost})`);
      throw e;
    }
  }

  /**
   * Takes the pool for `owner` (e.g. `run gemm`, `train`): when someone else filled it last, its buffers are freed
   * first, so the pool never holds more than one user's working set. Call inside enqueued work. Returns the pool
   * with its high-water mark restarted.
   */
  claim(owner: string): BufferPool {
    if (this.owner !== owner) this.pool.destroy();
    this.owner = owner;
    this.pool.resetPeak();
    return this.pool;
  }

  /** Forgets the pool's owner and frees its buffers (the next claim starts afresh). */
  release(): void {
    this.pool.destroy();
    this.owner = null;
  }

  /** What a strategy runs with on this runtime: its device, `pool` (from `claim`), options, budget and binding limit. */
  context(pool: BufferPool, timer: GpuTimer | null = null): StrategyContext {
    return {
      device: this.device,
      pool,
      opts: this.options,
      budgetBytes: this.budgetBytes,
      maxBindingBytes: this.maxBindingBytes,
      timer,
    };
  }

  /** readBuffers on this runtime's device and pool. */
  readBack(enc: GPUCommandEncoder, srcs: [GPUBuffer, number][], timer: GpuTimer | null = null): Promise<ArrayBuffer> {
    return readBuffers(this.device, this.pool, enc, srcs, timer);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the pool; destroys the device when the runtime acquired it. Queued calls still pending then fail. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.destroy();
    if (this.ownsDevice) this.device.destroy();
  }
}
