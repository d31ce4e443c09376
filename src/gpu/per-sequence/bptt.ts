// The per-sequence strategy's single-layer driver (shaders/per_sequence/bptt.wgsl): forward, or forward + BPTT
// (truncated or full), for M models × S sequences with G sequences per invocation; per-(model, column) sums as rows.
// engine.run uses it as M = 1, G = 1 (rows per sequence for ReduceKernel; src/gpu/per-sequence/rnn.ts), training as the
// general case (rows per model column for ModelSumsKernel; src/gpu/per-sequence/train.ts). The two differ only in their
// `// @use` block of the shader: binding set, uniforms and where a sequence's data comes from.

import { cellOf, type CellName } from '../../cells/index.ts';
import { GpuError } from '../../errors.ts';
import { paramLayout, type Activation, type Shape } from '../../model.ts';
import { withCell } from '../cell.ts';
import { Kernel, foldDispatch, type KernelSpec } from '../kernel.ts';
import { specializeShape } from '../specialize.ts';
import { truncationUniform } from '../truncation.ts';
import { tuningFor } from '../tuning.ts';
import { shaders } from '#shaders';

export interface BpttVariant extends Shape {
  /** The recurrent cell (default elman; a Model spread into the variant brings its own). */
  cell?: CellName;
  activation: Activation;
  outAll: boolean;
  /** Forward + BPTT (true) or forward only (loss evaluation; the BACKWARD override). */
  backward: boolean;
  workgroupSize: number;
  /**
   * engine.run's interface (the shader's `run` block): one model, one sequence per invocation, `ys` for predictions,
   * `params` {n, truncation}. Absent: training's (`train` block: `step`, `status`, `order`, no `ys`).
   */
  run?: {
    /** Store predictions in `ys`. */
    writeY: boolean;
    hasTargets: boolean;
  };
  /** Unroll the loops over H, I and O (default true; see src/gpu/unroll.ts). */
  unroll?: boolean;
}

export interface BpttDims {
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
  /** Truncated-BPTT window k in steps (absent: full BPTT). */
  truncation?: number;
}

export class BpttKernel {
  readonly kernel: Kernel;
  /** Rows per model (train) or sequence (run): SSR, overflow count, then (backward) every parameter's gradient. */
  readonly rows: number;

  /** Creates the pipeline synchronously when it is not cached (`kernel` given: uses it); `load` is the async twin. */
  constructor(
    device: GPUDevice,
    readonly v: BpttVariant,
    kernel?: Kernel,
  ) {
    this.kernel = kernel ?? Kernel.get(device, bpttLabel(device, v), () => bpttSpec(device, v));
    this.rows = v.backward ? 2 + paramLayout(v).count : 2;
  }

  /** The kernel for `v` on `device`, its pipeline created asynchronously on first use and cached. */
  static async load(device: GPUDevice, v: BpttVariant): Promise<BpttKernel> {
    return new BpttKernel(device, v, await Kernel.load(device, bpttSpec(device, v)));
  }

  /** Columns (invocations) per model. */
  static cols(d: Pick<BpttDims, 'seqs' | 'group'>): number {
    return Math.ceil(d.seqs / d.group);
  }

  /** The `params` uniform for `d`; the run interface takes only M = 1, G = 1, D = S, shared and unordered data. */
  params(d: BpttDims): ArrayBuffer {
    const truncation = truncationUniform(d.truncation);
    if (this.v.run) {
      if (d.models !== 1 || d.group !== 1 || d.dataCols !== d.seqs || d.dataPerModel !== 0 || d.ordered)
        throw new GpuError(
          `${this.kernel.spec.label}: the run interface serves one model, one sequence per invocation, unordered`,
        );
      return this.kernel.uniform('params', { n: d.seqs, truncation });
    }
    return this.kernel.uniform('params', {
      models: d.models,
      seqs: d.seqs,
      group: d.group,
      cols: BpttKernel.cols(d),
      dataCols: d.dataCols,
      dataPerModel: d.dataPerModel,
      ordered: d.ordered ? 1 : 0,
      truncation,
    });
  }

  /** Records the dispatch: M·C invocations (the bind group's `params` must be those of `d`). */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, d: Pick<BpttDims, 'models' | 'seqs' | 'group'>): void {
    const n = d.models * BpttKernel.cols(d);
    const [x, y] = foldDispatch(
      Math.ceil(n / this.v.workgroupSize),
      this.kernel.device.limits.maxComputeWorkgroupsPerDimension,
    );
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
}

const USE_BLOCK = /^\/\/ @use (\w+)[ \t]*$/gm;

/** `source` with only the `// @use <use>` block kept of its `// @use …` blocks (ended by `// @use end`). */
export function selectUse(label: string, source: string, use: string): string {
  const marks = [...source.matchAll(USE_BLOCK)];
  const names = marks.map((m) => m[1]);
  if (names.at(-1) !== 'end' || names.indexOf('end') !== names.length - 1)
    throw new GpuError(`${label}: expected "// @use <name>" blocks ended by one "// @use end" line`);
  const k = names.indexOf(use);
  if (k < 0 || use === 'end')
    throw new GpuError(`${label}: no "// @use ${use}" block (blocks: ${names.slice(0, -1).join(', ')})`);
  const start = marks[0].index;
  const end = marks[marks.length - 1].index + marks[marks.length - 1][0].length;
  const keep = source.slice(marks[k].index + marks[k][0].length, marks[k + 1].index);
  return source.slice(0, start) + keep.trim() + '\n' + source.slice(end);
}

function bpttLabel(device: GPUDevice, v: BpttVariant): string {
  const budget = tuningFor(device).unrollChars;
  const use = v.run ? 'rnn' : 'train';
  const y = v.run ? `${v.run.writeY ? ',y' : ''}${v.run.hasTargets ? ',loss' : ''}` : '';
  const shape = `H=${v.hiddenSize},I=${v.inputSize},O=${v.outputSize}`;
  const unroll = v.unroll === false ? 'loops' : `unroll=${budget}`;
  return `${use}.${v.backward ? 'bptt' : 'forward'}[${cellOf(v).name},${shape},${v.activation},${v.outAll ? 'all' : 'last'}${y},wg=${v.workgroupSize},${unroll}]`;
}

/** The pipeline spec of a variant; the loops are unrolled within the adapter's budget (src/gpu/tuning.ts). */
function bpttSpec(device: GPUDevice, v: BpttVariant): KernelSpec {
  const budget = tuningFor(device).unrollChars;
  const label = bpttLabel(device, v);
  const cell = cellOf(v);
  const source = withCell(label, selectUse(label, shaders.per_sequence.bptt, v.run ? 'run' : 'train'), cell);
  return {
    label,
    // Full-line comments are dropped, as in the spliced cell: they would only count against the unroll budget.
    source: specializeShape(source.replace(/^[ \t]*\/\/.*\n/gm, ''), v, v.unroll !== false, budget),
    entry: 'main',
    constants: {
      BACKWARD: v.backward,
      WG: v.workgroupSize,
      ...cell.overrides(v.activation),
      OUT_ALL: v.outAll,
      ...(v.run ? { WRITE_Y: v.run.writeY, HAS_TARGETS: v.run.hasTargets } : {}),
    },
  };
}
