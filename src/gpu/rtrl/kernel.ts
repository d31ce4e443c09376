// The forward-mode gradient kernel (shaders/rtrl/rtrl.wgsl): one invocation per sequence carrying dh/dθ with the state
// (real-time recurrent learning), so no hidden states are stored. Same row layout as RnnKernel, for ReduceKernel.

import { cellOf, cellSizes, type CellName } from '../../cells/index.ts';
import { paramLayout, type Activation, type Shape } from '../../model.ts';
import { withCell } from '../cell.ts';
import { Kernel, foldDispatch, type KernelSpec } from '../kernel.ts';
import { tuningFor } from '../tuning.ts';
import { specializeShape } from '../specialize.ts';
import { shaders } from '#shaders';

export interface RtrlVariant extends Shape {
  /** The recurrent cell (default elman). */
  cell?: CellName;
  /** Carry the sensitivities and write dSSR/dθ (needs targets); false is a plain forward pass. */
  gradients: boolean;
  activation: Activation;
  outAll: boolean;
  writeY: boolean;
  hasTargets: boolean;
  workgroupSize: number;
  /** Unroll the loops over the shape constants (default true). */
  unroll?: boolean;
}

/** Parameters of the recurrence (Elman: Wx, Wh, bh): the columns of ds/dθ that are not identically zero. */
export function recurrentParams(shape: Shape & { cell?: CellName }): number {
  return cellSizes(cellOf(shape), shape).NREC;
}

/** Sensitivities one invocation carries: the state's floats × recurrentParams (Elman: H·(H·I + H² + H)). */
export function carriedValues(shape: Shape & { cell?: CellName }): number {
  const z = cellSizes(cellOf(shape), shape);
  return z.NSTATE * z.NREC;
}

export class RtrlKernel {
  readonly kernel: Kernel;
  /** Rows per sequence: SSR, overflow flag, then (gradients) every parameter's gradient. */
  readonly rows: number;

  /** Prefer `RtrlKernel.load`; this creates the pipeline synchronously when it is not cached (`kernel` given: uses it). */
  constructor(
    device: GPUDevice,
    readonly v: RtrlVariant,
    kernel = Kernel.create(device, rtrlSpec(device, v)),
  ) {
    this.kernel = kernel;
    this.rows = v.gradients ? 2 + paramLayout(v).count : 2;
  }

  /** The kernel for `v` on `device`, its pipeline created asynchronously on first use and cached. */
  static async load(device: GPUDevice, v: RtrlVariant): Promise<RtrlKernel> {
    return new RtrlKernel(device, v, await Kernel.load(device, rtrlSpec(device, v)));
  }

  /** Records the dispatch for `n` sequences (the bind group's `params.n` must equal `n`). */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, n: number): void {
    const [x, y] = foldDispatch(
      Math.ceil(n / this.v.workgroupSize),
      this.kernel.device.limits.maxComputeWorkgroupsPerDimension,
    );
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
}

/** The pipeline spec of a variant; the loops are unrolled within the adapter's budget (src/gpu/tuning.ts). */
function rtrlSpec(device: GPUDevice, v: RtrlVariant): KernelSpec {
  const budget = tuningFor(device).unrollChars;
  const shape = `H=${v.hiddenSize},I=${v.inputSize},O=${v.outputSize}`;
  const flags = `${v.activation},${v.outAll ? 'all' : 'last'}${v.writeY ? ',y' : ''}${v.hasTargets ? ',loss' : ''},wg=${v.workgroupSize}${v.unroll === false ? ',loops' : `,unroll=${budget}`}`;
  const cell = cellOf(v);
  const label = `rtrl.${v.gradients ? 'grads' : 'forward'}[${cell.name},${shape},${flags}]`;
  return {
    label,
    source: specializeShape(withCell(label, shaders.rtrl, cell), v, v.unroll !== false, budget),
    entry: 'main',
    constants: {
      GRADS: v.gradients,
      WG: v.workgroupSize,
      ...cell.overrides(v.activation),
      OUT_ALL: v.outAll,
      WRITE_Y: v.writeY,
      HAS_TARGETS: v.hasTargets,
    },
  };
}
