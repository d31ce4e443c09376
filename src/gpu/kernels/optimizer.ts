// The optimizer step (shaders/optimizer.wgsl): SGD with momentum or Adam for every model of a population, in
// place, with the stop rules of src/train/optimizer.ts (its float64 reference), one invocation per model.

import { cellOf, type CellName } from '../../cells/index.ts';
import { paramLayout, type Shape } from '../../model.ts';
import { withCell } from '../cell.ts';
import { Kernel, foldDispatch } from '../kernel.ts';
import { specializeShape } from '../specialize.ts';
import { shaders } from '#shaders';

const UNROLL_MAX = 64;

/** The optimizer's settings, shared by the per-model and the parameter-parallel kernels (optimizer-wide.ts). */
export interface OptimizerSettings {
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
  /** L2 weight decay λ. */
  weightDecay: number;
  /** 1 (SSR) or 1/(target values per step) (mean). */
  lossScale: number;
}

export interface OptimizerConfigValues extends OptimizerSettings {
  models: number;
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

  /**
   * The loops over the parameters are unrolled (values in registers) up to UNROLL_MAX parameters; past that they
   * stay loops, because the unrolled shader measured 35 s to compile on SwiftShader at H = I = O = 16 (560
   * parameters) for a step that is a small part of the work.
   */
  constructor(
    device: GPUDevice,
    shape: Shape & { cell?: CellName },
    readonly workgroupSize = 64,
  ) {
    const unroll = paramLayout(shape).count <= UNROLL_MAX;
    const cell = cellOf(shape);
    const label = `optimizer[${cell.name},H=${shape.hiddenSize},I=${shape.inputSize},O=${shape.outputSize},wg=${workgroupSize}${unroll ? '' : ',loops'}]`;
    this.kernel = Kernel.get(device, label, () => ({
      label,
      source: specializeShape(withCell(label, shaders.optimizer, cell), shape, unroll),
      entry: 'main',
      constants: { WG: workgroupSize },
    }));
  }

  config(c: OptimizerConfigValues): ArrayBuffer {
    const has = c.threshold !== -Infinity;
    return this.kernel.uniform('cfg', {
      models: c.models,
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
      decay: c.weightDecay,
      lossScale: c.lossScale,
    });
  }

  /** The per-step uniform (shared with the training driver, per_sequence/bptt.wgsl, whose Step struct is a prefix of this one). */
  step(s: StepValues): ArrayBuffer {
    return this.kernel.uniform('step', { ...s, slot: s.slot < 0 ? 0xffffffff : s.slot });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, models: number): void {
    const [x, y] = foldDispatch(
      Math.ceil(models / this.workgroupSize),
      this.kernel.device.limits.maxComputeWorkgroupsPerDimension,
    );
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
}
