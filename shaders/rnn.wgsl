// rnn.wgsl — the RNN over a chunk of sequences, one invocation per sequence, looping over time.
//
//   s_t = cell(s_{t-1}, x_t) (Elman: h_t = act(Wx·x_t + Wh·h_{t-1} + bh)),   y_t = Wy·h_t + by,   SSR = Σ (y − target)²
//
// One entry point, `main`, in two variants chosen by the BACKWARD override:
//   forward (BACKWARD = false) — predictions (optional); each sequence's SSR (row 0 of `rows`) and overflow
//             flag (row 1). `hs` is not touched (the host binds a placeholder).
//   bptt    (BACKWARD = true) — forward, storing the state s_t, then backpropagation through time; writes rows 0 and 1
//             as above and the sequence's dSSR/dθ to rows 2..NPARAM+1. reduce.wgsl then sums the rows over
//             sequences. `params.truncation` cuts the backward recurrence every k steps (truncated BPTT).
// The overflow flag is 1 when a pre-activation left the float32 range (±Inf, or NaN from Inf − Inf): ReLU would
// turn such a NaN into 0 and hide it, so the host reports the run as non-finite instead. The cell (Elman today) is
// spliced in from shaders/cells/ at the `// @cell` line below; this file holds only the per-sequence strategy.
//
// Layout (time-major, so neighbouring invocations touch neighbouring words; N = params.n):
//   xs[(t*I + i)*N + n]   hs[(t*NSTATE + q)*N + n]   rows[r*N + n] (r: 0 SSR, 1 overflow, 2.. gradients)
//   targets/ys: `last` [o*N + n], `all` [(t*O + o)*N + n]
//   weights: the cell's parameters in canonical order, then its initial state (NWEIGHTS floats; src/cells/).

// Shape constants. Private arrays need const-expression lengths, which overrides cannot set, so the host
// specializes exactly these three lines per model shape (src/gpu/specialize.ts). All else is an override.
const H: u32 = 1u;
const I: u32 = 1u;
const O: u32 = 1u;

// The cell: its parameter layout (OFF_*, NPARAM, NSTATE, NWEIGHTS), act/actGrad, the overflow test, cellInit,
// cellForward, cellBackward, predict, readoutBackward, outIndex, and the private `w` and `zScaled` (src/gpu/cell.ts).
// @cell backward

override WG: u32 = 64u;          // invocations (sequences) per workgroup
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

fn loadWeights() {
  for (var p = 0u; p < NWEIGHTS; p++) { w[p] = weights[p]; }
}

fn loadX(t: u32, n: u32, N: u32) -> array<f32, I> {
  var x: array<f32, I>;
  for (var i = 0u; i < I; i++) { x[i] = xs[(t * I + i) * N + n]; }
  return x;
}

// Predictions at step t: stores them if asked and returns their squared error.
fn emit(s: array<f32, NSTATE>, t: u32, n: u32, N: u32) -> f32 {
  var sq = 0.0;
  for (var o = 0u; o < O; o++) {
    let y = predict(s, o);
    let k = outIndex(t, o, n, N);
    if (WRITE_Y) { ys[k] = y; }
    if (HAS_TARGETS) {
      let d = y - targets[k];
      sq += d * d;
    }
  }
  return sq;
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

  // Forward; with BACKWARD, keeping every state s_t for the backward sweep.
  var s = cellInit();
  var loss = 0.0;
  for (var t = 0u; t < len; t++) {
    s = cellForward(s, loadX(t, n, N));
    if (BACKWARD) {
      for (var q = 0u; q < NSTATE; q++) { hs[(t * NSTATE + q) * N + n] = s[q]; }
    }
    if (OUT_ALL || t + 1u == len) { loss += emit(s, t, n, N); }
  }
  rows[n] = loss;
  rows[N + n] = select(0.0, 1.0, overflowed(zScaled));
  if (!BACKWARD) { return; }

  // Backward through time. g holds this sequence's dSSR/dθ in the canonical parameter order.
  var g: array<f32, NPARAM>;
  var dS: array<f32, NSTATE>;  // dSSR/ds_t, carried from step t+1 through the cell
  var st = s;                  // s_t, carried from step t+1 (it was that step's s_{t-1})
  let K = params.truncation;
  var phase = (len - 1u) % K;  // t % K, counted down with t (no division per step)
  for (var r = 0u; r < len; r++) {
    let t = len - 1u - r;
    if (OUT_ALL || t + 1u == len) {
      for (var o = 0u; o < O; o++) {
        let dy = 2.0 * (predict(st, o) - targets[outIndex(t, o, n, N)]);
        readoutBackward(&g, &dS, st, o, dy);
      }
    }
    var sp: array<f32, NSTATE>;
    if (t > 0u) {
      for (var q = 0u; q < NSTATE; q++) { sp[q] = hs[((t - 1u) * NSTATE + q) * N + n]; }
    } else {
      sp = cellInit();
    }
    let dPrev = cellBackward(&g, dS, st, sp, loadX(t, n, N));
    // dS_{t-1} is the cell's, or 0 where truncation detaches s_{t-1} (select, not ×0, so an Inf cannot become NaN).
    let detach = phase == 0u;
    for (var q = 0u; q < NSTATE; q++) { dS[q] = select(dPrev[q], 0.0, detach); }
    phase = select(phase - 1u, K - 1u, detach);
    st = sp;
  }
  for (var p = 0u; p < NPARAM; p++) { rows[(2u + p) * N + n] = g[p]; }
}
