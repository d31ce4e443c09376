// Memory planning for the gemm strategy: how many sequences a chunk holds and how often BPTT stores a hidden
// state (checkpointing), so that every buffer stays under the binding limit and the run stays under the budget.
//
// BPTT needs h_t for every step. Storing all T states costs (T + 1)·H·4 bytes per sequence. When a chunk of
// min(N, MIN_PARALLEL) sequences cannot hold them within the budget, the forward pass keeps only every k-th state
// (k = ⌈√T⌉, which minimises the ⌈T/k⌉ checkpoints + k segment slots) and the backward pass recomputes each segment
// from its checkpoint with the same kernels, so the results are bit-identical, for about one extra forward pass.
//
// It also fixes the layout the kernels (src/gpu/gemm/kernels.ts) read: the rows of each per-step slot (gemmRows,
// from the cell descriptor's `gemm` record, as the kernels' SR, DR, ZX, DAX) and the stride of the step records
// (whose members are gemm.wgsl's Step struct, packed by name); the kernels import it, never the other way round.

import { maxLength } from '../../batch.ts';
import { GpuError } from '../../errors.ts';
import { evenCapacity, fitCapacity, splitChunks, type Chunk } from '../plan.ts';
import { elman, isGated, type Cell } from '../../cells/index.ts';

/** A chunk should hold at least min(N, MIN_PARALLEL) sequences before the planner trades recomputation for memory. */
export const MIN_PARALLEL = 4096;
/** Steps per input-projection GEMM in a forward pass without gradients (its state slots are reused). */
export const FORWARD_SEGMENT = 32;
/**
 * BPTT: steps per weight-gradient product (K = steps × sequences). dz and dy are kept for one block of steps
 * (plus two carry slots), so this bounds their memory; at most 32 (the WGRAD_Y step mask is one u32).
 */
export const GRAD_BLOCK = 16;
/** A split-K part sums at least this many sequences. */
export const MIN_PART = 64;
/** Bytes of one step record in the `step` uniform buffer (minUniformBufferOffsetAlignment is at most 256). */
export const STEP_RECORD_BYTES = 256;

/**
 * Rows (floats per sequence) of the gemm strategy's per-step slots for a cell with H hidden units, from the
 * descriptor's `gemm` record (the same values the kernels get as SR, DR, ZX, DAX from the cell splice). Elman: one
 * H-row vector each. Gated cells: a step slot holds the state and the cell's record of the step, a dz slot the
 * gradient record (da, the carry, the input side's da), and the scratch rows hold Zh (forward) or dh (backward) of
 * the current step.
 */
export interface GemmRows {
  gated: boolean;
  /** Rows of the gate products (Wx·x, Wh·h, the weight gradients): gates·H. */
  gate: number;
  /** The state (a checkpoint slot): stateVectors·H. */
  state: number;
  /** A step's state slot. */
  slot: number;
  /** A step's dz (gated: gradient record) slot. */
  grad: number;
  /** First row of Zx in a step slot (after the state), 0 for Elman. */
  zx: number;
  /** First row of the input side's da in a gradient slot. */
  gradX: number;
  /** Scratch rows (gated: gates·H; Elman none). */
  scratch: number;
}

export function gemmRows(cell: Cell, H: number): GemmRows {
  const g = cell.gemm;
  const gated = isGated(cell);
  return {
    gated,
    gate: cell.gates * H,
    state: cell.stateVectors * H,
    slot: g.slot * H,
    grad: g.grad * H,
    zx: g.zx * H,
    gradX: g.gradX * H,
    scratch: gated ? cell.gates * H : 0,
  };
}

export interface GemmPlanInput {
  /** The recurrent cell (default Elman). */
  cell?: Cell;
  lengths: Uint32Array;
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  /** Trainable parameters (the gradient accumulators). */
  params: number;
  gradients: boolean;
  outAll: boolean;
  hasTargets: boolean;
  outputs: boolean;
  reduceSpan: number;
  maxBindingBytes: number;
  budgetBytes: number;
  /** Force the checkpoint interval (BPTT): store every k-th state. */
  checkpointEvery?: number;
  /** Workgroups the weight-gradient products should reach, split-K included (fills the adapter; default 8). */
  wgradGroups?: number;
  /** At most this many sequences per chunk. */
  maxCapacity?: number;
}

