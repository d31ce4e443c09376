// The CPU reference: forward pass, SSR and backpropagation through time, written as plain loops.
// Float64 by default; `precision: 'f32'` rounds every arithmetic result with Math.fround, which
// mimics the GPU's float32 arithmetic per sequence (the sum over sequences stays float64).
// This file is the verifier for every GPU result and the fallback when there is no GPU: keep it boring.

import type { Batch } from '../batch.ts';
import { maxLength, outputCount } from '../batch.ts';
import { paramLayout, type Model } from '../model.ts';

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

/** act(z) */
function activate(kind: Model['activation'], z: number): number {
  if (kind === 'relu') return z > 0 ? z : 0;
  if (kind === 'tanh') return Math.tanh(z);
  return z;
}

/** act'(z) written through h = act(z): ReLU' is 1 where z > 0 (same as h > 0), else 0; tanh' = 1 − h². */
function activateGrad(kind: Model['activation'], h: number): number {
  if (kind === 'relu') return h > 0 ? 1 : 0;
  if (kind === 'tanh') return 1 - h * h;
  return 1;
}

/**
 * The CPU reference on a validated model and batch: forward pass, SSR and BPTT gradients summed over the sequences,
 * in float64 (or float32 with `precision: 'f32'`). The engine's `cpu` backend runs this with input checks around it.
 */
export function cpuRun(model: Model, batch: Batch, opts: CpuRunOptions = {}): RawResult {
  const r = opts.precision === 'f32' ? Math.fround : identity;
  const { inputSize: I, hiddenSize: H, outputSize: O, activation, output } = model;
  const L = paramLayout(model).blocks;
  const w = Float64Array.from(model.params, (v) => r(v));
  const h0 = Float64Array.from(model.h0, (v) => r(v));
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
  const hs = new Float64Array((maxLen + 1) * H); // hs[(t+1)*H + j] = h_t[j]; hs[j] = h_0[j]
  const y = new Float64Array(O);
  const dy = new Float64Array(O);
  const dh = new Float64Array(H);
  const dz = new Float64Array(H);
  const progressEvery = Math.max(1, Math.floor(batch.count / 100));

  for (let n = 0; n < batch.count; n++) {
    const T = batch.lengths[n];
    const step0 = batch.offsets[n];
    for (let j = 0; j < H; j++) hs[j] = h0[j];
    let seqLoss = 0;
    let overflow = false;

    // Forward.
    for (let t = 0; t < T; t++) {
      const xBase = (step0 + t) * I;
      for (let j = 0; j < H; j++) {
        let z = w[L.bh.offset + j];
        for (let i = 0; i < I; i++) z = r(z + r(w[L.Wx.offset + j * I + i] * r(xs[xBase + i])));
        for (let k = 0; k < H; k++) z = r(z + r(w[L.Wh.offset + j * H + k] * hs[t * H + k]));
        if (!Number.isFinite(z)) overflow = true;
        hs[(t + 1) * H + j] = r(activate(activation, z));
      }
      if (all || t === T - 1) {
        for (let o = 0; o < O; o++) {
          let v = w[L.by.offset + o];
          for (let j = 0; j < H; j++) v = r(v + r(w[L.Wy.offset + o * H + j] * hs[(t + 1) * H + j]));
          y[o] = v;
        }
        const outBase = all ? (step0 + t) * O : n * O;
        if (outs) for (let o = 0; o < O; o++) outs[outBase + o] = y[o];
        if (tg) for (let o = 0; o < O; o++) {
          const d = r(y[o] - r(tg[outBase + o]));
          seqLoss = r(seqLoss + r(d * d));
        }
      }
    }
    loss += seqLoss;
    if (overflow) overflowed++;

    // Backward through time.
    if (seqGrads) {
      seqGrads.fill(0);
      dh.fill(0);
      for (let t = T - 1; t >= 0; t--) {
        const hT = (t + 1) * H; // h_t
        const hP = t * H; // h_{t-1}
        if (all || t === T - 1) {
          const outBase = all ? (step0 + t) * O : n * O;
          for (let o = 0; o < O; o++) {
            let v = w[L.by.offset + o];
            for (let j = 0; j < H; j++) v = r(v + r(w[L.Wy.offset + o * H + j] * hs[hT + j]));
            dy[o] = r(2 * r(v - r(tg![outBase + o])));
          }
          for (let o = 0; o < O; o++) {
            seqGrads[L.by.offset + o] = r(seqGrads[L.by.offset + o] + dy[o]);
            for (let j = 0; j < H; j++) {
              seqGrads[L.Wy.offset + o * H + j] = r(seqGrads[L.Wy.offset + o * H + j] + r(dy[o] * hs[hT + j]));
              dh[j] = r(dh[j] + r(w[L.Wy.offset + o * H + j] * dy[o]));
            }
          }
        }
        const xBase = (step0 + t) * I;
        for (let j = 0; j < H; j++) {
          dz[j] = r(dh[j] * activateGrad(activation, hs[hT + j]));
          seqGrads[L.bh.offset + j] = r(seqGrads[L.bh.offset + j] + dz[j]);
          for (let i = 0; i < I; i++) {
            const p = L.Wx.offset + j * I + i;
            seqGrads[p] = r(seqGrads[p] + r(dz[j] * r(xs[xBase + i])));
          }
          for (let k = 0; k < H; k++) {
            const p = L.Wh.offset + j * H + k;
            seqGrads[p] = r(seqGrads[p] + r(dz[j] * hs[hP + k]));
          }
        }
        // dh_{t-1} = Wh^T dz_t, or 0 where truncation detaches h_{t-1} (t a positive multiple of k).
        if (t > 0 && t % window === 0) {
          dh.fill(0);
          continue;
        }
        for (let k = 0; k < H; k++) {
          let v = 0;
          for (let j = 0; j < H; j++) v = r(v + r(w[L.Wh.offset + j * H + k] * dz[j]));
          dh[k] = v;
        }
      }
      for (let p = 0; p < seqGrads.length; p++) grads![p] += seqGrads[p];
    }
    if (opts.onProgress && (n + 1) % progressEvery === 0) opts.onProgress(n + 1, batch.count);
  }
  return { loss: tg ? loss : null, grads, outputs: outs, overflowed };
}
