// The optimizer step (shaders/optimizer.wgsl): SGD with momentum or Adam for every model of a population, in
// place, with the stop rules of src/train/optimizer.ts (its float64 reference), one invocation per model.

import { Kernel, foldDispatch } from '../kernel.ts';
import { shaders } from '#shaders';

export interface OptimizerConfigValues {
  models: number;
  nparam: number;
  nweights: number;
  adam: boolean;
  momentum: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** -Infinity: none. */
  threshold: number;
  clipNorm: number;
  trajectory: boolean;
  /** Offset of the trajectory in the records buffer. */
  trajBase: number;
}

export interface StepValues {
  orderOffset: number;
  /** Record slot, or -1. */
  slot: number;
  k: number;
  lrA: number;
  lrB: number;
  c1: number;
  c2: number;
}

export class OptimizerKernel {
  readonly kernel: Kernel;

  constructor(device: GPUDevice, readonly workgroupSize = 64) {
    const label = `optimizer[wg=${workgroupSize}]`;
    this.kernel = Kernel.get(device, label, () => ({ label, source: shaders.optimizer, entry: 'main', constants: { WG: workgroupSize } }));
  }

  config(c: OptimizerConfigValues): ArrayBuffer {
    const has = c.threshold !== -Infinity;
    return this.kernel.uniform('cfg', {
      models: c.models,
      nparam: c.nparam,
      nweights: c.nweights,
      adam: c.adam ? 1 : 0,
      momentum: c.momentum,
      beta1: c.beta1,
      beta2: c.beta2,
      eps: c.eps,
      hasThreshold: has ? 1 : 0,
      threshold: has ? c.threshold : 0,
      clipNorm: c.clipNorm,
      trajectory: c.trajectory ? 1 : 0,
      trajBase: c.trajBase,
    });
  }

  /** The per-step uniform (shared with train.wgsl, whose Step struct is a prefix of this one). */
  step(s: StepValues): ArrayBuffer {
    return this.kernel.uniform('step', { ...s, slot: s.slot < 0 ? 0xffffffff : s.slot });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, models: number): void {
    const [x, y] = foldDispatch(Math.ceil(models / this.workgroupSize), this.kernel.device.limits.maxComputeWorkgroupsPerDimension);
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
}
