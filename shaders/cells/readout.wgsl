// cells/readout.wgsl — the output layer every cell shares, y_t = Wy·h_t + by, and the output index; spliced after
// the cell's module part by part (src/gpu/cell.ts, docs/cells.md). The readout reads h = s[0..H) of the state.

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
