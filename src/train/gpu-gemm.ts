// Fused training on WebGPU for shapes beyond the training kernel (H > 16 and larger I, O): the same gemm kernels
// as engine.run (src/gpu/strategies/gemm.ts) record forward + BPTT into the trainer's encoder, reading weights that
// live on the GPU, and the parameter-parallel optimizer (shaders/optimizer_wide.wgsl) updates them in place and
// rewrites the transposed copies the kernels read. Each step's sequences are gathered out of the whole data set on
// the GPU (shaders/gather.wgsl), so `readbackEvery` steps are recorded into one submit with no read-back in between.
// A population trains model after model, each on the same kernels and buffers. Runs on the engine's GpuRuntime:
// its pool, memory budget, queue and GPU options.

import { maxLength, type Batch } from '../batch.ts';
import { withErrorScopes } from '../gpu/device.ts';
import { GatherKernel, GATHER_RECORD_BYTES } from '../gpu/kernels/gather.ts';
import { STEP_RECORD_BYTES } from '../gpu/kernels/gemm.ts';
import { WideOptimizerKernel, WIDE_STATE_BYTES, WIDE_STEP_BYTES } from '../gpu/kernels/optimizer-wide.ts';
import { packInputs, packTargets } from '../gpu/packing.ts';
import type { Chunk } from '../gpu/plan.ts';
import { BufferUsage } from '../gpu/pool.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import { GemmProgram, type Dispatch } from '../gpu/strategies/gemm.ts';
import { initialState, type Model } from '../model.ts';
import { initialResult, STATUS_OK, type CoreExtras, type CoreResult } from './cpu.ts';
import { minibatchOrder, optimizerSettings, stepFactors, type ResolvedOptions } from './options.ts';

const { STORAGE, COPY_DST, COPY_SRC, UNIFORM } = BufferUsage;
const NO_DIVERGENCE = 0xffffffff;
/** Steps recorded into one submit at most (each has its own uniforms). */
const MAX_STEPS_PER_SUBMIT = 256;
/** Bytes of step records one submit may write when mini-batches of ragged sequences change them every step. */
const RECORD_BYTES_PER_SUBMIT = 16 << 20;

export class GemmTrainer {
  private static readonly cache = new WeakMap<GpuRuntime, GemmTrainer>();

  /** The data set whose packed copy is in the pool, during one population call. */
  private uploaded: { data: Batch; src: { srcXs: GPUBuffer; srcTargets: GPUBuffer; srcLengths: GPUBuffer } } | null =
    null;

  private constructor(readonly rt: GpuRuntime) {}

  /** The trainer of an engine's runtime. */
  static for(rt: GpuRuntime): GemmTrainer {
    let t = GemmTrainer.cache.get(rt);
    if (!t) GemmTrainer.cache.set(rt, (t = new GemmTrainer(rt)));
    return t;
  }

  /** Trains a population, model after model, on the runtime's queue. */
  population(models: Model[], sets: Batch[], shared: boolean, o: ResolvedOptions, x: CoreExtras): Promise<CoreResult> {
    return this.rt.enqueue('webgpu-rnn training', () => this.populationNow(models, sets, shared, o, x));
  }

  private async populationNow(
    models: Model[],
    sets: Batch[],
    shared: boolean,
    o: ResolvedOptions,
    x: CoreExtras,
  ): Promise<CoreResult> {
    this.rt.lastTrain = null;
    const M = models.length;
    const out = initialResult(models, o, x.trajectory, x.moments);
    const pool = this.rt.claim('train gemm');
    this.uploaded = null;
    for (let m = 0; m < M && !out.aborted; m++) {
      await withErrorScopes(this.rt.device, 'webgpu-rnn train', () =>
        this.trainModel(models[m], shared ? sets[0] : sets[m], o, x, out, m, M),
      );
    }
    this.uploaded = null;
    this.rt.lastTrain = { kind: 'train', models: M, chunks: M, modelsPerChunk: 1, peakBytes: pool.peakBytes() };
    return out;
  }

  /** The data set packed time-major over all its sequences, in the pool; packed and uploaded only when it changes. */
  private upload(data: Batch, T: number): { srcXs: GPUBuffer; srcTargets: GPUBuffer; srcLengths: GPUBuffer } {
    if (this.uploaded?.data === data) return this.uploaded.src;
    const { inputSize: I, outputSize: O, count: N } = data;
    const all: Chunk = { start: 0, count: N, steps: T, partOffset: 0 };
    const xsAll = new Float32Array(Math.max(1, T * I * N));
    const lensAll = new Uint32Array(N);
    packInputs(data, all, xsAll, lensAll);
    const tgAll = new Float32Array(Math.max(1, (data.output === 'all' ? T : 1) * O * N));
    packTargets(data, all, O, tgAll);
    const pool = this.rt.pool;
    const src = {
      srcXs: pool.data('train gemm data inputs', xsAll, STORAGE),
      srcTargets: pool.data('train gemm data targets', tgAll, STORAGE),
      srcLengths: pool.data('train gemm data lengths', lensAll, STORAGE),
    };
    this.uploaded = { data, src };
    return src;
  }

