// Bandwidth probes (browser-safe): a WGSL copy kernel on the adapter at hand (timestamp-query GPU time and wall
// time), and a JS typed-array copy on the CPU, both reported as GB/s of bytes read plus bytes written.

import { withErrorScopes } from '../gpu/device.ts';
import { CopyKernel } from '../gpu/kernels/copy.ts';
import { GpuTimer } from '../gpu/timing.ts';
import { summarize, type Summary } from './measure.ts';

export interface CopyProbe {
  /** Bytes copied per run (each is read once and written once: 2× this moves). */
  bytes: number;
  /** GB/s of (read + written) bytes from wall time (submit to onSubmittedWorkDone). */
  wallGBps: Summary;
  /** GB/s from timestamp queries around the copy pass, when the device has them. */
  gpuGBps: Summary | null;
}

const STORAGE = 0x80;
const UNIFORM = 0x40;
const COPY_DST = 0x8;

/** Copies `bytes` (default: 256 MiB, or less under the device limits) `repeats` times with the copy kernel. */
export async function gpuCopyProbe(device: GPUDevice, bytes = 256 * 2 ** 20, repeats = 5): Promise<CopyProbe> {
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  bytes = Math.max(16, Math.floor(Math.min(bytes, limit) / 16) * 16);
  const count = bytes / 16;
  return withErrorScopes(device, 'bandwidth probe', async () => {
    const kernel = new CopyKernel(device);
    const src = device.createBuffer({ label: 'webgpu-rnn probe src', size: bytes, usage: STORAGE });
    const dst = device.createBuffer({ label: 'webgpu-rnn probe dst', size: bytes, usage: STORAGE });
    const params = device.createBuffer({ label: 'webgpu-rnn probe params', size: 16, usage: UNIFORM | COPY_DST });
    try {
      device.queue.writeBuffer(params, 0, kernel.params(count));
      const bind = kernel.kernel.bind('probe', { params, src, dst });
      const wall: number[] = [];
      const gpu: number[] = [];
      for (let r = 0; r <= repeats; r++) {
        const timer = GpuTimer.create(device, 1);
        const enc = device.createCommandEncoder({ label: 'webgpu-rnn probe' });
        const pass = enc.beginComputePass({ label: 'webgpu-rnn probe copy', ...timer?.pass() });
        kernel.encode(pass, bind, count);
        pass.end();
        timer?.finish(enc);
        const t0 = performance.now();
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
        const seconds = (performance.now() - t0) / 1000;
        const ns = timer ? await timer.read() : null;
        if (r === 0) continue; // warm-up
        wall.push((2 * bytes) / seconds / 1e9);
        if (ns) gpu.push((2 * bytes) / ns);
      }
      return { bytes, wallGBps: summarize(wall)!, gpuGBps: gpu.length === wall.length ? summarize(gpu) : null };
    } finally {
      src.destroy();
      dst.destroy();
      params.destroy();
    }
  });
}

/** Copies a typed array of `bytes` in JS (TypedArray.set), `repeats` times after a warm-up. */
export function cpuCopyProbe(bytes = 64 * 2 ** 20, repeats = 5): { bytes: number; GBps: Summary } {
  const a = new Float64Array(bytes / 8);
  const b = new Float64Array(bytes / 8);
  for (let k = 0; k < a.length; k += 512) a[k] = k;
  const rates: number[] = [];
  for (let r = 0; r <= repeats; r++) {
    const t0 = performance.now();
    b.set(a);
    const seconds = (performance.now() - t0) / 1000;
    if (r > 0) rates.push((2 * bytes) / seconds / 1e9);
  }
  if (b[512] !== 512) throw new Error('cpu copy probe: the copy did not happen');
  return { bytes, GBps: summarize(rates)! };
}
