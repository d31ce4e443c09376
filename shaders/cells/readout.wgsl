// cells/readout.wgsl — what every cell shares: the overflow test, the output layer y_t = Wy·h_t + by and the output
// index; spliced after the cell's module part by part (src/gpu/cell.ts, docs/cells.md). The readout reads
// h = s[0..H) of the state.

// @part activation

// Overflow detection without a branch per unit: Σ overflowTerm(z) over a sequence's pre-activations stays far below
// the float32 range for finite z (|z| ≤ 3.4e38 gives at most 3.4e8 a term), while one ±Inf or NaN makes the sum ±Inf
// or NaN. ReLU would turn such a NaN into 0 and hide it, so kernels report it instead. overflowed() is a comparison
// that Inf and NaN both fail (isinf/isnan may be folded away by implementations that assume finite math); a single
// value is tested as overflowed(overflowTerm(z)), i.e. !(abs(z) * 1e-30 < 3.0e38).
fn overflowTerm(z: f32) -> f32 {
  return abs(z) * 1e-30;
}

fn overflowed(scaled: f32) -> bool {
  return !(scaled < 3.0e38);
}

// @part scalar

// Index of output o at step t of sequence (column) n, N columns: `last` [o·N + n], `all` [(t·O + o)·N + n].
fn outIndex(t: u32, o: u32, n: u32, N: u32) -> u32 {
  if (OUT_ALL) { return (t * O + o) * N + n; }
  return o * N + n;
}

// @part sequence

// y_o = by_o + Σ_j Wy[o][j]·h_j
fn predict(s: array<f32, NSTATE>, o: u32) -> f32 {
  var y = w[OFF_BY + o];
  for (var j = 0u; j < H; j++) { y += w[OFF_WY + o * H + j] * s[j]; }
  return y;
}

// Back through the readout for output o with dy = dSSR/dy_o at state s: adds dSSR/dWy[o], dSSR/dby[o] to *g and
// Wy[o]ᵀ·dy to dSSR/dh in *dS.
fn readoutBackward(g: ptr<function, array<f32, NPARAM>>, dS: ptr<function, array<f32, NSTATE>>,
                   s: array<f32, NSTATE>, o: u32, dy: f32) {
  (*g)[OFF_BY + o] += dy;
  for (var j = 0u; j < H; j++) {
    (*g)[OFF_WY + o * H + j] += dy * s[j];
    (*dS)[j] += w[OFF_WY + o * H + j] * dy;
  }
}
