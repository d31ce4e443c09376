// An independent float64 RNN (Elman, LSTM, GRU) for cross-checking the CPU reference and the GPU backend.
//
// Deliberately different from src/cpu/reference.ts: it reads the nested model JSON directly (no flat layout, no
// typed arrays), and it computes gradients by FORWARD-mode automatic differentiation with dual numbers — every
// value carries its derivative with respect to every parameter — instead of backpropagation through time. The two
// agree only if both the chain rule bookkeeping of BPTT and the parameter order are right.
//
// The parameter order is written out here by hand from the documented canonical order (Wx, Wh, bh, Wy, by for
// Elman; Wx, Wh, bx, bh, Wy, by for LSTM and GRU; row-major; see paramLayout in src/model.ts) rather than imported,
// so a layout bug cannot hide on both sides. Truncated BPTT is written the forward-mode way: at a detached step the
// state keeps its value and drops its derivatives.
//
//   Elman: h_t = act(Wx·x_t + Wh·h_{t−1} + bh),  h_0 = 0 or the model's h0
//   LSTM (PyTorch's nn.LSTM; gate rows i, f, g, o): i, f, o = σ(…), g = tanh(…), c_t = f·c_{t−1} + i·g,
//     h_t = o·tanh(c_t), each gate's pre-activation Wx[q]·x + bx[q] + Wh[q]·h_{t−1} + bh[q]
//   GRU (PyTorch's nn.GRU; gate rows r, z, n): r, z = σ(…), n = tanh(Wx[n]·x + bx[n] + r·(Wh[n]·h_{t−1} + bh[n])),
//     h_t = (1 − z)·n + z·h_{t−1}
//   y_t = Wy·h_t + by;  SSR = Σ over the outputs that have targets of (y − target)²
// ReLU'(z) is 1 for z > 0 and 0 otherwise (0 at exactly 0, as PyTorch does).

import type { ModelJSON } from '../../src/model.ts';

/** A dual number: value and its gradient with respect to all P parameters. */
interface Dual {
  v: number;
  d: number[];
}

function constant(v: number, P: number): Dual {
  return { v, d: new Array<number>(P).fill(0) };
}

function variable(v: number, P: number, index: number): Dual {
  const x = constant(v, P);
  x.d[index] = 1;
  return x;
}

function add(a: Dual, b: Dual): Dual {
  return { v: a.v + b.v, d: a.d.map((da, p) => da + b.d[p]) };
}

function mul(a: Dual, b: Dual): Dual {
  return { v: a.v * b.v, d: a.d.map((da, p) => da * b.v + a.v * b.d[p]) };
}

function scale(a: Dual, s: number): Dual {
  return { v: a.v * s, d: a.d.map((da) => da * s) };
}

function act(kind: ModelJSON['activation'], z: Dual): Dual {
  switch (kind) {
    case 'identity':
      return z;
    case 'relu':
      return z.v > 0 ? z : scale(z, 0);
    case 'tanh': {
      const t = Math.tanh(z.v);
      return { v: t, d: z.d.map((dz) => dz * (1 - t * t)) };
    }
  }
}

const sum = (xs: Dual[], P: number): Dual => xs.reduce((acc, x) => add(acc, x), constant(0, P));

function sigma(z: Dual): Dual {
  const s = 1 / (1 + Math.exp(-z.v));
  return { v: s, d: z.d.map((dz) => dz * s * (1 - s)) };
}

function tanh(z: Dual): Dual {
  const t = Math.tanh(z.v);
  return { v: t, d: z.d.map((dz) => dz * (1 - t * t)) };
}

/** The value alone: what a detached (truncated) state carries forward. */
function detach(a: Dual): Dual {
  return constant(a.v, a.d.length);
}

export interface IndependentResult {
  /** SSR over the batch. */
  loss: number;
  /** dSSR/dθ in canonical order: Wx (H×I), Wh (H×H), bh (H), Wy (O×H), by (O), row-major (gated: Wx, Wh, bx, bh, Wy, by). */
  grads: Float64Array;
  /** Predictions, flat like the engine's: `last` n*O + o, `all` (offsets[n]+t)*O + o. */
  outputs: Float64Array;
  /** The smallest |pre-activation| seen (to keep ReLU test cases away from its kink at 0). */
  minAbsPreactivation: number;
}

/**
 * Loss, gradients and outputs of `model` on nested inputs (N × T_n × I) and targets (N × O for output `last`,
 * N × T_n × O for `all`), by forward-mode dual numbers over every parameter.
 */
