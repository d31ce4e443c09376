// The gemm strategy's kernels (shaders/gemm.wgsl): one pipeline per KIND (projection, recurrent step, output,
// dz, the weight-gradient products over blocks of steps with split-K, h0, the parts' sum) and shape, with tile sizes
// as overrides and a dynamic-offset uniform holding one step record per dispatch, so a whole chunk is recorded with
// one bind group per kind. Gated cells add their elementwise gate steps (shaders/gemm_gates.wgsl, the cell module's
// part `gates`) and the input side's weight-gradient product.

import { GpuError } from '../../errors.ts';
import { cellOf, type CellName } from '../../cells/index.ts';
import { paramLayout, type Activation, type Shape } from '../../model.ts';
import { withCell } from '../cell.ts';
import { gemmRows, STEP_RECORD_BYTES } from '../gemm-plan.ts';
import { tuningFor } from '../tuning.ts';
import { Kernel, foldDispatch } from '../kernel.ts';
import { specializeConsts } from '../specialize.ts';
import type { GemmTile } from '../types.ts';
import { shaders } from '#shaders';

export type { GemmTile } from '../types.ts';
export { STEP_RECORD_BYTES } from '../gemm-plan.ts';

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
} as const;
/** The elementwise gate steps of gated cells (KIND of shaders/gemm_gates.wgsl). */
export const GATE_KINDS = { gate: 0, gateBack: 1 } as const;
export type GemmKind = keyof typeof GEMM_KINDS | keyof typeof GATE_KINDS;
const isGateKind = (k: GemmKind): k is keyof typeof GATE_KINDS => k in GATE_KINDS;
/** Invocations per workgroup of the gate steps. */
const GATE_WG = 64;

/** Bytes of the `Step` struct a dispatch reads from its record. */
export const STEP_BINDING_BYTES = 48;

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
}

interface KindKernel {
  kernel: Kernel;
  tile: GemmTile;
}

const paramCount = (s: Shape): number => paramLayout(s).count;

/** Output rows M of a product of `kind` (as sizeM in the WGSL; the gate steps: H units). */
function rowsOf(v: GemmVariant, kind: GemmKind): number {
  const R = gemmRows(cellOf(v), v.hiddenSize);
  if (kind === 'wsum') return 1;
  if (kind === 'out' || kind === 'wgradY') return v.outputSize;
  if (kind === 'proj' || kind === 'step' || kind === 'wgradH' || kind === 'wgradX') return R.gate;
  if (kind === 'init') return R.state;
  return v.hiddenSize;
}

/** The kinds a forward pass records; BPTT adds the rest. */
export const FORWARD_KINDS: readonly GemmKind[] = ['init', 'proj', 'step', 'out'];

/** The kinds a cell's runs record: Elman's products; gated cells add the gate steps and WGRAD_X. */
export function gemmKinds(cell: { gates: number }, gradients: boolean): GemmKind[] {
  const gated = cell.gates > 1;
  const kinds: GemmKind[] = gradients
    ? ['proj', 'step', 'out', 'dz', 'wgradH', 'wgradY', 'init', 'wsum']
    : [...FORWARD_KINDS];
  if (gated) kinds.push('gate', ...(gradients ? (['gateBack', 'wgradX'] as const) : []));
  return kinds;
}

export class GemmKernels {
  private constructor(
    readonly device: GPUDevice,
    readonly v: GemmVariant,
    private readonly kinds: Map<GemmKind, KindKernel>,
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
    const R = gemmRows(cell, H);
    const tuning = tuningFor(device);
    const sources = new Map<string, string>(); // by tile (RM, RN): the only text that differs between kinds
    // Gated cells: the products' sizes and slots (src/gpu/gemm-plan.ts gemmRows); Elman keeps the defaults.
    const gated: Record<string, number | boolean> = R.gated
      ? {
          GATED: true,
          SR: R.slot,
          DR: R.grad,
          ZX: R.zx,
          DAX: R.gradX,
          XC: 0,
          OFF_XBIAS: (paramLayout(v).blocks as Record<string, { offset: number }>).bx.offset,
        }
      : {};
    const loaded = await Promise.all(
      kinds.map(async (kind): Promise<[GemmKind, KindKernel]> => {
        if (isGateKind(kind)) {
          const label = `gemm_gates.${kind}[${cell.name},H=${H},I=${I},O=${O}]`;
          const kernel = await Kernel.load(device, {
            label,
            source: withCell(label, shaders.gemm_gates, cell),
            entry: 'main',
            dynamic: ['step'],
            constants: { H, I, O, KIND: GATE_KINDS[kind], WG: GATE_WG },
          });
          return [kind, { kernel, tile: { tx: GATE_WG, ty: 1, rm: 1, rn: 1, bk: 1 } }];
        }
        const tile =
          v.tile ?? tileFor(rowsOf(v, kind), v.shared, kind === 'wgradH' ? tuning.gemmWgradTile : tuning.gemmTile);
        const why = tileProblem(tile, device.limits, v.shared);
        if (why) throw new GpuError(`gemm.${kind}: ${why}`);
        const label = `gemm.${kind}[${cell.name},H=${H},I=${I},O=${O},${v.activation},${v.outAll ? 'all' : 'last'}${v.writeY ? ',y' : ''}${v.hasTargets ? ',loss' : ''},${tile.tx}x${tile.ty}x${tile.rm}x${tile.rn}x${tile.bk}${v.shared ? ',shared' : ''}]`;
        const rmrn = `${tile.rm}x${tile.rn}`;
        let source = sources.get(rmrn);
        if (!source)
          sources.set(
            rmrn,
            (source = specializeConsts(withCell(label, shaders.gemm, cell), label, { RM: tile.rm, RN: tile.rn })),
          );
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
            ...gated,
            ...cell.overrides(v.activation),
            OUT_ALL: v.outAll,
            WRITE_Y: v.writeY,
            HAS_TARGETS: v.hasTargets,
            TX: tile.tx,
            TY: tile.ty,
            BK: tile.bk,
            SHARED: v.shared,
          },
        });
        return [kind, { kernel, tile }];
      }),
    );
    return new GemmKernels(device, v, new Map(loaded));
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

  /** Output rows and columns of one product of `kind` over a chunk of n sequences (as sizeM/sizeN in the WGSL). */
  size(kind: GemmKind, n: number): [number, number] {
    const { inputSize: I, hiddenSize: H } = this.v;
    const M = rowsOf(this.v, kind);
    const xc = gemmRows(cellOf(this.v), H).gated ? 0 : I;
    const NC =
      kind === 'wgradH'
        ? xc + H + 1
        : kind === 'wgradX'
          ? I + 1
          : kind === 'wgradY'
            ? H + 1
            : kind === 'wsum'
              ? paramCount(this.v)
              : n;
    return [M, NC];
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
