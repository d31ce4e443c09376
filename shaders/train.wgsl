// train.wgsl — the per-sequence kernel of rnn.wgsl (same cell, same BPTT, same overflow flag) for training a
// population: one dispatch serves M models × S sequences, each model with its own weights, and the sequences of
// a step can be a mini-batch picked through an order table. Invocation n serves model m = n / C and sequences
// j = c·G … c·G+G−1 (c = n % C) of that model's step, one after the other, summing their SSR, overflow flags and
// (BACKWARD) dSSR/dθ in registers; it writes them as column c of rows (r·M + m): r = 0 SSR, 1 overflow count,
// 2.. gradients. model_sums.wgsl then adds each model's C columns in fixed order. Models whose status is not 0
// (stopped: converged or diverged) are skipped.
//
// Layout: data arrays are time-major with D = params.dataCols columns: xs[(t·I + i)·D + d], targets `last`
// [o·D + d], `all` [(t·O + o)·D + d], lengths[d]. Data column d of step sequence j of model m:
// (ordered ? order[step.orderOffset + j] : j) + m·params.dataPerModel (0 when the models share one data set).
// weights[m·NWEIGHTS + p]: Wx, Wh, bh, Wy, by, h0 (src/model.ts paramLayout). hs[(t·H + k)·(M·C) + n].

// Shape constants, specialized by the host (src/gpu/specialize.ts), which then unrolls the loops over them.
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

override WG: u32 = 64u;
override ACT: u32 = 1u;          // 0 identity, 1 relu, 2 tanh
override OUT_ALL: bool = false;
override BACKWARD: bool = true;  // forward + BPTT (training), or forward only (loss evaluation)

struct Params {
  models: u32,        // M
  seqs: u32,          // S: sequences per model per step
  group: u32,         // G: sequences per invocation
  cols: u32,          // C = ceil(S / G): invocations (columns) per model
  dataCols: u32,      // D: column stride of the data arrays
  dataPerModel: u32,  // data columns per model (per-model data sets), or 0 (shared data set)
  ordered: u32,       // 1: step sequences come from the order table
  _pad: u32,
}

