// The WebGPU backend: plans chunks under the device limits, packs each chunk time-major, records the RNN kernel
// and the first reduction level into one command encoder per chunk, then sums the per-chunk partials in fixed
// order and reads back SSR, the overflow count and gradients. Buffers are pooled per role and reused by calls of the same size.

import type { Backend, RawResult, RunOptions } from '../backend.ts';
import { outputCount, type Batch } from '../batch.ts';
import { GpuError } from '../errors.ts';
import type { Model } from '../model.ts';
import { acquireDevice, describeAdapter, withErrorScopes, type GpuContext } from './device.ts';
import { ReduceKernel } from './kernels/reduce.ts';
import { RnnKernel } from './kernels/rnn.ts';
import { packInputs, packTargets, unpackOutputs } from './packing.ts';
import { planChunks, type Plan } from './plan.ts';
import { GpuTimer } from './timing.ts';
import { truncationUniform } from './truncation.ts';

export interface GpuOptions {
  /** Use this device instead of requesting one (the caller keeps ownership: dispose() will not destroy it). */
  device?: GPUDevice;
  /** Upper bound for the bytes of all per-chunk buffers of one run. Default: 512 MiB or the device's maxBufferSize. */
  memoryBudget?: number;
  /** Sequences per workgroup of the RNN kernel (default 64). */
  workgroupSize?: number;
  /** Unroll the RNN kernel's loops over H, I and O (default true): much faster per step, slower to compile. */
  unroll?: boolean;
  /** Invocations per reduction workgroup, a power of two (default 64). */
  reduceWorkgroupSize?: number;
  /** Columns each reduction invocation adds before the tree (default 64). */
  reducePerThread?: number;
  /** Time the run's compute passes with 'timestamp-query' when the device has it (RunStats.gpuNanoseconds). */
  timestamps?: boolean;
}

export interface RunStats {
  chunks: number;
  sequencesPerChunk: number;
  /** Bytes of all GPU buffers the engine held at the end of the run. */
  peakBytes: number;
  /** With GpuOptions.timestamps: summed duration of the run's compute passes (ns); null when it could not be timed. */
  gpuNanoseconds?: number | null;
}

const DEFAULT_BUDGET = 512 * 1024 * 1024;
const { STORAGE, COPY_DST, COPY_SRC, MAP_READ, UNIFORM } = {
  STORAGE: 0x80,
  COPY_DST: 0x8,
  COPY_SRC: 0x4,
  MAP_READ: 0x1,
  UNIFORM: 0x40,
}; // GPUBufferUsage values, spelled out so this module loads before the globals exist.

/** Buffers by role, grown when a call needs more and reused otherwise. */
class BufferPool {
  private readonly buffers = new Map<string, GPUBuffer>();
  constructor(private readonly device: GPUDevice) {}

  get(role: string, bytes: number, usage: number): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const old = this.buffers.get(role);
    if (old && old.size >= size && old.usage === usage) return old;
    old?.destroy();
    const buf = this.device.createBuffer({ label: `webgpu-rnn ${role}`, size, usage });
    this.buffers.set(role, buf);
    return buf;
  }

  bytes(): number {
    let total = 0;
    for (const b of this.buffers.values()) total += b.size;
    return total;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }
}

