// The CPU reference: forward pass, SSR and backpropagation through time, written as plain loops, for every cell
// (the cells' steps are in cells.ts), for one layer in one direction and (cpuRunStacked) for stacked and
// bidirectional networks and runs with carried states.
// Float64 by default; `precision: 'f32'` rounds every arithmetic result with Math.fround, which
// mimics the GPU's float32 arithmetic per sequence (the sum over sequences stays float64).
// This file is the verifier for every GPU result and the fallback when there is no GPU: keep it boring.

import type { Batch, RnnStates } from '../batch.ts';
import { maxLength, outputCount } from '../batch.ts';
import { directions, initialState, isLayered, layerCount, layerLayouts, paramLayout, type Model } from '../model.ts';
import { cpuCell } from './cells.ts';
import { dropKeep, dropThreshold, type Dropout } from '../dropout.ts';

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
  /** Return every sequence's final states (RawResult.finalStates). */
  finalStates?: boolean;
  /** Inter-layer dropout (training): the mask of src/dropout.ts on the inputs of the layers above the first. */
  dropout?: Dropout;
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
  /**
   * With `finalStates`: each sequence's state after its last step, every layer and direction (PyTorch's h_n, c_n;
   * a reverse direction's is its state after step 0), in the layout of RnnStates.
   */
  finalStates?: RnnStates;
}

const identity = (x: number): number => x;

/**
 * The CPU reference on a validated model and batch: forward pass, SSR and BPTT gradients summed over the sequences,
 * in float64 (or float32 with `precision: 'f32'`), for every cell (src/cpu/cells.ts has their steps). The engine's
 * `cpu` backend runs this with input checks around it.
 */
