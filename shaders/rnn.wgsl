// rnn.wgsl — Elman RNN over a chunk of sequences, one invocation per sequence, looping over time.
//
//   h_t = act(Wx·x_t + Wh·h_{t-1} + bh),   y_t = Wy·h_t + by,   SSR = Σ (y − target)²
//
// One entry point, `main`, in two variants chosen by the BACKWARD override:
//   forward (BACKWARD = false) — predictions (optional); each sequence's SSR (row 0 of `rows`) and overflow
//             flag (row 1). `hs` is not touched (the host binds a placeholder).
//   bptt    (BACKWARD = true) — forward, storing h_t, then backpropagation through time; writes rows 0 and 1
//             as above and the sequence's dSSR/dθ to rows 2..NPARAM+1. reduce.wgsl then sums the rows over
//             sequences. `params.truncation` cuts the backward recurrence every k steps (truncated BPTT).
// The overflow flag is 1 when a pre-activation left the float32 range (±Inf, or NaN from Inf − Inf): ReLU would
// turn such a NaN into 0 and hide it, so the host reports the run as non-finite instead.
//
// Layout (time-major, so neighbouring invocations touch neighbouring words; N = params.n):
//   xs[(t*I + i)*N + n]   hs[(t*H + j)*N + n]   rows[r*N + n] (r: 0 SSR, 1 overflow, 2.. gradients)
//   targets/ys: `last` [o*N + n], `all` [(t*O + o)*N + n]
//   weights: Wx (H×I), Wh (H×H), bh (H), Wy (O×H), by (O), then h0 (H) — src/model.ts paramLayout.

// Shape constants. Private arrays need const-expression lengths, which overrides cannot set, so the host
// specializes exactly these three lines per model shape (src/gpu/specialize.ts). All else is an override.
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

override WG: u32 = 64u;          // invocations (sequences) per workgroup
override ACT: u32 = 1u;          // 0 identity, 1 relu, 2 tanh
override OUT_ALL: bool = false;  // predict at every step (many-to-many) instead of the last
override WRITE_Y: bool = false;  // store predictions in `ys`
override HAS_TARGETS: bool = true;
override BACKWARD: bool = false;  // run backpropagation through time after the forward pass

