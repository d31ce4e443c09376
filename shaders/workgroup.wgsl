// workgroup.wgsl — the `workgroup` strategy for medium hidden sizes: one workgroup per sequence. Invocation l owns
// hidden units j = l, l + WG, …; the state h lives in workgroup memory, and each step is a matrix-vector product
// (every owner computes its z_j from the whole h), then a barrier. BPTT mirrors it: dz_t from the owner's dh,
// then dh_{t-1} = Whᵀ·dz_t, one unit per owner.
//
// Same bindings, layout and rows as rnn.wgsl: rows[r*N + n] with r = 0 SSR, 1 overflow flag, 2.. dSSR/dθ, which
// reduce.wgsl sums over sequences. Each gradient element of a sequence belongs to one invocation (rows of Wx, Wh, bh
// and columns of Wy to the owner of unit j, by[o] to invocation o), which adds to it step after step in a fixed
// order; the SSR and the overflow sum are added over the workgroup as a fixed tree. Same input → same bits.
// The weights are read from the storage buffer (Wh does not fit workgroup memory beside the state for H ≥ 64).

override H: u32 = 1u;
override I: u32 = 1u;
override O: u32 = 1u;
override WG: u32 = 64u;          // invocations per workgroup, a power of two
override ACT: u32 = 1u;          // 0 identity, 1 relu, 2 tanh
override OUT_ALL: bool = false;
override WRITE_Y: bool = false;
override HAS_TARGETS: bool = true;
override BACKWARD: bool = false;

const OFF_WX: u32 = 0u;
override OFF_WH: u32 = H * I;
override OFF_BH: u32 = OFF_WH + H * H;
override OFF_WY: u32 = OFF_BH + H;
override OFF_BY: u32 = OFF_WY + O * H;
override OFF_H0: u32 = OFF_BY + O;

struct Params {
  n: u32,
  truncation: u32,   // detach every `truncation` steps (0xFFFFFFFF: full BPTT)
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read> lengths: array<u32>;
@group(0) @binding(3) var<storage, read> xs: array<f32>;
@group(0) @binding(4) var<storage, read> targets: array<f32>;
@group(0) @binding(5) var<storage, read_write> ys: array<f32>;
@group(0) @binding(6) var<storage, read_write> rows: array<f32>;
@group(0) @binding(7) var<storage, read_write> hs: array<f32>;

var<workgroup> h: array<f32, H>;    // h_t (forward: h_{t-1} while computing h_t)
var<workgroup> hn: array<f32, H>;   // forward: the new state; backward: h_{t-1}
var<workgroup> dh: array<f32, H>;
var<workgroup> dz: array<f32, H>;
var<workgroup> dy: array<f32, O>;
var<workgroup> red: array<f32, WG>;
var<workgroup> wlen: u32;

fn act(z: f32) -> f32 {
  if (ACT == 1u) { return select(0.0, z, z > 0.0); }
  if (ACT == 2u) { return tanh(clamp(z, -15.0, 15.0)); }
  return z;
}

fn actGrad(v: f32) -> f32 {
  if (ACT == 1u) { return select(0.0, 1.0, v > 0.0); }
  if (ACT == 2u) { return 1.0 - v * v; }
  return 1.0;
}

fn outIndex(t: u32, o: u32, n: u32, N: u32) -> u32 {
  if (OUT_ALL) { return (t * O + o) * N + n; }
  return o * N + n;
}

fn predict(o: u32) -> f32 {
  var y = weights[OFF_BY + o];
  for (var j = 0u; j < H; j++) { y += weights[OFF_WY + o * H + j] * h[j]; }
  return y;
}

// Σ over the workgroup of each invocation's v, as a fixed binary tree; the result is returned to every invocation.
fn workgroupSum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let N = params.n;
  let n = wid.y * nwg.x + wid.x;   // one sequence per workgroup; past 65535 folded into 2D
  if (n >= N) { return; }          // the whole workgroup leaves together
  if (lid == 0u) { wlen = lengths[n]; }
  let len = workgroupUniformLoad(&wlen);

