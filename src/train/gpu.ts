// The WebGPU training backend. Weights, optimizer moments, per-model status and the loss history live in GPU
// buffers; every step records train.wgsl (forward + BPTT for all models), model_sums.wgsl (fixed-order per-model
// sums) and optimizer.wgsl (the update, in place) into one compute pass, `readbackEvery` steps per submit, with
// no readback in between. Each step reads its own slice of a per-step uniform table (mini-batch offset, record
// slot, schedule factors, Adam bias corrections) written once per submit. Loss evaluation (final/validation loss,
// landscapes) is the same kernel without BPTT. Populations larger than the memory budget run in chunks of models.
// Everything runs on the engine's GpuRuntime (src/gpu/runtime.ts): buffers from its pool, read-back through it,
// calls on its serial queue (one at a time with engine runs on the same device), its memory budget.

import { maxLength, type Batch } from '../batch.ts';
import { GpuError, InputError } from '../errors.ts';
import { withErrorScopes } from '../gpu/device.ts';
import { BufferUsage, type BufferPool } from '../gpu/pool.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import { ModelSumsKernel } from '../gpu/kernels/model-sums.ts';
import { OptimizerKernel } from '../gpu/kernels/optimizer.ts';
import { TrainKernel, type TrainDims } from '../gpu/kernels/train.ts';
import { perSequenceLimits } from '../gpu/strategies/per-sequence.ts';
import { cellOf, cellSizes } from '../cells/index.ts';
import { initialState, type Model, type Shape } from '../model.ts';
import { initialResult, STATUS_OK, type CoreExtras, type CoreResult } from './cpu.ts';
import { minibatchOrder, optimizerSettings, stepFactors, type ResolvedOptions } from './options.ts';

const { STORAGE, COPY_DST, COPY_SRC, UNIFORM } = BufferUsage;
const WG = 64;
/** A model's step is split over at most this many invocations (columns); beyond, each takes several sequences. */
const MAX_COLS = 4096;
/** Up to this many sequences per step, one invocation takes all of a model's sequences (one column: no sums pass). */
const ONE_COLUMN = 32;
/** Bytes a chunk's budget sets aside for the 16-byte rounding of its buffers and the small uniforms. */
const FIXED_SLACK = 1024;
const NO_DIVERGENCE = 0xffffffff;
/** Each step of a submit has its own 256-byte uniform slice and bind groups. */
const MAX_STEPS_PER_SUBMIT = 1024;

/**
 * Sequences per invocation for S sequences per step. It depends on S only, so a model's sums (and so its whole
 * trajectory) never depend on how many other models train beside it.
 */
export function groupFor(seqs: number): number {
  return seqs <= ONE_COLUMN ? seqs : Math.max(1, Math.ceil(seqs / MAX_COLS));
}

/** Whether the training kernel serves the shape: that of the per-sequence strategy (weights in private arrays). */
export function trainKernelServes(s: Shape & Pick<Model, 'cell'>): boolean {
  const L = perSequenceLimits(s);
  return s.hiddenSize <= L.maxHiddenSize && s.inputSize <= L.maxInputSize && s.outputSize <= L.maxOutputSize;
}

/** Refuses shapes the training kernel does not serve (src/train/index.ts sends those to fused gemm training). */
export function checkTrainShape(m: Model): void {
  const L = perSequenceLimits(m);
  const why =
    m.hiddenSize > L.maxHiddenSize
      ? `hiddenSize ${m.hiddenSize} > ${L.maxHiddenSize}`
      : m.inputSize > L.maxInputSize
        ? `inputSize ${m.inputSize} > ${L.maxInputSize}`
        : m.outputSize > L.maxOutputSize
          ? `outputSize ${m.outputSize} > ${L.maxOutputSize}`
          : null;
  if (why) {
    throw new InputError(
      why.split(' ')[0],
      `training on WebGPU keeps each model's weights in registers (the per-sequence kernel) and takes I, O ≤ ${L.maxInputSize} and H ≤ ${L.maxHiddenSize}${m.cell && m.cell !== 'elman' ? ` for the ${m.cell} cell` : ''}; got ${why}. Use the CPU backend for this shape`,
      'model',
    );
  }
}

