// Host-side re-packing between the batch's ragged sequence-major arrays and the kernels' time-major chunks:
// value i of step t of chunk sequence n goes to [(t*I + i)*count + n], so neighbouring invocations read
// neighbouring words.

import type { Batch } from '../batch.ts';
import { layerCount, type Model } from '../model.ts';
import type { Chunk } from './plan.ts';

/** Sequences handled together, so that the strided writes of the transpose land in a few cache lines at a time. */
const BLOCK = 64;

/**
 * The chunk's inputs, time-major, and its lengths: value i of step t of chunk sequence n to [(t*I + i)*count + n]
 * (steps past a sequence's end are left as they are: the kernels mask them). Blocks of BLOCK sequences, each
 * sequence's first value and length read once per block, so that the inner loop is one comparison, one load and
 * one store.
 */
export function packInputs(b: Batch, c: Chunk, xs: Float32Array, lengths: Uint32Array): void {
  const I = b.inputSize;
  const N = c.count;
  const src = b.inputs;
  const lens = b.lengths;
  const offs = b.offsets;
  const base = new Float64Array(BLOCK);
  const len = new Uint32Array(BLOCK);
  for (let n0 = 0; n0 < N; n0 += BLOCK) {
    const m = Math.min(N, n0 + BLOCK) - n0;
    let steps = 0;
    for (let q = 0; q < m; q++) {
      const s = c.start + n0 + q;
      const L = lens[s];
      lengths[n0 + q] = L;
      len[q] = L;
      base[q] = offs[s] * I;
      if (L > steps) steps = L;
    }
    for (let t = 0; t < steps; t++) {
      for (let i = 0; i < I; i++) {
        const row = (t * I + i) * N + n0;
        const at = t * I + i;
        for (let q = 0; q < m; q++) if (t < len[q]) xs[row + q] = src[base[q] + at];
      }
    }
  }
}

/** Targets, or predictions, of the chunk: `last` [o*count + n], `all` [(t*O + o)*count + n]. */
export function packTargets(b: Batch, c: Chunk, O: number, out: Float32Array): void {
  const src = b.targets!;
  const N = c.count;
  if (b.output === 'last') {
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) out[o * N + n] = src[(c.start + n) * O + o];
    return;
  }
  for (let n = 0; n < N; n++) {
    const s = c.start + n;
    const base = b.offsets[s] * O;
    for (let t = 0; t < b.lengths[s]; t++) for (let o = 0; o < O; o++) out[(t * O + o) * N + n] = src[base + t * O + o];
  }
}

/** Inverse of packTargets' layout: copies a chunk's predictions into the batch-wide flat outputs. */
export function unpackOutputs(
  b: Batch,
  c: Chunk,
  O: number,
  outAll: boolean,
  ys: Float32Array,
  out: Float64Array,
): void {
  const N = c.count;
  if (!outAll) {
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) out[(c.start + n) * O + o] = ys[o * N + n];
    return;
  }
  for (let n = 0; n < N; n++) {
    const s = c.start + n;
    const base = b.offsets[s] * O;
    for (let t = 0; t < b.lengths[s]; t++) for (let o = 0; o < O; o++) out[base + t * O + o] = ys[(t * O + o) * N + n];
  }
}

/**
 * Each chunk sequence's initial state for every layer-direction, [(k·S + q)·count + n] (S state rows: h, then c for
 * the LSTM): the batch's initialStates, or else the model's h0 (c0).
 */
export function packStates(model: Model, batch: Batch, c: Chunk, S: number, out: Float32Array): void {
  const H = model.hiddenSize;
  const K = layerCount(model);
  const init = batch.initialStates;
  const N = c.count;
  for (let k = 0; k < K; k++)
    for (let q = 0; q < S; q++) {
      const row = (k * S + q) * N;
      const j = q % H;
      const isC = q >= H;
      if (init) {
        const src = isC ? init.c! : init.h;
        for (let n = 0; n < N; n++) out[row + n] = src[(k * batch.count + c.start + n) * H + j];
      } else {
        const v = isC ? (model.c0 ? model.c0[k * H + j] : 0) : model.h0[k * H + j];
        out.fill(v, row, row + N);
      }
    }
}

/** A chunk's final states [(k·S + q)·count + n] into the batch's RnnStates layout [k][sequence][j] (h, and c). */
export function unpackStates(
  fin: Float32Array,
  K: number,
  S: number,
  H: number,
  batch: Batch,
  c: Chunk,
  finalH: Float64Array,
  finalC: Float64Array | null,
): void {
  const N = c.count;
  for (let k = 0; k < K; k++)
    for (let n = 0; n < N; n++)
      for (let j = 0; j < H; j++) {
        const to = (k * batch.count + c.start + n) * H + j;
        finalH[to] = fin[(k * S + j) * N + n];
        if (finalC) finalC[to] = fin[(k * S + H + j) * N + n];
      }
}