export class GpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly adapter: string;
  readonly device: GPUDevice;
  /** Statistics of the last run. */
  lastRun: RunStats | null = null;
  private readonly pool: BufferPool;
  private lost: string | null = null;
  private disposed = false;
  /** Runs are serialized: error scopes and pooled buffers belong to one run at a time. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly ctx: GpuContext,
    private readonly opts: GpuOptions,
    private readonly ownsDevice: boolean,
  ) {
    this.device = ctx.device;
    this.adapter = ctx.description;
    this.pool = new BufferPool(this.device);
    this.device.lost.then((info) => {
      if (!this.disposed) this.lost = `${info.reason}: ${info.message}`;
    });
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
    return new GpuBackend(await acquireDevice(), opts, true);
  }

  get hasTimestamps(): boolean {
    return this.ctx.hasTimestamps;
  }

  run(model: Model, batch: Batch, opts: RunOptions): Promise<RawResult> {
    const next = this.tail.then(() => this.runNow(model, batch, opts));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async runNow(model: Model, batch: Batch, opts: RunOptions): Promise<RawResult> {
    if (this.disposed) throw new GpuError('this engine was disposed');
    if (this.lost) throw new GpuError(`the WebGPU device was lost (${this.lost}); create a new engine`);
    try {
      return await withErrorScopes(this.device, 'webgpu-rnn run', () => this.runScoped(model, batch, opts));
    } catch (e) {
      // A failed run may leave invalid buffers (e.g. after out-of-memory) in the pool: start the next run afresh.
      this.pool.destroy();
      this.lastRun = null;
      // A lost device shows up as failed mappings or scopes; say so plainly.
      await Promise.resolve();
      if (this.lost) throw new GpuError(`the WebGPU device was lost during the run (${this.lost})`);
      throw e;
    }
  }

  private async runScoped(model: Model, batch: Batch, opts: RunOptions): Promise<RawResult> {
    const device = this.device;
    const hasTargets = batch.targets !== null;
    const gradients = !!opts.gradients; // the engine has checked that gradients come with targets
    const outputs = !!opts.outputs;
    const O = model.outputSize;
    const outAll = model.output === 'all';
    if (!hasTargets && !outputs) return { loss: null, grads: null, outputs: null, overflowed: 0 };

    const rnn = new RnnKernel(device, {
      inputSize: model.inputSize,
      hiddenSize: model.hiddenSize,
      outputSize: O,
      mode: gradients ? 'bptt' : 'forward',
      activation: model.activation,
      outAll,
      writeY: outputs,
      hasTargets,
      workgroupSize: this.opts.workgroupSize ?? 64,
      unroll: this.opts.unroll,
    });
    const reduce = new ReduceKernel(device, this.opts.reduceWorkgroupSize, this.opts.reducePerThread);
    const R = rnn.rows;
    const maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const plan: Plan = planChunks({
      lengths: batch.lengths,
      inputSize: model.inputSize,
      hiddenSize: model.hiddenSize,
      outputSize: O,
      storeStates: gradients,
      outAll,
      hasTargets,
      outputs,
      rows: R,
      reduceSpan: reduce.span,
      maxBindingBytes: maxBinding,
      budgetBytes: this.opts.memoryBudget ?? Math.min(DEFAULT_BUDGET, device.limits.maxBufferSize),
    });
    const cap = plan.capacity;
    const T = plan.maxSteps;
    const I = model.inputSize;
    const outPerSeq = (outAll ? T : 1) * O;
    const timer = this.opts.timestamps ? GpuTimer.create(device, plan.chunks.length + 16) : null;

    // Buffers (pooled by role).
    const P = model.params.length;
    const weights = this.pool.get('weights', (P + model.hiddenSize) * 4, STORAGE | COPY_DST);
    const w32 = new Float32Array(P + model.hiddenSize);
    w32.set(model.params);
    w32.set(model.h0, P);
    device.queue.writeBuffer(weights, 0, w32);
    const xs = this.pool.get('xs', cap * T * I * 4, STORAGE | COPY_DST);
    const lengths = this.pool.get('lengths', cap * 4, STORAGE | COPY_DST);
    const targets = this.pool.get('targets', hasTargets ? cap * outPerSeq * 4 : 4, STORAGE | COPY_DST);
    const ys = this.pool.get('ys', outputs ? cap * outPerSeq * 4 : 4, STORAGE | COPY_SRC);
    const rows = this.pool.get('rows', cap * R * 4, STORAGE | COPY_SRC);
    // The forward variant never touches `hs`, but the shader declares it: bind a placeholder.
    const hs = this.pool.get('hs', gradients ? cap * T * model.hiddenSize * 4 : 4, STORAGE);
    const ysRead = outputs ? this.pool.get('ys readback', cap * outPerSeq * 4, MAP_READ | COPY_DST) : null;
    const rnnParams = this.pool.get('rnn params', 16, UNIFORM | COPY_DST);
    const reduceParams = this.pool.get('reduce params', 16, UNIFORM | COPY_DST);
    const parts = this.pool.get('partials', R * plan.totalParts * 4, STORAGE | COPY_SRC | COPY_DST);

    const xsHost = new Float32Array(cap * T * I);
    const lenHost = new Uint32Array(cap);
    const tgHost = hasTargets ? new Float32Array(cap * outPerSeq) : null;
    const outHost = outputs ? new Float64Array(outputCount({ ...batch, outputSize: O }, model.output)) : null;

    const rnnBind = rnn.kernel.bind('chunk', {
      params: rnnParams,
      weights,
      lengths,
      xs,
      targets,
      ys,
      rows,
      hs,
    });
    const reduceBind = reduce.kernel.bind('chunk partials', { params: reduceParams, src: rows, dst: parts });

    let done = 0;
    for (const c of plan.chunks) {
      packInputs(batch, c, xsHost, lenHost);
      device.queue.writeBuffer(xs, 0, xsHost, 0, c.steps * I * c.count);
      device.queue.writeBuffer(lengths, 0, lenHost, 0, c.count);
      if (tgHost) {
        packTargets(batch, c, O, tgHost);
        device.queue.writeBuffer(targets, 0, tgHost, 0, (outAll ? c.steps : 1) * O * c.count);
      }
      device.queue.writeBuffer(rnnParams, 0, rnn.kernel.uniform('params', { n: c.count, truncation: truncationUniform(opts.truncation) }));
      device.queue.writeBuffer(reduceParams, 0, reduce.params(c.count, c.count, plan.totalParts, c.partOffset));

      const enc = device.createCommandEncoder({ label: `webgpu-rnn chunk ${c.start}+${c.count}` });
      const pass = enc.beginComputePass({ label: `webgpu-rnn ${rnn.v.mode} + partial sums`, ...timer?.pass() });
      rnn.encode(pass, rnnBind, c.count);
      reduce.encode(pass, reduceBind, c.count, R);
      pass.end();
      const ysBytes = (outAll ? c.steps : 1) * O * c.count * 4;
      if (ysRead) enc.copyBufferToBuffer(ys, 0, ysRead, 0, ysBytes);
      device.queue.submit([enc.finish()]);
      if (ysRead && outHost) {
        await ysRead.mapAsync(MAP_READ, 0, ysBytes);
        unpackOutputs(batch, c, O, outAll, new Float32Array(ysRead.getMappedRange(0, ysBytes)), outHost);
        ysRead.unmap();
      }
      done += c.count;
      opts.onProgress?.(done, batch.count);
    }

    let loss: number | null = null;
    let grads: Float64Array | null = null;
    let overflowed = 0;
    const sums = await this.sumParts(reduce, parts, R, plan.totalParts, timer);
    if (hasTargets) loss = sums[0];
    overflowed = sums[1];
    if (gradients) grads = Float64Array.from(sums.subarray(2));
    this.lastRun = { chunks: plan.chunks.length, sequencesPerChunk: cap, peakBytes: this.pool.bytes() };
    if (timer) this.lastRun.gpuNanoseconds = await timer.read();
    return { loss, grads, outputs: outHost, overflowed };
  }

  /** Reduces R rows of `cols` partial sums to one value per row, level by level in fixed order, and reads them. */
  private async sumParts(reduce: ReduceKernel, parts: GPUBuffer, R: number, cols: number, timer: GpuTimer | null): Promise<Float32Array> {
    const device = this.device;
    const enc = device.createCommandEncoder({ label: 'webgpu-rnn final sums' });
    let src = parts;
    let level = 0;
    const uniforms: GPUBuffer[] = [];
    while (cols > 1) {
      const next = reduce.partsFor(cols);
      const dst = this.pool.get(`sums level ${level % 2}`, R * next * 4, STORAGE | COPY_SRC);
      const u = this.pool.get(`sums params ${level}`, 16, UNIFORM | COPY_DST);
      uniforms.push(u);
      device.queue.writeBuffer(u, 0, reduce.params(cols, cols, next, 0));
      const pass = enc.beginComputePass({ label: `webgpu-rnn sums level ${level}`, ...timer?.pass() });
      reduce.encode(pass, reduce.kernel.bind(`level ${level}`, { params: u, src, dst }), cols, R);
      pass.end();
      src = dst;
      cols = next;
      level++;
    }
    const read = this.pool.get('sums readback', R * 4, MAP_READ | COPY_DST);
    enc.copyBufferToBuffer(src, 0, read, 0, R * 4);
    timer?.finish(enc);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(MAP_READ, 0, R * 4);
    const out = new Float32Array(read.getMappedRange(0, R * 4).slice(0));
    read.unmap();
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.destroy();
    if (this.ownsDevice) this.device.destroy();
  }
}
