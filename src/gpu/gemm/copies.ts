// The copies between the layers of a stacked or bidirectional network on the gemm strategy (src/gpu/gemm/layers.ts):
// StepCopyKernel copies per-step rows into one direction's order (shaders/gemm/copy_steps.wgsl: the inputs reversed
// within each sequence's length, dSSR/dh_t as a program's targets), EmitKernel
// copies a layer-direction's hidden states out of the one-layer kernels' state slots into the layer's outputs, in
// time order and reversed (shaders/gemm/emit.wgsl), CarryKernel loads carried initial states into a program's slot 0
// and stores each sequence's final state (shaders/gemm/carry.wgsl). One invocation per element, folded into 2D past
// 65535 groups.

import { withDropout } from '../dropout.ts';
import { Kernel, foldDispatch } from '../kernel.ts';
import { shaders } from '#shaders';

const WG = 64;
/** Bytes between emit records (minUniformBufferOffsetAlignment is at most 256). */
export const EMIT_RECORD_BYTES = 256;

function dispatch(kernel: Kernel, pass: GPUComputePassEncoder, invocations: number): void {
  const [x, y] = foldDispatch(Math.ceil(invocations / WG), kernel.device.limits.maxComputeWorkgroupsPerDimension);
  pass.dispatchWorkgroups(x, y);
}

/** The dropout mask's members of a copy or emit record (all 0: no mask). */
export interface MaskFields {
  drop: number;
  layer: number;
  seqBase: number;
  dropSeed: number;
  dropThreshold: number;
  dropScale: number;
}

/** No dropout mask. */
export const NO_MASK: MaskFields = { drop: 0, layer: 0, seqBase: 0, dropSeed: 0, dropThreshold: 0, dropScale: 0 };

/** One step copy (shaders/gemm/copy_steps.wgsl's `Copy`): W floats per step from rows [off, off + W) of S. */
export interface StepCopy extends MaskFields {
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
      source: withDropout('gemm.copy_steps', shaders.gemm_copy_steps),
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
export interface EmitRecord extends MaskFields {
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
      source: withDropout('gemm.emit', shaders.gemm_emit),
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

/** One carry record (shaders/gemm/carry.wgsl's `Carry`, by member name). */
export interface CarryRecord {
  n: number;
  ld: number;
  rows: number;
  k: number;
  slot0: number;
  slotStride: number;
  t0: number;
  count: number;
}

/** Bytes between carry records (minUniformBufferOffsetAlignment is at most 256). */
export const CARRY_RECORD_BYTES = 256;

/** The loads of initial states into a program's slot 0, and the stores of final states after its segments. */
export class CarryKernel {
  private constructor(
    readonly loader: Kernel,
    readonly storer: Kernel,
  ) {}

  static async load(device: GPUDevice): Promise<CarryKernel> {
    const spec = (entry: string) => ({
      label: `gemm.carry ${entry}`,
      source: shaders.gemm_carry,
      entry,
      dynamic: ['rec'],
      constants: { WG },
    });
    const [loader, storer] = await Promise.all([Kernel.load(device, spec('load')), Kernel.load(device, spec('store'))]);
    return new CarryKernel(loader, storer);
  }

  /** The packed record (CARRY_RECORD_BYTES apart in the records buffer). */
  record(r: CarryRecord): ArrayBuffer {
    return this.loader.uniform('rec', { ...r });
  }

  /** Records the load (`store` false) or store of the record at `record`. */
  encode(pass: GPUComputePassEncoder, store: boolean, bindGroup: GPUBindGroup, record: number, r: CarryRecord): void {
    const kernel = store ? this.storer : this.loader;
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, bindGroup, [record * CARRY_RECORD_BYTES]);
    dispatch(kernel, pass, r.rows * r.n);
  }
}
