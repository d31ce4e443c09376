// The workgroup strategy's kernel (shaders/workgroup.wgsl): one workgroup per sequence, the state in workgroup
// memory, a matrix-vector product per step. Same bindings and rows as RnnKernel, so the strategy plans, packs and
// reduces exactly like per-sequence.

import { ACTIVATION_CODE, paramLayout, type Activation, type Shape } from '../../model.ts';
import { Kernel, foldDispatch } from '../kernel.ts';
import { shaders } from '#shaders';

export interface WorkgroupVariant extends Shape {
  mode: 'forward' | 'bptt';
  activation: Activation;
  outAll: boolean;
  writeY: boolean;
  hasTargets: boolean;
  /** Invocations per workgroup, a power of two. */
  workgroupSize: number;
}

/** Bytes of workgroup memory the kernel declares: h, hn, dh, dz (H each), dy (O), the tree (WG) and the length. */
export function workgroupBytes(H: number, O: number, wg: number): number {
  return (4 * H + O + wg + 1) * 4;
}

export class WorkgroupKernel {
  readonly kernel: Kernel;
  readonly rows: number;

  constructor(device: GPUDevice, readonly v: WorkgroupVariant) {
    const label = `workgroup.${v.mode}[H=${v.hiddenSize},I=${v.inputSize},O=${v.outputSize},${v.activation},${v.outAll ? 'all' : 'last'}${v.writeY ? ',y' : ''}${v.hasTargets ? ',loss' : ''},wg=${v.workgroupSize}]`;
    this.kernel = Kernel.get(device, label, () => ({
      label,
      source: shaders.workgroup,
      entry: 'main',
      constants: {
        H: v.hiddenSize,
        I: v.inputSize,
        O: v.outputSize,
        WG: v.workgroupSize,
        ACT: ACTIVATION_CODE[v.activation],
        OUT_ALL: v.outAll,
        WRITE_Y: v.writeY,
        HAS_TARGETS: v.hasTargets,
        BACKWARD: v.mode === 'bptt',
      },
    }));
    this.rows = v.mode === 'bptt' ? 2 + paramLayout(v).count : 2;
  }

  /** One workgroup per sequence, for `n` sequences (params.n must equal n). */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, n: number): void {
    const [x, y] = foldDispatch(n, this.kernel.device.limits.maxComputeWorkgroupsPerDimension);
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
}
