// cells/gru.wgsl — the GRU cell (PyTorch's nn.GRU, gates r, z, n stacked in the rows of Wx, Wh, bx, bh):
//   r, z = σ(Wx·x_t + bx + Wh·h_{t−1} + bh);  n = tanh(Wx_n·x_t + bx_n + r⊙(Wh_n·h_{t−1} + bh_n));
//   h_t = (1 − z)⊙n + z⊙h_{t−1}
// for every kernel that runs it; spliced by the host in place of a kernel's `// @cell <part>` line (src/gpu/cell.ts,
// docs/cells.md), with the layout generated from src/cells/gru.ts: OFF_WX, OFF_WH, OFF_BX, OFF_BH, OFF_WY, OFF_BY,
// NPARAM, NREC = OFF_WY, NSTATE = H, OFF_H0 = NPARAM, NWEIGHTS = NPARAM + H.
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
// The unit's record of a step is u = [h, r, z, n, hn] with hn = Wh_n·h_{t−1} + bh_n (SLOT_VECS = 5, generated with
// GATES, STATE_VECS, GRAD_VECS, GRADX_VEC from src/cells/gru.ts); before gateForward, u[1..4) hold the input
// projection Zx = Wx·x_t + bx of the unit's three gates.

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
