// The copies between the layers of a stacked or bidirectional network on the gemm strategy (src/gpu/gemm/layers.ts):
// StepCopyKernel copies per-step rows into one direction's order (shaders/gemm/copy_steps.wgsl: the inputs reversed
// within each sequence's length, dSSR/dh_t as a program's targets), EmitKernel
// copies a layer-direction's hidden states out of the one-layer kernels' state slots into the layer's outputs, in
// time order and reversed (shaders/gemm/emit.wgsl). One invocation per element, folded into 2D past 65535 groups.

import { Kernel, foldDispatch } from '../kernel.ts';
import { shaders } from '#shaders';

const WG = 64;
/** Bytes between emit records (minUniformBufferOffsetAlignment is at most 256). */
export const EMIT_RECORD_BYTES = 256;

function dispatch(kernel: Kernel, pass: GPUComputePassEncoder, invocations: number): void {
  const [x, y] = foldDispatch(Math.ceil(invocations / WG), kernel.device.limits.maxComputeWorkgroupsPerDimension);
  pass.dispatchWorkgroups(x, y);
}

/** One step copy (shaders/gemm/copy_steps.wgsl's `Copy`): W floats per step from rows [off, off + W) of S. */
export interface StepCopy {
  n: number;
  steps: number;
  width: number;
  stride: number;
  offset: number;
  reverse: number;
  scale: number;
}

export class StepCopyKernel {
  private constructor(readonly kernel: Kernel) {}

  static async load(device: GPUDevice): Promise<StepCopyKernel> {
    const kernel = await Kernel.load(device, {
      label: 'gemm.copy_steps',
      source: shaders.gemm_copy_steps,
      entry: 'main',
      constants: { WG },
    });
    return new StepCopyKernel(kernel);
  }

  params(c: StepCopy): ArrayBuffer {
    return this.kernel.uniform('cp', { ...c });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, c: StepCopy): void {
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    dispatch(this.kernel, pass, c.n * c.steps * c.width);
  }
}

/** One emit record: a segment of a layer-direction's run (shaders/gemm/emit.wgsl's `Emit`, by member name). */
export interface EmitRecord {
  n: number;
  ld: number;
  t0: number;
  count: number;
  slot0: number;
  slotStride: number;
  reverse: number;
  dh: number;
  hOff: number;
  h: number;
  ovfRow: number;
  last: number;
}

export class EmitKernel {
  private constructor(readonly kernel: Kernel) {}

  static async load(device: GPUDevice): Promise<EmitKernel> {
    const kernel = await Kernel.load(device, {
      label: 'gemm.emit',
      source: shaders.gemm_emit,
      entry: 'main',
      dynamic: ['rec'],
      constants: { WG },
    });
    return new EmitKernel(kernel);
  }

  /** The packed record (EMIT_RECORD_BYTES apart in the records buffer). */
  record(r: EmitRecord): ArrayBuffer {
    return this.kernel.uniform('rec', { ...r });
  }

  /** Records the copy of the segment whose record is at `record`. */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, record: number, r: EmitRecord): void {
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup, [record * EMIT_RECORD_BYTES]);
    dispatch(this.kernel, pass, r.count * r.h * r.n);
  }
}
