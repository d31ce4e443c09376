// per_sequence/layer.wgsl — one recurrent layer of a stacked or bidirectional network, or of a run with carried
// states, over a chunk of sequences: one invocation per (sequence, direction), looping over time. A layered run is
// one dispatch of `forward` per layer (bottom up), the readout (per_sequence/readout.wgsl), then one dispatch of
// `backward` per layer (top down); src/gpu/per-sequence/layers.ts records them. Both directions of a
// layer run in the same dispatch: invocations [0, N) run forward in time, [N, 2N) (params.dirs = 2) in reverse,
// from each sequence's own last step (PyTorch's PackedSequence).
//
//   forward:  s_τ = cell(s_{τ−1}, x_t) at t = τ (forward) or len − 1 − τ (reverse); writes h_t to `out`, with
//             STORE_STATES the whole state s_t to `hs`, with WRITE_FINAL the state after the last step to `states`,
//             and the overflow flag of the direction's pre-activations there too.
//   backward: back through the direction's processing order, taking dSSR/dh_t from `dgrad` (the readout's, or the
//             sum of both directions' dSSR/dx_t of the layer above); writes this layer-direction's dSSR/dθ to its
//             rows of `rows`, and with INPUT_GRAD dSSR/dx_t to `dgrad` for the layer below. `params.truncation`
//             detaches s_{τ−1} from s_τ when τ is a positive multiple of k (τ counted from where the direction starts).
//
// Layout (time-major; N = params.n, T = params.steps, DH = params.dh = D·H, K layer-directions in all). Eight
// storage bindings, WebGPU's default limit per stage, so the small per-sequence vectors share `states` and the
// gradients passed between layers share `dgrad`, at offsets the host sets:
//   x[(t*I + i)*N + n]  (the model's inputs for layer 0, the layer below's `out` above it, where I = DH)
//   out[(t*DH + d*H + j)*N + n]   hs[((d*T + t)*NSTATE + q)*N + n]
//   states: initial [(k*NSTATE + q)*N + n], final at params.finAt + the same, overflow flags at params.ovfAt + k*N + n,
//           with k = params.k0 + d
//   dgrad: from above at params.aboveAt + ((src*T + t)*DH + d*H + j)*N + n, src < params.sources;
//          to the layer below at params.belowAt + ((d*T + t)*I + i)*N + n
//   rows[(2 + params.w0|w1 + p)*N + n]: the layer-direction's parameters' gradients at their flat indices
//   weights: the model's flat parameters (src/model.ts layeredLayout); this layer-direction's start at w0 (d = 0)
//   or w1 (d = 1), in the cell's order of its recurrent blocks.

// Shape constants, specialized per layer by the host (src/gpu/specialize.ts): I is the layer's input size (the
// model's I for layer 0, D·H above). O = 1 only so that the cell's layout, which counts the readout's blocks after
// the recurrent ones, is complete; a layer never touches them (the readout is its own kernel).
const H: u32 = 1u;
const I: u32 = 1u;
const O: u32 = 1u;

// The cell: its layout (OFF_*, NREC, NPARAM, NSTATE, OFF_H0), cellInit, cellForward, cellBackward, dInput and the
// private `w` and `zScaled` (src/gpu/cell.ts).
// @cell backward

override WG: u32 = 64u;              // invocations per workgroup
override STORE_STATES: bool = false;  // forward: keep every state for `backward`
override WRITE_FINAL: bool = false;   // forward: write each sequence's final state
override OUT_ALL: bool = false;       // unused by a layer; the cell's shared part (outIndex) names it
override DROPOUT: bool = false;       // a layer above the first reads its input through the dropout mask