  for (var j = lid; j < H; j += WG) { h[j] = weights[OFF_H0 + j]; }
  workgroupBarrier();
  var loss = 0.0;
  var zScaled = 0.0;   // Σ|z|·1e-30: finite for finite z, ±Inf/NaN otherwise (see rnn.wgsl)
  for (var t = 0u; t < len; t++) {
    for (var j = lid; j < H; j += WG) {
      var z = weights[OFF_BH + j];
      for (var i = 0u; i < I; i++) { z += weights[OFF_WX + j * I + i] * xs[(t * I + i) * N + n]; }
      for (var k = 0u; k < H; k++) { z += weights[OFF_WH + j * H + k] * h[k]; }
      zScaled += abs(z) * 1e-30;
      hn[j] = act(z);
      if (BACKWARD) { hs[(t * H + j) * N + n] = hn[j]; }
    }
    workgroupBarrier();
    for (var j = lid; j < H; j += WG) { h[j] = hn[j]; }
    workgroupBarrier();
    if (OUT_ALL || t + 1u == len) {
      for (var o = lid; o < O; o += WG) {
        let y = predict(o);
        let k = outIndex(t, o, n, N);
        if (WRITE_Y) { ys[k] = y; }
        if (HAS_TARGETS) {
          let d = y - targets[k];
          loss += d * d;
        }
      }
    }
  }
  let ssr = workgroupSum(lid, loss);
  let zs = workgroupSum(lid, zScaled);
  if (lid == 0u) {
    rows[n] = ssr;
    rows[N + n] = select(0.0, 1.0, !(zs < 3.0e38));
  }
  if (!BACKWARD) { return; }

  // Gradient rows of this sequence start at 0; each owner clears its own.
  for (var j = lid; j < H; j += WG) {
    for (var i = 0u; i < I; i++) { rows[(2u + OFF_WX + j * I + i) * N + n] = 0.0; }
    for (var k = 0u; k < H; k++) { rows[(2u + OFF_WH + j * H + k) * N + n] = 0.0; }
    rows[(2u + OFF_BH + j) * N + n] = 0.0;
    for (var o = 0u; o < O; o++) { rows[(2u + OFF_WY + o * H + j) * N + n] = 0.0; }
    dh[j] = 0.0;
  }
  for (var o = lid; o < O; o += WG) { rows[(2u + OFF_BY + o) * N + n] = 0.0; }
  workgroupBarrier();

  for (var s = 0u; s < len; s++) {
    let t = len - 1u - s;
    let emits = OUT_ALL || t + 1u == len;
    // h_t and h_{t-1}.
    for (var j = lid; j < H; j += WG) {
      h[j] = hs[(t * H + j) * N + n];
      if (t > 0u) { hn[j] = hs[((t - 1u) * H + j) * N + n]; } else { hn[j] = weights[OFF_H0 + j]; }
    }
    workgroupBarrier();
    if (emits) {
      for (var o = lid; o < O; o += WG) {
        let d = 2.0 * (predict(o) - targets[outIndex(t, o, n, N)]);
        dy[o] = d;
        rows[(2u + OFF_BY + o) * N + n] += d;
      }
    }
    workgroupBarrier();
    for (var j = lid; j < H; j += WG) {
      var g = dh[j];
      if (emits) {
        for (var o = 0u; o < O; o++) {
          g += weights[OFF_WY + o * H + j] * dy[o];
          rows[(2u + OFF_WY + o * H + j) * N + n] += dy[o] * h[j];
        }
      }
      let d = g * actGrad(h[j]);
      dz[j] = d;
      rows[(2u + OFF_BH + j) * N + n] += d;
      for (var i = 0u; i < I; i++) { rows[(2u + OFF_WX + j * I + i) * N + n] += d * xs[(t * I + i) * N + n]; }
      for (var k = 0u; k < H; k++) { rows[(2u + OFF_WH + j * H + k) * N + n] += d * hn[k]; }
    }
    workgroupBarrier();
    // dh_{t-1} = Whᵀ·dz_t, unless h is detached at step t (a positive multiple of the truncation window).
    let cut = t > 0u && t % params.truncation == 0u;
    for (var k = lid; k < H; k += WG) {
      var v = 0.0;
      if (!cut) {
        for (var j = 0u; j < H; j++) { v += weights[OFF_WH + j * H + k] * dz[j]; }
      }
      dh[k] = v;
    }
    workgroupBarrier();
  }
}
