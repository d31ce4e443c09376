// cells/gru.wgsl — the GRU cell (PyTorch's nn.GRU, gates r, z, n stacked in the rows of Wx, Wh, bx, bh):
//   r, z = σ(Wx·x_t + bx + Wh·h_{t−1} + bh);  n = tanh(Wx_n·x_t + bx_n + r⊙(Wh_n·h_{t−1} + bh_n));
//   h_t = (1 − z)⊙n + z⊙h_{t−1}
// for every kernel that runs it; spliced by the host in place of a kernel's `// @cell <part>` line (src/gpu/cell.ts,
// docs/cells.md), with the layout generated from src/cells/gru.ts: OFF_WX, OFF_WH, OFF_BX, OFF_BH, OFF_WY, OFF_BY,
// NPARAM, NREC = OFF_WY, NSTATE = H, OFF_H0 = NPARAM, NWEIGHTS = NPARAM + H.
// The per-sequence parts come first; the gemm strategy's elementwise parts follow them.
//
// Parts (src/gpu/cell.ts): sequence (cellInit, cellForward), backward (cellBackward), tangent (cellTangent), gates
// (gateForward, gateBackward). σ, the clamped tanh, the gemm strategy's epilogues (part gemm) and gateScaled
// come from cells/gated.wgsl, the overflow test from cells/readout.wgsl. NGATE = 3H gate rows; row q·H + j of Wx, Wh, bx, bh
// is gate q (r, z, n) of unit j. The CPU reference is src/cpu/cells.ts.

// @part sequence

// The model's weights (parameters, then h0), copied from storage by the kernel (its loadWeights).
var<private> w: array<f32, NWEIGHTS>;

// Σ overflowTerm(a) over the current sequence's gate pre-activations (cellForward adds to it).
var<private> zScaled: f32;

// The initial state s_0 = h0.
fn cellInit() -> array<f32, NSTATE> {
  var s: array<f32, NSTATE>;
  for (var q = 0u; q < NSTATE; q++) { s[q] = w[OFF_H0 + q]; }
  return s;
}

// The two parts of every gate row's pre-activation: from the input, bx_q + Σ_i Wx[q][i]·x_i (*ax), and from the
// state, bh_q + Σ_k Wh[q][k]·h_k (*ah).
fn gateParts(ax: ptr<function, array<f32, NGATE>>, ah: ptr<function, array<f32, NGATE>>, sPrev: array<f32, NSTATE>,
             x: array<f32, I>) {
  for (var q = 0u; q < NGATE; q++) {
    var u = w[OFF_BX + q];
    for (var i = 0u; i < I; i++) { u += w[OFF_WX + q * I + i] * x[i]; }
    (*ax)[q] = u;
    var v = w[OFF_BH + q];
    for (var k = 0u; k < H; k++) { v += w[OFF_WH + q * H + k] * sPrev[k]; }
    (*ah)[q] = v;
  }
}

// The gate values: r, z = σ(ax + ah), n = tanh(ax_n + r⊙ah_n) (rows r, z, n as in the weights); with `flag`, the
// pre-activations go into the overflow sum.
fn gateValues(ax: array<f32, NGATE>, ah: array<f32, NGATE>, flag: bool) -> array<f32, NGATE> {
  var v: array<f32, NGATE>;
  for (var j = 0u; j < H; j++) {
    let ar = ax[j] + ah[j];
    let az = ax[H + j] + ah[H + j];
    v[j] = sigmoid(ar);
    v[H + j] = sigmoid(az);
    let an = ax[2u * H + j] + v[j] * ah[2u * H + j];
    v[2u * H + j] = tanhClamped(an);
    if (flag) { zScaled += overflowTerm(ar) + overflowTerm(az) + overflowTerm(an); }
  }
  return v;
}

// h_t = (1 − z)⊙n + z⊙h_{t−1}.
fn cellForward(sPrev: array<f32, NSTATE>, x: array<f32, I>) -> array<f32, NSTATE> {
  var ax: array<f32, NGATE>;
  var ah: array<f32, NGATE>;
  gateParts(&ax, &ah, sPrev, x);
  let v = gateValues(ax, ah, true);
  var s: array<f32, NSTATE>;
  for (var j = 0u; j < H; j++) {
    let z = v[H + j];
    s[j] = (1.0 - z) * v[2u * H + j] + z * sPrev[j];
  }
  return s;
}