/** Time-major data of `sets` side by side: set s's sequence n is column s·count + n. */
function packSets(
  sets: Batch[],
  T: number,
): {
  xs: Float32Array<ArrayBuffer>;
  targets: Float32Array<ArrayBuffer>;
  lengths: Uint32Array<ArrayBuffer>;
  cols: number;
} {
  const b0 = sets[0];
  const I = b0.inputSize;
  const O = b0.outputSize;
  const all = b0.output === 'all';
  const D = sets.length * b0.count;
  const xs = new Float32Array(Math.max(1, T * I * D));
  const targets = new Float32Array(Math.max(1, (all ? T : 1) * O * D));
  const lengths = new Uint32Array(D);
  sets.forEach((b, s) => {
    for (let n = 0; n < b.count; n++) {
      const d = s * b0.count + n;
      const len = b.lengths[n];
      lengths[d] = len;
      const base = b.offsets[n];
      for (let t = 0; t < len; t++) {
        for (let i = 0; i < I; i++) xs[(t * I + i) * D + d] = b.inputs[(base + t) * I + i];
        if (all) for (let o = 0; o < O; o++) targets[(t * O + o) * D + d] = b.targets![(base + t) * O + o];
      }
      if (!all) for (let o = 0; o < O; o++) targets[o * D + d] = b.targets![n * O + o];
    }
  });
  return { xs, targets, lengths, cols: D };
}

export class GpuTrainer {
  private static readonly cache = new WeakMap<GpuRuntime, GpuTrainer>();
  private readonly sums: ModelSumsKernel;

  private constructor(readonly rt: GpuRuntime) {
    this.sums = new ModelSumsKernel(rt.device, WG);
  }

  /** The trainer of an engine's runtime: its pool, budget (GpuOptions.memoryBudget) and queue. */
  static for(rt: GpuRuntime): GpuTrainer {
    let t = GpuTrainer.cache.get(rt);
    if (!t) GpuTrainer.cache.set(rt, (t = new GpuTrainer(rt)));
    return t;
  }

  get device(): GPUDevice {
    return this.rt.device;
  }

