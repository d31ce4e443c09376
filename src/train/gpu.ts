// The WebGPU training loop, one for every training program (src/train/gpu-program.ts): weights, optimizer moments,
// per-model status and the loss history live in GPU buffers; a program records each step's forward + BPTT and
// gradient sums, and the optimizer (shaders/optimizer/optimizer.wgsl) updates the weights in place after it, `readbackEvery`
// steps per submit, with no read-back in between. Each step reads its own record of a per-step uniform table
// (mini-batch offset, record slot, schedule factors, Adam bias corrections) written once per submit. Models train in
// chunks (a program's memory budget: many models per chunk for the per-sequence program, one for gemm). Everything
// runs on the engine's GpuRuntime (src/gpu/runtime.ts): buffers from its pool, read-back through it, calls on its
// serial queue (one at a time with engine runs on the same device), its memory budget.

import { maxLength, type Batch } from '../batch.ts';
import { withErrorScopes } from '../gpu/device.ts';
import { OPTIMIZER_STEP_BYTES, OptimizerKernel, PARALLEL_INFO_WORDS } from '../gpu/optimizer/kernel.ts';
import { BufferUsage, type BufferPool } from '../gpu/pool.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import { cellOf, cellSizes } from '../cells/index.ts';
import type { Model } from '../model.ts';
import { initialResult, STATUS_OK, type CoreExtras, type CoreResult } from './cpu.ts';
import { minibatchOrder, optimizerSettings, stepFactors, type ResolvedOptions } from './options.ts';
import type { ProgramRun, StepSums, TrainProgram, TrainRun } from './gpu-program.ts';
import { perSequenceProgram } from './gpu-per-sequence.ts';

const { STORAGE, COPY_DST, COPY_SRC, UNIFORM } = BufferUsage;
const NO_DIVERGENCE = 0xffffffff;

export class GpuTrainer {
  private static readonly cache = new WeakMap<GpuRuntime, Map<TrainProgram, GpuTrainer>>();

  private constructor(
    readonly rt: GpuRuntime,
    readonly program: TrainProgram,
  ) {}

  /** The trainer of an engine's runtime (its pool, budget and queue) running `program` (default: per-sequence). */
  static for(rt: GpuRuntime, program: TrainProgram = perSequenceProgram): GpuTrainer {
    let byProgram = GpuTrainer.cache.get(rt);
    if (!byProgram) GpuTrainer.cache.set(rt, (byProgram = new Map<TrainProgram, GpuTrainer>()));
    let t = byProgram.get(program);
    if (!t) byProgram.set(program, (t = new GpuTrainer(rt, program)));
    return t;
  }

  get device(): GPUDevice {
    return this.rt.device;
  }

  /** Trains a population (in chunks of models), on the runtime's queue. */
  population(models: Model[], sets: Batch[], shared: boolean, o: ResolvedOptions, x: CoreExtras): Promise<CoreResult> {
    return this.rt.enqueue('webgpu-rnn training', () => this.populationNow(models, sets, shared, o, x));
  }