export interface GemmPlan {
  capacity: number;
  maxSteps: number;
  /** Steps per segment: states of one segment are held at once; BPTT stores one checkpoint per segment. */
  segment: number;
  /** True when BPTT recomputes segments from checkpoints (segment < maxSteps). */
  checkpointed: boolean;
  /** State slots before the segment's: checkpoints (h0 first) in BPTT, the carried state in a forward pass. */
  checkpointSlots: number;
  chunks: Chunk[];
  totalParts: number;
  /** Step records (uniform) one chunk needs at most. */
  records: number;
  /** BPTT: steps per weight-gradient product (dz and dy slots held). */
  block: number;
  /** Rows of the cell's per-step slots. */
  slots: GemmRows;
  /**
   * Float offsets in the `work` buffer at capacity: dy slots, dz slots (block + two carry slots), the gated cells'
   * scratch rows, rows, and the split-K partial sums (splitParts(capacity) rows of P; a smaller chunk needs no more).
   */
  work: { dy: number; dz: number; scratch: number; rows: number; partials: number; floats: number };
  /** Bytes per buffer role. */
  bytes: Record<string, number>;
  /** Sum of `bytes`: the GPU memory of the run. */
  totalBytes: number;
}

const pad64 = (v: number): number => Math.ceil(v / 64) * 64;

/**
 * Row stride (floats) of the state, dz and dy slots of a chunk of n sequences: from 64 sequences, n rounded up to
 * an odd multiple of 16 floats (64 bytes). Rows a power-of-two number of KiB apart fall into a few sets of a CPU's
 * caches, and a weight-gradient tile reads 64 such rows at once (lanes along the rows); rows an odd number of cache
 * lines apart spread over all sets. Below 64 sequences the padding would cost more than it saves.
 */
export function rowStride(n: number): number {
  if (n < 64) return n;
  const lines = Math.ceil(n / 16);
  return 16 * (lines % 2 === 0 ? lines + 1 : lines);
}

/**
 * Split-K parts for the weight-gradient products of a chunk of `cap` sequences: enough that tiles × parts reach
 * `groups` workgroups, each part at least MIN_PART sequences. (64×64 output tiles are assumed here.)
 */
export function splitParts(
  cap: number,
  p: Pick<GemmPlanInput, 'inputSize' | 'hiddenSize' | 'wgradGroups'> & { gates?: number },
): { parts: number; partLen: number } {
  const tiles = Math.ceil(((p.gates ?? 1) * p.hiddenSize) / 64) * Math.ceil((p.hiddenSize + p.inputSize + 1) / 64);
  const want = Math.ceil((p.wgradGroups ?? 8) / tiles);
  const parts = Math.max(1, Math.min(want, Math.floor(cap / MIN_PART)));
  const partLen = Math.ceil(cap / parts);
  return { parts: Math.ceil(cap / partLen), partLen };
}

/** Buffer bytes per role for `cap` sequences, `segment` steps per segment. */
function layout(p: GemmPlanInput, T: number, cap: number, segment: number, parts: number) {
  const { inputSize: I, hiddenSize: H, outputSize: O } = p;
  const R = gemmRows(p.cell ?? elman, H);
  const ckpt = p.gradients ? Math.ceil(T / segment) : 1;
  const outPerSeq = (p.outAll ? T : 1) * O;
  const block = p.gradients ? Math.min(GRAD_BLOCK, segment) : 1;
  const split = p.gradients ? splitParts(cap, { ...p, gates: R.gate / H }) : { parts: 0, partLen: 0 };
  const dy = pad64(p.params);
  const ld = rowStride(cap);
  const dz = dy + pad64(block * O * ld);
  const scratch = dz + (p.gradients ? pad64((block + 2) * R.grad * ld) : 0);
  const rows = scratch + pad64(R.scratch * ld);
  const partials = rows + pad64((O + 1) * cap);
  const work = { dy, dz, scratch, rows, partials, floats: partials + split.parts * p.params };
  const segments = Math.ceil(T / segment);
  // init, and per segment a projection (twice with BPTT's recomputation) and per step the step and output
  // products; BPTT adds per step the output and dz products, per block the two weight-gradient products, and WSUM.
  // (Gated cells reuse the step's and dz's records for their gate steps and the block's for WGRAD_X.)
  const blocks = Math.ceil(T / block) + segments;
  const records = 2 + 2 * segments + (p.gradients ? 5 * T + 2 * blocks : 2 * T);
  const bytes: Record<string, number> = {
    weights: (p.params + R.state + H * R.gate + H * O) * 4,
    xs: cap * T * I * 4,
    lengths: cap * 4,
    targets: p.hasTargets ? cap * outPerSeq * 4 : 0,
    ys: p.outputs ? cap * outPerSeq * 4 : 0,
    'ys readback': p.outputs ? cap * outPerSeq * 4 : 0,
    states: (ckpt * R.state + segment * R.slot) * ld * 4,
    work: work.floats * 4,
    flags: cap * 4,
    steps: records * STEP_RECORD_BYTES,
    partials: (O + 1) * parts * 4,
    'sums readback': (p.outputSize + 1 + (p.gradients ? p.params + 2 : 0)) * 4,
    // The dims and reduction uniforms, the clipping buffers and the upper levels of the row sums.
    'small buffers': 256,
  };
  const totalBytes = Object.values(bytes).reduce((a, b) => a + b, 0);
  return { ckpt, work, records, block, split, bytes, totalBytes, rows: R };
}

