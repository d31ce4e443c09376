// The per-sequence training program (src/train/gpu-program.ts): shaders/per_sequence/bptt.wgsl runs forward + BPTT for every
// model of a chunk (each model's weights in private arrays; a step's sequences split over columns), and
// shaders/reduce/model_sums.wgsl adds the columns in fixed order into per-model sums for the optimizer (skipped when one
// column takes all of a model's sequences). A chunk holds as many models as the memory budget allows. Loss
// evaluation (final and validation losses, landscapes) is the same kernel without BPTT.

import { maxLength, type Batch } from '../batch.ts';
import { InputError } from '../errors.ts';
import { withErrorScopes } from '../gpu/device.ts';
import { BufferUsage, type BufferPool } from '../gpu/pool.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import { ModelSumsKernel } from '../gpu/reduce/model-sums.ts';
import { TrainKernel, type TrainDims } from '../gpu/per-sequence/train.ts';
import { perSequenceLimits } from '../gpu/per-sequence/strategy.ts';
import { cellOf, cellSizes } from '../cells/index.ts';
import { initialState, type Model } from '../model.ts';
import { FIXED_SLACK, modelsPerChunk, type ProgramChunk, type TrainProgram, type TrainRun } from './gpu-program.ts';

const { STORAGE, COPY_DST, COPY_SRC, UNIFORM } = BufferUsage;
const WG = 64;
/** A model's step is split over at most this many invocations (columns); beyond, each takes several sequences. */
const MAX_COLS = 4096;
/** Up to this many sequences per step, one invocation takes all of a model's sequences (one column: no sums pass). */
const ONE_COLUMN = 32;

/**
 * Sequences per invocation for S sequences per step. It depends on S only, so a model's sums (and so its whole
 * trajectory) never depend on how many other models train beside it.
 */
export function groupFor(seqs: number): number {
  return seqs <= ONE_COLUMN ? seqs : Math.max(1, Math.ceil(seqs / MAX_COLS));
}

/**
 * Refuses shapes the training kernel does not serve (the registry, src/gpu/registry.ts TRAINING, sends those
 * to the gemm program).
 */
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

/** The kernels of a runtime's device (cached per device). */
const sumsOf = new WeakMap<GPUDevice, ModelSumsKernel>();
function sumsKernel(device: GPUDevice): ModelSumsKernel {
  let k = sumsOf.get(device);
  if (!k) sumsOf.set(device, (k = new ModelSumsKernel(device, WG)));
  return k;
}

