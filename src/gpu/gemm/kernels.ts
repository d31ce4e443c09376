// The gemm strategy's kernels (shaders/gemm/gemm.wgsl): one pipeline per KIND (projection, recurrent step, output,
// dz, the weight-gradient products over blocks of steps with split-K, h0, the parts' sum) and shape, with tile sizes
// as overrides and a dynamic-offset uniform holding one step record per dispatch, so a whole chunk is recorded with
// one bind group per kind. Gated cells add their elementwise gate steps (shaders/gemm/gates.wgsl, the cell module's
// part `gates`) and the input side's weight-gradient product. The products' sizes per kind and the step records'
// flags are read from gemm.wgsl (its size table and consts, evaluated for the variant), the records are packed by
// member name through reflection, and the cell comes in through its module's part `gemm` (src/gpu/cell.ts).

import { GpuError } from '../../errors.ts';
import { cellOf, gemmFusesInput, isGated, type Cell, type CellName } from '../../cells/index.ts';
import type { Activation, Shape } from '../../model.ts';
import { withCell } from '../cell.ts';
import { STEP_RECORD_BYTES } from './plan.ts';
import { evaluateU32, writeUniform, type UniformLayout } from '../reflect.ts';
import { tuningFor } from '../tuning.ts';
import { Kernel, foldDispatch } from '../kernel.ts';
import { specializeConsts } from '../specialize.ts';
import type { GemmTile } from '../types.ts';
import { shaders } from '#shaders';

export type { GemmTile } from '../types.ts';
export { STEP_RECORD_BYTES } from './plan.ts';

export const GEMM_KINDS = {
  proj: 0,
  step: 1,
  out: 2,
  dz: 3,
  wgradH: 4,
  wgradY: 5,
  init: 6,
  wsum: 7,
  wgradX: 8,
  dx: 9,
} as const;
/** The elementwise gate steps of gated cells (KIND of shaders/gemm/gates.wgsl). */
export const GATE_KINDS = { gate: 0, gateBack: 1 } as const;
export type GemmKind = keyof typeof GEMM_KINDS | keyof typeof GATE_KINDS;
const isGateKind = (k: GemmKind): k is keyof typeof GATE_KINDS => k in GATE_KINDS;
/** Invocations per workgroup of the gate steps. */
const GATE_WG = 64;

type ProductKind = keyof typeof GEMM_KINDS;

