// The core RNN kernel (shaders/rnn.wgsl): one invocation per sequence, looping over time. The `forward` variant
// gives predictions and per-sequence SSR; `bptt` also gives per-sequence dSSR/dθ as rows for ReduceKernel.

import { cellOf, type CellName } from '../../cells/index.ts';
import { paramLayout, type Activation, type Shape } from '../../model.ts';
import { withCell } from '../cell.ts';
import { Kernel, foldDispatch } from '../kernel.ts';
import { specializeShape } from '../specialize.ts';
import { shaders } from '#shaders';

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

export class RnnKernel {
  readonly kernel: Kernel;
  /** Rows per sequence in the `rows` buffer: SSR, overflow flag, then (bptt) every parameter's gradient. */
  readonly rows: number;

  constructor(device: GPUDevice, readonly v: RnnVariant) {
    const shape = `H=${v.hiddenSize},I=${v.inputSize},O=${v.outputSize}`;
    const flags = `${v.activation},${v.outAll ? 'all' : 'last'}${v.writeY ? ',y' : ''}${v.hasTargets ? ',loss' : ''},wg=${v.workgroupSize}${v.unroll === false ? ',loops' : ''}`;
    const cell = cellOf(v);
    const label = `rnn.${v.mode}[${cell.name},${shape},${flags}]`;
    this.kernel = Kernel.get(device, label, () => ({
      label,
      source: specializeShape(withCell(label, shaders.rnn, cell), v, v.unroll !== false),
      entry: 'main',
      constants: {
        BACKWARD: v.mode === 'bptt',
        WG: v.workgroupSize,
        ...cell.overrides(v.activation),
        OUT_ALL: v.outAll,
        WRITE_Y: v.writeY,
        HAS_TARGETS: v.hasTargets,
      },
    }));
    this.rows = v.mode === 'bptt' ? 2 + paramLayout(v).count : 2;
  }

  /** Records the dispatch for `n` sequences (the bind group's `params.n` must equal `n`). */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, n: number): void {
    const [x, y] = foldDispatch(Math.ceil(n / this.v.workgroupSize), this.kernel.device.limits.maxComputeWorkgroupsPerDimension);
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
}