// @part backward

// dSSR/dx_t of the last cellBackward, where the kernel sets INPUT_GRAD (a stacked layer passes it to the layer
// below); kernels that leave INPUT_GRAD false never compute it.
override INPUT_GRAD: bool = false;
var<private> dInput: array<f32, I>;

// One step back through the cell, the gates recomputed from sPrev = h_{t−1} and x = x_t; dS = dSSR/dh_t:
// da_n = dh⊙(1 − z)⊙(1 − n²), da_z = dh⊙(h_{t−1} − n)⊙z(1 − z), da_r = da_n⊙ah_n⊙r(1 − r); the input parts take
// (da_r, da_z, da_n) (bx, Wx), the state parts (da_r, da_z, da_n⊙r) (bh, Wh); returns dh⊙z + Whᵀ·(state parts' da); with
// INPUT_GRAD, sets dInput = Wxᵀ·(input parts' da).
fn cellBackward(g: ptr<function, array<f32, NPARAM>>, dS: array<f32, NSTATE>, s: array<f32, NSTATE>,
                sPrev: array<f32, NSTATE>, x: array<f32, I>) -> array<f32, NSTATE> {
  var ax: array<f32, NGATE>;
  var ah: array<f32, NGATE>;
  gateParts(&ax, &ah, sPrev, x);
  let v = gateValues(ax, ah, false);
  var dx: array<f32, NGATE>;  // dSSR/d(input part) of every gate row
  var dh: array<f32, NGATE>;  // dSSR/d(state part)
  var dPrev: array<f32, NSTATE>;
  for (var j = 0u; j < H; j++) {
    let r = v[j];
    let z = v[H + j];
    let n = v[2u * H + j];
    let d = dS[j];
    let dan = d * (1.0 - z) * (1.0 - n * n);
    let daz = d * (sPrev[j] - n) * (z * (1.0 - z));
    let dar = dan * ah[2u * H + j] * (r * (1.0 - r));
    dx[j] = dar;
    dh[j] = dar;
    dx[H + j] = daz;
    dh[H + j] = daz;
    dx[2u * H + j] = dan;
    dh[2u * H + j] = dan * r;
    dPrev[j] = d * z;
  }
  for (var q = 0u; q < NGATE; q++) {
    (*g)[OFF_BX + q] += dx[q];
    (*g)[OFF_BH + q] += dh[q];
    for (var i = 0u; i < I; i++) { (*g)[OFF_WX + q * I + i] += dx[q] * x[i]; }
    for (var k = 0u; k < H; k++) { (*g)[OFF_WH + q * H + k] += dh[q] * sPrev[k]; }
  }
  if (INPUT_GRAD) {
    for (var i = 0u; i < I; i++) {
      var u = 0.0;
      for (var q = 0u; q < NGATE; q++) { u += w[OFF_WX + q * I + i] * dx[q]; }
      dInput[i] = u;
    }
  }
  for (var k = 0u; k < H; k++) {
    var u = dPrev[k];
    for (var q = 0u; q < NGATE; q++) { u += w[OFF_WH + q * H + k] * dh[q]; }
    dPrev[k] = u;
  }
  return dPrev;
}

// @part tangent

// RTRL's sensitivities dh/dθ_rec: S[q·NREC + p] = dh_q/dθ_p for the parameters of the recurrence.
const NSENS: u32 = NSTATE * NREC;

