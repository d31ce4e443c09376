// Per-model sums (shaders/reduce/model_sums.wgsl): each row's columns added in fixed order by one invocation, for the
// training kernel's rows (r·M + m) of C columns.

import { Kernel, foldDispatch } from '../kernel.ts';
import { shaders } from '#shaders';

export class ModelSumsKernel {
  readonly kernel: Kernel;

  constructor(
    device: GPUDevice,
    readonly workgroupSize = 64,
  ) {
    const label = `model_sums[wg=${workgroupSize}]`;
    this.kernel = Kernel.get(device, label, () => ({
      label,
      source: shaders.model_sums,
      entry: 'sum_rows',
      constants: { WG: workgroupSize },
    }));
  }

  params(rows: number, cols: number): ArrayBuffer {
    return this.kernel.uniform('params', { rows, cols });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, rows: number): void {
    const [x, y] = foldDispatch(
      Math.ceil(rows / this.workgroupSize),
      this.kernel.device.limits.maxComputeWorkgroupsPerDimension,
    );
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
}
