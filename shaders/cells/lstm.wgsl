// cells/lstm.wgsl — the LSTM cell (PyTorch's nn.LSTM, gates i, f, g, o stacked in the rows of Wx, Wh, bx, bh):
//   a = Wx·x_t + bx + Wh·h_{t−1} + bh;  i, f, o = σ(a);  g = tanh(a);  c_t = f⊙c_{t−1} + i⊙g;  h_t = o⊙tanh(c_t)
// for every kernel that runs it; spliced by the host in place of a kernel's `// @cell <part>` line (src/gpu/cell.ts,
// docs/cells.md), with the layout generated from src/cells/lstm.ts: OFF_WX, OFF_WH, OFF_BX, OFF_BH, OFF_WY, OFF_BY,
// NPARAM, NREC = OFF_WY, NSTATE = 2H (h, then c), OFF_H0 = NPARAM, OFF_C0 = OFF_H0 + H, NWEIGHTS = OFF_C0 + H.
// The per-sequence parts come first; the gemm strategy's elementwise parts follow them.

// @part activation

// σ(a) = 1 / (1 + e^−a). e^−a overflows float32 past a = −88; clamping at ±80 keeps every backend finite there,
// where σ is below 2e−35 (and equals 1 in float32 on the other side).
fn sigmoid(a: f32) -> f32 {
  return 1.0 / (1.0 + exp(-clamp(a, -80.0, 80.0)));
}

// tanh saturates to ±1 in float32 beyond |a| = 15; clamping keeps backends whose tanh overflows from giving NaN.
fn tanhClamped(a: f32) -> f32 {
  return tanh(clamp(a, -15.0, 15.0));
}

// The overflow test, as in cells/elman.wgsl: Σ overflowTerm(a) stays finite for finite pre-activations, one ±Inf or
// NaN makes it fail overflowed().
fn overflowTerm(z: f32) -> f32 {
  return abs(z) * 1e-30;
}

fn overflowed(scaled: f32) -> bool {
  return !(scaled < 3.0e38);
}

// @part gates

// The gemm strategy's elementwise steps on unit j of one sequence (shaders/gemm_gates.wgsl), between its products.
// The unit's record of a step is u = [h, c, i, f, g, o] (SLOT_VECS = 6, generated with GATES, STATE_VECS,
// GRAD_VECS, GRADX_VEC from src/cells/lstm.ts); before gateForward, u[2..6) hold the input projection
// Zx = Wx·x_t + bx of the unit's four gates.

// act and actGrad: the model's `activation` of a gated cell, tanh (the one setting it takes), which gemm.wgsl's
// Elman epilogues name (it splices `scalar gates`); act'(z) through h = tanh(z) is 1 − h².
fn act(z: f32) -> f32 {
  return tanhClamped(z);
}

fn actGrad(h: f32) -> f32 {
  return 1.0 - h * h;
}

// Σ overflowTerm(a) over the unit's gate pre-activations in the last gateForward.
var<private> gateScaled: f32;

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
