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
// weights[m·NWEIGHTS + p]: the cell's parameters, then its initial state (src/cells/). hs[(t·NSTATE + q)·(M·C) + n].
// The cell is spliced in from shaders/cells/ at the `// @cell` line (src/gpu/cell.ts).

// Shape constants, specialized by the host (src/gpu/specialize.ts), which then unrolls the loops over them.
const H: u32 = 1u;
const I: u32 = 1u;
const O: u32 = 1u;

// The cell: its layout (OFF_*, NPARAM, NSTATE, NWEIGHTS), act/actGrad, the overflow test, cellInit, cellForward,
// cellBackward, predict, readoutBackward, outIndex, and the private `w` and `zScaled` (src/gpu/cell.ts).
// @cell backward

override WG: u32 = 64u;
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

fn loadWeights(m: u32) {
  for (var p = 0u; p < NWEIGHTS; p++) { w[p] = weights[m * NWEIGHTS + p]; }
}

fn loadX(t: u32, d: u32, D: u32) -> array<f32, I> {
  var x: array<f32, I>;
  for (var i = 0u; i < I; i++) { x[i] = xs[(t * I + i) * D + d]; }
  return x;
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

    var s = cellInit();
    for (var t = 0u; t < len; t++) {
      s = cellForward(s, loadX(t, d, D));
      if (BACKWARD) {
        for (var k = 0u; k < NSTATE; k++) { hs[(t * NSTATE + k) * NC + n] = s[k]; }
      }
      if (OUT_ALL || t + 1u == len) {
        for (var o = 0u; o < O; o++) {
          let e = predict(s, o) - targets[outIndex(t, o, d, D)];
          loss += e * e;
        }
      }
    }
    overflows += select(0.0, 1.0, overflowed(zScaled));
    if (!BACKWARD) { continue; }

    // Full BPTT: training has no truncation option (src/train/types.ts), so the recurrence is never cut here.
    // Zeroed explicitly for every sequence: a declaration without initializer inside the loop measured as
    // keeping the previous sequence's values on SwiftShader.
    var dS: array<f32, NSTATE>;
    for (var k = 0u; k < NSTATE; k++) { dS[k] = 0.0; }
    var st = s;
    for (var r = 0u; r < len; r++) {
      let t = len - 1u - r;
      if (OUT_ALL || t + 1u == len) {
        for (var o = 0u; o < O; o++) {
          let dy = 2.0 * (predict(st, o) - targets[outIndex(t, o, d, D)]);
          readoutBackward(&g, &dS, st, o, dy);
        }
      }
      var sp: array<f32, NSTATE>;
      if (t > 0u) {
        for (var k = 0u; k < NSTATE; k++) { sp[k] = hs[((t - 1u) * NSTATE + k) * NC + n]; }
      } else {
        sp = cellInit();
      }
      dS = cellBackward(&g, dS, st, sp, loadX(t, d, D));
      st = sp;
    }
  }
  rows[m * C + c] = loss;
  rows[(M + m) * C + c] = overflows;
  if (!BACKWARD) { return; }
  for (var p = 0u; p < NPARAM; p++) { rows[((2u + p) * M + m) * C + c] = g[p]; }
}
