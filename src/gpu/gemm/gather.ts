// Gathering a training step's chunk of sequences out of the whole data set on the GPU (shaders/gemm/gather.wgsl), so
// that many steps of mini-batches are recorded into one submit with no host packing in between.

import { Kernel, foldDispatch } from '../kernel.ts';
import { shaders } from '#shaders';

export interface GatherShape {
  inputSize: number;
  outputSize: number;
  outAll: boolean;
  hasTargets: boolean;
}

/** Bytes between the per-(step, chunk) uniforms of a submit (minUniformBufferOffsetAlignment is at most 256). */
export const GATHER_RECORD_BYTES = 256;

export class GatherKernel {
  private constructor(
    readonly kernel: Kernel,
    readonly workgroupSize: number,
  ) {}

  static async load(device: GPUDevice, s: GatherShape, workgroupSize = 64): Promise<GatherKernel> {
    const label = `gather[I=${s.inputSize},O=${s.outputSize},${s.outAll ? 'all' : 'last'}${s.hasTargets ? ',targets' : ''}]`;
    const kernel = await Kernel.load(device, {
      label,
      source: shaders.gather,
      entry: 'main',
      dynamic: ['g'],
      constants: { I: s.inputSize, O: s.outputSize, OUT_ALL: s.outAll, HAS_TARGETS: s.hasTargets, WG: workgroupSize },
    });
    return new GatherKernel(kernel, workgroupSize);
  }

  /** The uniform of one chunk: columns order[offset … offset + count) of a data set of `total` sequences. */
  record(offset: number, count: number, steps: number, total: number): ArrayBuffer {
    return this.kernel.uniform('g', { offset, count, steps, total });
  }

  /** Records the gather of `count` columns with the uniform at record `record`. */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, record: number, count: number): void {
    const [x, y] = foldDispatch(
      Math.ceil(count / this.workgroupSize),
      this.kernel.device.limits.maxComputeWorkgroupsPerDimension,
    );
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup, [record * GATHER_RECORD_BYTES]);
    pass.dispatchWorkgroups(x, y);
  }
}
