// The CPU reference: forward pass, SSR and backpropagation through time, written as plain loops, for every cell
// (the cells' steps are in cells.ts).
// Float64 by default; `precision: 'f32'` rounds every arithmetic result with Math.fround, which
// mimics the GPU's float32 arithmetic per sequence (the sum over sequences stays float64).
// This file is the verifier for every GPU result and the fallback when there is no GPU: keep it boring.

import type { Batch } from '../batch.ts';
import { maxLength, outputCount } from '../batch.ts';
import { initialState, paramLayout, type Model } from '../model.ts';
import { cpuCell } from './cells.ts';

/** Arithmetic of the CPU reference: float64, or every operation rounded to float32 (like the GPU). */
export type Precision = 'f64' | 'f32';

/** Options of {@link cpuRun}. */
export interface CpuRunOptions {
  /** Compute dSSR/dθ (needs targets). */
  gradients?: boolean;
  /** Return the predictions. */
  outputs?: boolean;
  precision?: Precision;
  /**
   * Truncated BPTT window k (integer ≥ 1; absent = full BPTT): with 0-based step t within a sequence, the gradient
   * does not flow from step t into h_{t−1} when t is a positive multiple of k. Forward values are unchanged.
   */
  truncation?: number;
  /** Called now and then with the number of sequences done. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link cpuRun} returns: flat arrays in the canonical parameter order. */
export interface RawResult {
  /** SSR over the batch, or null when the batch has no targets. */
  loss: number | null;
  /** dSSR/dθ in canonical parameter order (see paramLayout), summed over all sequences. */
  grads: Float64Array | null;
  /** Predictions: `last` n*O + o, `all` (offsets[n]+t)*O + o. */
  outputs: Float64Array | null;
  /** Sequences in which a pre-activation became ±Infinity or NaN (ReLU would hide a NaN as 0). */
  overflowed: number;
  /** ‖dSSR/dθ‖₂ over all parameters before clipping; set by the backends (not cpuRun) whenever grads are computed. */
  gradNorm?: number;
  /** Whether the backend scaled `grads` down to RunOptions.clipNorm. */
  clipped?: boolean;
}

const identity = (x: number): number => x;

/**
 * The CPU reference on a validated model and batch: forward pass, SSR and BPTT gradients summed over the sequences,
 * in float64 (or float32 with `precision: 'f32'`), for every cell (src/cpu/cells.ts has their steps). The engine's
 * `cpu` backend runs this with input checks around it.
 */
export function cpuRun(model: Model, batch: Batch, opts: CpuRunOptions = {}): RawResult {
  const r = opts.precision === 'f32' ? Math.fround : identity;
  const { inputSize: I, hiddenSize: H, outputSize: O, output } = model;
  const L = paramLayout(model).blocks;
  const w = Float64Array.from(model.params, (v) => r(v));
  const s0 = Float64Array.from(initialState(model), (v) => r(v));
  const cell = cpuCell(model, w, r);
  const S = cell.state;
  const C = cell.cache;
  const wantGrads = !!opts.gradients;
  const window = opts.truncation ?? Infinity; // t % Infinity === t, so no step detaches
  if (wantGrads && !batch.targets) throw new Error('gradients need targets');

  const tg = batch.targets;
  const xs = batch.inputs;
  const all = output === 'all';
  const outs = opts.outputs ? new Float64Array(outputCount({ ...batch, outputSize: O }, output)) : null;
  const grads = wantGrads ? new Float64Array(paramLayout(model).count) : null;
  const seqGrads = wantGrads ? new Float64Array(grads!.length) : null;
  let loss = 0;
  let overflowed = 0;

  const maxLen = maxLength(batch);
  const ss = new Float64Array((maxLen + 1) * S); // ss[(t+1)*S + q] = s_t[q]; ss[q] = s_0[q]; h = s[0..H)
  const cache = new Float64Array(maxLen * C); // what each step's backward needs (gate values)
  const y = new Float64Array(O);
  const dy = new Float64Array(O);
  let dS = new Float64Array(S);
  let dPrev = new Float64Array(S);
  const progressEvery = Math.max(1, Math.floor(batch.count / 100));

  for (let n = 0; n < batch.count; n++) {
    const T = batch.lengths[n];
    const step0 = batch.offsets[n];
    ss.set(s0);
    let seqLoss = 0;
    let overflow = false;

    // Forward.
    for (let t = 0; t < T; t++) {
      if (!cell.forward(ss, t * S, (t + 1) * S, xs, (step0 + t) * I, cache, t * C)) overflow = true;
      if (all || t === T - 1) {
        for (let o = 0; o < O; o++) {
          let v = w[L.by.offset + o];
          for (let j = 0; j < H; j++) v = r(v + r(w[L.Wy.offset + o * H + j] * ss[(t + 1) * S + j]));
          y[o] = v;
        }
        const outBase = all ? (step0 + t) * O : n * O;
        if (outs) for (let o = 0; o < O; o++) outs[outBase + o] = y[o];
        if (tg)
          for (let o = 0; o < O; o++) {
            const d = r(y[o] - r(tg[outBase + o]));
            seqLoss = r(seqLoss + r(d * d));
          }
      }
    }
    loss += seqLoss;
    if (overflow) overflowed++;

    // Backward through time. dS = dSSR/ds_t (h first); the readout adds to its h part at steps with outputs.
    if (seqGrads) {
      seqGrads.fill(0);
      dS.fill(0);
      for (let t = T - 1; t >= 0; t--) {
        const sT = (t + 1) * S; // s_t
        const sP = t * S; // s_{t-1}
        if (all || t === T - 1) {
          const outBase = all ? (step0 + t) * O : n * O;
          for (let o = 0; o < O; o++) {
            let v = w[L.by.offset + o];
            for (let j = 0; j < H; j++) v = r(v + r(w[L.Wy.offset + o * H + j] * ss[sT + j]));
            dy[o] = r(2 * r(v - r(tg![outBase + o])));
          }
          for (let o = 0; o < O; o++) {
            seqGrads[L.by.offset + o] = r(seqGrads[L.by.offset + o] + dy[o]);
            for (let j = 0; j < H; j++) {
              seqGrads[L.Wy.offset + o * H + j] = r(seqGrads[L.Wy.offset + o * H + j] + r(dy[o] * ss[sT + j]));
              dS[j] = r(dS[j] + r(w[L.Wy.offset + o * H + j] * dy[o]));
            }
          }
        }
        cell.backward(dS, ss, sP, sT, xs, (step0 + t) * I, cache, t * C, seqGrads, dPrev);
        // dSSR/ds_{t-1} through the cell, or 0 where truncation detaches s_{t-1} (t a positive multiple of k).
        if (t > 0 && t % window === 0) dPrev.fill(0);
        [dS, dPrev] = [dPrev, dS];
      }
      for (let p = 0; p < seqGrads.length; p++) grads![p] += seqGrads[p];
    }
    if (opts.onProgress && (n + 1) % progressEvery === 0) opts.onProgress(n + 1, batch.count);
  }
  return { loss: tg ? loss : null, grads, outputs: outs, overflowed };
}
