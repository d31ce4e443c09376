// The copy kernel (shaders/copy.wgsl): dst = src in vec4<f32>, the memory-bandwidth probe of the benchmark.

import { Kernel, foldDispatch } from '../kernel.ts';
import { shaders } from '#shaders';

export class CopyKernel {
  readonly kernel: Kernel;

  constructor(device: GPUDevice, readonly workgroupSize = 256) {
    const label = `copy[wg=${workgroupSize}]`;
    this.kernel = Kernel.get(device, label, () => ({ label, source: shaders.copy, entry: 'copy', constants: { WG: workgroupSize } }));
  }

  /** Uniform bytes for copying `count` vec4 values. */
  params(count: number): ArrayBuffer {
    return this.kernel.uniform('params', { count });
  }

  /** Records the copy of `count` vec4 values. */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, count: number): void {
    const [x, y] = foldDispatch(Math.ceil(count / this.workgroupSize), this.kernel.device.limits.maxComputeWorkgroupsPerDimension);
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
}
