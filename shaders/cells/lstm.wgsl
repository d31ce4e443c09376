// cells/lstm.wgsl — the LSTM cell (PyTorch's nn.LSTM, gates i, f, g, o stacked in the rows of Wx, Wh, bx, bh):
//   a = Wx·x_t + bx + Wh·h_{t−1} + bh;  i, f, o = σ(a);  g = tanh(a);  c_t = f⊙c_{t−1} + i⊙g;  h_t = o⊙tanh(c_t)
// for every kernel that runs it; spliced by the host in place of a kernel's `// @cell <part>` line (src/gpu/cell.ts,
// docs/cells.md), with the layout generated from src/cells/lstm.ts: OFF_WX, OFF_WH, OFF_BX, OFF_BH, OFF_WY, OFF_BY,
// NPARAM, NREC = OFF_WY, NSTATE = 2H (h, then c), OFF_H0 = NPARAM, OFF_C0 = OFF_H0 + H, NWEIGHTS = OFF_C0 + H.
// The per-sequence parts come first; the gemm strategy's elementwise parts follow them.
//
// Parts (src/gpu/cell.ts): sequence (cellInit, cellForward over s = [h, c]), backward (cellBackward), tangent (cellTangent), gates
// (gateForward, gateBackward). σ, the clamped tanh, the gemm strategy's epilogues (part gemm) and gateScaled
// come from cells/gated.wgsl, the overflow test from cells/readout.wgsl. NGATE = 4H gate rows; row q·H + j of Wx, Wh, bx, bh
// is gate q (i, f, g, o) of unit j. The CPU reference is src/cpu/cells.ts.

// @part sequence

// The model's weights (parameters, then h0 and c0), copied from storage by the kernel (its loadWeights).
var<private> w: array<f32, NWEIGHTS>;

// Σ overflowTerm(a) over the current sequence's gate pre-activations (cellForward adds to it).
var<private> zScaled: f32;

// The initial state s_0 = [h0, c0] (stored one after the other after the parameters).
fn cellInit() -> array<f32, NSTATE> {
  var s: array<f32, NSTATE>;
  for (var q = 0u; q < NSTATE; q++) { s[q] = w[OFF_H0 + q]; }
  return s;
}

// The gate pre-activations a_q = (bx_q + Σ_i Wx[q][i]·x_i) + (bh_q + Σ_k Wh[q][k]·h_k), h = sPrev[0..H).
fn gatePre(sPrev: array<f32, NSTATE>, x: array<f32, I>) -> array<f32, NGATE> {
  var a: array<f32, NGATE>;
  for (var q = 0u; q < NGATE; q++) {
    var u = w[OFF_BX + q];
    for (var i = 0u; i < I; i++) { u += w[OFF_WX + q * I + i] * x[i]; }
    var v = w[OFF_BH + q];
    for (var k = 0u; k < H; k++) { v += w[OFF_WH + q * H + k] * sPrev[k]; }
    a[q] = u + v;
  }
  return a;
}

// The gate values from the pre-activations: i, f, o = σ(a), g = tanh(a).
fn gateValues(a: array<f32, NGATE>) -> array<f32, NGATE> {
  var v: array<f32, NGATE>;
  for (var j = 0u; j < H; j++) {
    v[j] = sigmoid(a[j]);
    v[H + j] = sigmoid(a[H + j]);
    v[2u * H + j] = tanhClamped(a[2u * H + j]);
    v[3u * H + j] = sigmoid(a[3u * H + j]);
  }
  return v;
}

// s_t = [h_t, c_t] from s_{t−1} and x_t: c_t = f⊙c_{t−1} + i⊙g, h_t = o⊙tanh(c_t).
fn cellForward(sPrev: array<f32, NSTATE>, x: array<f32, I>) -> array<f32, NSTATE> {
  let a = gatePre(sPrev, x);
  for (var q = 0u; q < NGATE; q++) { zScaled += overflowTerm(a[q]); }
  let v = gateValues(a);
  var s: array<f32, NSTATE>;
  for (var j = 0u; j < H; j++) {
    let c = v[H + j] * sPrev[H + j] + v[j] * v[2u * H + j];
    s[H + j] = c;
    s[j] = v[3u * H + j] * tanhClamped(c);
  }
  return s;
}

// @part backward

// dSSR/dx_t of the last cellBackward, where the kernel sets INPUT_GRAD (a stacked layer passes it to the layer
// below); kernels that leave INPUT_GRAD false never compute it.
override INPUT_GRAD: bool = false;
var<private> dInput: array<f32, I>;

