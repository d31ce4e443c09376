// rtrl.wgsl — the RNN with forward-mode gradients (real-time recurrent learning), one invocation per sequence.
//
//   s_t = cell(s_{t-1}, x_t) (Elman: h_t = act(Wx·x_t + Wh·h_{t-1} + bh)),   y_t = Wy·h_t + by,   SSR = Σ (y − target)²
//
// Instead of storing s_t and running back through time, each invocation carries the sensitivities
// S_t = ds_t/dθ_rec (NSTATE × NREC values, θ_rec = the cell's parameters; s does not depend on Wy or by) forward with
// the state, updated by the cell's cellTangent (for Elman S_t[j][p] = act'(z_j)·(Σ_k Wh[j][k]·S_{t-1}[k][p] + ∂z_j/∂θ_p),
// see shaders/cells/elman.wgsl), S_0 = 0 (the initial state is not a parameter), and at every step with an output
// adds dSSR/dθ_rec += (Wy^T·dy)·S_t, dSSR/dWy += dy·h_t^T, dSSR/dby += dy.
// No hidden state is stored: memory is O(NSTATE·NREC) per sequence, in private arrays.
// Truncated BPTT has the same definition here: where t is a positive multiple of k, S_{t-1} is taken as 0.
//
// Same bindings and row layout as per_sequence/bptt.wgsl's `run` interface (minus `hs`): rows[r*N + n], r = 0 SSR,
// 1 overflow flag, 2.. dSSR/dθ in the canonical parameter order; reduce.wgsl sums the rows over sequences. GRADS = false is a plain forward pass.
//   xs[(t*I + i)*N + n]; targets/ys: `last` [o*N + n], `all` [(t*O + o)*N + n]; weights: the cell's parameters in
//   canonical order, then its initial state (src/cells/).

// Shape constants, specialized by the host (src/gpu/specialize.ts); everything else is an override.
const H: u32 = 1u;
const I: u32 = 1u;
const O: u32 = 1u;

// The cell (layout OFF_*, NPARAM, NREC, NSTATE, NWEIGHTS; act/actGrad, the overflow test, cellInit, cellForward,
// cellTangent with NSENS = NSTATE·NREC sensitivities, predict, readoutBackward, outIndex; the private `w` and
// `zScaled`) is spliced in at the `// @cell` line at the end of this file (src/gpu/cell.ts).

override WG: u32 = 64u;
override OUT_ALL: bool = false;
override WRITE_Y: bool = false;
override HAS_TARGETS: bool = true;
override GRADS: bool = true;     // carry the sensitivities and write dSSR/dθ (needs targets)

struct Params {
  n: u32,           // sequences in this chunk
  truncation: u32,  // truncated-BPTT window k; 0xFFFFFFFF = none
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read> lengths: array<u32>;
@group(0) @binding(3) var<storage, read> xs: array<f32>;
@group(0) @binding(4) var<storage, read> targets: array<f32>;
@group(0) @binding(5) var<storage, read_write> ys: array<f32>;
@group(0) @binding(6) var<storage, read_write> rows: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let N = params.n;
  let n = (wid.y * nwg.x + wid.x) * WG + lid;   // 2D-folded dispatch; the tail is guarded
  if (n >= N) { return; }
  let len = lengths[n];
  loadWeights();

  var s = cellInit();
  var S: array<f32, NSENS>;   // S[q*NREC + p] = ds_q/dθ_p, for the state currently held
  var g: array<f32, NPARAM>;  // this sequence's dSSR/dθ
  var loss = 0.0;
  let K = params.truncation;
  var phase = 0u;             // t % K

  for (var t = 0u; t < len; t++) {
    var x: array<f32, I>;
    for (var i = 0u; i < I; i++) { x[i] = xs[(t * I + i) * N + n]; }
    let sn = cellForward(s, x);

    if (GRADS) {
      // Truncation: the gradient does not flow from step t into s_{t-1} when t is a positive multiple of k.
      if (phase == 0u) {
        for (var q = 0u; q < NSENS; q++) { S[q] = 0.0; }
      }
      phase = select(phase + 1u, 0u, phase + 1u == K);
      cellTangent(&S, sn, s, x);
    }
    s = sn;

    if (OUT_ALL || t + 1u == len) {
      var dS: array<f32, NSTATE>;   // dSSR/ds at this step through the readout (Wyᵀ·dy on h)
      // Zeroed explicitly: some compilers hoist a declaration out of the loop and keep its last value.
      for (var q = 0u; q < NSTATE; q++) { dS[q] = 0.0; }
      for (var o = 0u; o < O; o++) {
        let y = predict(s, o);
        let k = outIndex(t, o, n, N);
        if (WRITE_Y) { ys[k] = y; }
        if (HAS_TARGETS) {
          let d = y - targets[k];
          loss += d * d;
          if (GRADS) { readoutBackward(&g, &dS, s, o, 2.0 * d); }
        }
      }
      if (GRADS) {
        for (var p = 0u; p < NREC; p++) {
          var v = 0.0;
          for (var q = 0u; q < NSTATE; q++) { v += dS[q] * S[q * NREC + p]; }
          g[p] += v;
        }
      }
    }
  }
  rows[n] = loss;
  rows[N + n] = select(0.0, 1.0, overflowed(zScaled));
  if (GRADS) {
    for (var p = 0u; p < NPARAM; p++) { rows[(2u + p) * N + n] = g[p]; }
  }
}

// loadWeights and the cell come last: the unroller (src/gpu/unroll.ts) takes loops from the end of the text first, so
// past its size budget the weight copy and the sensitivity update stay unrolled and main's zeroing loop is the one
// left as a loop.
fn loadWeights() {
  for (var p = 0u; p < NWEIGHTS; p++) { w[p] = weights[p]; }
}

// @cell tangent
