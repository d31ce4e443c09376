// The training kernel (shaders/train.wgsl): forward + BPTT (or forward only) for a population of models, each
// invocation serving one model and a group of that step's sequences; per-model partial sums as rows for
// ModelSumsKernel.

import { cellOf, type CellName } from '../../cells/index.ts';
import { paramLayout, type Activation, type Shape } from '../../model.ts';
import { withCell } from '../cell.ts';
import { Kernel, foldDispatch } from '../kernel.ts';
import { specializeShape } from '../specialize.ts';
import { tuningFor } from '../tuning.ts';
import { shaders } from '#shaders';

export interface TrainVariant extends Shape {
  /** The recurrent cell (default elman; a Model spread into the variant brings its own). */
  cell?: CellName;
  activation: Activation;
  outAll: boolean;
  /** Forward + BPTT (true) or forward only (loss evaluation). */
  backward: boolean;
  workgroupSize: number;
}

export interface TrainDims {
  /** Models M. */
  models: number;
  /** Sequences per model per step S. */
  seqs: number;
  /** Sequences per invocation G. */
  group: number;
  /** Column stride D of the data arrays. */
  dataCols: number;
  /** Data columns per model (per-model data sets) or 0 (shared). */
  dataPerModel: number;
  /** Step sequences come from the order table. */
  ordered: boolean;
}

export class TrainKernel {
  readonly kernel: Kernel;
  /** Rows per model: SSR, overflow count, then (backward) every parameter's gradient. */
  readonly rows: number;

  constructor(
    device: GPUDevice,
    readonly v: TrainVariant,
  ) {
    const cell = cellOf(v);
    // Loops are unrolled within the adapter's budget (src/gpu/tuning.ts), as for the per-sequence kernel.
    const budget = tuningFor(device).unrollChars;
    const label = `train.${v.backward ? 'bptt' : 'forward'}[${cell.name},H=${v.hiddenSize},I=${v.inputSize},O=${v.outputSize},${v.activation},${v.outAll ? 'all' : 'last'},wg=${v.workgroupSize},unroll=${budget}]`;
    this.kernel = Kernel.get(device, label, () => ({
      label,
      source: specializeShape(withCell(label, shaders.train, cell), v, true, budget),
      entry: 'main',
      constants: { WG: v.workgroupSize, ...cell.overrides(v.activation), OUT_ALL: v.outAll, BACKWARD: v.backward },
    }));
    this.rows = v.backward ? 2 + paramLayout(v).count : 2;
  }

  /** Columns (invocations) per model. */
  static cols(d: Pick<TrainDims, 'seqs' | 'group'>): number {
    return Math.ceil(d.seqs / d.group);
  }

  params(d: TrainDims): ArrayBuffer {
    return this.kernel.uniform('params', {
      models: d.models,
      seqs: d.seqs,
      group: d.group,
      cols: TrainKernel.cols(d),
      dataCols: d.dataCols,
      dataPerModel: d.dataPerModel,
      ordered: d.ordered ? 1 : 0,
    });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, d: TrainDims): void {
    const n = d.models * TrainKernel.cols(d);
    const [x, y] = foldDispatch(
      Math.ceil(n / this.v.workgroupSize),
      this.kernel.device.limits.maxComputeWorkgroupsPerDimension,
    );
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
}