// One step back through the cell, the gates recomputed from sPrev = s_{t−1} and x = x_t; dS = dSSR/ds_t for h and c,
// s = s_t. With dc = dS_c + dS_h⊙o⊙(1 − tanh²c_t): da_i = dc⊙g⊙i(1 − i), da_f = dc⊙c_{t−1}⊙f(1 − f),
// da_g = dc⊙i⊙(1 − g²), da_o = dS_h⊙tanh(c_t)⊙o(1 − o); adds da to bx and bh, da·xᵀ to Wx, da·h_{t−1}ᵀ to Wh, and
// returns [Whᵀ·da, dc⊙f]; with INPUT_GRAD, sets dInput = Wxᵀ·da.
fn cellBackward(g: ptr<function, array<f32, NPARAM>>, dS: array<f32, NSTATE>, s: array<f32, NSTATE>,
                sPrev: array<f32, NSTATE>, x: array<f32, I>) -> array<f32, NSTATE> {
  let v = gateValues(gatePre(sPrev, x));
  var da: array<f32, NGATE>;
  var dPrev: array<f32, NSTATE>;
  for (var j = 0u; j < H; j++) {
    let gi = v[j];
    let gf = v[H + j];
    let gg = v[2u * H + j];
    let go = v[3u * H + j];
    let tc = tanhClamped(s[H + j]);
    let dh = dS[j];
    let dc = dS[H + j] + dh * go * (1.0 - tc * tc);
    da[j] = dc * gg * (gi * (1.0 - gi));
    da[H + j] = dc * sPrev[H + j] * (gf * (1.0 - gf));
    da[2u * H + j] = dc * gi * (1.0 - gg * gg);
    da[3u * H + j] = dh * tc * (go * (1.0 - go));
    dPrev[H + j] = dc * gf;
  }
  for (var q = 0u; q < NGATE; q++) {
    (*g)[OFF_BX + q] += da[q];
    (*g)[OFF_BH + q] += da[q];
    for (var i = 0u; i < I; i++) { (*g)[OFF_WX + q * I + i] += da[q] * x[i]; }
    for (var k = 0u; k < H; k++) { (*g)[OFF_WH + q * H + k] += da[q] * sPrev[k]; }
  }
  if (INPUT_GRAD) {
    for (var i = 0u; i < I; i++) {
      var u = 0.0;
      for (var q = 0u; q < NGATE; q++) { u += w[OFF_WX + q * I + i] * da[q]; }
      dInput[i] = u;
    }
  }
  for (var k = 0u; k < H; k++) {
    var u = 0.0;
    for (var q = 0u; q < NGATE; q++) { u += w[OFF_WH + q * H + k] * da[q]; }
    dPrev[k] = u;
  }
  return dPrev;
}

// @part tangent

// RTRL's sensitivities ds/dθ_rec: S[q·NREC + p] = ds_q/dθ_p for the parameters of the recurrence (h rows, then c).
const NSENS: u32 = NSTATE * NREC;