  /**
   * SSR of every weight set (params model-major, h0 per model or the base's, an LSTM's c0 per model or the base's)
   * on its data set; NaN where not finite. For programs that evaluate losses themselves (per-sequence).
   */
  losses(
    base: Model,
    params: Float64Array,
    sets: Batch[],
    h0s: Float64Array[] | null,
    c0s?: (Float64Array | undefined)[] | null,
  ): Promise<Float64Array> {
    const p = this.program;
    if (!p.losses) throw new Error(`internal: the ${p.name} training program does not evaluate losses`);
    return this.rt.enqueue('webgpu-rnn loss evaluation', () =>
      p.losses!(this.rt, base, params, sets, h0s, c0s ?? null),
    );
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
    const T = sets.reduce((t, b) => Math.max(t, maxLength(b)), 1);
    const S = o.batchSize;
    // Steps per submit: readbackEvery, but at most the program's and an order table of at most 64 MiB.
    const L = Math.max(
      1,
      Math.min(o.readbackEvery, o.steps, this.program.maxStepsPerSubmit, Math.floor((16 << 20) / S)),
    );
    const segSlots = Math.ceil(L / o.recordEvery) + 1;
    const run: TrainRun = { models, sets, shared, o, x, T, L, segSlots, stride: OPTIMIZER_STEP_BYTES };
    const prog = this.program.begin(this.rt, run);
    const chunk = prog.modelsPerChunk;

    // Models of chunks that an abort leaves untrained keep their initial weights.
    const result = initialResult(models, o, x.trajectory, x.moments);
    const pool = this.rt.claim(this.program.owner);
    let chunks = 0;
    try {
      for (let m0 = 0; m0 < M && !result.aborted; m0 += chunk) {
        const m1 = Math.min(M, m0 + chunk);
        chunks++;
        await withErrorScopes(this.device, 'webgpu-rnn train', () =>
          this.trainChunk(pool, prog, run, models.slice(m0, m1), shared ? sets : sets.slice(m0, m1), result, m0),
        );
      }
    } finally {
      prog.end?.();
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
    prog: ProgramRun,
    run: TrainRun,
    models: Model[],
    sets: Batch[],
    out: CoreResult,
    m0: number,
  ): Promise<void> {
    const { o, x, segSlots, stride } = run;
    const device = this.device;
    const base = models[0];
    const M = models.length;
    const Mall = run.models.length;
    const P = base.params.length;
    const NW = cellSizes(cellOf(base), base).NWEIGHTS;
    const S = o.batchSize;
    const parallel = this.program.update === 'params';
    const get = (role: string, bytes: number, usage: number): GPUBuffer => pool.get(`train ${role}`, bytes, usage);
    const data = (
      role: string,
      values: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>,
      usage: number = STORAGE,
    ): GPUBuffer => pool.data(`train ${role}`, values, usage);

    // Per model: steps done at [2m], the divergence step at [2m + 1]; the parallel optimizer's step state after.
    const info0 = new Uint32Array(2 * M + (parallel ? PARALLEL_INFO_WORDS : 0));
    for (let m = 0; m < M; m++) {
      info0[2 * m] = o.startStep;
      info0[2 * m + 1] = NO_DIVERGENCE;
    }
    // Learning rates, then the trainable mask.
    const consts = new Float32Array(M + P).fill(1);
    consts.set(o.lrs.subarray(m0, m0 + M));
    if (x.mask) for (let p = 0; p < P; p++) consts[M + p] = x.mask[p];
    // Records: the latest losses, segSlots slots of curves, then (trajectory) the weights at those slots.
    const trajBase = M + segSlots * M;
    const loop = {
      status: get('status', 4 * M, STORAGE | COPY_SRC | COPY_DST),
      steps: get('step table', stride * run.L, UNIFORM | COPY_DST),
    };
    const bufs = {
      info: data('info', info0, STORAGE | COPY_SRC),
      records: get('records', 4 * (trajBase + (x.trajectory ? segSlots * M * P : 0)), STORAGE | COPY_SRC | COPY_DST),
      // First moments at [m·P + p], second at [(M + m)·P + p]; the parallel optimizer's scratch after them.
      moments: get('moments', 4 * M * P * (parallel ? 5 : 2), STORAGE | COPY_DST | COPY_SRC),
      consts: data('learning rates and mask', consts),
    };
    const chunk = await prog.chunk(pool, models, sets, m0, loop);
    const optimizer = parallel ? await OptimizerKernel.parallelOver(device) : OptimizerKernel.perModel(device, base);
    const cfg = data(
      'optimizer config',
      new Uint32Array(optimizer.config({ models: M, ...optimizerSettings(o, x.trajectory, trajBase) }, chunk.parallel)),
      UNIFORM,
    );
    // Status, moments and records start at zero, like fresh buffers.
    const clear = device.createCommandEncoder({ label: 'webgpu-rnn train clear' });
    for (const b of [loop.status, bufs.records, bufs.moments]) clear.clearBuffer(b);
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
    let optBinds: GPUBindGroup[] | null = null;
    const optimize = (pass: GPUComputePassEncoder, l: number, g: StepSums): void => {
      optBinds ??= optimizer.bind('train', {
        cfg,
        step: { buffer: loop.steps, offset: 0, size: 32 },
        sums: g.sums,
        grads: g.grads,
        consts: bufs.consts,
        weights: chunk.weights,
        moments: bufs.moments,
        status: loop.status,
        info: bufs.info,
        records: bufs.records,
      });
      optimizer.encode(pass, optBinds, l, parallel ? P : M);
    };

    const L = chunk.steps;
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
      device.queue.writeBuffer(loop.steps, 0, table, 0, stride * n);
      const picks = order ? order.take(n * S) : null;
      device.queue.writeBuffer(
        bufs.records,
        4 * M,
        new Float32Array(segSlots * M * (x.trajectory ? 1 + P : 1)).fill(NaN),
      );
      const enc = chunk.encodeSteps(k0, n, picks, optimize);

      // Read back this segment's curves (and trajectory), status and latest losses, in the same submit.
      const segCount = Math.ceil((k0 + n) / o.recordEvery) - slotBase;
      const recBytes = 4 * (x.trajectory ? trajBase + segCount * M * P : M + segCount * M);
      const v = await this.rt.readBack(enc, [
        [bufs.records, recBytes],
        [loop.status, 4 * M],
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
      [chunk.weights, 4 * M * NW],
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
}
