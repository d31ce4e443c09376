// The engine's per-sequence kernel: the driver of src/gpu/per-sequence/bptt.ts (shaders/per_sequence/bptt.wgsl) with its
// `run` interface, one invocation per sequence. The `forward` variant gives predictions and per-sequence SSR;
// `bptt` also gives per-sequence dSSR/dθ (truncated by the `truncation` uniform) as rows for ReduceKernel.

import type { CellName } from '../../cells/index.ts';
import type { Activation, Shape } from '../../model.ts';
import type { Kernel } from '../kernel.ts';
import { BpttKernel, type BpttVariant } from './bptt.ts';

export interface RnnVariant extends Shape {
  /** The recurrent cell (default elman). */
  cell?: CellName;
  /** `bptt` also runs backpropagation through time (the BACKWARD override). */
  mode: 'forward' | 'bptt';
  activation: Activation;
  outAll: boolean;
  writeY: boolean;
  hasTargets: boolean;
  workgroupSize: number;
  /** Unroll the loops over H, I and O (default true; see src/gpu/unroll.ts). */
  unroll?: boolean;
}

/** The driver variant of an engine variant. */
function driverVariant(v: RnnVariant): BpttVariant {
  const { mode, writeY, hasTargets, ...rest } = v;
  return { ...rest, backward: mode === 'bptt', run: { writeY, hasTargets } };
}

export class RnnKernel {
  readonly driver: BpttKernel;

  /** Prefer `RnnKernel.load`; this creates the pipeline synchronously when it is not cached. */
  constructor(
    device: GPUDevice,
    readonly v: RnnVariant,
    driver = new BpttKernel(device, driverVariant(v)),
  ) {
    this.driver = driver;
  }

  /** The kernel for `v` on `device`, its pipeline created asynchronously on first use and cached. */
  static async load(device: GPUDevice, v: RnnVariant): Promise<RnnKernel> {
    return new RnnKernel(device, v, await BpttKernel.load(device, driverVariant(v)));
  }

  get kernel(): Kernel {
    return this.driver.kernel;
  }

  /** Rows per sequence in the `rows` buffer: SSR, overflow flag, then (bptt) every parameter's gradient. */
  get rows(): number {
    return this.driver.rows;
  }

  /** Records the dispatch for `n` sequences (the bind group's `params.n` must equal `n`). */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, n: number): void {
    this.driver.encode(pass, bindGroup, { models: 1, seqs: n, group: 1 });
  }
}
