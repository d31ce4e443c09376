// The final levels of the deterministic row sums: R rows of per-chunk partial sums reduced, in fixed order, to
// one value per row (ReduceKernel level after level), then read back. This encoder is a run's last: it resolves
// the timestamps of a GpuTimer.

import type { ReduceKernel } from './kernels/reduce.ts';
import { BufferUsage, type BufferPool } from './pool.ts';
import type { GpuTimer } from './timing.ts';

const { STORAGE, COPY_SRC, COPY_DST, MAP_READ, UNIFORM } = BufferUsage;

/** Reduces R rows of `cols` partial sums to one value per row, level by level in fixed order, and reads them. */
export async function sumParts(device: GPUDevice, pool: BufferPool, reduce: ReduceKernel, parts: GPUBuffer, R: number, cols: number, timer: GpuTimer | null = null): Promise<Float32Array> {
  const enc = device.createCommandEncoder({ label: 'webgpu-rnn final sums' });
  let src = parts;
  let level = 0;
  while (cols > 1) {
    const next = reduce.partsFor(cols);
    const dst = pool.get(`sums level ${level % 2}`, R * next * 4, STORAGE | COPY_SRC);
    const u = pool.get(`sums params ${level}`, 16, UNIFORM | COPY_DST);
    device.queue.writeBuffer(u, 0, reduce.params(cols, cols, next, 0));
    const pass = enc.beginComputePass({ label: `webgpu-rnn sums level ${level}`, ...timer?.pass() });
    reduce.encode(pass, reduce.kernel.bind(`level ${level}`, { params: u, src, dst }), cols, R);
    pass.end();
    src = dst;
    cols = next;
    level++;
  }
  const read = pool.get('sums readback', R * 4, MAP_READ | COPY_DST);
  enc.copyBufferToBuffer(src, 0, read, 0, R * 4);
  timer?.finish(enc);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(MAP_READ, 0, R * 4);
  const out = new Float32Array(read.getMappedRange(0, R * 4).slice(0));
  read.unmap();
  return out;
}
