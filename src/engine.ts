// The public engine: picks a backend (webgpu, cpu or auto), checks inputs against the model, runs a batch,
// refuses non-finite results, and returns loss, nested gradients and outputs.

import { checkDropout } from './dropout.ts';
import type { Backend, BackendChoice, BackendName, RunOptions } from './backend.ts';
import { valueName, type Batch, type RnnStates } from './batch.ts';
import { cpuOnlyError, cpuOnlyFallback, cpuOnlyRun, type CpuOnly } from './cpu-only.ts';
import { CpuBackend } from './cpu/backend.ts';
import type { Precision } from './cpu/reference.ts';
import { GpuError, InputError, NonFiniteError } from './errors.ts';
import { paramName, unflattenParams, type Model, type ModelJSON, type Weights } from './model.ts';
import { checkClipNorm, checkTruncation } from './gradient-options.ts';
import { checkBatch, checkFloat32Range, checkInitialStates, firstNonFinite, kind, toModel } from './validate.ts';
import type { GpuOptions, RunStats } from './gpu/backend.ts';
import type { GpuRuntime, TrainStats } from './gpu/runtime.ts';

/** Options of {@link createEngine}: the backend, the CPU precision and the WebGPU settings. */
export interface EngineOptions {
  /** `auto` (default) uses WebGPU when an adapter exists, else the CPU reference, and says which in `engine.backend`. */
  backend?: BackendChoice;
  /** Precision of the CPU backend: `f64` (default) or `f32` (every operation rounded to float32). */
  cpuPrecision?: Precision;
  /** WebGPU options: a device to use, memory budget, workgroup size. */
  gpu?: GpuOptions;
}

/** What {@link Engine.run} returns: the loss, the gradients (nested and flat) and the outputs asked for. */
export interface Result {
  backend: BackendName;
  adapter: string;
  /** SSR, or null when the batch has no targets. */
  loss: number | null;
  /** dSSR/dθ with the same nested shapes as the model's weights. */
  grads?: Weights;
  /** dSSR/dθ flat, in canonical order (see paramLayout). */
  gradsFlat?: Float64Array;
  /** ‖dSSR/dθ‖₂ over all parameters, before clipping (present whenever gradients are). */
  gradNorm?: number;
  /** Whether the gradients were scaled down to RunOptions.clipNorm (present whenever gradients are). */
  clipped?: boolean;
  /** Predictions, flat: `last` n*O + o; `all` (offsets[n]+t)*O + o. */
  outputs?: Float64Array;
  /** With RunOptions.finalStates: every sequence's final states (RnnStates layout), for `Batch.initialStates`. */
  finalStates?: RnnStates;
  /**
   * Why this run went to the CPU on an `auto` engine that runs WebGPU: a stacked or bidirectional model, or carried
   * states, of a shape the per-sequence strategy's layered kernels do not take (e.g. `model.numLayers: on WebGPU,
   * stacked models run on the per-sequence strategy, and it keeps the weights in private arrays and takes
   * hiddenSize ≤ 8 for the lstm cell …`).
   */
  fallbackReason?: string;
}

/**
 * Runs models on batches on one backend: WebGPU (one device, buffer pool and queue per engine) or the CPU
 * reference. Create it with {@link createEngine}; {@link Engine.run} checks the inputs, runs, and refuses
 * non-finite results. Call `dispose()` when done to free the GPU resources.
 */
export class Engine {
  private constructor(
    private readonly impl: Backend,
    /** Why `auto` fell back to the CPU, if it did. */
    readonly fallbackReason: string | null,
    /** An `auto` engine on WebGPU: runs that only the CPU serves go to `cpuFallback` (a CpuBackend of this precision). */
    private readonly auto = false,
    private readonly cpuPrecision?: Precision,
  ) {}

  private cpuFallback: CpuBackend | null = null;
  /** Reused arrays for the runs' batch snapshots. */
  private readonly scratch = new ScratchArrays();

  /** Creates an engine. `backend: 'webgpu'` throws a GpuError when no adapter can be had; `auto` falls back. */
  static async create(opts: EngineOptions = {}): Promise<Engine> {
    checkEngineOptions(opts);
    const choice = opts.backend ?? 'auto';
    if (choice === 'cpu') return new Engine(new CpuBackend(opts.cpuPrecision), null);
    try {
      const { GpuBackend } = await import('./gpu/backend.ts');
      return new Engine(await GpuBackend.create(opts.gpu), null, choice === 'auto', opts.cpuPrecision);
    } catch (e) {
      if (choice === 'webgpu') throw e;
      return new Engine(new CpuBackend(opts.cpuPrecision), (e as Error).message);
    }
  }

  get backend(): BackendName {
    return this.impl.name;
  }

  get adapter(): string {
    return this.impl.adapter;
  }

