// cells/gated.wgsl — what the gated cells (LSTM, GRU) share, spliced after the cell's own module part by part
// (src/gpu/cell.ts) for every cell whose descriptor has gates; Elman does not get it.

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

// @part gates

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