// One step of forward-mode differentiation (RTRL): replaces *S = ds_{t−1}/dθ_rec by ds_t/dθ_rec, given s = s_t,
// sPrev = s_{t−1}, x = x_t. The gate pre-activations' derivatives da_q = Σ_k Wh[q][k]·dh_{t−1}[k] + ∂a_q/∂θ
// (∂a_q/∂Wx[q][i] = x_i, ∂a_q/∂Wh[q][k] = h_{t−1}[k], ∂a_q/∂bx_q = ∂a_q/∂bh_q = 1) enter linearly:
//   dc_t = f⊙dc_{t−1} + g·i(1 − i)⊙da_i + c_{t−1}·f(1 − f)⊙da_f + i(1 − g²)⊙da_g,
//   dh_t = o(1 − tanh²c_t)⊙dc_t + tanh(c_t)·o(1 − o)⊙da_o.
fn cellTangent(S: ptr<function, array<f32, NSENS>>, s: array<f32, NSTATE>, sPrev: array<f32, NSTATE>,
               x: array<f32, I>) {
  let v = gateValues(gatePre(sPrev, x));
  var Sn: array<f32, NSENS>;
  for (var j = 0u; j < H; j++) {
    let gi = v[j];
    let gf = v[H + j];
    let gg = v[2u * H + j];
    let go = v[3u * H + j];
    let tc = tanhClamped(s[H + j]);
    let b = go * (1.0 - tc * tc);
    // dc_t and dh_t per unit change of gate row (i, f, g, o) of unit j's pre-activation.
    var kc = array<f32, 4>(gg * gi * (1.0 - gi), sPrev[H + j] * gf * (1.0 - gf), gi * (1.0 - gg * gg), 0.0);
    var kh = array<f32, 4>(b * kc[0], b * kc[1], b * kc[2], tc * go * (1.0 - go));
    for (var p = 0u; p < NREC; p++) {
      var ai = 0.0;
      var af = 0.0;
      var ag = 0.0;
      var ao = 0.0;
      for (var k = 0u; k < H; k++) {
        let sk = (*S)[k * NREC + p];
        ai += w[OFF_WH + j * H + k] * sk;
        af += w[OFF_WH + (H + j) * H + k] * sk;
        ag += w[OFF_WH + (2u * H + j) * H + k] * sk;
        ao += w[OFF_WH + (3u * H + j) * H + k] * sk;
      }
      let c = gf * (*S)[(H + j) * NREC + p] + kc[0] * ai + kc[1] * af + kc[2] * ag;
      Sn[(H + j) * NREC + p] = c;
      Sn[j * NREC + p] = b * c + kh[3] * ao;
    }
    for (var G = 0u; G < 4u; G++) {
      let q = G * H + j;
      for (var i = 0u; i < I; i++) {
        Sn[(H + j) * NREC + OFF_WX + q * I + i] += kc[G] * x[i];
        Sn[j * NREC + OFF_WX + q * I + i] += kh[G] * x[i];
      }
      for (var k = 0u; k < H; k++) {
        Sn[(H + j) * NREC + OFF_WH + q * H + k] += kc[G] * sPrev[k];
        Sn[j * NREC + OFF_WH + q * H + k] += kh[G] * sPrev[k];
      }
      Sn[(H + j) * NREC + OFF_BX + q] += kc[G];
      Sn[j * NREC + OFF_BX + q] += kh[G];
      Sn[(H + j) * NREC + OFF_BH + q] += kc[G];
      Sn[j * NREC + OFF_BH + q] += kh[G];
    }
  }
  *S = Sn;
}

// @part gates

// The gemm strategy's elementwise steps on unit j of one sequence (shaders/gemm/gates.wgsl), between its products.
// The unit's record of a step is u = [h, c, i, f, g, o] (SLOT_VECS = 6, generated with GATES, STATE_VECS,
// GRAD_VECS, GRADX_VEC from src/cells/lstm.ts); before gateForward, u[2..6) hold the input projection
// Zx = Wx·x_t + bx of the unit's four gates.

// One step forward: zh = Wh·h_{t−1} + bh of the unit's gates (i, f, g, o), prev = [h_{t−1}, c_{t−1}] of the unit.
fn gateForward(u: array<f32, SLOT_VECS>, zh: array<f32, GATES>, prev: array<f32, STATE_VECS>) -> array<f32, SLOT_VECS> {
  var a: array<f32, GATES>;
  gateScaled = 0.0;
  for (var q = 0u; q < GATES; q++) {
    a[q] = u[STATE_VECS + q] + zh[q];
    gateScaled += overflowTerm(a[q]);
  }
  let i = sigmoid(a[0]);
  let f = sigmoid(a[1]);
  let g = tanhClamped(a[2]);
  let o = sigmoid(a[3]);
  let c = f * prev[1] + i * g;
  return array<f32, SLOT_VECS>(o * tanhClamped(c), c, i, f, g, o);
}

// One step back: dh = dSSR/dh_t from the products (Wyᵀ·dy_t + Whᵀ·da_{t+1}), carry = dSSR/dc_t through step t+1
// (its f⊙dc; 0 where the gradient does not flow), u = the step's record, prev = [h_{t−1}, c_{t−1}]. Returns
// [da_i, da_f, da_g, da_o] (the input and the recurrent side alike) and the carry dSSR/dc_{t−1} = f⊙dc_t.
fn gateBackward(dh: f32, carry: f32, u: array<f32, SLOT_VECS>, prev: array<f32, STATE_VECS>) -> array<f32, GRAD_VECS> {
  let i = u[2];
  let f = u[3];
  let g = u[4];
  let o = u[5];
  let tc = tanhClamped(u[1]);
  let dc = carry + dh * o * (1.0 - tc * tc);
  return array<f32, GRAD_VECS>(dc * g * (i * (1.0 - i)), dc * prev[1] * (f * (1.0 - f)), dc * i * (1.0 - g * g),
                               dh * tc * (o * (1.0 - o)), dc * f);
}
