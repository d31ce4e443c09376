// The copy kernel (shaders/probes/copy.wgsl): dst = src in vec4<f32>, the memory-bandwidth probe of the benchmark.

import { Kernel, foldDispatch, type KernelSpec } from '../kernel.ts';
import { shaders } from '#shaders';

export class CopyKernel {
  readonly kernel: Kernel;

  constructor(
    device: GPUDevice,
    readonly workgroupSize = 256,
    kernel?: Kernel,
  ) {
    this.kernel = kernel ?? Kernel.create(device, CopyKernel.spec(workgroupSize));
  }

  /** Like the constructor, with the pipeline created asynchronously on first use (and cached per device). */
  static async load(device: GPUDevice, workgroupSize = 256): Promise<CopyKernel> {
    return new CopyKernel(device, workgroupSize, await Kernel.load(device, CopyKernel.spec(workgroupSize)));
  }

  private static spec(workgroupSize: number): KernelSpec {
    return {
      label: `copy[wg=${workgroupSize}]`,
      source: shaders.copy,
      entry: 'copy',
      constants: { WG: workgroupSize },
    };
  }

  /** Uniform bytes for copying `count` vec4 values. */
  params(count: number): ArrayBuffer {
    return this.kernel.uniform('params', { count });
  }

  /** Records the copy of `count` vec4 values. */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, count: number): void {
    const [x, y] = foldDispatch(
      Math.ceil(count / this.workgroupSize),
      this.kernel.device.limits.maxComputeWorkgroupsPerDimension,
    );
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
}
