// The forward-mode gradient kernel (shaders/rtrl.wgsl): one invocation per sequence carrying dh/dθ with the state
// (real-time recurrent learning), so no hidden states are stored. Same row layout as RnnKernel, for ReduceKernel.

import { cellOf, cellSizes, type CellName } from '../../cells/index.ts';
import { paramLayout, type Activation, type Shape } from '../../model.ts';
import { withCell } from '../cell.ts';
import { Kernel, foldDispatch } from '../kernel.ts';
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

  constructor(device: GPUDevice, readonly v: RtrlVariant) {
    const shape = `H=${v.hiddenSize},I=${v.inputSize},O=${v.outputSize}`;
    const flags = `${v.activation},${v.outAll ? 'all' : 'last'}${v.writeY ? ',y' : ''}${v.hasTargets ? ',loss' : ''},wg=${v.workgroupSize}${v.unroll === false ? ',loops' : ''}`;
    const cell = cellOf(v);
    const label = `rtrl.${v.gradients ? 'grads' : 'forward'}[${cell.name},${shape},${flags}]`;
    const nparam = paramLayout(v).count;
    this.kernel = Kernel.get(device, label, () => ({
      label,
      source: specializeShape(withCell(label, shaders.rtrl, cell), v, v.unroll !== false),
      entry: 'main',
      constants: {
        GRADS: v.gradients,
        WG: v.workgroupSize,
        ...cell.overrides(v.activation),
        OUT_ALL: v.outAll,
        WRITE_Y: v.writeY,
        HAS_TARGETS: v.hasTargets,
      },
    }));
    this.rows = v.gradients ? 2 + nparam : 2;
  }

  /** Records the dispatch for `n` sequences (the bind group's `params.n` must equal `n`). */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, n: number): void {
    const [x, y] = foldDispatch(Math.ceil(n / this.v.workgroupSize), this.kernel.device.limits.maxComputeWorkgroupsPerDimension);
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
}