/** A kind's name in gemm.wgsl's size table: wgradH → WGRAD_H (its rows WGRAD_H_M, columns WGRAD_H_N). */
const tableName = (kind: ProductKind): string => kind.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** The flags of the step records (gemm.wgsl's consts): NONE (no `also` slot), HAS_DY, FLOW, LOSS, DX_ADD, DX_REVERSE. */
export interface StepFlags {
  NONE: number;
  HAS_DY: number;
  FLOW: number;
  LOSS: number;
  DX_ADD: number;
  DX_REVERSE: number;
}
const FLAG_NAMES = ['NONE', 'HAS_DY', 'FLOW', 'LOSS', 'DX_ADD', 'DX_REVERSE'] as const;

/** One step record: the members of gemm.wgsl's `Step` struct, by name. */
export type StepRecord = Record<string, number>;

const RECORDS_SECTION = /^[ \t]*\/\/ @records begin[ \t]*\n([\s\S]*?)^[ \t]*\/\/ @records end[ \t]*$/m;
const RECORDS_MARKER = /^[ \t]*\/\/ @records[ \t]*$/m;

/**
 * `source` (gemm_gates.wgsl) with its `// @records` line replaced by gemm.wgsl's records section (the dims and step
 * structs and the flags), so they are declared once.
 */
export function withRecords(label: string, source: string): string {
  const section = RECORDS_SECTION.exec(shaders.gemm);
  if (!section)
    throw new GpuError(`${label}: shaders/gemm/gemm.wgsl has no "// @records begin" … "// @records end" section`);
  if (!RECORDS_MARKER.test(source)) throw new GpuError(`${label}: the shader has no "// @records" line`);
  return source.replace(RECORDS_MARKER, () => section[1].trimEnd());
}

/**
 * The default tile for a product with M output rows: from M = 48, 16×16 invocations with 4×4 outputs each (64×64)
 * when tiles are staged in workgroup memory (`shared`), else 8×8 invocations with `reg` outputs each (by default
 * 8×8: more products per operand load, measured about 1.5–2× faster on SwiftShader than 4×4; the adapter table in
 * src/gpu/tuning.ts gives lavapipe smaller ones, whose shaders its compiler builds many times faster); fewer rows
 * per invocation below that, and for M ≤ 16 a workgroup only as tall as M, so tiny products (O = 1) do not compute
 * 63 empty rows.
 */
export function tileFor(M: number, shared = true, reg: { rm: number; rn: number } = { rm: 8, rn: 8 }): GemmTile {
  if (M >= 48)
    return shared ? { tx: 16, ty: 16, rm: 4, rn: 4, bk: 16 } : { tx: 8, ty: 8, rm: reg.rm, rn: reg.rn, bk: 16 };
  if (M > 16) return { tx: 16, ty: 16, rm: Math.ceil(M / 16), rn: 4, bk: 16 };
  let ty = 1;
  while (ty < M) ty *= 2;
  return { tx: 16, ty, rm: 1, rn: 4, bk: 16 };
}

/** Workgroup memory of a tile: the A and B tiles. */
export function tileBytes(t: GemmTile): number {
  return t.bk * (t.ty * t.rm + t.tx * t.rn) * 4;
}

/** Why a tile cannot run on a device with these limits, or null. */
export function tileProblem(t: GemmTile, limits: GPUSupportedLimits, shared = true): string | null {
  for (const [k, v] of Object.entries(t))
    if (!Number.isInteger(v) || v < 1) return `tile ${k} must be a positive integer, got ${v}`;
  if (t.rm > 8 || t.rn > 8) return `tile rm and rn must be at most 8, got ${t.rm} and ${t.rn}`;
  if (t.tx * t.ty > limits.maxComputeInvocationsPerWorkgroup)
    return `a ${t.tx}×${t.ty} workgroup exceeds maxComputeInvocationsPerWorkgroup (${limits.maxComputeInvocationsPerWorkgroup})`;
  if (t.tx > limits.maxComputeWorkgroupSizeX || t.ty > limits.maxComputeWorkgroupSizeY)
    return `a ${t.tx}×${t.ty} workgroup exceeds maxComputeWorkgroupSizeX/Y (${limits.maxComputeWorkgroupSizeX}/${limits.maxComputeWorkgroupSizeY})`;
  if (shared && tileBytes(t) > limits.maxComputeWorkgroupStorageSize)
    return `its tiles need ${tileBytes(t)} bytes of workgroup memory, more than maxComputeWorkgroupStorageSize (${limits.maxComputeWorkgroupStorageSize})`;
  return null;
}

export interface GemmVariant extends Shape {
  /** The recurrent cell (default elman). */
  cell?: CellName;
  activation: Activation;
  outAll: boolean;
  writeY: boolean;
  hasTargets: boolean;
  /** One tile for every kind instead of tileFor(M) (tests and benchmarks). */
  tile?: GemmTile;
  /** Stage tiles in workgroup memory (GPUs); false: each invocation reads its operands directly (CPU adapters). */
  shared: boolean;
  /** A layer of a stacked network: dSSR/dh_t from outside (gemm.wgsl's EXT_DY). */
  externalDy?: boolean;
}

interface KindKernel {
  kernel: Kernel;
  tile: GemmTile;
}

/**
 * Output rows M and columns N of each kind's product for a variant, from gemm.wgsl's size table (N 0: one column
 * per sequence of the chunk), and the step records' flags, evaluated from the spliced source for its H, I, O.
 */
function readTables(label: string, source: string, v: GemmVariant) {
  const kinds = Object.keys(GEMM_KINDS) as ProductKind[];
  const names = kinds.flatMap((k) => [`${tableName(k)}_M`, `${tableName(k)}_N`]);
  const val = evaluateU32(label, source, { H: v.hiddenSize, I: v.inputSize, O: v.outputSize }, [
    ...names,
    ...FLAG_NAMES,
  ]);
  const sizes = Object.fromEntries(
    kinds.map((k) => [k, { m: val[`${tableName(k)}_M`], n: val[`${tableName(k)}_N`] }]),
  ) as Record<ProductKind, { m: number; n: number }>;
  const flags = Object.fromEntries(FLAG_NAMES.map((f) => [f, val[f]])) as unknown as StepFlags;
  return { sizes, flags };
}

/** The kinds a forward pass records; BPTT adds the rest. */
export const FORWARD_KINDS: readonly GemmKind[] = ['init', 'proj', 'step', 'out'];

/**
 * The kinds a cell's runs record: the products; a cell with gates adds its gate steps, and one whose input side has
 * its own bias (gemmFusesInput false) the input side's weight-gradient product WGRAD_X.
 */
export function gemmKinds(cell: Cell, gradients: boolean): GemmKind[] {
  const kinds: GemmKind[] = gradients
    ? ['proj', 'step', 'out', 'dz', 'wgradH', 'wgradY', 'init', 'wsum']
    : [...FORWARD_KINDS];
  if (gradients && !gemmFusesInput(cell)) kinds.push('wgradX');
  if (isGated(cell)) kinds.push('gate', ...(gradients ? (['gateBack'] as const) : []));
  return kinds;
}

export class GemmKernels {
  private constructor(
    readonly device: GPUDevice,
    readonly v: GemmVariant,
    private readonly kinds: Map<GemmKind, KindKernel>,
    private readonly sizes: Record<ProductKind, { m: number; n: number }>,
    /** The step records' flags, gemm.wgsl's values. */
    readonly flags: StepFlags,
  ) {}

  /**
   * The pipelines of `kinds` (default: all) for a variant, created in parallel (createComputePipelineAsync) and
   * cached per device by their source, entry point and constants (src/gpu/kernel.ts).
   */
  static async load(
    device: GPUDevice,
    v: GemmVariant,
    kinds: readonly GemmKind[] = gemmKinds(cellOf(v), true),
  ): Promise<GemmKernels> {
    const { inputSize: I, hiddenSize: H, outputSize: O } = v;
    const cell = cellOf(v);
    const tuning = tuningFor(device);
    const base = `gemm[${cell.name},H=${H},I=${I},O=${O}]`;
    const spliced = withCell(base, shaders.gemm, cell);
    const { sizes, flags } = readTables(base, spliced, v);
    const sources = new Map<string, string>(); // by tile (RM, RN): the only text that differs between kinds
    const loaded = await Promise.all(
      kinds.map(async (kind): Promise<[GemmKind, KindKernel]> => {
        if (isGateKind(kind)) {
          const label = `gemm_gates.${kind}[${cell.name},H=${H},I=${I},O=${O}]`;
          const kernel = await Kernel.load(device, {
            label,
            source: withRecords(label, withCell(label, shaders.gemm_gates, cell)),
            entry: 'main',
            dynamic: ['step'],
            constants: { H, I, O, KIND: GATE_KINDS[kind], WG: GATE_WG },
          });
          return [kind, { kernel, tile: { tx: GATE_WG, ty: 1, rm: 1, rn: 1, bk: 1 } }];
        }
        const tile =
          v.tile ?? tileFor(sizes[kind].m, v.shared, kind === 'wgradH' ? tuning.gemmWgradTile : tuning.gemmTile);
        const why = tileProblem(tile, device.limits, v.shared);
        if (why) throw new GpuError(`gemm.${kind}: ${why}`);
        const label = `gemm.${kind}[${cell.name},H=${H},I=${I},O=${O},${v.activation},${v.outAll ? 'all' : 'last'}${v.writeY ? ',y' : ''}${v.hasTargets ? ',loss' : ''},${tile.tx}x${tile.ty}x${tile.rm}x${tile.rn}x${tile.bk}${v.shared ? ',shared' : ''}${v.externalDy ? ',external dy' : ''}]`;
        const rmrn = `${tile.rm}x${tile.rn}`;
        let source = sources.get(rmrn);
        if (!source) sources.set(rmrn, (source = specializeConsts(spliced, label, { RM: tile.rm, RN: tile.rn })));
        const kernel = await Kernel.load(device, {
          label,
          source,
          entry: 'main',
          dynamic: ['step'],
          constants: {
            H,
            I,
            O,
            KIND: GEMM_KINDS[kind],
            ...cell.overrides(v.activation),
            OUT_ALL: v.outAll,
            WRITE_Y: v.writeY,
            HAS_TARGETS: v.hasTargets,
            EXT_DY: v.externalDy === true,
            TX: tile.tx,
            TY: tile.ty,
            BK: tile.bk,
            SHARED: v.shared,
          },
        });
        return [kind, { kernel, tile }];
      }),
    );
    return new GemmKernels(device, v, new Map(loaded), sizes, flags);
  }

  /** Workgroups of tiles one product of `kind` needs over n sequences (wgrad kinds: per split-K part). */
  tiles(kind: GemmKind, n: number): number {
    const { tile } = this.kinds.get(kind)!;
    if (isGateKind(kind)) return Math.ceil((this.v.hiddenSize * n) / GATE_WG);
    const [M, NC] = this.size(kind, n);
    return Math.ceil(NC / (tile.tx * tile.rn)) * Math.ceil(M / (tile.ty * tile.rm));
  }

  kernel(kind: GemmKind): Kernel {
    const k = this.kinds.get(kind);
    if (!k) throw new GpuError(`gemm.${kind}: this kind was not loaded`);
    return k.kernel;
  }

  /** Output rows and columns of one product of `kind` over a chunk of n sequences (gemm.wgsl's size table). */
  size(kind: GemmKind, n: number): [number, number] {
    if (isGateKind(kind)) return [this.v.hiddenSize, n];
    const { m, n: nc } = this.sizes[kind];
    return [m, nc === 0 ? n : nc];
  }

  /** The layout of a uniform of the products' kernels (`step`, `dims`), reflected from gemm.wgsl. */
  uniformLayout(name: 'step' | 'dims'): UniformLayout {
    const first = this.kinds.values().next().value;
    const layout = first?.kernel.reflection.uniforms[name];
    if (!layout) throw new GpuError(`gemm: the kernels declare no uniform "${name}"`);
    return layout;
  }

  /**
   * Step records packed STEP_RECORD_BYTES apart (the dynamic offsets the dispatches use), each record's members
   * written by name at the offsets gemm.wgsl's `Step` struct declares.
   */
  packSteps(records: readonly StepRecord[]): Uint32Array<ArrayBuffer> {
    const layout = this.uniformLayout('step');
    const buf = new ArrayBuffer(records.length * STEP_RECORD_BYTES);
    const view = new DataView(buf);
    records.forEach((r, k) => writeUniform('gemm step record', layout, r, view, k * STEP_RECORD_BYTES));
    return new Uint32Array(buf);
  }

  /** Records one dispatch of `kind` with step record `record` (batches: PROJ's step count, the wgrad kinds' parts). */
  encode(
    pass: GPUComputePassEncoder,
    kind: GemmKind,
    bindGroup: GPUBindGroup,
    record: number,
    n: number,
    batches = 1,
  ): void {
    const { kernel } = this.kinds.get(kind)!;
    const groups = this.tiles(kind, n) * batches;
    const [x, y] = foldDispatch(groups, this.device.limits.maxComputeWorkgroupsPerDimension);
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, bindGroup, [record * STEP_RECORD_BYTES]);
    pass.dispatchWorkgroups(x, y);
  }
}
