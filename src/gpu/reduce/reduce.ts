// Deterministic row sums (shaders/reduce/reduce.wgsl): one level of a fixed-order tree per dispatch. The host chains
// levels (per-workgroup partials, then partials of partials) until one column is left. No atomics.

import { GpuError } from '../../errors.ts';
import { Kernel, foldDispatch, type KernelSpec } from '../kernel.ts';
import { shaders } from '#shaders';

export class ReduceKernel {
  readonly kernel: Kernel;
  /** Columns summed by one workgroup. */
  readonly span: number;

  /**
   * Defaults: 64 invocations each adding 64 columns (4096 per workgroup). Barriers are the expensive part on
   * CPU-emulated adapters (SwiftShader: 142 ms for 7×65,536 values at 256×4, 9 ms at 64×64), and the loads stay
   * coalesced on GPUs since neighbouring invocations read neighbouring columns at every k.
   */
  constructor(
    device: GPUDevice,
    readonly workgroupSize = 64,
    readonly perThread = 64,
    kernel?: Kernel,
  ) {
    this.kernel = kernel ?? Kernel.create(device, ReduceKernel.spec(workgroupSize, perThread));
    this.span = workgroupSize * perThread;
  }

  /** Like the constructor, with the pipeline created asynchronously on first use (and cached per device). */
  static async load(device: GPUDevice, workgroupSize = 64, perThread = 64): Promise<ReduceKernel> {
    return new ReduceKernel(
      device,
      workgroupSize,
      perThread,
      await Kernel.load(device, ReduceKernel.spec(workgroupSize, perThread)),
    );
  }

  private static spec(workgroupSize: number, perThread: number): KernelSpec {
    if (!Number.isInteger(workgroupSize) || workgroupSize < 1 || workgroupSize & (workgroupSize - 1)) {
      throw new GpuError(`reduce: workgroup size ${workgroupSize} must be a power of two`);
    }
    if (!Number.isInteger(perThread) || perThread < 1 || workgroupSize * perThread < 2) {
      throw new GpuError(
        `reduce: each workgroup must sum at least 2 columns (workgroup size × per-thread = ${workgroupSize * perThread}), or the levels never shrink`,
      );
    }
    const label = `reduce[wg=${workgroupSize},k=${perThread}]`;
    return {
      label,
      source: shaders.reduce,
      entry: 'reduce_rows',
      constants: { WG: workgroupSize, PER_THREAD: perThread },
    };
  }

  /** Number of partial sums one level leaves from `cols` columns. */
  partsFor(cols: number): number {
    return Math.ceil(cols / this.span);
  }

  /** Uniform bytes for one level. */
  params(cols: number, inStride: number, outStride: number, outOffset: number): ArrayBuffer {
    return this.kernel.uniform('params', { cols, inStride, outStride, outOffset });
  }

  /** Records one level over `rows` rows of `cols` columns. */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, cols: number, rows: number): void {
    const max = this.kernel.device.limits.maxComputeWorkgroupsPerDimension;
    if (rows > max) throw new GpuError(`reduce: ${rows} rows exceed maxComputeWorkgroupsPerDimension (${max})`);
    const [x, y] = foldDispatch(this.partsFor(cols), max);
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, rows);
  }
}