/** The per-buffer binding limit: which role first exceeds it at `cap` sequences, if any. (The step records are bound 32 bytes at a time.) */
function overBinding(bytes: Record<string, number>, maxBinding: number): string | null {
  for (const [role, b] of Object.entries(bytes)) if (role !== 'steps' && b > maxBinding) return role;
  return null;
}

/** The most sequences per chunk (≤ N) that fit the binding limit and the budget with this segment, or 0. */
function capacityFor(p: GemmPlanInput, T: number, all: number, segment: number): number {
  const N = Math.min(all, Math.max(1, Math.floor(p.maxCapacity ?? all)));
  const fits = (cap: number): boolean => {
    const l = layout(p, T, cap, segment, Math.ceil(all / cap) + Math.ceil(all / p.reduceSpan));
    return l.totalBytes <= p.budgetBytes && !overBinding(l.bytes, p.maxBindingBytes);
  };
  return fitCapacity(N, fits);
}

export function planGemm(p: GemmPlanInput): GemmPlan {
  const N = p.lengths.length;
  const T = maxLength({ count: N, lengths: p.lengths });
  let segment: number;
  let capacity: number;
  if (!p.gradients) {
    segment = Math.min(T, FORWARD_SEGMENT);
    capacity = capacityFor(p, T, N, segment);
  } else if (p.checkpointEvery !== undefined) {
    segment = Math.max(1, Math.min(T, Math.floor(p.checkpointEvery)));
    capacity = capacityFor(p, T, N, segment);
  } else {
    segment = T;
    capacity = capacityFor(p, T, N, segment);
    if (capacity < Math.min(N, MIN_PARALLEL)) {
      const k = Math.ceil(Math.sqrt(T));
      const withCheckpoints = capacityFor(p, T, N, k);
      // (Also when neither fits: the error then names the smallest footprint.)
      if (withCheckpoints > capacity || withCheckpoints === 0) {
        segment = k;
        capacity = withCheckpoints;
      }
    }
  }
  if (capacity < 1) {
    const one = layout(p, T, 1, segment, 2);
    const role = overBinding(one.bytes, p.maxBindingBytes);
    if (role) {
      throw new GpuError(
        `one sequence of ${T} steps needs ${one.bytes[role]} bytes of "${role}" even ${p.gradients ? `with a hidden state stored every ${segment} steps` : 'in a forward pass'}, more than the device's buffer limit of ${p.maxBindingBytes} bytes (maxStorageBufferBindingSize / maxBufferSize)`,
      );
    }
    throw new GpuError(
      `one sequence of ${T} steps needs ${one.totalBytes} bytes of GPU buffers${p.gradients ? ` even with a hidden state stored every ${segment} steps` : ''}, more than the memory budget of ${p.budgetBytes} bytes`,
    );
  }
  // As many chunks as needed, of even size.
  capacity = evenCapacity(N, capacity);
  const { chunks, parts } = splitChunks(p.lengths, capacity, p.reduceSpan);
  const l = layout(p, T, capacity, segment, parts);
  return {
    capacity,
    maxSteps: T,
    segment,
    checkpointed: p.gradients && segment < T,
    checkpointSlots: l.ckpt,
    chunks,
    totalParts: parts,
    records: l.records,
    block: l.block,
    slots: l.rows,
    work: l.work,
    bytes: l.bytes,
    totalBytes: l.totalBytes,
  };
}