export function independentLossAndGrads(
  model: ModelJSON,
  inputs: number[][][],
  targets: number[][] | number[][][],
  truncation = Infinity,
): IndependentResult {
  const { inputSize: I, hiddenSize: H, outputSize: O, weights } = model;
  const cell = model.cell ?? 'elman';
  const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1; // gate rows per hidden unit
  // Canonical offsets, written out by hand.
  const offWx = 0;
  const offWh = offWx + G * H * I;
  const offbx = offWh + G * H * H;
  const offbh = offbx + (G > 1 ? G * H : 0);
  const offWy = offbh + G * H;
  const offby = offWy + O * H;
  const P = offby + O;

  const Wx = weights.Wx.map((row, j) => row.map((v, i) => variable(v, P, offWx + j * I + i)));
  const Wh = weights.Wh.map((row, j) => row.map((v, k) => variable(v, P, offWh + j * H + k)));
  const bx = G > 1 ? weights.bx!.map((v, j) => variable(v, P, offbx + j)) : [];
  const bh = weights.bh.map((v, j) => variable(v, P, offbh + j));
  const Wy = weights.Wy.map((row, o) => row.map((v, j) => variable(v, P, offWy + o * H + j)));
  const by = weights.by.map((v, o) => variable(v, P, offby + o));

  let loss = constant(0, P);
  const outputs: number[] = [];
  let minAbsZ = Infinity;
  // Row q's input part Wx[q]·x (+ bx[q] for gated cells) and recurrent part Wh[q]·h (+ bh[q] for gated cells).
  const xPart = (q: number, x: number[]): Dual =>
    add(
      sum(
        x.map((xi, i) => scale(Wx[q][i], xi)),
        P,
      ),
      G > 1 ? bx[q] : constant(0, P),
    );
  const hPart = (q: number, h: Dual[]): Dual =>
    add(
      sum(
        h.map((hk, k) => mul(Wh[q][k], hk)),
        P,
      ),
      G > 1 ? bh[q] : constant(0, P),
    );

  inputs.forEach((seq, n) => {
    let h: Dual[] = Array.from({ length: H }, (_, j) => constant(model.h0 ? (model.h0 as number[])[j] : 0, P));
    let c: Dual[] = Array.from({ length: H }, (_, j) => constant(model.c0 ? (model.c0 as number[])[j] : 0, P));
    seq.forEach((x, t) => {
      if (t > 0 && t % truncation === 0) {
        h = h.map(detach);
        c = c.map(detach);
      }
      if (cell === 'lstm') {
        const a = (q: number): Dual => add(xPart(q, x), hPart(q, h));
        const next = Array.from({ length: H }, (_, j) => {
          const ig = sigma(a(j));
          const fg = sigma(a(H + j));
          const gg = tanh(a(2 * H + j));
          const og = sigma(a(3 * H + j));
          const cj = add(mul(fg, c[j]), mul(ig, gg));
          return { h: mul(og, tanh(cj)), c: cj };
        });
        h = next.map((v) => v.h);
        c = next.map((v) => v.c);
      } else if (cell === 'gru') {
        h = Array.from({ length: H }, (_, j) => {
          const r = sigma(add(xPart(j, x), hPart(j, h)));
          const z = sigma(add(xPart(H + j, x), hPart(H + j, h)));
          const nn = tanh(add(xPart(2 * H + j, x), mul(r, hPart(2 * H + j, h))));
          return add(mul(add(constant(1, P), scale(z, -1)), nn), mul(z, h[j]));
        });
      } else {
        h = Array.from({ length: H }, (_, j) => {
          const z = add(
            add(
              sum(
                x.map((xi, i) => scale(Wx[j][i], xi)),
                P,
              ),
              sum(
                h.map((hk, k) => mul(Wh[j][k], hk)),
                P,
              ),
            ),
            bh[j],
          );
          minAbsZ = Math.min(minAbsZ, Math.abs(z.v));
          return act(model.activation, z);
        });
      }
      const emits = model.output === 'all' || t === seq.length - 1;
      if (!emits) return;
      const target = model.output === 'all' ? (targets as number[][][])[n][t] : (targets as number[][])[n];
      for (let o = 0; o < O; o++) {
        const y = add(
          sum(
            h.map((hj, j) => mul(Wy[o][j], hj)),
            P,
          ),
          by[o],
        );
        outputs.push(y.v);
        const r = add(y, constant(-target[o], P));
        loss = add(loss, mul(r, r));
      }
    });
  });

  return {
    loss: loss.v,
    grads: Float64Array.from(loss.d),
    outputs: Float64Array.from(outputs),
    minAbsPreactivation: minAbsZ,
  };
}
