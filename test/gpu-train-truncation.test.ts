// The training kernel (the per-sequence driver's `train` interface) with a truncation window: a population of
// models, several sequences per invocation, against the float64 CPU reference's truncated BPTT of each model.
// TrainOptions carries no truncation, so this drives TrainKernel directly, as src/train/gpu.ts does.

import { expect, it } from 'vitest';
import { type Batch } from '../src/batch.ts';
import { cellOf, cellSizes } from '../src/cells/index.ts';
import { gpuTolerance } from '../src/compare.ts';
import { Engine } from '../src/engine.ts';
import { TrainKernel, type TrainDims } from '../src/gpu/per-sequence/train.ts';
import { initialState, modelFromJSON, type Model } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import { expectClose } from './helpers/compare.ts';
import { describeGpu } from './helpers/gpu.ts';

const [MAP_READ, COPY_SRC, COPY_DST, UNIFORM, STORAGE] = [0x1, 0x4, 0x8, 0x40, 0x80];
const cpuP = Engine.create({ backend: 'cpu' });

/** Per model: SSR, then dSSR/dθ, each summed over the model's C columns (float64), from one training dispatch. */
async function trainRows(device: GPUDevice, models: Model[], batch: Batch, G: number, truncation?: number) {
  const base = models[0];
  const M = models.length;
  const P = base.params.length;
  const { NWEIGHTS: NW, NSTATE } = cellSizes(cellOf(base), base);
  const kernel = new TrainKernel(device, { ...base, outAll: base.output === 'all', backward: true, workgroupSize: 64 });
  const dims: TrainDims = {
    models: M,
    seqs: batch.count,
    group: G,
    dataCols: batch.count,
    dataPerModel: 0,
    ordered: false,
    truncation,
  };
  const C = TrainKernel.cols(dims);
  const R = kernel.rows;
  // Time-major data with D = batch.count columns.
  const D = batch.count;
  const T = Math.max(...batch.lengths);
  const I = batch.inputSize;
  const O = batch.outputSize;
  const all = batch.output === 'all';
  const xs = new Float32Array(T * I * D);
  const targets = new Float32Array((all ? T : 1) * O * D);
  for (let n = 0; n < D; n++) {
    const at = batch.offsets[n];
    for (let t = 0; t < batch.lengths[n]; t++) {
      for (let i = 0; i < I; i++) xs[(t * I + i) * D + n] = batch.inputs[(at + t) * I + i];
      if (all) for (let o = 0; o < O; o++) targets[(t * O + o) * D + n] = batch.targets![(at + t) * O + o];
    }
    if (!all) for (let o = 0; o < O; o++) targets[o * D + n] = batch.targets![n * O + o];
  }
  const w32 = new Float32Array(M * NW);
  models.forEach((m, k) => {
    w32.set(m.params, k * NW);
    w32.set(initialState(m), k * NW + P);
  });
  const made: GPUBuffer[] = [];
  const buffer = (
    label: string,
    bytes: number,
    usage: number,
    data?: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>,
  ): GPUBuffer => {
    const b = device.createBuffer({ label: `test ${label}`, size: Math.max(16, bytes), usage: usage | COPY_DST });
    if (data) device.queue.writeBuffer(b, 0, data);
    made.push(b);
    return b;
  };
  const rows = buffer('rows', 4 * R * M * C, STORAGE | COPY_SRC);
  const bind = kernel.kernel.bind('test', {
    params: buffer('params', 32, UNIFORM, new Uint32Array(kernel.params(dims))),
    step: buffer('step', 16, UNIFORM),
    weights: buffer('weights', w32.byteLength, STORAGE, w32),
    status: buffer('status', 4 * M, STORAGE),
    order: buffer('order', 4, STORAGE),
    lengths: buffer('lengths', 4 * D, STORAGE, Uint32Array.from(batch.lengths)),
    xs: buffer('xs', xs.byteLength, STORAGE, xs),
    targets: buffer('targets', targets.byteLength, STORAGE, targets),
    rows,
    hs: buffer('hs', 4 * T * NSTATE * M * C, STORAGE),
  });
  const read = buffer('read back', 4 * R * M * C, MAP_READ);
  const enc = device.createCommandEncoder({ label: 'test train truncation' });
  const pass = enc.beginComputePass();
  kernel.encode(pass, bind, dims);
  pass.end();
  enc.copyBufferToBuffer(rows, 0, read, 0, 4 * R * M * C);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(MAP_READ);
  const v = new Float32Array(read.getMappedRange().slice(0));
  made.forEach((b) => b.destroy());
  // Row r of model m, column c at (r·M + m)·C + c.
  return models.map((_, m) => {
    const sum = (r: number): number => {
      let s = 0;
      for (let c = 0; c < C; c++) s += v[(r * M + m) * C + c];
      return s;
    };
    return { loss: sum(0), overflows: sum(1), grads: Float64Array.from({ length: P }, (_, p) => sum(2 + p)) };
  });
}

await describeGpu('training kernel with truncated BPTT', (gpu) => {
  for (const cell of ['elman', 'lstm'] as const) {
    it(`${cell}: per-model gradients equal the CPU's truncated BPTT (k = 3), and full BPTT without a window`, async () => {
      const shape = { inputSize: 2, hiddenSize: 3, outputSize: 1 };
      const models = [7, 8, 9].map((seed) => modelFromJSON(randomModel(shape, 'tanh', 'all', seed, 0.5, cell)));
      const batch = randomBatch({ count: 7, ...shape, output: 'all', minLength: 4, maxLength: 9, seed: 4 });
      const maxLen = Math.max(...batch.lengths);
      const cpu = await cpuP;
      // Three models, two sequences per invocation (four columns per model, the last with one sequence).
      for (const k of [3, undefined]) {
        const got = await trainRows(gpu().device!, models, batch, 2, k);
        for (let m = 0; m < models.length; m++) {
          const want = await cpu.run(models[m], batch, { gradients: true, truncation: k });
          expectClose(`model ${m} loss`, [got[m].loss], [want.loss!], gpuTolerance(maxLen, [want.loss!]));
          expectClose(`model ${m} k=${k} grads`, got[m].grads, want.gradsFlat!, gpuTolerance(maxLen, want.gradsFlat!));
          expect(got[m].overflows).toBe(0);
        }
      }
      // The window changes the gradient well beyond the tolerance, so the comparison above tells the two apart.
      const full = await cpu.run(models[0], batch, { gradients: true });
      const cut = await cpu.run(models[0], batch, { gradients: true, truncation: 3 });
      const diff = Math.max(...full.gradsFlat!.map((g, p) => Math.abs(g - cut.gradsFlat![p])));
      expect(diff).toBeGreaterThan(1e-2 * Math.max(...full.gradsFlat!.map(Math.abs)));
    });
  }
});
