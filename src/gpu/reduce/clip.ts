// Gradient clipping by global norm (shaders/reduce/clip.wgsl): one workgroup computes ‖g‖ of a gradient vector in a fixed
// order and scales g in place by min(1, clipNorm/‖g‖), writing [‖g‖, scale] to an 8-byte stats buffer. Used by the
// engine after the deterministic reduction, and usable by any caller holding gradients in a GPU buffer.

import { GpuError } from '../../errors.ts';
import { Kernel, type KernelSpec } from '../kernel.ts';
import { shaders } from '#shaders';

/** Bytes of the stats buffer: f32 norm (before clipping), f32 scale applied. */
export const CLIP_STATS_BYTES = 8;

export class ClipKernel {
  readonly kernel: Kernel;

  constructor(
    device: GPUDevice,
    readonly workgroupSize = 256,
    kernel?: Kernel,
  ) {
    this.kernel = kernel ?? Kernel.create(device, ClipKernel.spec(workgroupSize));
  }

  /** Like the constructor, with the pipeline created asynchronously on first use (and cached per device). */
  static async load(device: GPUDevice, workgroupSize = 256): Promise<ClipKernel> {
    return new ClipKernel(device, workgroupSize, await Kernel.load(device, ClipKernel.spec(workgroupSize)));
  }

  private static spec(workgroupSize: number): KernelSpec {
    if (!Number.isInteger(workgroupSize) || workgroupSize < 1 || workgroupSize & (workgroupSize - 1)) {
      throw new GpuError(`clip: workgroup size ${workgroupSize} must be a power of two`);
    }
    return {
      label: `clip[wg=${workgroupSize}]`,
      source: shaders.clip,
      entry: 'clip_grads',
      constants: { WG: workgroupSize },
    };
  }

  /**
   * Uniform bytes: the vector is grads[offset .. offset + count) (in f32 elements); clipNorm > 0 clips to that norm,
   * undefined only measures it.
   */
  params(offset: number, count: number, clipNorm?: number): ArrayBuffer {
    if (clipNorm !== undefined && !(clipNorm > 0 && Number.isFinite(clipNorm)))
      throw new GpuError(`clip: clipNorm must be finite and > 0, got ${clipNorm}`);
    return this.kernel.uniform('params', { offset, count, clipNorm: clipNorm ?? 0 });
  }

  /** A bind group: `grads` holds the vector (read and written), `stats` receives [norm, scale]. */
  bind(label: string, buffers: { params: GPUBuffer; grads: GPUBuffer; stats: GPUBuffer }): GPUBindGroup {
    return this.kernel.bind(label, buffers);
  }

  /** Records the single-workgroup dispatch. */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup): void {
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(1);
  }
}
