// The GPU path of the unroll study: uploads the sequence and the w2 values, runs UnrollStudyKernel (one invocation
// per w2) on the engine's GpuRuntime (its queue, error scopes, pool and read-back), reads back every term and
// refuses values that left the float32 range.

import { NonFiniteError } from '../errors.ts';
import { UnrollStudyKernel } from '../gpu/study/unroll-study.ts';
import { BufferUsage } from '../gpu/pool.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import { studyRow, studySetup, type UnrollStudy, type UnrollStudyOptions } from './unroll-setup.ts';

const { STORAGE, COPY_DST, COPY_SRC, UNIFORM } = BufferUsage;

export async function unrollStudyGpu(rt: GpuRuntime, opts: UnrollStudyOptions): Promise<UnrollStudy> {
  const s = studySetup(opts);
  return rt.enqueue('unroll study', async () => {
    const device = rt.device;
    const T = s.inputs.length;
    const N = s.w2.length;
    const kernel = new UnrollStudyKernel(device, s.activation);
    const pool = rt.claim('unroll study');
    const buffer = (label: string, bytes: number, usage: number): GPUBuffer =>
      pool.get(`unroll study ${label}`, bytes, usage);
    const params = buffer('params', 32, UNIFORM | COPY_DST);
    const xs = buffer('xs', T * 4, STORAGE | COPY_DST);
    const w2s = buffer('w2', N * 4, STORAGE | COPY_DST);
    const hs = buffer('hs', T * N * 4, STORAGE);
    const g = buffer('dPredicted terms', T * N * 4, STORAGE | COPY_SRC);
    const contrib = buffer('contributions', T * N * 4, STORAGE | COPY_SRC);
    const outs = buffer('outs', 3 * N * 4, STORAGE | COPY_SRC);
    const termBytes = T * N * 4;
    device.queue.writeBuffer(params, 0, kernel.params({ count: N, steps: T, ...s.weights, target: s.target }));
    device.queue.writeBuffer(xs, 0, new Float32Array(s.inputs));
    device.queue.writeBuffer(w2s, 0, new Float32Array(s.w2));
    const enc = device.createCommandEncoder({ label: 'unroll study' });
    const pass = enc.beginComputePass({ label: 'unroll study' });
    kernel.encode(pass, kernel.kernel.bind('study', { params, xs, w2s, hs, g, contrib, outs }), N);
    pass.end();
    const all = new Float32Array(
      await rt.readBack(enc, [
        [g, termBytes],
        [contrib, termBytes],
        [outs, 3 * N * 4],
      ]),
    );
    const rows = Array.from(s.w2, (w2, j) => {
      if (all[2 * T * N + 2 * N + j] !== 0)
        throw new NonFiniteError('webgpu', `a value at w2 = ${w2} (beyond the float32 range)`, null);
      const gj = new Float64Array(T);
      const cj = new Float64Array(T);
      for (let k = 0; k < T; k++) {
        gj[k] = all[k * N + j];
        cj[k] = all[T * N + k * N + j];
      }
      return studyRow('webgpu', w2, all[2 * T * N + j], all[2 * T * N + N + j], gj, cj);
    });
    return { ...s, method: 'webgpu' as const, adapter: rt.adapter, length: T, rows };
  });
}