// One step of forward-mode differentiation (RTRL): replaces *S = dh_{t−1}/dθ_rec by dh_t/dθ_rec, given s = h_t,
// sPrev = h_{t−1}, x = x_t. With the input parts' derivatives dax_q (∂/∂Wx[q][i] = x_i, ∂/∂bx_q = 1) and the state
// parts' dah_q = Σ_k Wh[q][k]·dh_{t−1}[k] + (∂/∂Wh[q][k] = h_{t−1}[k], ∂/∂bh_q = 1):
//   dh_t = z⊙dh_{t−1} + κr⊙(dax_r + dah_r) + κz⊙(dax_z + dah_z) + κnx⊙dax_n + κnh⊙dah_n,
//   κr = (1 − z)(1 − n²)·ah_n·r(1 − r),  κz = (h_{t−1} − n)·z(1 − z),  κnx = (1 − z)(1 − n²),  κnh = κnx·r.
fn cellTangent(S: ptr<function, array<f32, NSENS>>, s: array<f32, NSTATE>, sPrev: array<f32, NSTATE>,
               x: array<f32, I>) {
  var ax: array<f32, NGATE>;
  var ah: array<f32, NGATE>;
  gateParts(&ax, &ah, sPrev, x);
  let v = gateValues(ax, ah, false);
  var Sn: array<f32, NSENS>;
  for (var j = 0u; j < H; j++) {
    let r = v[j];
    let z = v[H + j];
    let n = v[2u * H + j];
    let knx = (1.0 - z) * (1.0 - n * n);
    // dh_t[j] per unit change of gate row (r, z, n) of unit j: its input part (kx), its state part (kh).
    var kx = array<f32, 3>(knx * ah[2u * H + j] * (r * (1.0 - r)), (sPrev[j] - n) * (z * (1.0 - z)), knx);
    var kh = array<f32, 3>(kx[0], kx[1], knx * r);
    for (var p = 0u; p < NREC; p++) {
      var u = z * (*S)[j * NREC + p];
      for (var k = 0u; k < H; k++) {
        let wk = kh[0] * w[OFF_WH + j * H + k] + kh[1] * w[OFF_WH + (H + j) * H + k] + kh[2] * w[OFF_WH + (2u * H + j) * H + k];
        u += wk * (*S)[k * NREC + p];
      }
      Sn[j * NREC + p] = u;
    }
    for (var G = 0u; G < 3u; G++) {
      let q = G * H + j;
      for (var i = 0u; i < I; i++) { Sn[j * NREC + OFF_WX + q * I + i] += kx[G] * x[i]; }
      for (var k = 0u; k < H; k++) { Sn[j * NREC + OFF_WH + q * H + k] += kh[G] * sPrev[k]; }
      Sn[j * NREC + OFF_BX + q] += kx[G];
      Sn[j * NREC + OFF_BH + q] += kh[G];
    }
  }
  *S = Sn;
}

// @part gates

// The gemm strategy's elementwise steps on unit j of one sequence (shaders/gemm/gates.wgsl), between its products.
// The unit's record of a step is u = [h, r, z, n, hn] with hn = Wh_n·h_{t−1} + bh_n (SLOT_VECS = 5, generated with
// GATES, STATE_VECS, GRAD_VECS, GRADX_VEC from src/cells/gru.ts); before gateForward, u[1..4) hold the input
// projection Zx = Wx·x_t + bx of the unit's three gates.

// One step forward: zh = Wh·h_{t−1} + bh of the unit's gates (r, z, n), prev = [h_{t−1}] of the unit.
fn gateForward(u: array<f32, SLOT_VECS>, zh: array<f32, GATES>, prev: array<f32, STATE_VECS>) -> array<f32, SLOT_VECS> {
  let ar = u[1] + zh[0];
  let az = u[2] + zh[1];
  let r = sigmoid(ar);
  let z = sigmoid(az);
  let an = u[3] + r * zh[2];
  gateScaled = overflowTerm(ar) + overflowTerm(az) + overflowTerm(an);
  let n = tanhClamped(an);
  return array<f32, SLOT_VECS>((1.0 - z) * n + z * prev[0], r, z, n, zh[2]);
}

// One step back: dhProducts = Wyᵀ·dy_t + Whᵀ·da_{t+1} (the recurrent side's da), carry = z_{t+1}⊙dh_{t+1} (0 where
// the gradient does not flow), u = the step's record, prev = [h_{t−1}]. Returns the recurrent side's
// [da_r, da_z, r⊙da_n], the carry z⊙dh_t into h_{t−1}, and the input side's [da_r, da_z, da_n].
fn gateBackward(dhProducts: f32, carry: f32, u: array<f32, SLOT_VECS>, prev: array<f32, STATE_VECS>) -> array<f32, GRAD_VECS> {
  let r = u[1];
  let z = u[2];
  let n = u[3];
  let dh = dhProducts + carry;
  let dan = dh * (1.0 - z) * (1.0 - n * n);
  let daz = dh * (prev[0] - n) * (z * (1.0 - z));
  let dar = dan * u[4] * (r * (1.0 - r));
  return array<f32, GRAD_VECS>(dar, daz, dan * r, dh * z, dar, daz, dan);
}