  /** The WebGPU device in use, or null on the CPU backend. */
  get device(): GPUDevice | null {
    return this.impl.device ?? null;
  }

  /** Chunking and memory figures of the last WebGPU run (null on the CPU backend). */
  get lastRunStats(): RunStats | null {
    return this.impl.lastRun ?? null;
  }

  /**
   * The WebGPU runtime (device, buffer pool, memory budget, serial queue) that engine runs, training, loss
   * evaluation and the studies on this engine share; null on the CPU backend. Used inside the library.
   *
   * @internal
   */
  get runtime(): GpuRuntime | null {
    return (this.impl as { runtime?: GpuRuntime }).runtime ?? null;
  }

  /**
   * Where a run goes that `cpuOnly` (from src/cpu-only.ts) says only the CPU serves: null when it runs on this
   * engine's backend (the CPU, or nothing CPU-only about it); the fallback reason when an `auto` engine on WebGPU
   * moves it to the CPU. On `backend: 'webgpu'` it throws the one-line InputError. engine.run and the trainers
   * decide with this.
   *
   * @internal
   */
  cpuFallbackFor(cpuOnly: CpuOnly | null): string | null {
    if (!cpuOnly || this.impl.name !== 'webgpu') return null;
    if (!this.auto) throw cpuOnlyError(cpuOnly);
    return cpuOnlyFallback(cpuOnly);
  }

  /** Chunks of models and peak bytes of the last WebGPU training or loss-evaluation call (null if none). */
  get lastTrainStats(): TrainStats | null {
    return this.runtime?.lastTrain ?? null;
  }

  /**
   * Runs a batch: loss (when the batch has targets), gradients (default: when it has targets) and outputs (opt-in).
   * Throws InputError for a batch that does not fit the model, NonFiniteError when a value overflows.
   */
  async run(modelIn: Model | ModelJSON, batch: Batch, opts: RunOptions = {}): Promise<Result> {
    if (this.disposed) throw new GpuError('the engine has been disposed: create a new one');
    const model = toModel(modelIn);
    if (batch === null || batch === undefined) throw new InputError('batch', `expected a batch, got ${kind(batch)}`);
    if (opts === null || typeof opts !== 'object')
      throw new InputError('options', `expected an object, got ${kind(opts)}`);
    checkBatch(model, batch);
    checkInitialStates(model, batch);
    // What was validated is what runs: a copy taken before anything async, so a caller changing the batch (its
    // count, lengths or values) while the run is under way cannot change the run.
    const snapshot = snapshotBatch(batch, this.scratch);
    batch = snapshot.batch;
    try {
      return await this.runValidated(model, batch, opts);
    } finally {
      snapshot.release();
    }
  }

  private async runValidated(model: Model, batch: Batch, opts: RunOptions): Promise<Result> {
    if (opts.finalStates !== undefined && typeof opts.finalStates !== 'boolean')
      throw new InputError('finalStates', `must be true or false, got ${kind(opts.finalStates)}`, 'options');
    // Stacked and bidirectional models and carried states of a shape the layered kernels do not take run on the CPU
    // only: refused on WebGPU, moved there by auto.
    let impl = this.impl;
    const fallbackReason =
      this.cpuFallbackFor(impl.name === 'webgpu' ? cpuOnlyRun(model, batch, opts) : null) ?? undefined;
    if (fallbackReason) impl = this.cpuFallback ??= new CpuBackend(this.cpuPrecision);
    if (impl.name === 'webgpu') checkFloat32Range(model, batch);
    checkTruncation(opts.truncation);
    checkDropout(opts.dropout);
    checkClipNorm(opts.clipNorm);
    const gradients = opts.gradients ?? batch.targets !== null;
    if (gradients && batch.targets === null)
      throw new InputError('targets', 'gradients need targets, and this batch has none', 'data');
    let raw: Awaited<ReturnType<Backend['run']>>;
    try {
      raw = await impl.run(model, batch, { ...opts, gradients });
    } catch (e) {
      if (this.disposed)
        throw new GpuError('the engine was disposed during the run: the run was abandoned and returned nothing', {
          cause: e,
        });
      throw e;
    }
    if (this.disposed)
      throw new GpuError('the engine was disposed during the run: the run was abandoned and returned nothing');
    const where = impl.name;
    if (raw.overflowed > 0) {
      throw new NonFiniteError(where, `the hidden state of ${raw.overflowed} of ${batch.count} sequences`, null);
    }
    if (raw.outputs) {
      const k = firstNonFinite(raw.outputs);
      if (k >= 0) throw new NonFiniteError(where, outputName(model, batch, k), raw.outputs[k]);
    }
    if (raw.loss !== null && !Number.isFinite(raw.loss)) throw new NonFiniteError(where, 'loss', raw.loss);
    if (raw.grads) {
      const k = firstNonFinite(raw.grads);
      if (k >= 0) throw new NonFiniteError(where, `grads.${paramName(model, k)}`, raw.grads[k]);
    }
    if (raw.finalStates) {
      for (const key of ['h', 'c'] as const) {
        const v = raw.finalStates[key];
        const k = v ? firstNonFinite(v) : -1;
        if (k >= 0) throw new NonFiniteError(where, `finalStates.${key}`, v![k]);
      }
    }
    const result: Result = { backend: impl.name, adapter: impl.adapter, loss: raw.loss };
    if (fallbackReason) result.fallbackReason = fallbackReason;
    if (raw.grads) {
      result.gradsFlat = raw.grads;
      result.grads = unflattenParams(model, raw.grads);
      if (raw.gradNorm === undefined) throw new Error(`${where}: the backend returned gradients without their norm`);
      result.gradNorm = raw.gradNorm;
      result.clipped = raw.clipped ?? false;
    }
    if (raw.outputs) result.outputs = raw.outputs;
    if (raw.finalStates) result.finalStates = raw.finalStates;
    return result;
  }

