// per_sequence/bptt.wgsl — the per-sequence strategy's single-layer driver: one invocation loops over time through
// its sequences, forward or (override BACKWARD) forward then backpropagation through time, truncated every
// `truncation` steps. It serves two hosts through the `// @use` blocks below, of which the host keeps one
// (src/gpu/per-sequence/bptt.ts):
//   run    engine.run (src/gpu/per-sequence/strategy.ts): one model, one sequence per invocation, predictions out;
//          rows[r·N + n] per sequence, which reduce.wgsl then sums over sequences.
//   train  training a population (src/train/gpu.ts): M models × S sequences in one dispatch, each model with its own
//          weights; the step's sequences can be a mini-batch picked through an order table; models whose status is
//          not 0 (stopped: converged or diverged) are skipped; model_sums.wgsl adds each model's C columns.
// Both are one loop: invocation n serves model m = n / C and sequences j = c·G … c·G+G−1 (c = n % C) of that
// model's step, one after the other, summing their SSR, overflow flags and (BACKWARD) dSSR/dθ in registers, and
// writes them as column c of rows (r·M + m), i.e. rows[r·M·C + n]: r = 0 SSR, 1 overflow count, 2.. gradients.
// `run` is the case M = 1, G = 1, C = N, unordered, where column c is sequence n.
//
//   s_t = cell(s_{t-1}, x_t) (Elman: h_t = act(Wx·x_t + Wh·h_{t-1} + bh)),   y_t = Wy·h_t + by,   SSR = Σ (y − target)²
//
// The overflow flag is 1 when a pre-activation left the float32 range (±Inf, or NaN from Inf − Inf): ReLU would
// turn such a NaN into 0 and hide it, so the host reports the run as non-finite instead. The cell is spliced in
// from shaders/cells/ at the `// @cell` line (src/gpu/cell.ts); this file holds only the driver.
//
// Layout: data arrays are time-major with D columns (run: D = N), so neighbouring invocations touch neighbouring
// words: xs[(t·I + i)·D + d], targets and ys `last` [o·D + d], `all` [(t·O + o)·D + d], lengths[d]. Data column d
// of step sequence j of model m: (ordered ? order[step.orderOffset + j] : j) + m·dataPerModel (0 when the models
// share one data set). weights[m·NWEIGHTS + p]: the cell's parameters in canonical order, then its initial state
// (src/cells/). hs[(t·NSTATE + k)·(M·C) + n]: the states s_t, kept for the backward sweep.

// Shape constants. Private arrays need const-expression lengths, which overrides cannot set, so the host
// specializes exactly these three lines per model shape (src/gpu/specialize.ts). All else is an override.
const H: u32 = 1u;
const I: u32 = 1u;
const O: u32 = 1u;

// The cell: its parameter layout (OFF_*, NPARAM, NSTATE, NWEIGHTS), act/actGrad, the overflow test, cellInit,
// cellForward, cellBackward, predict, readoutBackward, outIndex, and the private `w` and `zScaled` (src/gpu/cell.ts).
// @cell backward

override WG: u32 = 64u;          // invocations per workgroup
override OUT_ALL: bool = false;  // predict at every step (many-to-many) instead of the last
override WRITE_Y: bool = false;  // store predictions in `ys` (run)
override HAS_TARGETS: bool = true;
override BACKWARD: bool = false;  // run backpropagation through time after the forward pass

// What a use gives the loop: the dispatch's sizes, which models run, where a step sequence's data is, where
// predictions go, and STEP_SUMS, the order of the SSR's float32 additions: true adds each step's O squared errors
// up first and that sum to the SSR (run), false adds each one to the running sum (train). The two round differently
// when O > 1; each use keeps its own so its results are reproducible bit for bit.
struct Dims {
  models: u32,    // M
  seqs: u32,      // S: sequences per model
  group: u32,     // G: sequences per invocation
  cols: u32,      // C = ceil(S / G): invocations (columns) per model
  dataCols: u32,  // D: column stride of the data arrays
  // Truncated BPTT window k: the gradient does not flow from step t into s_{t-1} when t is a positive multiple of
  // k (0-based t within the sequence). 0xFFFFFFFF = full BPTT. A uniform, so one pipeline serves every k.
  truncation: u32,
}

