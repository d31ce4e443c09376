// rtrl.wgsl — Elman RNN with forward-mode gradients (real-time recurrent learning), one invocation per sequence.
//
//   h_t = act(Wx·x_t + Wh·h_{t-1} + bh),   y_t = Wy·h_t + by,   SSR = Σ (y − target)²
//
// Instead of storing h_t and running back through time, each invocation carries the sensitivities
// S_t = dh_t/dθ_rec (H × NREC values, θ_rec = Wx, Wh, bh; h does not depend on Wy or by) forward with the state:
//   S_t[j][p] = act'(z_j)·( Σ_k Wh[j][k]·S_{t-1}[k][p] + ∂z_j/∂θ_p ),  ∂z_j/∂Wx[j][i] = x_i, ∂z_j/∂Wh[j][k] = h_{t-1}[k],
//   ∂z_j/∂bh[j] = 1,  S_0 = 0 (h_0 is not a parameter),
// and at every step with an output adds dSSR/dθ_rec += (Wy^T·dy)·S_t, dSSR/dWy += dy·h_t^T, dSSR/dby += dy.
// No hidden state is stored: memory is O(H·NREC) per sequence, in private arrays.
// Truncated BPTT has the same definition here: where t is a positive multiple of k, S_{t-1} is taken as 0.
//
// Same bindings and row layout as rnn.wgsl (minus `hs`): rows[r*N + n], r = 0 SSR, 1 overflow flag, 2.. dSSR/dθ in
// the canonical parameter order; reduce.wgsl sums the rows over sequences. GRADS = false is a plain forward pass.
//   xs[(t*I + i)*N + n]; targets/ys: `last` [o*N + n], `all` [(t*O + o)*N + n]; weights: Wx, Wh, bh, Wy, by, h0.

// Shape constants, specialized by the host (src/gpu/specialize.ts); everything else is an override.
const H: u32 = 1u;
const I: u32 = 1u;
const O: u32 = 1u;

const OFF_WX: u32 = 0u;
const OFF_WH: u32 = OFF_WX + H * I;
const OFF_BH: u32 = OFF_WH + H * H;
const OFF_WY: u32 = OFF_BH + H;
const OFF_BY: u32 = OFF_WY + O * H;
const OFF_H0: u32 = OFF_BY + O;
const NPARAM: u32 = OFF_H0;
const NWEIGHTS: u32 = OFF_H0 + H;
const NREC: u32 = OFF_WY;      // recurrent parameters: Wx, Wh, bh
const HNREC: u32 = H * NREC;   // carried sensitivities per sequence

override WG: u32 = 64u;
override ACT: u32 = 1u;          // 0 identity, 1 relu, 2 tanh
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

var<private> w: array<f32, NWEIGHTS>;
var<private> zScaled: f32;  // Σ |z|·1e-30: ±Inf or NaN exactly when a pre-activation left the float32 range

fn loadWeights() {
  for (var p = 0u; p < NWEIGHTS; p++) { w[p] = weights[p]; }
}

fn act(z: f32) -> f32 {
  zScaled += abs(z) * 1e-30;
  if (ACT == 1u) { return select(0.0, z, z > 0.0); }
  if (ACT == 2u) { return tanh(clamp(z, -15.0, 15.0)); }
  return z;
}

// act'(z) through h = act(z), as in rnn.wgsl.
fn actGrad(h: f32) -> f32 {
  if (ACT == 1u) { return select(0.0, 1.0, h > 0.0); }
  if (ACT == 2u) { return 1.0 - h * h; }
  return 1.0;
}

fn outIndex(t: u32, o: u32, n: u32, N: u32) -> u32 {
  if (OUT_ALL) { return (t * O + o) * N + n; }
  return o * N + n;
}

fn predict(h: array<f32, H>, o: u32) -> f32 {
  var y = w[OFF_BY + o];
  for (var j = 0u; j < H; j++) { y += w[OFF_WY + o * H + j] * h[j]; }
  return y;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let N = params.n;
  let n = (wid.y * nwg.x + wid.x) * WG + lid;   // 2D-folded dispatch; the tail is guarded
  if (n >= N) { return; }
  let len = lengths[n];
  loadWeights();

  var h: array<f32, H>;
  for (var j = 0u; j < H; j++) { h[j] = w[OFF_H0 + j]; }
  var S: array<f32, HNREC>;   // S[j*NREC + p] = dh[j]/dθ_p, for the h currently held
  var g: array<f32, NPARAM>;  // this sequence's dSSR/dθ
  var loss = 0.0;
  let K = params.truncation;
  var phase = 0u;             // t % K

  for (var t = 0u; t < len; t++) {
    var x: array<f32, I>;
    for (var i = 0u; i < I; i++) { x[i] = xs[(t * I + i) * N + n]; }
    var hn: array<f32, H>;
    for (var j = 0u; j < H; j++) {
      var z = w[OFF_BH + j];
      for (var i = 0u; i < I; i++) { z += w[OFF_WX + j * I + i] * x[i]; }
      for (var k = 0u; k < H; k++) { z += w[OFF_WH + j * H + k] * h[k]; }
      hn[j] = act(z);
    }

    if (GRADS) {
      // Truncation: the gradient does not flow from step t into h_{t-1} when t is a positive multiple of k.
      if (phase == 0u) {
        for (var q = 0u; q < HNREC; q++) { S[q] = 0.0; }
      }
      phase = select(phase + 1u, 0u, phase + 1u == K);
      var Sn: array<f32, HNREC>;
      for (var j = 0u; j < H; j++) {
        for (var p = 0u; p < NREC; p++) {
          var v = 0.0;
          for (var k = 0u; k < H; k++) { v += w[OFF_WH + j * H + k] * S[k * NREC + p]; }
          Sn[j * NREC + p] = v;
        }
        for (var i = 0u; i < I; i++) { Sn[j * NREC + OFF_WX + j * I + i] += x[i]; }
        for (var k = 0u; k < H; k++) { Sn[j * NREC + OFF_WH + j * H + k] += h[k]; }
        Sn[j * NREC + OFF_BH + j] += 1.0;
        let d = actGrad(hn[j]);
        for (var p = 0u; p < NREC; p++) { Sn[j * NREC + p] *= d; }
      }
      S = Sn;
    }
    h = hn;

    if (OUT_ALL || t + 1u == len) {
      var dh: array<f32, H>;   // Wy^T·dy at this step
      // Zeroed explicitly: some compilers hoist a declaration out of the loop and keep its last value.
      for (var j = 0u; j < H; j++) { dh[j] = 0.0; }
      for (var o = 0u; o < O; o++) {
        let y = predict(h, o);
        let k = outIndex(t, o, n, N);
        if (WRITE_Y) { ys[k] = y; }
        if (HAS_TARGETS) {
          let d = y - targets[k];
          loss += d * d;
          if (GRADS) {
            let dy = 2.0 * d;
            g[OFF_BY + o] += dy;
            for (var j = 0u; j < H; j++) {
              g[OFF_WY + o * H + j] += dy * h[j];
              dh[j] += w[OFF_WY + o * H + j] * dy;
            }
          }
        }
      }
      if (GRADS) {
        for (var p = 0u; p < NREC; p++) {
          var v = 0.0;
          for (var j = 0u; j < H; j++) { v += dh[j] * S[j * NREC + p]; }
          g[p] += v;
        }
      }
    }
  }
  rows[n] = loss;
  rows[N + n] = select(0.0, 1.0, !(zScaled < 3.0e38));
  if (GRADS) {
    for (var p = 0u; p < NPARAM; p++) { rows[(2u + p) * N + n] = g[p]; }
  }
}
