// The adapter's own limits (browser-safe): a WGSL copy kernel (GB/s of bytes read plus written) and a WGSL
// multiply-add kernel with no memory traffic (GFLOP/s), both timed with timestamp queries where the device has
// them and by wall time; and a JS typed-array copy on the CPU. Every benchmark cell is reported as a fraction of
// the two WGSL probes.

import { withErrorScopes } from '../gpu/device.ts';
import { CopyKernel } from '../gpu/probes/copy.ts';
import { Kernel, foldDispatch } from '../gpu/kernel.ts';
import { shaders } from '#shaders';
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

/** Records one pass with `record`, submits it and waits: wall seconds, and GPU nanoseconds where timestamps exist. */
async function timedPass(
  device: GPUDevice,
  label: string,
  record: (pass: GPUComputePassEncoder) => void,
): Promise<{ wall: number; ns: number | null }> {
  const timer = GpuTimer.create(device, 1);
  const enc = device.createCommandEncoder({ label: `webgpu-rnn ${label}` });
  const pass = enc.beginComputePass({ label: `webgpu-rnn ${label} pass`, ...timer?.pass() });
  record(pass);
  pass.end();
  timer?.finish(enc);
  const t0 = performance.now();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  const wall = (performance.now() - t0) / 1000;
  const ns = timer ? await timer.read() : null;
  return { wall, ns };
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
    const kernel = await CopyKernel.load(device);
    const src = device.createBuffer({ label: 'webgpu-rnn probe src', size: bytes, usage: STORAGE });
    const dst = device.createBuffer({ label: 'webgpu-rnn probe dst', size: bytes, usage: STORAGE });
    const params = device.createBuffer({ label: 'webgpu-rnn probe params', size: 16, usage: UNIFORM | COPY_DST });
    try {
      device.queue.writeBuffer(params, 0, kernel.params(count));
      const bind = kernel.kernel.bind('probe', { params, src, dst });
      const wall: number[] = [];
      const gpu: number[] = [];
      for (let r = 0; r <= repeats; r++) {
        const { wall: seconds, ns } = await timedPass(device, 'copy probe', (pass) => kernel.encode(pass, bind, count));
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

export interface FmaProbeAt {
  /** Invocations per dispatch and rounds per invocation; FLOPs per dispatch (256 per invocation and round). */
  invocations: number;
  iterations: number;
  flops: number;
  /** GFLOP/s from wall time (submit to onSubmittedWorkDone). */
  wallGflops: Summary;
  /** GFLOP/s from timestamp queries around the pass, when the device has them. */
  gpuGflops: Summary | null;
}

/** The fastest of the tried dispatch sizes, and every one tried. */
export interface FmaProbe extends FmaProbeAt {
  tried: FmaProbeAt[];
}

/** FLOPs per invocation and round of shaders/probes/fma.wgsl: 32 vec4 multiply-adds × 4 lanes × 2. */
export const FMA_FLOPS_PER_ROUND = 256;

/**
 * The arithmetic probe: dispatches of 2^14, 2^16, 2^18 and 2^20 invocations (the last fills any current GPU; a
 * software adapter does best with fewer), each running rounds of 32 vec4 multiply-adds from registers. Per size the
 * rounds grow until one dispatch takes at least `targetSeconds` (wall); then `repeats` dispatches are timed. The
 * fastest size is reported, in GPU time where timed.
 */
export async function gpuFmaProbe(
  device: GPUDevice,
  opts: { invocations?: number[]; targetSeconds?: number; repeats?: number } = {},
): Promise<FmaProbe> {
  const WG = 256;
  const sizes = opts.invocations ?? [2 ** 14, 2 ** 16, 2 ** 18, 2 ** 20];
  const target = opts.targetSeconds ?? 0.25;
  const repeats = opts.repeats ?? 5;
  return withErrorScopes(device, 'arithmetic probe', async () => {
    const kernel = await Kernel.load(device, {
      label: `fma[wg=${WG}]`,
      source: shaders.fma,
      entry: 'fma_probe',
      constants: { WG },
    });
    const sink = device.createBuffer({ label: 'webgpu-rnn fma probe sink', size: 16, usage: STORAGE });
    const params = device.createBuffer({ label: 'webgpu-rnn fma probe params', size: 32, usage: UNIFORM | COPY_DST });
    try {
      const bind = kernel.bind('probe', { params, sink });
      const dispatch = async (
        invocations: number,
        iterations: number,
      ): Promise<{ wall: number; ns: number | null }> => {
        const [x, y] = foldDispatch(Math.ceil(invocations / WG), device.limits.maxComputeWorkgroupsPerDimension);
        device.queue.writeBuffer(
          params,
          0,
          kernel.uniform('params', { count: invocations, iterations, m: 0.999, c: 1e-3, never: -1e30 }),
        );
        return timedPass(device, 'fma probe', (pass) => {
          pass.setPipeline(kernel.pipeline);
          pass.setBindGroup(0, bind);
          pass.dispatchWorkgroups(x, y);
        });
      };
      await dispatch(WG, 1); // compile and warm up
      const tried: FmaProbeAt[] = [];
      for (const n of sizes) {
        const invocations = Math.max(WG, Math.ceil(n / WG) * WG);
        // Grow the rounds (at least ×2, at most ×64 a step) until one dispatch is long enough to time.
        let iterations = 1;
        for (;;) {
          const { wall } = await dispatch(invocations, iterations);
          if (wall >= target || iterations >= 1 << 24) break;
          const want = Math.ceil((iterations * target * 1.2) / Math.max(wall, 1e-6));
          iterations = Math.min(1 << 24, Math.max(iterations * 2, Math.min(want, iterations * 64)));
        }
        const flops = invocations * iterations * FMA_FLOPS_PER_ROUND;
        const wall: number[] = [];
        const gpu: number[] = [];
        for (let r = 0; r < repeats; r++) {
          const t = await dispatch(invocations, iterations);
          wall.push(flops / t.wall / 1e9);
          if (t.ns) gpu.push(flops / t.ns);
        }
        tried.push({
          invocations,
          iterations,
          flops,
          wallGflops: summarize(wall)!,
          gpuGflops: gpu.length === wall.length ? summarize(gpu) : null,
        });
      }
      const rate = (p: FmaProbeAt): number => (p.gpuGflops ?? p.wallGflops).median;
      const best = tried.reduce((a, b) => (rate(b) > rate(a) ? b : a));
      return { ...best, tried };
    } finally {
      sink.destroy();
      params.destroy();
    }
  });
}
