// cells/gated.wgsl — what the gated cells (LSTM, GRU) share, spliced after the cell's own module part by part
// (src/gpu/cell.ts) for every cell whose descriptor has gates; Elman does not get it. Parts: activation (sigmoid,
// tanhClamped), gemm (the gemm strategy's epilogues of a gated cell's products), gates (gateScaled).

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

// @part gemm

// The gemm strategy's epilogues for a gated cell (shaders/gemm/gemm.wgsl; they use its buffers, dims and step record), on
// output (m, c) of a product: gate row m, sequence c of the chunk, acc = the product's sum. The products have no
// nonlinearity here: the cell's elementwise steps (part `gates`, shaders/gemm/gates.wgsl) follow STEP and DZ.

// PROJ, step b of the batch: Zx = Wx·x_t + bx into the Zx rows of the slot of step t + b.
fn gemmProj(m: u32, c: u32, b: u32, acc: f32) {
  states[step.cur + b * SR * dims.ld + (ZX + m) * dims.ld + c] = acc + weights[OFF_BX + m];
}

// STEP: Zh = Wh·h_{t−1} + bh into the scratch rows, for the gate step.
fn gemmStep(m: u32, c: u32, acc: f32) {
  work[dims.scratch + m * dims.ld + c] = acc + weights[OFF_BH + m];
}

// DZ: dh_t = Wyᵀ·dy_t + Whᵀ·da_{t+1} into the scratch rows (0 past the sequence's end), for the backward gate step.
fn gemmDz(m: u32, c: u32, acc: f32) {
  work[dims.scratch + m * dims.ld + c] = select(0.0, acc, step.t < lengths[c]);
}

// @part gates

// Σ overflowTerm(a) over the unit's gate pre-activations in the last gateForward.
var<private> gateScaled: f32;