// Per-step values; the host binds each step's slice of one buffer.
struct Step {
  orderOffset: u32,   // first entry of this step's mini-batch in `order`
  slot: u32,          // unused here (the optimizer's record slot)
  k: u32,             // unused here (the optimizer's step number)
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> status: array<u32>;
@group(0) @binding(4) var<storage, read> order: array<u32>;
@group(0) @binding(5) var<storage, read> lengths: array<u32>;
@group(0) @binding(6) var<storage, read> xs: array<f32>;
@group(0) @binding(7) var<storage, read> targets: array<f32>;
@group(0) @binding(8) var<storage, read_write> rows: array<f32>;
@group(0) @binding(9) var<storage, read_write> hs: array<f32>;

var<private> w: array<f32, NWEIGHTS>;
var<private> zScaled: f32;

fn loadWeights(m: u32) {
  for (var p = 0u; p < NWEIGHTS; p++) { w[p] = weights[m * NWEIGHTS + p]; }
}

fn act(z: f32) -> f32 {
  zScaled += abs(z) * 1e-30;
  if (ACT == 1u) { return select(0.0, z, z > 0.0); }
  if (ACT == 2u) { return tanh(clamp(z, -15.0, 15.0)); }
  return z;
}

fn actGrad(h: f32) -> f32 {
  if (ACT == 1u) { return select(0.0, 1.0, h > 0.0); }
  if (ACT == 2u) { return 1.0 - h * h; }
  return 1.0;
}

fn outIndex(t: u32, o: u32, d: u32, D: u32) -> u32 {
  if (OUT_ALL) { return (t * O + o) * D + d; }
  return o * D + d;
}

fn cell(hPrev: array<f32, H>, t: u32, d: u32, D: u32) -> array<f32, H> {
  var h: array<f32, H>;
  for (var j = 0u; j < H; j++) {
    var z = w[OFF_BH + j];
    for (var i = 0u; i < I; i++) { z += w[OFF_WX + j * I + i] * xs[(t * I + i) * D + d]; }
    for (var k = 0u; k < H; k++) { z += w[OFF_WH + j * H + k] * hPrev[k]; }
    h[j] = act(z);
  }
  return h;
}

fn predict(h: array<f32, H>, o: u32) -> f32 {
  var y = w[OFF_BY + o];
  for (var j = 0u; j < H; j++) { y += w[OFF_WY + o * H + j] * h[j]; }
  return y;
}

fn h0() -> array<f32, H> {
  var h: array<f32, H>;
  for (var j = 0u; j < H; j++) { h[j] = w[OFF_H0 + j]; }
  return h;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let M = params.models;
  let C = params.cols;
  let NC = M * C;
  let n = (wid.y * nwg.x + wid.x) * WG + lid;  // dispatches past 65535 workgroups are folded into 2D
  if (n >= NC) { return; }
  let m = n / C;
  let c = n % C;
  if (status[m] != 0u) { return; }
  loadWeights(m);
  let D = params.dataCols;
  let S = params.seqs;

  var loss = 0.0;
  var overflows = 0.0;
  var g: array<f32, NPARAM>;
  for (var q = 0u; q < params.group; q++) {
    let j = c * params.group + q;
    if (j >= S) { break; }
    var d = j;
    if (params.ordered != 0u) { d = order[step.orderOffset + j]; }
    d += m * params.dataPerModel;
    let len = lengths[d];
    zScaled = 0.0;

    var h = h0();
    for (var t = 0u; t < len; t++) {
      h = cell(h, t, d, D);
      if (BACKWARD) {
        for (var k = 0u; k < H; k++) { hs[(t * H + k) * NC + n] = h[k]; }
      }
      if (OUT_ALL || t + 1u == len) {
        for (var o = 0u; o < O; o++) {
          let e = predict(h, o) - targets[outIndex(t, o, d, D)];
          loss += e * e;
        }
      }
    }
    overflows += select(0.0, 1.0, !(zScaled < 3.0e38));
    if (!BACKWARD) { continue; }

    // Zeroed explicitly for every sequence: a declaration without initializer inside the loop measured as
    // keeping the previous sequence's values on SwiftShader.
    var dh: array<f32, H>;
    for (var k = 0u; k < H; k++) { dh[k] = 0.0; }
    var ht = h;
    for (var s = 0u; s < len; s++) {
      let t = len - 1u - s;
      if (OUT_ALL || t + 1u == len) {
        for (var o = 0u; o < O; o++) {
          let dy = 2.0 * (predict(ht, o) - targets[outIndex(t, o, d, D)]);
          g[OFF_BY + o] += dy;
          for (var k = 0u; k < H; k++) {
            g[OFF_WY + o * H + k] += dy * ht[k];
            dh[k] += w[OFF_WY + o * H + k] * dy;
          }
        }
      }
      var hp: array<f32, H>;
      if (t > 0u) {
        for (var k = 0u; k < H; k++) { hp[k] = hs[((t - 1u) * H + k) * NC + n]; }
      } else {
        hp = h0();
      }
      var dz: array<f32, H>;
      for (var k = 0u; k < H; k++) {
        dz[k] = dh[k] * actGrad(ht[k]);
        g[OFF_BH + k] += dz[k];
        for (var i = 0u; i < I; i++) { g[OFF_WX + k * I + i] += dz[k] * xs[(t * I + i) * D + d]; }
        for (var l = 0u; l < H; l++) { g[OFF_WH + k * H + l] += dz[k] * hp[l]; }
      }
      for (var l = 0u; l < H; l++) {
        var v = 0.0;
        for (var k = 0u; k < H; k++) { v += w[OFF_WH + k * H + l] * dz[k]; }
        dh[l] = v;
      }
      ht = hp;
    }
  }
  rows[m * C + c] = loss;
  rows[(M + m) * C + c] = overflows;
  if (!BACKWARD) { return; }
  for (var p = 0u; p < NPARAM; p++) { rows[((2u + p) * M + m) * C + c] = g[p]; }
}
