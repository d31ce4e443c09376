// Memory planning: splits a batch into chunks of sequences so that every buffer stays under the device's
// maxStorageBufferBindingSize / maxBufferSize and all chunk buffers together stay under the memory budget.

import { maxLength } from '../batch.ts';
import { GpuError } from '../errors.ts';
import { paramLayout } from '../model.ts';

export interface PlanInput {
  lengths: Uint32Array;
  inputSize: number;
  hiddenSize: number;
  /** Floats of the recurrent state stored per step and sequence (the cell's NSTATE; default hiddenSize). */
  stateSize?: number;
  outputSize: number;
  /** bptt stores every hidden state; forward does not. */
  storeStates: boolean;
  outAll: boolean;
  hasTargets: boolean;
  outputs: boolean;
  /** Rows per sequence in the `rows` buffer (SSR, overflow flag, gradients). */
  rows: number;
  /** Columns one reduction workgroup sums. */
  reduceSpan: number;
  maxBindingBytes: number;
  budgetBytes: number;
  /** Further buffers of the strategy, bytes per sequence by role (a layered run's layer outputs, states, …). */
  extraPerSequence?: (maxSteps: number) => Record<string, number>;
  /** Floats of the weights buffer when it is not the one-layer model's parameters and h0. */
  weightFloats?: number;
}

export interface Chunk {
  start: number;
  count: number;
  /** Longest sequence in the chunk: the time extent of its time-major arrays. */
  steps: number;
  /** Column of the first partial sum this chunk writes. */
  partOffset: number;
}

export interface Plan {
  /** Sequences per chunk at most. */
  capacity: number;
  maxSteps: number;
  chunks: Chunk[];
  /** Partial sums per row after the first reduction level, over all chunks. */
  totalParts: number;
  /** Bytes per buffer role at capacity. */
  bytes: Record<string, number>;
}

/**
 * The batch's sequences in chunks of `capacity` (the last may be shorter), each with its time extent and the
 * column of its first partial sum (`reduceSpan` columns per reduction workgroup); `parts`: the columns of all.
 * Every strategy's plan splits its batch here.
 */
export function splitChunks(
  lengths: Uint32Array,
  capacity: number,
  reduceSpan: number,
): { chunks: Chunk[]; parts: number } {
  const N = lengths.length;
  const chunks: Chunk[] = [];
  let parts = 0;
  for (let start = 0; start < N; start += capacity) {
    const count = Math.min(capacity, N - start);
    let steps = 0;
    for (let n = start; n < start + count; n++) if (lengths[n] > steps) steps = lengths[n];
    chunks.push({ start, count, steps, partOffset: parts });
    parts += Math.ceil(count / reduceSpan);
  }
  return { chunks, parts };
}

/**
 * The most sequences per chunk in [lower, upper] for which `fits` holds, by bisection, or 0 when it fails at
 * `lower`: `fits` must hold from `lower` up to the answer and fail above it (a plan's bytes grow with the chunk
 * from there). Every strategy's plan sizes its chunks here, with its own buffer layout in `fits`, and splits the
 * batch with splitChunks.
 */
export function fitCapacity(upper: number, fits: (cap: number) => boolean, lower = 1): number {
  const from = Math.max(1, Math.min(lower, upper));
  if (!fits(from)) return 0;
  if (fits(upper)) return upper;
  let lo = from;
  let hi = upper;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The most sequences a chunk needs to hold for `capacity` to serve `count` sequences in as few chunks, all but
 * the last of one size: two chunks of 8192 rather than 14927 + 1457 (less memory, the same work).
 */
export function evenCapacity(count: number, capacity: number): number {
  return Math.ceil(count / Math.ceil(count / capacity));
}

/** Uniforms, 4-byte placeholders for unused bindings, the upper levels of the row sums and the clipping buffers. */
const SMALL_BYTES = 256;

export function planChunks(p: PlanInput): Plan {
  const N = p.lengths.length;
  const T = maxLength({ count: N, lengths: p.lengths });
  const outPerSeq = (p.outAll ? T : 1) * p.outputSize * 4;
  const perSeq: Record<string, number> = {
    xs: T * p.inputSize * 4,
    lengths: 4,
    rows: p.rows * 4,
    ...(p.hasTargets ? { targets: outPerSeq } : {}),
    ...(p.outputs ? { ys: outPerSeq, 'ys readback': outPerSeq } : {}),
    ...(p.storeStates ? { hs: T * (p.stateSize ?? p.hiddenSize) * 4 } : {}),
    ...(p.extraPerSequence?.(T) ?? {}),
  };
  let capacity = N;
  for (const [role, bytes] of Object.entries(perSeq)) {
    const fit = Math.floor(p.maxBindingBytes / bytes);
    if (fit < 1) {
      throw new GpuError(
        `one sequence of ${T} steps needs ${bytes} bytes of "${role}", more than the device's buffer limit of ${p.maxBindingBytes} bytes (maxStorageBufferBindingSize / maxBufferSize)`,
      );
    }
    capacity = Math.min(capacity, fit);
  }
  const sum = Object.values(perSeq).reduce((a, b) => a + b, 0);
  // Buffers of the run whatever the chunk size: the weights and h0, the uniforms, placeholders and read-backs
  // (SMALL_BYTES), and the partial sums, one column per reduction workgroup and chunk.
  const fixed = (p.weightFloats ?? paramLayout(p).count + p.hiddenSize) * 4 + SMALL_BYTES + 2 * p.rows * 4;
  const partials = (cap: number): number => p.rows * 4 * (Math.ceil(N / p.reduceSpan) + Math.ceil(N / cap));
  // The partial sums shrink as chunks grow and the chunk buffers grow: their sum is least near `best`, and grows
  // with the chunk from there.
  const best = Math.min(N, Math.max(1, Math.round(Math.sqrt((p.rows * 4 * N) / sum))));
  const fitBudget = fitCapacity(
    capacity,
    (cap) => fixed + partials(cap) + cap * sum <= p.budgetBytes,
    Math.min(best, capacity),
  );
  if (fitBudget < 1) {
    // The least any chunk size needs: the partial sums grow with the number of chunks, the chunk buffers with its size.
    const least = Math.min(...[1, best, N].map((c) => fixed + partials(c) + c * sum));
    throw new GpuError(
      `sequences of ${T} steps need at least ${least} bytes of GPU buffers (the weights, the partial sums and the chunk's data), more than the memory budget of ${p.budgetBytes} bytes`,
    );
  }
  capacity = Math.min(capacity, fitBudget);

  const { chunks, parts } = splitChunks(p.lengths, capacity, p.reduceSpan);
  const bytes: Record<string, number> = {};
  for (const [role, b] of Object.entries(perSeq)) bytes[role] = b * capacity;
  bytes.partials = p.rows * parts * 4;
  return { capacity, maxSteps: T, chunks, totalParts: parts, bytes };
}
