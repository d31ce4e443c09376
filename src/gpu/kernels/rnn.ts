// The core RNN kernel (shaders/rnn.wgsl): one invocation per sequence, looping over time. The `forward` variant
// gives predictions and per-sequence SSR; `bptt` also gives per-sequence dSSR/dθ as rows for ReduceKernel.

import { cellOf, type CellName } from '../../cells/index.ts';
import { paramLayout, type Activation, type Shape } from '../../model.ts';
import { withCell } from '../cell.ts';
import { Kernel, foldDispatch, type KernelSpec } from '../kernel.ts';
import { tuningFor } from '../tuning.ts';
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

  /** Prefer `RnnKernel.load`; this creates the pipeline synchronously when it is not cached (`kernel` given: uses it). */
  constructor(
    device: GPUDevice,
    readonly v: RnnVariant,
    kernel = Kernel.create(device, rnnSpec(device, v)),
  ) {
    this.kernel = kernel;
    this.rows = v.mode === 'bptt' ? 2 + paramLayout(v).count : 2;
  }

  /** The kernel for `v` on `device`, its pipeline created asynchronously on first use and cached. */
  static async load(device: GPUDevice, v: RnnVariant): Promise<RnnKernel> {
    return new RnnKernel(device, v, await Kernel.load(device, rnnSpec(device, v)));
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
function rnnSpec(device: GPUDevice, v: RnnVariant): KernelSpec {
  const budget = tuningFor(device).unrollChars;
  const shape = `H=${v.hiddenSize},I=${v.inputSize},O=${v.outputSize}`;
  const flags = `${v.activation},${v.outAll ? 'all' : 'last'}${v.writeY ? ',y' : ''}${v.hasTargets ? ',loss' : ''},wg=${v.workgroupSize}${v.unroll === false ? ',loops' : `,unroll=${budget}`}`;
  const cell = cellOf(v);
  const label = `rnn.${v.mode}[${cell.name},${shape},${flags}]`;
  return {
    label,
    source: specializeShape(withCell(label, shaders.rnn, cell), v, v.unroll !== false, budget),
    entry: 'main',
    constants: {
      BACKWARD: v.mode === 'bptt',
      WG: v.workgroupSize,
      ...cell.overrides(v.activation),
      OUT_ALL: v.outAll,
      WRITE_Y: v.writeY,
      HAS_TARGETS: v.hasTargets,
    },
  };
}
