// The CPU reference's recurrent cells: one forward step and one backward step each for Elman, LSTM and GRU, as plain
// loops over the flat parameters (src/model.ts paramLayout). reference.ts runs them over sequences (and, stacked,
// over layers and directions: each layer is a cell on its own slice of the weights); nothing here knows about
// batches, outputs or truncation. `r` rounds every arithmetic result (identity in float64,
// Math.fround in float32 mode). The equations are PyTorch's nn.LSTM and nn.GRU (gates i, f, g, o and r, z, n).

import type { Activation, Model } from '../model.ts';
import { paramLayout } from '../model.ts';

export type Round = (x: number) => number;

/** One cell's step functions over flat arrays. State s_t is NSTATE floats, h first (Elman, GRU: h; LSTM: h, c). */
export interface CpuCell {
  /** Floats of the recurrent state. */
  readonly state: number;
  /** Floats the forward step keeps per step for the backward step (gate values). */
  readonly cache: number;
  /**
   * s_t (written to `s` at `so`) from s_{t−1} (`s` at `sp`) and x_t (`xs` at `xo`); keeps what backward needs in
   * `cache` at `co`. Returns false when a pre-activation is ±Infinity or NaN.
   */
  forward(
    s: Float64Array,
    sp: number,
    so: number,
    xs: ArrayLike<number>,
    xo: number,
    cache: Float64Array,
    co: number,
  ): boolean;
  /**
   * One step back: given dS = dSSR/ds_t (NSTATE floats), adds this step's gradients of the cell's parameters to `g`
   * and writes dSSR/ds_{t−1} through the cell to `dPrev`. With `dX`, also writes dSSR/dx_t (I floats) there: what a
   * stacked layer passes down to the layer below.
   */
  backward(
    dS: Float64Array,
    s: Float64Array,
    sp: number,
    so: number,
    xs: ArrayLike<number>,
    xo: number,
    cache: Float64Array,
    co: number,
    g: Float64Array,
    dPrev: Float64Array,
    dX?: Float64Array,
  ): void;
}

/** dX_i = Σ_q Wx[q][i]·da_q over `rows` gate rows: dSSR/dx_t through the input weights. */
function inputGrad(
  w: Float64Array,
  wx: number,
  I: number,
  rows: number,
  da: Float64Array,
  dX: Float64Array,
  r: Round,
): void {
  for (let i = 0; i < I; i++) {
    let v = 0;
    for (let q = 0; q < rows; q++) v = r(v + r(w[wx + q * I + i] * da[q]));
    dX[i] = v;
  }
}

/** Elman's act(z). */
export function activate(kind: Activation, z: number): number {
  if (kind === 'relu') return z > 0 ? z : 0;
  if (kind === 'tanh') return Math.tanh(z);
  return z;
}

/** Elman's act'(z) written through h = act(z): ReLU' is 1 where z > 0 (same as h > 0), else 0; tanh' = 1 − h². */
export function activateGrad(kind: Activation, h: number): number {
  if (kind === 'relu') return h > 0 ? 1 : 0;
  if (kind === 'tanh') return 1 - h * h;
  return 1;
}

/** The logistic function σ(a) = 1 / (1 + e^−a), rounded per operation. */
function sigmoid(a: number, r: Round): number {
  return r(1 / r(1 + r(Math.exp(-a))));
}

/** The CPU steps of a model's cell, reading its weights `w` (already rounded). */
export function cpuCell(model: Model, w: Float64Array, r: Round): CpuCell {
  const cell = model.cell ?? 'elman';
  if (cell === 'lstm') return lstmCell(model, w, r);
  if (cell === 'gru') return gruCell(model, w, r);
  return elmanCell(model, w, r);
}

/** Elman: h_j = act(bh_j + Σ_i Wx[j][i]·x_i + Σ_k Wh[j][k]·h_k). */
function elmanCell(model: Model, w: Float64Array, r: Round): CpuCell {
  const { inputSize: I, hiddenSize: H, activation } = model;
  const L = paramLayout(model).blocks;
  const dz = new Float64Array(H);
  return {
    state: H,
    cache: 0,
    forward(s, sp, so, xs, xo) {
      let finite = true;
      for (let j = 0; j < H; j++) {
        let z = w[L.bh.offset + j];
        for (let i = 0; i < I; i++) z = r(z + r(w[L.Wx.offset + j * I + i] * r(xs[xo + i])));
        for (let k = 0; k < H; k++) z = r(z + r(w[L.Wh.offset + j * H + k] * s[sp + k]));
        if (!Number.isFinite(z)) finite = false;
        s[so + j] = r(activate(activation, z));
      }
      return finite;
    },
    backward(dS, s, sp, so, xs, xo, _cache, _co, g, dPrev, dX) {
      for (let j = 0; j < H; j++) {
        dz[j] = r(dS[j] * activateGrad(activation, s[so + j]));
        g[L.bh.offset + j] = r(g[L.bh.offset + j] + dz[j]);
        for (let i = 0; i < I; i++) {
          const p = L.Wx.offset + j * I + i;
          g[p] = r(g[p] + r(dz[j] * r(xs[xo + i])));
        }
        for (let k = 0; k < H; k++) {
          const p = L.Wh.offset + j * H + k;
          g[p] = r(g[p] + r(dz[j] * s[sp + k]));
        }
      }
      for (let k = 0; k < H; k++) {
        let v = 0;
        for (let j = 0; j < H; j++) v = r(v + r(w[L.Wh.offset + j * H + k] * dz[j]));
        dPrev[k] = v;
      }
      if (dX) inputGrad(w, L.Wx.offset, I, H, dz, dX, r);
    },
  };
}