export function cpuRun(model: Model, batch: Batch, opts: CpuRunOptions = {}): RawResult {
  if (isLayered(model) || batch.initialStates || opts.finalStates) return cpuRunStacked(model, batch, opts);
  // Dropout acts between layers: a one-layer, one-direction model has none.
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

/** A one-layer view of the model for layer `inputSize`: what cpuCell needs to step one layer on its own weights. */
function layerModel(model: Model, inputSize: number): Model {
  const { cell, hiddenSize, outputSize, activation, output } = model;
  return {
    ...(cell ? { cell } : {}),
    inputSize,
    hiddenSize,
    outputSize,
    activation,
    output,
    params: new Float64Array(0),
    h0: new Float64Array(0),
  };
}

/**
 * The CPU reference for stacked and bidirectional networks (PyTorch's num_layers and bidirectional) and for runs
 * with carried states, on any model. Each sequence runs on its own, so ragged sequences behave as PyTorch's
 * PackedSequence: a reverse direction starts at the sequence's own last step. Layer k (PyTorch's order l0,
 * l0_reverse, l1, …) is the model's cell on its slice of the weights; a layer above 0 reads [h_fwd_t; h_rev_t] of
 * the layer below, and the readout reads the top layer's. For one layer in one direction this is the arithmetic of
 * cpuRun's own loop, operation for operation, so it gives the same bits. Truncation (window k) detaches each
 * direction's state between its processing steps τ−1 and τ (τ counted from where the direction starts) when τ is a
 * positive multiple of k; for the forward direction τ = t, as in cpuRun. With `dropout`, the layers above the
 * first read their inputs through the mask of src/dropout.ts (and pass dSSR/dx back through it).
 */
export function cpuRunStacked(model: Model, batch: Batch, opts: CpuRunOptions = {}): RawResult {
  const r = opts.precision === 'f32' ? Math.fround : identity;
  const { inputSize: I, hiddenSize: H, outputSize: O, output } = model;
  const D = directions(model);
  const K = layerCount(model);
  const NL = K / D; // layers
  const DH = D * H; // floats a layer outputs per step
  const N = batch.count;
  const L = paramLayout(model).blocks; // Wy, by
  const layers = layerLayouts(model);
  const w = Float64Array.from(model.params, (v) => r(v));
  const cells = layers.map((l) => cpuCell(layerModel(model, l.inputSize), w.subarray(l.offset), r));
  const S = cells[0].state;
  const C = cells[0].cache;
  const wantGrads = !!opts.gradients;
  const window = opts.truncation ?? Infinity;
  if (wantGrads && !batch.targets) throw new Error('gradients need targets');

  const tg = batch.targets;
  const xs = batch.inputs;
  const all = output === 'all';
  const init = batch.initialStates;
  const outs = opts.outputs ? new Float64Array(outputCount({ ...batch, outputSize: O }, output)) : null;
  const grads = wantGrads ? new Float64Array(paramLayout(model).count) : null;
  const seqGrads = wantGrads ? new Float64Array(grads!.length) : null;
  const layerGrads = seqGrads ? layers.map((l) => seqGrads.subarray(l.offset)) : [];
  const finalH = opts.finalStates ? new Float64Array(K * N * H) : null;
  const finalC = opts.finalStates && S > H ? new Float64Array(K * N * H) : null;
  let loss = 0;
  let overflowed = 0;

  const maxLen = maxLength(batch);
  // Per layer-direction k: ss[k][(τ+1)*S + q] = the state after processing step τ (ss[k][q] = the initial state),
  // and what each step's backward needs. Per layer: its outputs [h_fwd_t; h_rev_t] at t*DH.
  const ss = layers.map(() => new Float64Array((maxLen + 1) * S));
  const cache = layers.map(() => new Float64Array(maxLen * C));
  const hs = Array.from({ length: NL }, () => new Float64Array(maxLen * DH));
  const dy = wantGrads ? new Float64Array(maxLen * O) : null; // dSSR/dy_t at the steps with outputs
  let dOut = wantGrads ? new Float64Array(maxLen * DH) : null; // dSSR/d(a layer's outputs), from the layer above
  let dIn = wantGrads && NL > 1 ? new Float64Array(maxLen * DH) : null; // dSSR/d(its inputs), for the layer below
  const dX = new Float64Array(DH);
  // Dropout between layers: per layer above the first, each input's factor (0, or 1/(1 − p)) for this sequence.
  const drop = opts.dropout && opts.dropout.p > 0 && NL > 1 ? opts.dropout : null;
  const dropScale = drop ? r(1 / (1 - drop.p)) : 1;
  const dropT = drop ? dropThreshold(drop.p) : 0;
  const masks = drop ? Array.from({ length: NL }, () => new Float64Array(maxLen * DH)) : [];
  const dropped = drop ? Array.from({ length: NL }, () => new Float64Array(maxLen * DH)) : [];
  const y = new Float64Array(O);
  let dS = new Float64Array(S);
  let dPrev = new Float64Array(S);
  const progressEvery = Math.max(1, Math.floor(N / 100));

  for (let n = 0; n < N; n++) {
    const T = batch.lengths[n];
    const step0 = batch.offsets[n];
    let seqLoss = 0;
    let overflow = false;

    // Forward, layer by layer; each direction of a layer over the whole sequence.
    for (let l = 0; l < NL; l++) {
      if (drop && l > 0) {
        for (let t = 0; t < T; t++)
          for (let m = 0; m < DH; m++) {
            const f = dropKeep(drop.seed, l, n, t, m, dropT) ? dropScale : 0;
            masks[l][t * DH + m] = f;
            dropped[l][t * DH + m] = r(hs[l - 1][t * DH + m] * f);
          }
      }
      const xin = l === 0 ? xs : drop ? dropped[l] : hs[l - 1];
      const xBase = l === 0 ? step0 * I : 0;
      const xStep = l === 0 ? I : DH;
      for (let d = 0; d < D; d++) {
        const k = l * D + d;
        const s = ss[k];
        for (let j = 0; j < H; j++) s[j] = r(init ? init.h[(k * N + n) * H + j] : model.h0[k * H + j]);
        for (let j = 0; j < S - H; j++)
          s[H + j] = r(init ? init.c![(k * N + n) * H + j] : model.c0 ? model.c0[k * H + j] : 0);
        for (let tau = 0; tau < T; tau++) {
          const t = d === 0 ? tau : T - 1 - tau;
          if (!cells[k].forward(s, tau * S, (tau + 1) * S, xin, xBase + t * xStep, cache[k], tau * C)) overflow = true;
          for (let j = 0; j < H; j++) hs[l][t * DH + d * H + j] = s[(tau + 1) * S + j];
        }
        if (finalH) for (let j = 0; j < H; j++) finalH[(k * N + n) * H + j] = s[T * S + j];
        if (finalC) for (let j = 0; j < H; j++) finalC[(k * N + n) * H + j] = s[T * S + H + j];
      }
    }

    // The readout on the top layer's outputs.
    const top = hs[NL - 1];
    for (let t = 0; t < T; t++) {
      if (!(all || t === T - 1)) continue;
      for (let o = 0; o < O; o++) {
        let v = w[L.by.offset + o];
        for (let j = 0; j < DH; j++) v = r(v + r(w[L.Wy.offset + o * DH + j] * top[t * DH + j]));
        y[o] = v;
      }
      const outBase = all ? (step0 + t) * O : n * O;
      if (outs) for (let o = 0; o < O; o++) outs[outBase + o] = y[o];
      if (tg)
        for (let o = 0; o < O; o++) {
          const e = r(y[o] - r(tg[outBase + o]));
          seqLoss = r(seqLoss + r(e * e));
          if (dy) dy[t * O + o] = r(2 * e);
        }
    }
    loss += seqLoss;
    if (overflow) overflowed++;

    if (seqGrads) {
      seqGrads.fill(0);
      // The readout's gradients, last step first (as cpuRun adds them).
      for (let t = T - 1; t >= 0; t--) {
        if (!(all || t === T - 1)) continue;
        for (let o = 0; o < O; o++) {
          const g = dy![t * O + o];
          seqGrads[L.by.offset + o] = r(seqGrads[L.by.offset + o] + g);
          for (let j = 0; j < DH; j++)
            seqGrads[L.Wy.offset + o * DH + j] = r(seqGrads[L.Wy.offset + o * DH + j] + r(g * top[t * DH + j]));
        }
      }
      // Back through the layers, top first; each direction back through its own processing order.
      for (let l = NL - 1; l >= 0; l--) {
        const xin = l === 0 ? xs : drop ? dropped[l] : hs[l - 1];
        const xBase = l === 0 ? step0 * I : 0;
        const xStep = l === 0 ? I : DH;
        if (dIn) dIn.fill(0, 0, T * DH);
        for (let d = 0; d < D; d++) {
          const k = l * D + d;
          dS.fill(0);
          for (let tau = T - 1; tau >= 0; tau--) {
            const t = d === 0 ? tau : T - 1 - tau;
            if (l === NL - 1) {
              if (all || t === T - 1)
                for (let o = 0; o < O; o++)
                  for (let j = 0; j < H; j++)
                    dS[j] = r(dS[j] + r(w[L.Wy.offset + o * DH + d * H + j] * dy![t * O + o]));
            } else {
              for (let j = 0; j < H; j++) dS[j] = r(dS[j] + dOut![t * DH + d * H + j]);
            }
            const sP = tau * S;
            const sT = (tau + 1) * S;
            const xo = xBase + t * xStep;
            cells[k].backward(
              dS,
              ss[k],
              sP,
              sT,
              xin,
              xo,
              cache[k],
              tau * C,
              layerGrads[k],
              dPrev,
              l > 0 ? dX : undefined,
            );
            if (l > 0)
              for (let m = 0; m < DH; m++)
                dIn![t * DH + m] = r(dIn![t * DH + m] + (drop ? r(dX[m] * masks[l][t * DH + m]) : dX[m]));
            if (tau > 0 && tau % window === 0) dPrev.fill(0);
            [dS, dPrev] = [dPrev, dS];
          }
        }
        if (l > 0) [dOut, dIn] = [dIn, dOut];
      }
      for (let p = 0; p < seqGrads.length; p++) grads![p] += seqGrads[p];
    }
    if (opts.onProgress && (n + 1) % progressEvery === 0) opts.onProgress(n + 1, N);
  }
  const finalStates = finalH ? { h: finalH, ...(finalC ? { c: finalC } : {}) } : undefined;
  return { loss: tg ? loss : null, grads, outputs: outs, overflowed, ...(finalStates ? { finalStates } : {}) };
}