  /** Frees GPU buffers and pipelines held by this engine. The engine must not be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.impl.dispose();
    this.cpuFallback?.dispose();
  }

  private disposed = false;
}

type FloatArray = Float32Array | Float64Array;

/**
 * Float arrays kept for reuse by later runs' snapshots: allocating (and so zeroing) tens of MiB for every run costs
 * far more than the copy into them. Each run takes its own (concurrent runs never share one) and gives it back when
 * it ends; at most KEEP arrays are kept, the most recently given back.
 */
class ScratchArrays {
  private static readonly KEEP = 4;
  private free: FloatArray[] = [];

  copy<T extends FloatArray>(src: T): T {
    const k = this.free.findIndex((a) => a.length === src.length && a.constructor === src.constructor);
    if (k < 0) return src.slice() as T;
    const a = this.free.splice(k, 1)[0] as T;
    a.set(src);
    return a;
  }

  give(...arrays: (FloatArray | null)[]): void {
    for (const a of arrays) if (a && a.length >= 4096) this.free.unshift(a);
    this.free.length = Math.min(this.free.length, ScratchArrays.KEEP);
  }
}

/** A copy of a validated batch (its sizes, and copies of its arrays), and the release of its reused arrays. */
function snapshotBatch(b: Batch, scratch: ScratchArrays): { batch: Batch; release(): void } {
  const states = b.initialStates;
  const inputs = scratch.copy(b.inputs);
  const targets = b.targets === null ? null : scratch.copy(b.targets);
  const batch: Batch = {
    count: b.count,
    inputSize: b.inputSize,
    outputSize: b.outputSize,
    output: b.output,
    lengths: b.lengths.slice(),
    offsets: b.offsets.slice(),
    inputs,
    targets,
    ...(states ? { initialStates: { h: states.h.slice(), ...(states.c ? { c: states.c.slice() } : {}) } } : {}),
  };
  return { batch, release: () => scratch.give(inputs, targets) };
}

/** Throws an InputError naming the first bad field of the engine options. */
function checkEngineOptions(opts: EngineOptions): void {
  if (opts === null || typeof opts !== 'object')
    throw new InputError('', `expected an options object, got ${kind(opts)}`, 'options');
  const choice = opts.backend ?? 'auto';
  if (choice !== 'webgpu' && choice !== 'cpu' && choice !== 'auto') {
    throw new InputError('backend', `must be "webgpu", "cpu" or "auto", got ${kind(choice)}`, 'options');
  }
  if (opts.cpuPrecision !== undefined && opts.cpuPrecision !== 'f64' && opts.cpuPrecision !== 'f32') {
    throw new InputError('cpuPrecision', `must be "f64" or "f32", got ${kind(opts.cpuPrecision)}`, 'options');
  }
  const gpu = opts.gpu;
  if (gpu === undefined) return;
  if (gpu === null || typeof gpu !== 'object')
    throw new InputError('gpu', `expected an object, got ${kind(gpu)}`, 'options');
  const b = gpu.memoryBudget;
  if (b !== undefined && (typeof b !== 'number' || !Number.isSafeInteger(b) || b < 1)) {
    throw new InputError('gpu.memoryBudget', `must be a whole number of bytes ≥ 1, got ${kind(b)}`, 'options');
  }
}

/**
 * Creates an engine (the same as `Engine.create`). `backend: 'webgpu'` throws a GpuError when no adapter can be had;
 * `auto` (the default) falls back to the CPU reference and says why in `engine.fallbackReason`.
 */
export function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  return Engine.create(opts);
}

/** `outputs[n][o]` for `last`, `outputs[n][t][o]` for `all`, for flat output index k. */
export function outputName(model: Model, batch: Batch, k: number): string {
  return valueName(batch, 'outputs', k, model.outputSize, model.output === 'all');
}
