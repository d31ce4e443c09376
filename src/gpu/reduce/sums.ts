// The final levels of the deterministic row sums: R rows of per-chunk partial sums reduced, in fixed order, to
// one value per row (ReduceKernel level after level), then read back. This encoder is a run's last: it resolves
// the timestamps of a GpuTimer. With gradients, ClipKernel measures their global norm (and clips them to
// RunOptions.clipNorm) on the GPU in the same encoder, before the read-back: `runResult` gives a strategy's RawResult.

import type { RawResult } from '../../backend.ts';
import { CLIP_STATS_BYTES, ClipKernel } from './clip.ts';
import type { ReduceKernel } from './reduce.ts';
import { BufferUsage, type BufferPool } from '../pool.ts';
import { readBuffers } from '../runtime.ts';
import type { GpuTimer } from '../timing.ts';

const { STORAGE, COPY_SRC, COPY_DST, UNIFORM } = BufferUsage;

/** Records the levels that take R rows of `cols` partial sums to one column; returns the buffer holding it (row r at r). */
export function encodeLevels(
  device: GPUDevice,
  pool: BufferPool,
  enc: GPUCommandEncoder,
  reduce: ReduceKernel,
  parts: GPUBuffer,
  R: number,
  cols: number,
  timer: GpuTimer | null,
): GPUBuffer {
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
  return src;
}

/** Copies each [buffer, bytes] into one read-back buffer after the recorded work, submits `enc` and reads them (readBuffers in runtime.ts). */
export async function readBack(
  device: GPUDevice,
  pool: BufferPool,
  enc: GPUCommandEncoder,
  srcs: [GPUBuffer, number][],
  timer: GpuTimer | null,
): Promise<Float32Array> {
  return new Float32Array(await readBuffers(device, pool, enc, srcs, timer));
}

/** Reduces R rows of `cols` partial sums to one value per row, level by level in fixed order, and reads them. */
export async function sumParts(
  device: GPUDevice,
  pool: BufferPool,
  reduce: ReduceKernel,
  parts: GPUBuffer,
  R: number,
  cols: number,
  timer: GpuTimer | null = null,
): Promise<Float32Array> {
  const enc = device.createCommandEncoder({ label: 'webgpu-rnn final sums' });
  const src = encodeLevels(device, pool, enc, reduce, parts, R, cols, timer);
  return readBack(device, pool, enc, [[src, R * 4]], timer);
}

export interface ResultRequest {
  hasTargets: boolean;
  gradients: boolean;
  /** RunOptions.clipNorm: clip the gradients to this global norm. */
  clipNorm?: number;
}

/**
 * A strategy's RawResult from its partial sums in the engine's row layout: row 0 SSR, row 1 overflow count, rows
 * 2..R−1 dSSR/dθ (when `gradients`). The gradients' global norm is measured, and with clipNorm the gradients are
 * clipped, on the GPU before the read-back; `gradNorm` and `clipped` report it.
 */
export async function runResult(
  device: GPUDevice,
  pool: BufferPool,
  reduce: ReduceKernel,
  parts: GPUBuffer,
  R: number,
  cols: number,
  timer: GpuTimer | null,
  req: ResultRequest,
  outputs: Float64Array | null,
): Promise<RawResult> {
  const enc = device.createCommandEncoder({ label: 'webgpu-rnn final sums' });
  const src = encodeLevels(device, pool, enc, reduce, parts, R, cols, timer);
  const reads: [GPUBuffer, number][] = [[src, R * 4]];
  if (req.gradients) {
    // The final column may be a strategy's own partials buffer (a single part): clip a copy of it.
    const sums = pool.get('sums for clipping', R * 4, STORAGE | COPY_SRC | COPY_DST);
    const stats = pool.get('clip stats', CLIP_STATS_BYTES, STORAGE | COPY_SRC);
    const u = pool.get('clip params', 16, UNIFORM | COPY_DST);
    const clip = new ClipKernel(device);
    device.queue.writeBuffer(u, 0, clip.params(2, R - 2, req.clipNorm));
    enc.copyBufferToBuffer(src, 0, sums, 0, R * 4);
    const pass = enc.beginComputePass({ label: 'webgpu-rnn gradient norm and clipping', ...timer?.pass() });
    clip.encode(pass, clip.bind('run', { params: u, grads: sums, stats }));
    pass.end();
    reads[0] = [sums, R * 4];
    reads.push([stats, CLIP_STATS_BYTES]);
  }
  const v = await readBack(device, pool, enc, reads, timer);
  const raw: RawResult = {
    loss: req.hasTargets ? v[0] : null,
    grads: req.gradients ? Float64Array.from(v.subarray(2, R)) : null,
    outputs,
    overflowed: v[1],
  };
  if (req.gradients) {
    raw.gradNorm = v[R];
    raw.clipped = v[R + 1] !== 1;
  }
  return raw;
}