  private async trainModel(
    model: Model,
    data: Batch,
    o: ResolvedOptions,
    x: CoreExtras,
    out: CoreResult,
    m: number,
    Mall: number,
  ): Promise<void> {
    const rt = this.rt;
    const device = rt.device;
    const pool = rt.pool;
    const P = model.params.length;
    const I = model.inputSize;
    const O = model.outputSize;
    const outAll = model.output === 'all';
    const N = data.count;
    const S = o.batchSize;
    const T = maxLength(data);
    const ragged = o.minibatch && data.lengths.some((l) => l !== data.lengths[0]);
    // Steps per submit: readbackEvery, within the uniform tables' bounds.
    let L = Math.max(1, Math.min(o.readbackEvery, o.steps, MAX_STEPS_PER_SUBMIT, Math.floor((16 << 20) / S)));
    const segSlots = Math.ceil(L / o.recordEvery) + 1;
    const trajBase = 1 + segSlots;
    const recordFloats = trajBase + (x.trajectory ? segSlots * P : 0);
    const dataBytes = 4 * (T * I * N + (outAll ? T : 1) * O * N + N);
    // The trainer's own buffers: data, order, moments and scratch (5P) and mask, records, uniform tables, the read-back
    // of records and weights (and, for `train`, of the moments).
    const reserve =
      dataBytes +
      4 * L * S +
      4 * 6 * P +
      4 * (2 * recordFloats + P) +
      (x.moments ? 8 * P : 0) +
      (WIDE_STEP_BYTES + GATHER_RECORD_BYTES) * L +
      4096;
    // The lengths the memory plan and the fixed step records are made for (a mini-batch: S of the longest).
    const planLengths = o.minibatch ? new Uint32Array(S).fill(T) : data.lengths;
    const [prog, gather, opt] = await Promise.all([
      // Per chunk: its slots of the dims and reduction uniforms.
      GemmProgram.load(rt.context(pool), {
        model,
        lengths: planLengths,
        gradients: true,
        outputs: false,
        hasTargets: true,
        reserveBytes: (chunks) => reserve + 512 * chunks,
      }),
      GatherKernel.load(device, { inputSize: I, outputSize: O, outAll, hasTargets: true }),
      WideOptimizerKernel.load(device),
    ]);
    const chunks0 = prog.plan.chunks;
    // One chunk a step: `L` steps in one submit (ragged mini-batches: a set of step records per step, where the
    // budget has room for them). Several chunks a step (data beyond the budget), or no room: one submit per chunk,
    // its records and gather uniform written before it, so they take no more memory than one chunk's; either way
    // nothing is read back before the L-th step.
    const setBytes = prog.plan.bytes.steps;
    const room = Math.min(RECORD_BYTES_PER_SUBMIT, rt.budgetBytes - prog.plan.totalBytes - reserve - 512);
    const split = chunks0.length > 1 || (ragged && room < 2 * setBytes);
    if (ragged && !split) L = Math.max(1, Math.min(L, Math.floor(room / setBytes)));
    const recordSets = ragged && !split ? L : 1;
    prog.reserveUniforms(recordSets, chunks0.length);
    const steps = prog.buffers.steps;
    chunks0.forEach((c, ci) => prog.writeChunkUniforms(c, ci));

    // The whole data set, time-major over all N sequences (uploaded once for all the models that share it), and
    // the order the steps take them in.
    const src = this.upload(data, T);
    const order = pool.get('train gemm order', 4 * Math.max(1, o.minibatch ? L * S : N), STORAGE | COPY_DST);
    if (!o.minibatch)
      device.queue.writeBuffer(
        order,
        0,
        Uint32Array.from({ length: N }, (_, i) => i),
      );
    const gatherTable = pool.get('train gemm gather table', GATHER_RECORD_BYTES * (split ? 1 : L), UNIFORM | COPY_DST);
    const gatherBind = gather.kernel.bind('train', {
      g: { buffer: gatherTable, offset: 0, size: 16 },
      order,
      ...src,
      xs: prog.buffers.xs,
      targets: prog.buffers.targets,
      lengths: prog.buffers.lengths,
    });

    // Weights (with the transposed copies), optimizer moments and scratch, the model's state and its records.
    device.queue.writeBuffer(prog.buffers.weights, 0, GemmProgram.weightsImage(model, prog.plan.bytes.weights));
    const moments = pool.get('train gemm moments', 4 * 5 * P, STORAGE | COPY_DST | COPY_SRC);
    const mask = pool.data(
      'train gemm mask',
      Float32Array.from({ length: P }, (_, p) => (x.mask ? x.mask[p] : 1)),
      STORAGE,
    );
    const state = pool.data(
      'train gemm state',
      new Uint32Array([0, o.startStep, NO_DIVERGENCE, 0, 0, 0]),
      STORAGE | COPY_SRC,
    );
    const records = pool.get('train gemm records', 4 * recordFloats, STORAGE | COPY_SRC | COPY_DST);
    const cfg = pool.data(
      'train gemm optimizer config',
      new Uint32Array(
        opt.config(model, P + initialState(model).length, {
          ...optimizerSettings(o, x.trajectory, trajBase),
          lr: o.lrs[m],
        }),
      ),
      UNIFORM,
    );
    const stepTable = pool.get('train gemm step table', WIDE_STEP_BYTES * L, UNIFORM | COPY_DST);
    const clear = device.createCommandEncoder({ label: 'webgpu-rnn train gemm clear' });
    clear.clearBuffer(moments);
    clear.clearBuffer(records);
    device.queue.submit([clear.finish()]);
    // A resumed run: the first moments at [0, P), the second at [P, 2P).
    if (o.moments)
      device.queue.writeBuffer(moments, 0, Float32Array.from(o.moments.subarray(m * 2 * P, (m + 1) * 2 * P)));

    // Each step's chunks and their step records: fixed unless ragged mini-batches change the chunks' lengths.
    const fixed = chunks0.map((chunk) => ({ chunk, ...prog.records(chunk, planLengths, undefined) }));
    if (!ragged && !split) device.queue.writeBuffer(steps, 0, fixed[0].words);
    const start = o.startStep;
    const end = start + o.steps;
    const firstSlot = Math.ceil(start / o.recordEvery);
    const drawn = o.minibatch ? minibatchOrder(N, o.seed, start * S) : null;
    const table = new ArrayBuffer(WIDE_STEP_BYTES * L);
    let optBinds: ReturnType<WideOptimizerKernel['bind']> | null = null;
    const slots = out.curveSteps.length;
    let status: number;
    for (let k0 = start; k0 < end; k0 += L) {
      const n = Math.min(L, end - k0);
      const slotBase = Math.ceil(k0 / o.recordEvery);
      const tb = new Uint8Array(table);
      for (let l = 0; l < n; l++) {
        const k = k0 + l;
        const f = stepFactors(o, k);
        const slot = k % o.recordEvery === 0 ? k / o.recordEvery - slotBase : -1;
        tb.set(new Uint8Array(opt.step({ slot, k, lrA: f.a, lrB: f.b, c1: f.c1, c2: f.c2 })), l * WIDE_STEP_BYTES);
      }
      device.queue.writeBuffer(stepTable, 0, table, 0, WIDE_STEP_BYTES * n);
      const picks = drawn ? drawn.take(n * S) : null;
      if (picks) device.queue.writeBuffer(order, 0, picks as Uint32Array<ArrayBuffer>);
      device.queue.writeBuffer(records, 0, new Float32Array(recordFloats).fill(NaN));
      // Step l's chunks, with their records (ragged: made from the lengths this step drew).
      const chunksOf = (l: number): { chunk: Chunk; words: Uint32Array<ArrayBuffer>; dispatches: Dispatch[] }[] => {
        if (!ragged || !picks) return fixed;
        const lens = Uint32Array.from(picks.subarray(l * S, (l + 1) * S), (s) => data.lengths[s]);
        return chunks0.map((c0) => {
          let longest = 1;
          for (let j = c0.start; j < c0.start + c0.count; j++) longest = Math.max(longest, lens[j]);
          const chunk = { ...c0, steps: longest };
          return { chunk, ...prog.records(chunk, lens, undefined) };
        });
      };
      const gatherRecord = (l: number, c: Chunk): Uint8Array<ArrayBuffer> =>
        new Uint8Array(gather.record((o.minibatch ? l * S : 0) + c.start, c.count, c.steps, N));
      const encodeChunk = (
        enc: GPUCommandEncoder,
        l: number,
        ci: number,
        c: Chunk,
        dispatches: Dispatch[],
        gatherSlot: number,
        recordBase: number,
      ): void => {
        const pass = enc.beginComputePass({ label: `webgpu-rnn train gemm gather step ${k0 + l}` });
        gather.encode(pass, gatherBind, gatherSlot, c.count);
        pass.end();
        prog.encodeChunk(enc, c, ci === 0, dispatches, recordBase, ci);
      };
      const encodeUpdate = (enc: GPUCommandEncoder, l: number): void => {
        const sums = prog.encodeSums(enc);
        optBinds ??= opt.bind('train', {
          cfg,
          step: { buffer: stepTable, offset: 0, size: 32 },
          sums,
          grads: prog.buffers.work,
          mask,
          weights: prog.buffers.weights,
          moments,
          state,
          records,
        });
        const pass = enc.beginComputePass({ label: `webgpu-rnn train gemm optimizer step ${k0 + l}` });
        opt.encode(pass, optBinds, l, P);
        pass.end();
      };
      let enc: GPUCommandEncoder;
      if (!split) {
        const gTable = new Uint8Array(GATHER_RECORD_BYTES * n);
        const words = ragged ? new Uint32Array((setBytes * n) / 4) : null;
        const perStep = Array.from({ length: n }, (_, l) => {
          const [sc] = chunksOf(l);
          gTable.set(gatherRecord(l, sc.chunk), l * GATHER_RECORD_BYTES);
          words?.set(sc.words, (l * setBytes) / 4);
          return { ...sc, recordBase: words ? (l * setBytes) / STEP_RECORD_BYTES : 0 };
        });
        if (words) device.queue.writeBuffer(steps, 0, words);
        device.queue.writeBuffer(gatherTable, 0, gTable);
        enc = device.createCommandEncoder({ label: `webgpu-rnn train gemm steps ${k0}+${n}` });
        perStep.forEach((sc, l) => {
          encodeChunk(enc, l, 0, sc.chunk, sc.dispatches, l, sc.recordBase);
          encodeUpdate(enc, l);
        });
      } else {
        enc = device.createCommandEncoder({ label: `webgpu-rnn train gemm step ${k0}` });
        for (let l = 0; l < n; l++) {
          const list = chunksOf(l);
          for (const [ci, sc] of list.entries()) {
            // Queue order: these writes land after the submits before them and before the next.
            device.queue.writeBuffer(steps, 0, sc.words);
            device.queue.writeBuffer(gatherTable, 0, gatherRecord(l, sc.chunk));
            encodeChunk(enc, l, ci, sc.chunk, sc.dispatches, 0, 0);
            if (ci === list.length - 1) encodeUpdate(enc, l);
            if (l < n - 1 || ci < list.length - 1) {
              device.queue.submit([enc.finish()]);
              enc = device.createCommandEncoder({
                label: `webgpu-rnn train gemm step ${k0 + l + (ci === list.length - 1 ? 1 : 0)}`,
              });
            }
          }
        }
      }
      const segCount = Math.ceil((k0 + n) / o.recordEvery) - slotBase;
      const recBytes = 4 * (x.trajectory ? trajBase + segCount * P : 1 + segCount);
      const v = await rt.readBack(enc, [
        [records, recBytes],
        [state, WIDE_STATE_BYTES],
      ]);
      const rec = new Float32Array(v, 0, recBytes / 4);
      status = new Uint32Array(v, recBytes, 6)[0];
      out.lastLoss[m] = rec[0];
      for (let j = 0; j < segCount; j++) out.curves[m * slots + slotBase - firstSlot + j] = rec[1 + j];
      if (out.trajectory) {
        for (let j = 0; j < segCount; j++)
          for (let p = 0; p < P; p++)
            out.trajectory[((slotBase - firstSlot + j) * Mall + m) * P + p] = rec[trajBase + j * P + p];
      }
      if (status !== STATUS_OK) break;
      if (k0 + n < end) {
        x.onProgress?.(k0 + n, out.lastLoss[m]);
        if (x.signal?.aborted) {
          out.aborted = true;
          break;
        }
      }
    }
    const fin = device.createCommandEncoder({ label: 'webgpu-rnn train gemm results' });
    const v = await rt.readBack(fin, [
      [state, WIDE_STATE_BYTES],
      [prog.buffers.weights, 4 * P],
      ...(x.moments ? ([[moments, 4 * 2 * P]] as [GPUBuffer, number][]) : []),
    ]);
    const st = new Uint32Array(v, 0, 6);
    const w = new Float32Array(v, WIDE_STATE_BYTES, P);
    if (x.moments) {
      const mo = new Float32Array(v, WIDE_STATE_BYTES + 4 * P, 2 * P);
      for (let p = 0; p < 2 * P; p++) out.moments[m * 2 * P + p] = mo[p];
    }
    out.status[m] = st[0];
    out.stepsDone[m] = st[1];
    out.divergedAt[m] = st[2] === NO_DIVERGENCE ? -1 : st[2];
    for (let p = 0; p < P; p++) out.params[m * P + p] = w[p];
  }
}