/** The chunk of `models`: weights, data and the kernels' scratch in the pool, and its steps' recording. */
function chunkOf(
  rt: GpuRuntime,
  run: TrainRun,
  pool: BufferPool,
  models: Model[],
  sets: Batch[],
  loop: { status: GPUBuffer; steps: GPUBuffer },
): ProgramChunk {
  const { o, shared, T, L, stride } = run;
  const device = rt.device;
  const sums = sumsKernel(device);
  const base = models[0];
  const M = models.length;
  const P = base.params.length;
  const { NWEIGHTS: NW, NSTATE } = cellSizes(cellOf(base), base);
  const S = o.batchSize;
  const dims: TrainDims = {
    models: M,
    seqs: S,
    group: groupFor(S),
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
  const bufs = {
    weights: data('weights', w32, STORAGE | COPY_SRC),
    rows: get('rows', 4 * R * M * C, STORAGE | COPY_DST),
    sums: C === 1 ? null : get('sums', 4 * R * M, STORAGE | COPY_DST),
    hs: get('hidden states', 4 * T * NSTATE * M * C, STORAGE | COPY_DST),
    xs: data('inputs', packed.xs),
    targets: data('targets', packed.targets),
    lengths: data('lengths', packed.lengths),
    order: get('order', 4 * (o.minibatch ? L * S : 1), STORAGE | COPY_DST),
    trainParams: data('params', new Uint32Array(train.params(dims)), UNIFORM),
    sumParams: data('sum params', new Uint32Array(sums.params(R * M, C)), UNIFORM),
  };
  const clear = device.createCommandEncoder({ label: 'webgpu-rnn train clear' });
  for (const b of [bufs.rows, bufs.sums, bufs.hs, bufs.order]) if (b) clear.clearBuffer(b);
  device.queue.submit([clear.finish()]);
  // With one column per model the rows already are the sums.
  const sumBind = bufs.sums
    ? sums.kernel.bind('chunk', { params: bufs.sumParams, src: bufs.rows, sums: bufs.sums })
    : null;
  const g = { sums: bufs.sums ?? bufs.rows, grads: bufs.sums ?? bufs.rows };
  const trainBinds: GPUBindGroup[] = [];
  for (let l = 0; l < L; l++) {
    trainBinds.push(
      train.kernel.bind(`step ${l}`, {
        params: bufs.trainParams,
        step: { buffer: loop.steps, offset: l * stride, size: 32 },
        weights: bufs.weights,
        status: loop.status,
        order: bufs.order,
        lengths: bufs.lengths,
        xs: bufs.xs,
        targets: bufs.targets,
        rows: bufs.rows,
        hs: bufs.hs,
      }),
    );
  }
  return {
    weights: bufs.weights,
    steps: L,
    encodeSteps(k0, n, picks, optimize) {
      if (picks) device.queue.writeBuffer(bufs.order, 0, picks as Uint32Array<ArrayBuffer>);
      const enc = device.createCommandEncoder({ label: `webgpu-rnn train steps ${k0}+${n}` });
      const pass = enc.beginComputePass({ label: `webgpu-rnn train steps ${k0}+${n}` });
      for (let l = 0; l < n; l++) {
        train.encode(pass, trainBinds[l], dims);
        if (sumBind) sums.encode(pass, sumBind, R * M);
        optimize(pass, l, g);
      }
      pass.end();
      return enc;
    },
  };
}

async function losses(
  rt: GpuRuntime,
  base: Model,
  params: Float64Array,
  sets: Batch[],
  h0s: Float64Array[] | null,
  c0s: (Float64Array | undefined)[] | null,
): Promise<Float64Array> {
  rt.lastTrain = null;
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
  const chunk = modelsPerChunk(
    rt,
    'loss evaluation',
    Math.max(...perModel),
    perModel.reduce((a, b) => a + b, 0) * 1.1,
    (shared ? dataBytes : 0) + FIXED_SLACK,
  );
  const out = new Float64Array(M);
  const device = rt.device;
  const sumK = sumsKernel(device);
  const train = new TrainKernel(device, {
    ...base,
    outAll: base.output === 'all',
    backward: false,
    workgroupSize: WG,
  });
  const pool = rt.claim('losses');
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
      const sumBind = sumK.kernel.bind('losses', {
        params: data('sum params', new Uint32Array(sumK.params(2 * n, C)), UNIFORM),
        src: rows,
        sums,
      });
      const pass = enc.beginComputePass({ label: `webgpu-rnn losses ${m0}+${n}` });
      train.encode(pass, bind, dims);
      sumK.encode(pass, sumBind, 2 * n);
      pass.end();
      const v = new Float32Array(await rt.readBack(enc, [[sums, 8 * n]]));
      for (let m = 0; m < n; m++) out[m0 + m] = v[n + m] > 0 || !Number.isFinite(v[m]) ? NaN : v[m];
    });
  }
  rt.lastTrain = {
    kind: 'losses',
    models: M,
    chunks,
    modelsPerChunk: Math.min(chunk, M),
    peakBytes: pool.peakBytes(),
  };
  return out;
}

export const perSequenceProgram: TrainProgram = {
  name: 'per-sequence',
  maxStepsPerSubmit: 1024,
  update: 'models',
  owner: 'train',

  begin(rt, run) {
    const { models, sets, shared, o, x, T, L, segSlots, stride } = run;
    checkTrainShape(models[0]);
    const P = models[0].params.length;
    // One model in the weights buffer: its parameters, then its initial state (h0, and c0 for LSTM).
    const { NWEIGHTS: NW, NSTATE } = cellSizes(cellOf(models[0]), models[0]);
    const S = o.batchSize;
    const C = TrainKernel.cols({ seqs: S, group: groupFor(S) });
    const R = 2 + P;
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
    const fixed = (shared ? dataBytes : 0) + stride * L + 4 * (o.minibatch ? L * S : 1) + 4 * P + FIXED_SLACK;
    const chunk = modelsPerChunk(
      rt,
      'training',
      Math.max(...perModel),
      perModel.reduce((a, b) => a + b, 0) * 1.1,
      fixed,
    );
    return {
      modelsPerChunk: chunk,
      chunk: (pool, ms, ss, _m0, loop) => Promise.resolve(chunkOf(rt, run, pool, ms, ss, loop)),
    };
  },

  losses,
};