  /**
   * Models per chunk: per-model buffer bytes `largest` (the largest single buffer) and `total` (all), plus `fixed`
   * bytes whatever the chunk, within the runtime's budget and binding limit.
   */
  private modelsPerChunk(what: string, largest: number, total: number, fixed: number): number {
    const budget = this.rt.budgetBytes;
    const maxBinding = this.rt.maxBindingBytes;
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

  /** Trains a population (in chunks of models when it exceeds the budget), on the runtime's queue. */
  population(models: Model[], sets: Batch[], shared: boolean, o: ResolvedOptions, x: CoreExtras): Promise<CoreResult> {
    return this.rt.enqueue('webgpu-rnn training', () => this.populationNow(models, sets, shared, o, x));
  }

  /**
   * SSR of every weight set (params model-major, h0 per model or the base's, an LSTM's c0 per model or the base's)
   * on its data set; NaN where not finite.
   */
  losses(
    base: Model,
    params: Float64Array,
    sets: Batch[],
    h0s: Float64Array[] | null,
    c0s?: (Float64Array | undefined)[] | null,
  ): Promise<Float64Array> {
    return this.rt.enqueue('webgpu-rnn loss evaluation', () => this.lossesNow(base, params, sets, h0s, c0s ?? null));
  }

  private async populationNow(
    models: Model[],
    sets: Batch[],
    shared: boolean,
    o: ResolvedOptions,
    x: CoreExtras,
  ): Promise<CoreResult> {
    this.rt.lastTrain = null;
    checkTrainShape(models[0]);
    const M = models.length;
    const P = models[0].params.length;
    // One model in the weights buffer: its parameters, then its initial state (h0, and c0 for LSTM).
    const { NWEIGHTS: NW, NSTATE } = cellSizes(cellOf(models[0]), models[0]);
    const T = sets.reduce((t, b) => Math.max(t, maxLength(b)), 1);
    const S = o.batchSize;
    const G = groupFor(S);
    const C = TrainKernel.cols({ seqs: S, group: G });
    const R = 2 + P;
    // Steps per submit: readbackEvery, but at most MAX_STEPS_PER_SUBMIT and an order table of at most 64 MiB.
    const L = Math.max(1, Math.min(o.readbackEvery, o.steps, MAX_STEPS_PER_SUBMIT, Math.floor((16 << 20) / S)));
    const segSlots = Math.ceil(L / o.recordEvery) + 1;
    const b0 = sets[0];
    const dataBytes = b0.count * 4 * (T * b0.inputSize + (b0.output === 'all' ? T : 1) * b0.outputSize + 1);
    const recordBytes = 4 * (1 + segSlots) + (x.trajectory ? 4 * segSlots * P : 0);
    // weights, moments, status + info, records, learning rate, rows, sums, hidden states, data, read-back.
    const perModel = [
      4 * NW,
      8 * P,
      12,
      recordBytes,
      4,
      4 * R * C,
      4 * R,
      4 * T * NSTATE * C,
      shared ? 0 : dataBytes,
      recordBytes + 4 + 8 + 4 * NW + (x.moments ? 8 * P : 0),
    ];
    const stride = Math.max(256, this.device.limits.minUniformBufferOffsetAlignment);
    const fixed = (shared ? dataBytes : 0) + stride * L + 4 * (o.minibatch ? L * S : 1) + 4 * P + FIXED_SLACK;
    const chunk = this.modelsPerChunk(
      'training',
      Math.max(...perModel),
      perModel.reduce((a, b) => a + b, 0) * 1.1,
      fixed,
    );

    // Models of chunks that an abort leaves untrained keep their initial weights.
    const result = initialResult(models, o, x.trajectory, x.moments);
    const pool = this.rt.claim('train');
    let chunks = 0;
    for (let m0 = 0; m0 < M && !result.aborted; m0 += chunk) {
      const m1 = Math.min(M, m0 + chunk);
      chunks++;
      await withErrorScopes(this.device, 'webgpu-rnn train', () =>
        this.trainChunk(
          pool,
          models.slice(m0, m1),
          shared ? sets : sets.slice(m0, m1),
          shared,
          o,
          x,
          T,
          G,
          result,
          m0,
          M,
          L,
          segSlots,
          stride,
        ),
      );
    }
    this.rt.lastTrain = {
      kind: 'train',
      models: M,
      chunks,
      modelsPerChunk: Math.min(chunk, M),
      peakBytes: pool.peakBytes(),
    };
    return result;
  }

  private async trainChunk(
    pool: BufferPool,
    models: Model[],
    sets: Batch[],
    shared: boolean,
    o: ResolvedOptions,
    x: CoreExtras,
    T: number,
    G: number,
    out: CoreResult,
    m0: number,
    Mall: number,
    L: number,
    segSlots: number,
    stride: number,
  ): Promise<void> {
    const device = this.device;
    const base = models[0];
    const M = models.length;
    const P = base.params.length;
    const { NWEIGHTS: NW, NSTATE } = cellSizes(cellOf(base), base);
    const S = o.batchSize;
    const dims: TrainDims = {
      models: M,
      seqs: S,
      group: G,
      dataCols: 0,
      dataPerModel: shared ? 0 : sets[0].count,
      ordered: o.minibatch,
    };
    const C = TrainKernel.cols(dims);
    const train = new TrainKernel(device, {
      ...base,
      outAll: base.output === 'all',
      backward: true,
      workgroupSize: WG,
    });
    const optimizer = new OptimizerKernel(device, base, WG);
    const R = train.rows;
    // Pooled buffers keep what the last chunk or call left: those not written in full here are cleared below.
    const get = (role: string, bytes: number, usage: number): GPUBuffer => pool.get(`train ${role}`, bytes, usage);
    const data = (
      role: string,
      values: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>,
      usage: number = STORAGE,
    ): GPUBuffer => pool.data(`train ${role}`, values, usage);

    const packed = packSets(sets, T);
    dims.dataCols = packed.cols;
    const w32 = new Float32Array(M * NW);
    models.forEach((m, i) => {
      w32.set(m.params, i * NW);
      w32.set(initialState(m), i * NW + P);
    });
    const info0 = new Uint32Array(2 * M);
    for (let m = 0; m < M; m++) {
      info0[2 * m] = o.startStep;
      info0[2 * m + 1] = NO_DIVERGENCE;
    }
    const consts = new Float32Array(M + P).fill(1);
    consts.set(o.lrs.subarray(m0, m0 + M));
    if (x.mask) for (let p = 0; p < P; p++) consts[M + p] = x.mask[p];
    const trajBase = M + segSlots * M;

    const bufs = {
      weights: data('weights', w32, STORAGE | COPY_SRC),
      status: get('status', 4 * M, STORAGE | COPY_SRC | COPY_DST),
      info: data('info', info0, STORAGE | COPY_SRC),
      records: get('records', 4 * (trajBase + (x.trajectory ? segSlots * M * P : 0)), STORAGE | COPY_SRC | COPY_DST),
      moments: get('moments', 8 * M * P, STORAGE | COPY_DST | COPY_SRC),
      consts: data('learning rates and mask', consts),
      rows: get('rows', 4 * R * M * C, STORAGE | COPY_DST),
      sums: C === 1 ? null : get('sums', 4 * R * M, STORAGE | COPY_DST),
      hs: get('hidden states', 4 * T * NSTATE * M * C, STORAGE | COPY_DST),
      xs: data('inputs', packed.xs),
      targets: data('targets', packed.targets),
      lengths: data('lengths', packed.lengths),
      order: get('order', 4 * (o.minibatch ? L * S : 1), STORAGE | COPY_DST),
      trainParams: data('params', new Uint32Array(train.params(dims)), UNIFORM),
      sumParams: data('sum params', new Uint32Array(this.sums.params(R * M, C)), UNIFORM),
      cfg: data(
        'optimizer config',
        new Uint32Array(optimizer.config({ models: M, ...optimizerSettings(o, x.trajectory, trajBase) })),
        UNIFORM,
      ),
      steps: get('step table', stride * L, UNIFORM | COPY_DST),
    };
    // Status, moments and records start at zero, like fresh buffers; the others are cleared for the same bits.
    const clear = device.createCommandEncoder({ label: 'webgpu-rnn train clear' });
    for (const b of [bufs.status, bufs.records, bufs.moments, bufs.rows, bufs.sums, bufs.hs, bufs.order])
      if (b) clear.clearBuffer(b);
    device.queue.submit([clear.finish()]);
    if (o.moments) {
      // A resumed run: first moments at [m·P + p], second at [(M + m)·P + p].
      const mo = new Float32Array(2 * M * P);
      for (let m = 0; m < M; m++) {
        const src = o.moments.subarray((m0 + m) * 2 * P, (m0 + m + 1) * 2 * P);
        mo.set(src.subarray(0, P), m * P);
        mo.set(src.subarray(P), (M + m) * P);
      }
      device.queue.writeBuffer(bufs.moments, 0, mo);
    }
    // With one column per model the rows already are the sums.
    const sumBind = bufs.sums
      ? this.sums.kernel.bind('chunk', { params: bufs.sumParams, src: bufs.rows, sums: bufs.sums })
      : null;
    const trainBinds: GPUBindGroup[] = [];
    const optBinds: GPUBindGroup[] = [];
    for (let l = 0; l < L; l++) {
      const step = { buffer: bufs.steps, offset: l * stride, size: 32 };
      trainBinds.push(
        train.kernel.bind(`step ${l}`, {
          params: bufs.trainParams,
          step,
          weights: bufs.weights,
          status: bufs.status,
          order: bufs.order,
          lengths: bufs.lengths,
          xs: bufs.xs,
          targets: bufs.targets,
          rows: bufs.rows,
          hs: bufs.hs,
        }),
      );
      optBinds.push(
        optimizer.kernel.bind(`step ${l}`, {
          cfg: bufs.cfg,
          step,
          sums: bufs.sums ?? bufs.rows,
          consts: bufs.consts,
          weights: bufs.weights,
          moments: bufs.moments,
          status: bufs.status,
          info: bufs.info,
          records: bufs.records,
        }),
      );
    }

    const start = o.startStep;
    const end = start + o.steps;
    const firstSlot = Math.ceil(start / o.recordEvery);
    const order = o.minibatch ? minibatchOrder(sets[0].count, o.seed, start * S) : null;
    const table = new ArrayBuffer(stride * L);
    const slots = out.curveSteps.length;
    let status = new Uint32Array(M);
    for (let k0 = start; k0 < end; k0 += L) {
      const n = Math.min(L, end - k0);
      const slotBase = Math.ceil(k0 / o.recordEvery);
      const bytes = new Uint8Array(table);
      for (let l = 0; l < n; l++) {
        const k = k0 + l;
        const f = stepFactors(o, k);
        const slot = k % o.recordEvery === 0 ? k / o.recordEvery - slotBase : -1;
        bytes.set(
          new Uint8Array(optimizer.step({ orderOffset: l * S, slot, k, lrA: f.a, lrB: f.b, c1: f.c1, c2: f.c2 })),
          l * stride,
        );
      }
      device.queue.writeBuffer(bufs.steps, 0, table, 0, stride * n);
      if (order) device.queue.writeBuffer(bufs.order, 0, order.take(n * S) as Uint32Array<ArrayBuffer>);
      device.queue.writeBuffer(
        bufs.records,
        4 * M,
        new Float32Array(segSlots * M * (x.trajectory ? 1 + P : 1)).fill(NaN),
      );
      const enc = device.createCommandEncoder({ label: `webgpu-rnn train steps ${k0}+${n}` });
      const pass = enc.beginComputePass({ label: `webgpu-rnn train steps ${k0}+${n}` });
      for (let l = 0; l < n; l++) {
        train.encode(pass, trainBinds[l], dims);
        if (sumBind) this.sums.encode(pass, sumBind, R * M);
        optimizer.encode(pass, optBinds[l], M);
      }
      pass.end();

      // Read back this segment's curves (and trajectory), status and latest losses, in the same submit.
      const segCount = Math.ceil((k0 + n) / o.recordEvery) - slotBase;
      const recBytes = 4 * (x.trajectory ? trajBase + segCount * M * P : M + segCount * M);
      const v = await this.rt.readBack(enc, [
        [bufs.records, recBytes],
        [bufs.status, 4 * M],
      ]);
      const rec = new Float32Array(v, 0, recBytes / 4);
      status = new Uint32Array(v, recBytes, M);
      for (let m = 0; m < M; m++) {
        out.lastLoss[m0 + m] = rec[m];
        for (let j = 0; j < segCount; j++) out.curves[(m0 + m) * slots + slotBase - firstSlot + j] = rec[M + j * M + m];
      }
      if (out.trajectory) {
        for (let j = 0; j < segCount; j++) {
          for (let m = 0; m < M; m++) {
            for (let p = 0; p < P; p++)
              out.trajectory[((slotBase - firstSlot + j) * Mall + m0 + m) * P + p] =
                rec[trajBase + (j * M + m) * P + p];
          }
        }
      }
      if (status.every((s) => s !== STATUS_OK)) break;
      if (k0 + n < end) {
        x.onProgress?.(k0 + n, out.lastLoss[m0]);
        if (x.signal?.aborted) {
          out.aborted = true;
          break;
        }
      }
    }
    const fin = device.createCommandEncoder({ label: 'webgpu-rnn train results' });
    const v = await this.rt.readBack(fin, [
      [bufs.info, 8 * M],
      [bufs.weights, 4 * M * NW],
      ...(x.moments ? ([[bufs.moments, 8 * M * P]] as [GPUBuffer, number][]) : []),
    ]);
    const info = new Uint32Array(v, 0, 2 * M);
    const wOut = new Float32Array(v, 8 * M, M * NW);
    const mOut = x.moments ? new Float32Array(v, 8 * M + 4 * M * NW, 2 * M * P) : null;
    for (let m = 0; m < M; m++) {
      out.status[m0 + m] = status[m];
      out.stepsDone[m0 + m] = info[2 * m];
      out.divergedAt[m0 + m] = info[2 * m + 1] === NO_DIVERGENCE ? -1 : info[2 * m + 1];
      for (let p = 0; p < P; p++) out.params[(m0 + m) * P + p] = wOut[m * NW + p];
      for (let p = 0; mOut && p < P; p++) {
        out.moments[(m0 + m) * 2 * P + p] = mOut[m * P + p];
        out.moments[(m0 + m) * 2 * P + P + p] = mOut[(M + m) * P + p];
      }
    }
  }

  private async lossesNow(
    base: Model,
    params: Float64Array,
    sets: Batch[],
    h0s: Float64Array[] | null,
    c0s: (Float64Array | undefined)[] | null,
  ): Promise<Float64Array> {
    this.rt.lastTrain = null;
    checkTrainShape(base);
    const P = base.params.length;
    const NW = cellSizes(cellOf(base), base).NWEIGHTS;
    const M = params.length / P;
    const T = sets.reduce((t, b) => Math.max(t, maxLength(b)), 1);
    const S = sets[0].count;
    const G = groupFor(S);
    const C = TrainKernel.cols({ seqs: S, group: G });
    const shared = sets.length === 1;
    const b0 = sets[0];
    const dataBytes = b0.count * 4 * (T * b0.inputSize + (b0.output === 'all' ? T : 1) * b0.outputSize + 1);
    // weights, rows, sums, status, data, read-back.
    const perModel = [4 * NW, 4 * 2 * C, 8, 4, shared ? 0 : dataBytes, 8];
    const chunk = this.modelsPerChunk(
      'loss evaluation',
      Math.max(...perModel),
      perModel.reduce((a, b) => a + b, 0) * 1.1,
      (shared ? dataBytes : 0) + FIXED_SLACK,
    );
    const out = new Float64Array(M);
    const device = this.device;
    const train = new TrainKernel(device, {
      ...base,
      outAll: base.output === 'all',
      backward: false,
      workgroupSize: WG,
    });
    const pool = this.rt.claim('losses');
    const get = (role: string, bytes: number, usage: number): GPUBuffer => pool.get(`losses ${role}`, bytes, usage);
    const data = (
      role: string,
      values: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>,
      usage: number = STORAGE,
    ): GPUBuffer => pool.data(`losses ${role}`, values, usage);
    let chunks = 0;
    for (let m0 = 0; m0 < M; m0 += chunk) {
      const m1 = Math.min(M, m0 + chunk);
      chunks++;
      await withErrorScopes(device, 'webgpu-rnn loss evaluation', async () => {
        const n = m1 - m0;
        const packed = packSets(shared ? sets : sets.slice(m0, m1), T);
        const dims: TrainDims = {
          models: n,
          seqs: S,
          group: G,
          dataCols: packed.cols,
          dataPerModel: shared ? 0 : S,
          ordered: false,
        };
        // Each model's parameters, then its initial state (initialState): h0 from h0s or the base's, and an LSTM's c0
        // from c0s (absent: zeros) or the base's, as the CPU's losses take them.
        const w32 = new Float32Array(n * NW);
        for (let m = 0; m < n; m++) {
          w32.set(params.subarray((m0 + m) * P, (m0 + m + 1) * P), m * NW);
          const h0 = h0s ? h0s[m0 + m] : base.h0;
          const c0 = c0s ? c0s[m0 + m] : base.c0;
          w32.set(initialState({ ...base, h0, c0 }), m * NW + P);
        }
        const rows = get('rows', 4 * 2 * n * C, STORAGE | COPY_DST);
        const sums = get('sums', 4 * 2 * n, STORAGE | COPY_SRC | COPY_DST);
        const status = get('status', 4 * n, STORAGE | COPY_DST);
        const order = get('order', 4, STORAGE | COPY_DST);
        const hs = get('hidden states', 4, STORAGE | COPY_DST);
        const enc = device.createCommandEncoder({ label: `webgpu-rnn losses ${m0}+${n}` });
        // Pooled buffers keep what the last chunk left; status must start at zero (every model running).
        for (const b of [rows, sums, status, order, hs]) enc.clearBuffer(b);
        const bind = train.kernel.bind('losses', {
          params: data('params', new Uint32Array(train.params(dims)), UNIFORM),
          step: data('step', new Uint32Array(train.kernel.uniform('step', { orderOffset: 0, slot: 0, k: 0 })), UNIFORM),
          weights: data('weights', w32),
          status,
          order,
          lengths: data('lengths', packed.lengths),
          xs: data('inputs', packed.xs),
          targets: data('targets', packed.targets),
          rows,
          hs,
        });
        const sumBind = this.sums.kernel.bind('losses', {
          params: data('sum params', new Uint32Array(this.sums.params(2 * n, C)), UNIFORM),
          src: rows,
          sums,
        });
        const pass = enc.beginComputePass({ label: `webgpu-rnn losses ${m0}+${n}` });
        train.encode(pass, bind, dims);
        this.sums.encode(pass, sumBind, 2 * n);
        pass.end();
        const v = new Float32Array(await this.rt.readBack(enc, [[sums, 8 * n]]));
        for (let m = 0; m < n; m++) out[m0 + m] = v[n + m] > 0 || !Number.isFinite(v[m]) ? NaN : v[m];
      });
    }
    this.rt.lastTrain = {
      kind: 'losses',
      models: M,
      chunks,
      modelsPerChunk: Math.min(chunk, M),
      peakBytes: pool.peakBytes(),
    };
    return out;
  }
}
