// The optimizer step of one model, parallel over its parameters (shaders/optimizer_wide.wgsl): check, update,
// commit and finish, for models whose parameters are too many for one invocation (fused gemm training). The
// stop rules and the arithmetic are those of optimizer.wgsl and of src/train/optimizer.ts, its float64 reference.

import type { CellName } from '../../cells/index.ts';
import { paramLayout, type Shape } from '../../model.ts';
import { Kernel, foldDispatch } from '../kernel.ts';
import type { OptimizerSettings } from './optimizer.ts';
import { shaders } from '#shaders';

const ENTRIES = ['check', 'update', 'commit', 'finish'] as const;
type Entry = (typeof ENTRIES)[number];

/** Bytes of the State struct: status, steps done, divergence step, decision, scale, the bad flag. */
export const WIDE_STATE_BYTES = 24;
/** Bytes between per-step uniforms (minUniformBufferOffsetAlignment is at most 256). */
export const WIDE_STEP_BYTES = 256;

export interface WideConfig extends OptimizerSettings {
  /** The model's learning rate before the schedule. */
  lr: number;
}

export class WideOptimizerKernel {
  private constructor(
    readonly device: GPUDevice,
    readonly kernels: Record<Entry, Kernel>,
    readonly workgroupSize: number,
  ) {}

  static async load(device: GPUDevice, workgroupSize = 256): Promise<WideOptimizerKernel> {
    const made = await Promise.all(
      ENTRIES.map((entry) =>
        Kernel.load(device, {
          label: `optimizer_wide.${entry}[wg=${workgroupSize}]`,
          source: shaders.optimizer_wide,
          entry,
          dynamic: ['step'],
          constants: entry === 'finish' ? {} : { WG: workgroupSize },
        }),
      ),
    );
    return new WideOptimizerKernel(
      device,
      Object.fromEntries(ENTRIES.map((e, i) => [e, made[i]])) as Record<Entry, Kernel>,
      workgroupSize,
    );
  }

  /** The config uniform for a model of `shape`, whose weights buffer holds Whᵀ (H × gates·H) at `offWhT` and Wyᵀ after it. */
  config(shape: Shape & { cell?: CellName }, offWhT: number, c: WideConfig): ArrayBuffer {
    const { Wh, Wy } = paramLayout(shape).blocks;
    const H = shape.hiddenSize;
    const has = c.threshold !== -Infinity;
    return this.kernels.check.uniform('cfg', {
      P: paramLayout(shape).count,
      O: shape.outputSize,
      H,
      adam: c.adam ? 1 : 0,
      hasThreshold: has ? 1 : 0,
      trajectory: c.trajectory ? 1 : 0,
      trajBase: c.trajBase,
      whOffset: Wh.offset,
      wyOffset: Wy.offset,
      offWhT,
      offWyT: offWhT + H * Wh.rows,
      G: Wh.rows,
      momentum: c.momentum,
      beta1: c.beta1,
      beta2: c.beta2,
      eps: c.eps,
      threshold: has ? c.threshold : 0,
      clipNorm: c.clipNorm,
      lr: c.lr,
      decay: c.weightDecay,
      lossScale: c.lossScale,
    });
  }

  /** The per-step uniform: record slot (or -1), step number, schedule factors and Adam's bias corrections. */
  step(s: { slot: number; k: number; lrA: number; lrB: number; c1: number; c2: number }): ArrayBuffer {
    return this.kernels.check.uniform('step', { ...s, slot: s.slot < 0 ? 0xffffffff : s.slot });
  }

  /** One bind group per entry point over the same buffers (each entry binds what it uses). */
  bind(label: string, buffers: Record<string, GPUBuffer | GPUBufferBinding>): Record<Entry, GPUBindGroup> {
    const out = {} as Record<Entry, GPUBindGroup>;
    for (const e of ENTRIES) {
      const k = this.kernels[e];
      const used = new Set(k.reflection.bindings.map((b) => b.name));
      out[e] = k.bind(label, Object.fromEntries(Object.entries(buffers).filter(([n]) => used.has(n))));
    }
    return out;
  }

  /** Records one optimizer step over P parameters with the step uniform at record `record`. */
  encode(pass: GPUComputePassEncoder, binds: Record<Entry, GPUBindGroup>, record: number, P: number): void {
    const offset = [record * WIDE_STEP_BYTES];
    const [x, y] = foldDispatch(Math.ceil(P / this.workgroupSize), this.device.limits.maxComputeWorkgroupsPerDimension);
    for (const e of ENTRIES) {
      pass.setPipeline(this.kernels[e].pipeline);
      pass.setBindGroup(0, binds[e], offset);
      if (e === 'update' || e === 'commit') pass.dispatchWorkgroups(x, y);
      else pass.dispatchWorkgroups(1);
    }
  }
}