struct Params {
  n: u32,          // sequences in this chunk (the column stride of every time-major array)
  steps: u32,      // the chunk's longest sequence: the time extent of x, out, hs and dgrad
  truncation: u32, // truncated BPTT window k; 0xFFFFFFFF = full BPTT
  dirs: u32,       // directions in this dispatch (1, or 2 for a bidirectional layer)
  w0: u32,         // flat offset of the forward direction's parameters
  w1: u32,         // flat offset of the reverse direction's parameters (dirs = 2)
  k0: u32,         // layer-direction index of the forward direction (PyTorch's order: layer·D)
  dh: u32,         // D·H: floats of a layer's output per step
  sources: u32,    // sources of dSSR/dh_t above: 1 (the readout) or D (the layer above's directions)
  finAt: u32,      // where the final states start in `states`
  ovfAt: u32,      // where the overflow flags start in `states`
  aboveAt: u32,    // where dSSR/dh_t from above starts in `dgrad`
  belowAt: u32,    // where dSSR/dx_t for the layer below starts in `dgrad`
  layer: u32,      // the layer (0 at the input), for the dropout mask
  seqBase: u32,    // the chunk's first sequence's index in the batch, for the dropout mask
  dropSeed: u32,   // DROPOUT: the mask's seed
  dropThreshold: u32, // DROPOUT: an input is dropped where its hash is below this (⌊p·2³²⌋)
  dropScale: f32,  // DROPOUT: the kept inputs' factor 1/(1 − p)
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read> lengths: array<u32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> hs: array<f32>;
@group(0) @binding(6) var<storage, read_write> states: array<f32>;
@group(0) @binding(7) var<storage, read_write> dgrad: array<f32>;
@group(0) @binding(8) var<storage, read_write> rows: array<f32>;

// The layer-direction's parameters into w[0, NREC) and the sequence's initial state into w[OFF_H0, OFF_H0 + NSTATE),
// where cellInit reads it (the readout's slots in between stay 0).
fn loadWeights(wOff: u32, k: u32, n: u32, N: u32) {
  for (var p = 0u; p < NREC; p++) { w[p] = weights[wOff + p]; }
  for (var q = 0u; q < NSTATE; q++) { w[OFF_H0 + q] = states[(k * NSTATE + q) * N + n]; }
}

// @dropout

// The dropout factor of input i at step t of chunk sequence n: 0, or 1/(1 − p) where kept (src/dropout.ts dropKeep).
fn dropFactor(t: u32, n: u32, i: u32) -> f32 {
  return dropoutFactor(params.dropSeed, params.layer, params.seqBase + n, t, i, params.dropThreshold, params.dropScale);
}

fn loadX(t: u32, n: u32, N: u32) -> array<f32, I> {
  var v: array<f32, I>;
  for (var i = 0u; i < I; i++) {
    v[i] = x[(t * I + i) * N + n];
    if (DROPOUT) { v[i] *= dropFactor(t, n, i); }
  }
  return v;
}

fn loadState(d: u32, t: u32, n: u32, N: u32) -> array<f32, NSTATE> {
  var s: array<f32, NSTATE>;
  for (var q = 0u; q < NSTATE; q++) { s[q] = hs[((d * params.steps + t) * NSTATE + q) * N + n]; }
  return s;
}

// Dispatches past 65535 workgroups are folded into 2D; the host rounds the count up, so guard the tail.
fn invocationIndex(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

// Step t of the direction's processing step τ of a sequence of len steps.
fn stepOf(tau: u32, len: u32, d: u32) -> u32 {
  return select(tau, len - 1u - tau, d == 1u);
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
           @builtin(local_invocation_index) lid: u32) {
  let N = params.n;
  let m = invocationIndex(wid, nwg, lid);
  if (m >= N * params.dirs) { return; }
  let d = select(0u, 1u, m >= N);
  let n = m - d * N;
  let k = params.k0 + d;
  let len = lengths[n];
  loadWeights(select(params.w0, params.w1, d == 1u), k, n, N);
  var s = cellInit();
  zScaled = 0.0;
  for (var tau = 0u; tau < len; tau++) {
    let t = stepOf(tau, len, d);
    s = cellForward(s, loadX(t, n, N));
    for (var j = 0u; j < H; j++) { out[(t * params.dh + d * H + j) * N + n] = s[j]; }
    if (STORE_STATES) {
      for (var q = 0u; q < NSTATE; q++) { hs[((d * params.steps + t) * NSTATE + q) * N + n] = s[q]; }
    }
  }
  states[params.ovfAt + k * N + n] = select(0.0, 1.0, overflowed(zScaled));
  if (WRITE_FINAL) {
    for (var q = 0u; q < NSTATE; q++) { states[params.finAt + (k * NSTATE + q) * N + n] = s[q]; }
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) lid: u32) {
  let N = params.n;
  let T = params.steps;
  let m = invocationIndex(wid, nwg, lid);
  if (m >= N * params.dirs) { return; }
  let d = select(0u, 1u, m >= N);
  let n = m - d * N;
  let wOff = select(params.w0, params.w1, d == 1u);
  let len = lengths[n];
  loadWeights(wOff, params.k0 + d, n, N);

  var g: array<f32, NPARAM>;   // dSSR/dθ of this layer-direction in w's layout (the readout's slots stay 0)
  var dS: array<f32, NSTATE>;  // dSSR/ds at the current processing step, carried from the next one
  // s at the current processing step, carried from the next one (where it was s_{τ−1}); the last is loaded here.
  var st: array<f32, NSTATE>;
  if (len > 0u) { st = loadState(d, stepOf(len - 1u, len, d), n, N); }
  let K = params.truncation;
  var phase = (len - 1u) % K;  // τ % K, counted down with τ
  for (var r = 0u; r < len; r++) {
    let tau = len - 1u - r;
    let t = stepOf(tau, len, d);
    // dSSR/dh_t from above: the sources in order (the reverse direction's after the forward one's).
    for (var j = 0u; j < H; j++) {
      var a = 0.0;
      for (var src = 0u; src < params.sources; src++) { a += dgrad[params.aboveAt + ((src * T + t) * params.dh + d * H + j) * N + n]; }
      dS[j] += a;
    }
    var sp: array<f32, NSTATE>;
    if (tau > 0u) {
      sp = loadState(d, stepOf(tau - 1u, len, d), n, N);
    } else {
      sp = cellInit();
    }
    let dPrev = cellBackward(&g, dS, st, sp, loadX(t, n, N));
    st = sp;
    if (INPUT_GRAD) {
      for (var i = 0u; i < I; i++) {
        var dx = dInput[i];
        if (DROPOUT) { dx *= dropFactor(t, n, i); }
        dgrad[params.belowAt + ((d * T + t) * I + i) * N + n] = dx;
      }
    }
    // dS of step τ−1 is the cell's, or 0 where truncation detaches s_{τ−1} (select, so an Inf cannot become NaN).
    let detach = phase == 0u;
    for (var q = 0u; q < NSTATE; q++) { dS[q] = select(dPrev[q], 0.0, detach); }
    phase = select(phase - 1u, K - 1u, detach);
  }
  for (var p = 0u; p < NREC; p++) { rows[(2u + wOff + p) * N + n] = g[p]; }
}