/**
 * Pre-activation of gate row q (0-based, in the stacked rows of Wx, Wh, bx, bh) without the recurrent part:
 * bx_q + Σ_i Wx[q][i]·x_i.
 */
function inputPart(
  w: Float64Array,
  L: ReturnType<typeof paramLayout>['blocks'],
  I: number,
  q: number,
  xs: ArrayLike<number>,
  xo: number,
  r: Round,
): number {
  let a = w[L.bx!.offset + q];
  for (let i = 0; i < I; i++) a = r(a + r(w[L.Wx.offset + q * I + i] * r(xs[xo + i])));
  return a;
}

/** Recurrent part of gate row q: bh_q + Σ_k Wh[q][k]·h_k. */
function hiddenPart(
  w: Float64Array,
  L: ReturnType<typeof paramLayout>['blocks'],
  H: number,
  q: number,
  s: Float64Array,
  sp: number,
  r: Round,
): number {
  let a = w[L.bh.offset + q];
  for (let k = 0; k < H; k++) a = r(a + r(w[L.Wh.offset + q * H + k] * s[sp + k]));
  return a;
}

/** Adds da·(1, x, h_{t−1}) to the gradients of gate row q: bx_q, bh_q, Wx[q][·], Wh[q][·]. */
function addGateGrads(
  g: Float64Array,
  L: ReturnType<typeof paramLayout>['blocks'],
  I: number,
  H: number,
  q: number,
  daX: number,
  daH: number,
  xs: ArrayLike<number>,
  xo: number,
  s: Float64Array,
  sp: number,
  r: Round,
): void {
  g[L.bx!.offset + q] = r(g[L.bx!.offset + q] + daX);
  g[L.bh.offset + q] = r(g[L.bh.offset + q] + daH);
  for (let i = 0; i < I; i++) {
    const p = L.Wx.offset + q * I + i;
    g[p] = r(g[p] + r(daX * r(xs[xo + i])));
  }
  for (let k = 0; k < H; k++) {
    const p = L.Wh.offset + q * H + k;
    g[p] = r(g[p] + r(daH * s[sp + k]));
  }
}

/**
 * LSTM (PyTorch's gate order i, f, g, o; row q·H + j of Wx, Wh, bx, bh is gate q of unit j):
 *   a = bx + Wx·x + bh + Wh·h_{t−1};  i, f, o = σ(a);  g = tanh(a);  c_t = f⊙c_{t−1} + i⊙g;  h_t = o⊙tanh(c_t).
 * State [h, c]; the cache holds i, f, g, o (4H) and tanh(c_t) (H).
 */
