// The gemm training program (src/train/gpu-program.ts), for shapes beyond the per-sequence kernel (H > 16 and larger
// I, O): the same gemm program as engine.run (src/gpu/gemm/program.ts) record forward + BPTT of one model into
// the loop's encoder, reading weights that live on the GPU, and leave its gradient sums for the optimizer's
// parallel entry points (shaders/optimizer/optimizer.wgsl), which update the weights in place and rewrite the transposed
// copies the kernels read. Each step's sequences are gathered out of the whole data set on the GPU
// (shaders/gemm/gather.wgsl), so `readbackEvery` steps are recorded into one submit with no read-back in between. A
// population trains model after model (one model a chunk), each on the same kernels and buffers.

import { maxLength, type Batch } from '../batch.ts';
import { GatherKernel, GATHER_RECORD_BYTES } from '../gpu/gemm/gather.ts';
import { STEP_RECORD_BYTES } from '../gpu/gemm/kernels.ts';
import { OPTIMIZER_STEP_BYTES } from '../gpu/optimizer/kernel.ts';
import { packInputs, packTargets } from '../gpu/packing.ts';
import type { Chunk } from '../gpu/plan.ts';
import { BufferUsage, type BufferPool } from '../gpu/pool.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import { GemmProgram, type Dispatch } from '../gpu/gemm/program.ts';
import { initialState, type Model } from '../model.ts';
import type { ProgramChunk, ProgramRun, TrainProgram, TrainRun } from './gpu-program.ts';

const { STORAGE, COPY_DST, UNIFORM } = BufferUsage;
/** Bytes of step records one submit may write when mini-batches of ragged sequences change them every step. */
const RECORD_BYTES_PER_SUBMIT = 16 << 20;

type Source = { srcXs: GPUBuffer; srcTargets: GPUBuffer; srcLengths: GPUBuffer };

/** The data set packed time-major over all its sequences, in the pool. */
function upload(pool: BufferPool, data: Batch, T: number): Source {
  const { inputSize: I, outputSize: O, count: N } = data;
  const all: Chunk = { start: 0, count: N, steps: T, partOffset: 0 };
  const xsAll = new Float32Array(Math.max(1, T * I * N));
  const lensAll = new Uint32Array(N);
  packInputs(data, all, xsAll, lensAll);
  const tgAll = new Float32Array(Math.max(1, (data.output === 'all' ? T : 1) * O * N));
  packTargets(data, all, O, tgAll);
  return {
    srcXs: pool.data('train gemm data inputs', xsAll, STORAGE),
    srcTargets: pool.data('train gemm data targets', tgAll, STORAGE),
    srcLengths: pool.data('train gemm data lengths', lensAll, STORAGE),
  };
}

async function chunkOf(
  rt: GpuRuntime,
  run: TrainRun,
  pool: BufferPool,
  model: Model,
  data: Batch,
  src: Source,
): Promise<ProgramChunk> {
  const { o, x } = run;
  const device = rt.device;
  const P = model.params.length;
  const I = model.inputSize;
  const O = model.outputSize;
  const outAll = model.output === 'all';
  const N = data.count;
  const S = o.batchSize;
  const T = maxLength(data);
  const ragged = o.minibatch && data.lengths.some((l) => l !== data.lengths[0]);
  let L = run.L;
  const recordFloats = 1 + run.segSlots + (x.trajectory ? run.segSlots * P : 0);
  const dataBytes = 4 * (T * I * N + (outAll ? T : 1) * O * N + N);
  // The loop's and the program's own buffers: data, order, moments and scratch (5P) and mask, records, uniform
  // tables, the read-back of records and weights (and, for `train`, of the moments).
  const reserve =
    dataBytes +
    4 * L * S +
    4 * 6 * P +
    4 * (2 * recordFloats + P) +
    (x.moments ? 8 * P : 0) +
    (OPTIMIZER_STEP_BYTES + GATHER_RECORD_BYTES) * L +
    4096;
  // The lengths the memory plan and the fixed step records are made for (a mini-batch: S of the longest).
  const planLengths = o.minibatch ? new Uint32Array(S).fill(T) : data.lengths;
  const [prog, gather] = await Promise.all([
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

  // The order the steps take the data set's sequences in.
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
  // The weights, with the transposed copies after the parameters and the initial state.
  device.queue.writeBuffer(prog.buffers.weights, 0, GemmProgram.weightsImage(model, prog.plan.bytes.weights));

  // Each step's chunks and their step records: fixed unless ragged mini-batches change the chunks' lengths.
  const fixed = chunks0.map((chunk) => ({ chunk, ...prog.records(chunk, planLengths, undefined) }));
  if (!ragged && !split) device.queue.writeBuffer(steps, 0, fixed[0].words);

  const encodeSteps: ProgramChunk['encodeSteps'] = (k0, n, picks, optimize) => {
    if (picks) device.queue.writeBuffer(order, 0, picks as Uint32Array<ArrayBuffer>);
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
      const pass = enc.beginComputePass({ label: `webgpu-rnn train gemm optimizer step ${k0 + l}` });
      optimize(pass, l, { sums, grads: prog.buffers.work });
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
    return enc;
  };
  return {
    weights: prog.buffers.weights,
    steps: L,
    parallel: { shape: model, offWhT: P + initialState(model).length },
    encodeSteps,
  };
}

export const gemmProgram: TrainProgram = {
  name: 'gemm',
  maxStepsPerSubmit: 256,
  update: 'params',
  owner: 'train gemm',

  begin(rt, run): ProgramRun {
    // The whole data set (uploaded once for all the models that share it).
    let uploaded: { data: Batch; src: Source } | null = null;
    return {
      modelsPerChunk: 1,
      async chunk(pool, models, sets) {
        const data = sets[0];
        if (uploaded?.data !== data) uploaded = { data, src: upload(pool, data, maxLength(data)) };
        return chunkOf(rt, run, pool, models[0], data, uploaded.src);
      },
      end() {
        uploaded = null;
      },
    };
  },
};
