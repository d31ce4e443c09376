// The unroll-study kernel (shaders/study/unroll_study.wgsl): one invocation per w2 value runs the seed notes' scalar
// network forward and back through time and writes, per step back k, that input's term of dSSR/dw1.

import { elman } from '../../cells/index.ts';
import type { Activation } from '../../model.ts';
import { withCell } from '../cell.ts';
import { Kernel, foldDispatch, type KernelSpec } from '../kernel.ts';
import { shaders } from '#shaders';

export class UnrollStudyKernel {
  readonly kernel: Kernel;

  constructor(
    device: GPUDevice,
    readonly activation: Activation,
    readonly workgroupSize = 64,
    kernel?: Kernel,
  ) {
    this.kernel = kernel ?? Kernel.create(device, UnrollStudyKernel.spec(activation, workgroupSize));
  }

  /** Like the constructor, with the pipeline created asynchronously on first use (and cached per device). */
  static async load(device: GPUDevice, activation: Activation, workgroupSize = 64): Promise<UnrollStudyKernel> {
    return new UnrollStudyKernel(
      device,
      activation,
      workgroupSize,
      await Kernel.load(device, UnrollStudyKernel.spec(activation, workgroupSize)),
    );
  }

  private static spec(activation: Activation, workgroupSize: number): KernelSpec {
    const label = `unroll_study[${activation},wg=${workgroupSize}]`;
    return {
      label,
      source: withCell(label, shaders.unroll_study, elman),
      entry: 'study',
      constants: { WG: workgroupSize, ...elman.overrides(activation) },
    };
  }

  /** Uniform bytes: `count` w2 values, `steps` = T, and the fixed weights and target. */
  params(v: {
    count: number;
    steps: number;
    w1: number;
    b1: number;
    w3: number;
    b2: number;
    target: number;
  }): ArrayBuffer {
    const { target, ...rest } = v;
    return this.kernel.uniform('params', { ...rest, observed: target }); // `target` is a reserved word in WGSL
  }

  /** Records the dispatch for `count` w2 values (must equal the bound params.count). */
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