function lstmCell(model: Model, w: Float64Array, r: Round): CpuCell {
  const { inputSize: I, hiddenSize: H } = model;
  const L = paramLayout(model).blocks;
  const da = new Float64Array(4 * H);
  return {
    state: 2 * H,
    cache: 5 * H,
    forward(s, sp, so, xs, xo, cache, co) {
      let finite = true;
      for (let q = 0; q < 4 * H; q++) {
        const a = r(inputPart(w, L, I, q, xs, xo, r) + hiddenPart(w, L, H, q, s, sp, r));
        if (!Number.isFinite(a)) finite = false;
        cache[co + q] = q >= 2 * H && q < 3 * H ? r(Math.tanh(a)) : sigmoid(a, r);
      }
      for (let j = 0; j < H; j++) {
        const gi = cache[co + j];
        const gf = cache[co + H + j];
        const gg = cache[co + 2 * H + j];
        const go = cache[co + 3 * H + j];
        const c = r(r(gf * s[sp + H + j]) + r(gi * gg));
        const tc = r(Math.tanh(c));
        cache[co + 4 * H + j] = tc;
        s[so + H + j] = c;
        s[so + j] = r(go * tc);
      }
      return finite;
    },
    backward(dS, s, sp, _so, xs, xo, cache, co, g, dPrev, dX) {
      for (let j = 0; j < H; j++) {
        const gi = cache[co + j];
        const gf = cache[co + H + j];
        const gg = cache[co + 2 * H + j];
        const go = cache[co + 3 * H + j];
        const tc = cache[co + 4 * H + j];
        const dh = dS[j];
        // dSSR/dc_t: from the step after (dS's c part) and through h_t = o⊙tanh(c_t).
        const dc = r(dS[H + j] + r(r(dh * go) * r(1 - r(tc * tc))));
        da[j] = r(r(dc * gg) * r(gi * r(1 - gi)));
        da[H + j] = r(r(dc * s[sp + H + j]) * r(gf * r(1 - gf)));
        da[2 * H + j] = r(r(dc * gi) * r(1 - r(gg * gg)));
        da[3 * H + j] = r(r(dh * tc) * r(go * r(1 - go)));
        dPrev[H + j] = r(dc * gf);
      }
      for (let q = 0; q < 4 * H; q++) addGateGrads(g, L, I, H, q, da[q], da[q], xs, xo, s, sp, r);
      for (let k = 0; k < H; k++) {
        let v = 0;
        for (let q = 0; q < 4 * H; q++) v = r(v + r(w[L.Wh.offset + q * H + k] * da[q]));
        dPrev[k] = v;
      }
      if (dX) inputGrad(w, L.Wx.offset, I, 4 * H, da, dX, r);
    },
  };
}

/**
 * GRU (PyTorch's gate order r, z, n; row q·H + j of Wx, Wh, bx, bh is gate q of unit j):
 *   r, z = σ(bx + Wx·x + bh + Wh·h_{t−1});  n = tanh(bx_n + Wx_n·x + r⊙(bh_n + Wh_n·h_{t−1}));
 *   h_t = (1 − z)⊙n + z⊙h_{t−1}.
 * State h; the cache holds r, z, n (3H) and bh_n + Wh_n·h_{t−1} (H).
 */
function gruCell(model: Model, w: Float64Array, r: Round): CpuCell {
  const { inputSize: I, hiddenSize: H } = model;
  const L = paramLayout(model).blocks;
  const daX = new Float64Array(3 * H);
  const daH = new Float64Array(3 * H);
  return {
    state: H,
    cache: 4 * H,
    forward(s, sp, so, xs, xo, cache, co) {
      let finite = true;
      for (let q = 0; q < 2 * H; q++) {
        const a = r(inputPart(w, L, I, q, xs, xo, r) + hiddenPart(w, L, H, q, s, sp, r));
        if (!Number.isFinite(a)) finite = false;
        cache[co + q] = sigmoid(a, r);
      }
      for (let j = 0; j < H; j++) {
        const q = 2 * H + j;
        const hn = hiddenPart(w, L, H, q, s, sp, r);
        const a = r(inputPart(w, L, I, q, xs, xo, r) + r(cache[co + j] * hn));
        if (!Number.isFinite(a)) finite = false;
        const n = r(Math.tanh(a));
        cache[co + q] = n;
        cache[co + 3 * H + j] = hn;
        const z = cache[co + H + j];
        s[so + j] = r(r(r(1 - z) * n) + r(z * s[sp + j]));
      }
      return finite;
    },
    backward(dS, s, sp, _so, xs, xo, cache, co, g, dPrev, dX) {
      for (let j = 0; j < H; j++) {
        const gr = cache[co + j];
        const gz = cache[co + H + j];
        const n = cache[co + 2 * H + j];
        const hn = cache[co + 3 * H + j];
        const dh = dS[j];
        const dan = r(r(dh * r(1 - gz)) * r(1 - r(n * n)));
        const daz = r(r(dh * r(s[sp + j] - n)) * r(gz * r(1 - gz)));
        const dar = r(r(dan * hn) * r(gr * r(1 - gr)));
        daX[j] = dar;
        daH[j] = dar;
        daX[H + j] = daz;
        daH[H + j] = daz;
        daX[2 * H + j] = dan;
        daH[2 * H + j] = r(dan * gr); // the recurrent part of n is scaled by r
        dPrev[j] = r(dh * gz);
      }
      for (let q = 0; q < 3 * H; q++) addGateGrads(g, L, I, H, q, daX[q], daH[q], xs, xo, s, sp, r);
      for (let k = 0; k < H; k++) {
        let v = dPrev[k];
        for (let q = 0; q < 3 * H; q++) v = r(v + r(w[L.Wh.offset + q * H + k] * daH[q]));
        dPrev[k] = v;
      }
      if (dX) inputGrad(w, L.Wx.offset, I, 3 * H, daX, dX, r);
    },
  };
}
