// The optimizer step (shaders/optimizer/optimizer.wgsl): SGD with momentum or Adam, in place, with the stop rules of
// src/train/optimizer.ts (its float64 reference), in the module's two dispatch shapes: one invocation per model of a
// population (`perModel`), or one model parallel over its parameters with the refresh of the transposed copies the
// gemm kernels read (`parallel`). Both take the same buffers, config and per-step uniform.

import { cellOf, elman, type CellName } from '../../cells/index.ts';
import { paramLayout, type Shape } from '../../model.ts';
import { withCell } from '../cell.ts';
import { Kernel, foldDispatch } from '../kernel.ts';
import { specializeShape } from '../specialize.ts';
import { shaders } from '#shaders';

const UNROLL_MAX = 64;
const PARALLEL = ['check', 'update', 'commit', 'finish'] as const;

/** Bytes between per-step uniforms (minUniformBufferOffsetAlignment is at most 256). */
export const OPTIMIZER_STEP_BYTES = 256;
/** Words of `info` past the models' [steps done, divergence step] that the parallel entry points use. */
export const PARALLEL_INFO_WORDS = 3;

/** The optimizer's settings, as src/train/options.ts resolves them. */
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

/** The parallel entry points' model: its shape, and where its weights buffer holds Whᵀ (Wyᵀ follows it). */
export interface ParallelModel {
  shape: Shape & { cell?: CellName };
  offWhT: number;
}

export class OptimizerKernel {
  private constructor(
    readonly device: GPUDevice,
    /** `main`, or the parallel entry points in dispatch order. */
    readonly kernels: Kernel[],
    readonly parallel: boolean,
    readonly workgroupSize: number,
  ) {}

  /**
   * One invocation per model for models of `shape`. The loops over the parameters are unrolled (values in
   * registers) up to UNROLL_MAX parameters; past that they stay loops, because the unrolled shader measured 35 s to
   * compile on SwiftShader at H = I = O = 16 (560 parameters) for a step that is a small part of the work.
   */
  static perModel(device: GPUDevice, shape: Shape & { cell?: CellName }, workgroupSize = 64): OptimizerKernel {
    const unroll = paramLayout(shape).count <= UNROLL_MAX;
    const cell = cellOf(shape);
    const label = `optimizer[${cell.name},H=${shape.hiddenSize},I=${shape.inputSize},O=${shape.outputSize},wg=${workgroupSize}${unroll ? '' : ',loops'}]`;
    const kernel = Kernel.get(device, label, () => ({
      label,
      source: specializeShape(withCell(label, shaders.optimizer, cell), shape, unroll),
      entry: 'main',
      dynamic: ['step'],
      constants: { WG: workgroupSize },
    }));
    return new OptimizerKernel(device, [kernel], false, workgroupSize);
  }

  /**
   * One model, parallel over its parameters: check, update, commit and finish. Their sizes come from the config,
   * so one module serves every shape (`main`'s constants stay at the source's, unused).
   */
  static async parallelOver(device: GPUDevice, workgroupSize = 256): Promise<OptimizerKernel> {
    const source = withCell('optimizer', shaders.optimizer, elman);
    const kernels = await Promise.all(
      PARALLEL.map((entry) =>
        Kernel.load(device, {
          label: `optimizer.${entry}[wg=${workgroupSize}]`,
          source,
          entry,
          dynamic: ['step'],
          constants: entry === 'finish' ? {} : { WG: workgroupSize },
        }),
      ),
    );
    return new OptimizerKernel(device, kernels, true, workgroupSize);
  }

  /** The config uniform: `models` models (the parallel entry points: 1, with `model`'s sizes and offsets). */
  config(c: OptimizerConfigValues, model?: ParallelModel): ArrayBuffer {
    const has = c.threshold !== -Infinity;
    let sizes = { P: 0, outputs: 0, hidden: 0, whOffset: 0, wyOffset: 0, offWhT: 0, offWyT: 0, G: 0 };
    if (model) {
      const layout = paramLayout(model.shape);
      const { Wh, Wy } = layout.blocks;
      const H = model.shape.hiddenSize;
      sizes = {
        P: layout.count,
        outputs: model.shape.outputSize,
        hidden: H,
        whOffset: Wh.offset,
        wyOffset: Wy.offset,
        offWhT: model.offWhT,
        offWyT: model.offWhT + H * Wh.rows,
        G: Wh.rows,
      };
    }
    return this.kernels[0].uniform('cfg', {
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
      ...sizes,
    });
  }

  /** The per-step uniform (shared with the training driver, per_sequence/bptt.wgsl, whose Step struct is a prefix of this one). */
  step(s: StepValues): ArrayBuffer {
    return this.kernels[0].uniform('step', { ...s, slot: s.slot < 0 ? 0xffffffff : s.slot });
  }

  /** One bind group per entry point over the same buffers (`step` bound at a dynamic offset: see encode). */
  bind(label: string, buffers: Record<string, GPUBuffer | GPUBufferBinding>): GPUBindGroup[] {
    return this.kernels.map((k) => k.bind(label, buffers));
  }

  /**
   * Records one optimizer step with the step uniform at record `record` of the step table: over `count` models
   * (perModel) or `count` parameters (parallelOver).
   */
  encode(pass: GPUComputePassEncoder, binds: GPUBindGroup[], record: number, count: number): void {
    const offset = [record * OPTIMIZER_STEP_BYTES];
    const [x, y] = foldDispatch(
      Math.ceil(count / this.workgroupSize),
      this.device.limits.maxComputeWorkgroupsPerDimension,
    );
    this.kernels.forEach((k, i) => {
      pass.setPipeline(k.pipeline);
      pass.setBindGroup(0, binds[i], offset);
      // check and finish: one workgroup.
      if (!this.parallel || PARALLEL[i] === 'update' || PARALLEL[i] === 'commit') pass.dispatchWorkgroups(x, y);
      else pass.dispatchWorkgroups(1);
    });
  }
}