// @use run
struct Params {
  n: u32,  // sequences in this chunk (also the column stride of every time-major array)
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

const STEP_SUMS = true;

fn dims() -> Dims {
  return Dims(1u, params.n, 1u, params.n, params.n, params.truncation);
}

fn running(m: u32) -> bool {
  return true;
}

fn dataColumn(m: u32, j: u32) -> u32 {
  return j;
}

fn storeY(k: u32, y: f32) {
  if (WRITE_Y) { ys[k] = y; }
}

// @use train
struct Params {
  models: u32,
  seqs: u32,
  group: u32,
  cols: u32,
  dataCols: u32,
  dataPerModel: u32,  // data columns per model (per-model data sets), or 0 (shared data set)
  ordered: u32,       // 1: step sequences come from the order table
  truncation: u32,
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

const STEP_SUMS = false;

fn dims() -> Dims {
  return Dims(params.models, params.seqs, params.group, params.cols, params.dataCols, params.truncation);
}

fn running(m: u32) -> bool {
  return status[m] == 0u;
}

fn dataColumn(m: u32, j: u32) -> u32 {
  var d = j;
  if (params.ordered != 0u) { d = order[step.orderOffset + j]; }
  return d + m * params.dataPerModel;
}

fn storeY(k: u32, y: f32) {}

// @use end

fn loadWeights(base: u32) {
  for (var p = 0u; p < NWEIGHTS; p++) { w[p] = weights[base + p]; }
}

fn loadX(t: u32, d: u32, D: u32) -> array<f32, I> {
  var x: array<f32, I>;
  for (var i = 0u; i < I; i++) { x[i] = xs[(t * I + i) * D + d]; }
  return x;
}

// `loss` plus the squared errors of the predictions at step t (in STEP_SUMS order); stores the predictions if asked.
fn emit(loss: f32, s: array<f32, NSTATE>, t: u32, d: u32, D: u32) -> f32 {
  var sum = loss;
  var sq = 0.0;
  for (var o = 0u; o < O; o++) {
    let y = predict(s, o);
    let k = outIndex(t, o, d, D);
    storeY(k, y);
    if (HAS_TARGETS) {
      let e = y - targets[k];
      if (STEP_SUMS) { sq += e * e; } else { sum += e * e; }
    }
  }
  if (STEP_SUMS) { return loss + sq; }
  return sum;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let z = dims();
  let M = z.models;
  let C = z.cols;
  let NC = M * C;
  let n = (wid.y * nwg.x + wid.x) * WG + lid;  // dispatches past 65535 workgroups are folded into 2D
  if (n >= NC) { return; }
  let m = n / C;
  let c = n % C;
  if (!running(m)) { return; }
  loadWeights(m * NWEIGHTS);
  let D = z.dataCols;
  let K = z.truncation;

  var loss = 0.0;
  var overflows = 0.0;
  var g: array<f32, NPARAM>;  // dSSR/dθ in the canonical parameter order, summed over the invocation's sequences
  for (var q = 0u; q < z.group; q++) {
    let j = c * z.group + q;
    if (j >= z.seqs) { break; }
    let d = dataColumn(m, j);
    let len = lengths[d];
    zScaled = 0.0;

    // Forward; with BACKWARD, keeping every state s_t for the backward sweep.
    var s = cellInit();
    for (var t = 0u; t < len; t++) {
      s = cellForward(s, loadX(t, d, D));
      if (BACKWARD) {
        for (var k = 0u; k < NSTATE; k++) { hs[(t * NSTATE + k) * NC + n] = s[k]; }
      }
      if (OUT_ALL || t + 1u == len) { loss = emit(loss, s, t, d, D); }
    }
    overflows += select(0.0, 1.0, overflowed(zScaled));
    if (!BACKWARD) { continue; }

    // Backward through time. dS = dSSR/ds_t, carried from step t+1 through the cell; zeroed explicitly for every
    // sequence: a declaration without initializer inside the loop measured as keeping the previous sequence's
    // values on SwiftShader.
    var dS: array<f32, NSTATE>;
    for (var k = 0u; k < NSTATE; k++) { dS[k] = 0.0; }
    var st = s;                  // s_t, carried from step t+1 (it was that step's s_{t-1})
    var phase = (len - 1u) % K;  // t % K, counted down with t (no division per step)
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
      let dPrev = cellBackward(&g, dS, st, sp, loadX(t, d, D));
      // dS_{t-1} is the cell's, or 0 where truncation detaches s_{t-1} (select, not ×0, so an Inf cannot become NaN).
      let detach = phase == 0u;
      for (var k = 0u; k < NSTATE; k++) { dS[k] = select(dPrev[k], 0.0, detach); }
      phase = select(phase - 1u, K - 1u, detach);
      st = sp;
    }
  }
  // Row r of model m, column c: rows[(r·M + m)·C + c] = rows[r·NC + n].
  rows[n] = loss;
  rows[NC + n] = overflows;
  if (!BACKWARD) { return; }
  for (var p = 0u; p < NPARAM; p++) { rows[(2u + p) * NC + n] = g[p]; }
}