struct Params {
  n: u32,      // sequences in this chunk (also the column stride of every time-major array)
  // Truncated BPTT window k: the gradient does not flow from step t into h_{t-1} when t is a positive multiple of
  // k (0-based t within the sequence). 0xFFFFFFFF = full BPTT. A uniform, so one pipeline serves every k.
  truncation: u32,
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
@group(0) @binding(7) var<storage, read_write> hs: array<f32>;

// The weights, copied from `weights` once per invocation: with the shape loops unrolled every index is constant,
// so compilers can keep them in registers instead of reloading them at every step.
var<private> w: array<f32, NWEIGHTS>;

fn loadWeights() {
  for (var p = 0u; p < NWEIGHTS; p++) { w[p] = weights[p]; }
}

// Overflow detection without a branch per unit: Σ |z|·1e-30 over the sequence's pre-activations stays far below
// the float32 range for finite z (|z| ≤ 3.4e38 gives at most 3.4e8 a term), while one ±Inf or NaN makes the sum
// ±Inf or NaN. Checked once per sequence with a comparison that Inf and NaN both fail (isinf/isnan may be folded
// away by implementations that assume finite math).
var<private> zScaled: f32;

fn overflowed() -> bool {
  return !(zScaled < 3.0e38);
}

fn act(z: f32) -> f32 {
  zScaled += abs(z) * 1e-30;
  if (ACT == 1u) { return select(0.0, z, z > 0.0); }
  // tanh saturates to ±1 in float32 beyond |z| = 15; clamping keeps backends whose tanh overflows from giving NaN.
  if (ACT == 2u) { return tanh(clamp(z, -15.0, 15.0)); }
  return z;
}

// act'(z) through h = act(z): ReLU' = 1 where z > 0 (exactly where h > 0), else 0; tanh' = 1 − h².
fn actGrad(h: f32) -> f32 {
  if (ACT == 1u) { return select(0.0, 1.0, h > 0.0); }
  if (ACT == 2u) { return 1.0 - h * h; }
  return 1.0;
}

fn outIndex(t: u32, o: u32, n: u32, N: u32) -> u32 {
  if (OUT_ALL) { return (t * O + o) * N + n; }
  return o * N + n;
}

// h_t from h_{t-1} and x_t.
fn cell(hPrev: array<f32, H>, t: u32, n: u32, N: u32) -> array<f32, H> {
  var h: array<f32, H>;
  for (var j = 0u; j < H; j++) {
    var z = w[OFF_BH + j];
    for (var i = 0u; i < I; i++) { z += w[OFF_WX + j * I + i] * xs[(t * I + i) * N + n]; }
    for (var k = 0u; k < H; k++) { z += w[OFF_WH + j * H + k] * hPrev[k]; }
    h[j] = act(z);
  }
  return h;
}

// y_o = by_o + Σ_j Wy[o][j]·h_j
fn predict(h: array<f32, H>, o: u32) -> f32 {
  var y = w[OFF_BY + o];
  for (var j = 0u; j < H; j++) { y += w[OFF_WY + o * H + j] * h[j]; }
  return y;
}

// Predictions at step t: stores them if asked and returns their squared error.
fn emit(h: array<f32, H>, t: u32, n: u32, N: u32) -> f32 {
  var sq = 0.0;
  for (var o = 0u; o < O; o++) {
    let y = predict(h, o);
    let k = outIndex(t, o, n, N);
    if (WRITE_Y) { ys[k] = y; }
    if (HAS_TARGETS) {
      let d = y - targets[k];
      sq += d * d;
    }
  }
  return sq;
}

fn h0() -> array<f32, H> {
  var h: array<f32, H>;
  for (var j = 0u; j < H; j++) { h[j] = w[OFF_H0 + j]; }
  return h;
}

// Dispatches past 65535 workgroups are folded into 2D; the host rounds the count up, so guard the tail.
fn sequenceIndex(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let N = params.n;
  let n = sequenceIndex(wid, nwg, lid);
  if (n >= N) { return; }
  let len = lengths[n];
  loadWeights();

  // Forward; with BACKWARD, keeping every h_t for the backward sweep.
  var h = h0();
  var loss = 0.0;
  for (var t = 0u; t < len; t++) {
    h = cell(h, t, n, N);
    if (BACKWARD) {
      for (var j = 0u; j < H; j++) { hs[(t * H + j) * N + n] = h[j]; }
    }
    if (OUT_ALL || t + 1u == len) { loss += emit(h, t, n, N); }
  }
  rows[n] = loss;
  rows[N + n] = select(0.0, 1.0, overflowed());
  if (!BACKWARD) { return; }

  // Backward through time. g holds this sequence's dSSR/dθ in the canonical parameter order.
  var g: array<f32, NPARAM>;
  var dh: array<f32, H>;   // dSSR/dh_t, carried from step t+1 as Wh^T·dz_{t+1}
  var ht = h;              // h_t, carried from step t+1 (it was that step's h_{t-1})
  let K = params.truncation;
  var phase = (len - 1u) % K;  // t % K, counted down with t (no division per step)
  for (var s = 0u; s < len; s++) {
    let t = len - 1u - s;
    if (OUT_ALL || t + 1u == len) {
      for (var o = 0u; o < O; o++) {
        let dy = 2.0 * (predict(ht, o) - targets[outIndex(t, o, n, N)]);
        g[OFF_BY + o] += dy;
        for (var j = 0u; j < H; j++) {
          g[OFF_WY + o * H + j] += dy * ht[j];
          dh[j] += w[OFF_WY + o * H + j] * dy;
        }
      }
    }
    var hp: array<f32, H>;
    if (t > 0u) {
      for (var k = 0u; k < H; k++) { hp[k] = hs[((t - 1u) * H + k) * N + n]; }
    } else {
      hp = h0();
    }
    var dz: array<f32, H>;
    for (var j = 0u; j < H; j++) {
      dz[j] = dh[j] * actGrad(ht[j]);
      g[OFF_BH + j] += dz[j];
      for (var i = 0u; i < I; i++) { g[OFF_WX + j * I + i] += dz[j] * xs[(t * I + i) * N + n]; }
      for (var k = 0u; k < H; k++) { g[OFF_WH + j * H + k] += dz[j] * hp[k]; }
    }
    // dh_{t-1} = Wh^T·dz_t, or 0 where truncation detaches h_{t-1} (select, not ×0, so an Inf cannot become NaN).
    let detach = phase == 0u;
    for (var k = 0u; k < H; k++) {
      var v = 0.0;
      for (var j = 0u; j < H; j++) { v += w[OFF_WH + j * H + k] * dz[j]; }
      dh[k] = select(v, 0.0, detach);
    }
    phase = select(phase - 1u, K - 1u, detach);
    ht = hp;
  }
  for (var p = 0u; p < NPARAM; p++) { rows[(2u + p) * N + n] = g[p]; }
}
