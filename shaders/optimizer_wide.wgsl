// optimizer_wide.wgsl — one optimizer step for one model, parallel over its parameters: the update for models too
// large for one invocation each (optimizer.wgsl). The float64 reference is src/train/optimizer.ts; the order of
// the checks is the same:
//   1. a stopped model (status ≠ 0) is left alone;
//   2. the step's loss goes to records[0] and, at record steps, to the curve (and the weights to the trajectory);
//   3. a non-finite loss, an overflowed hidden state or a non-finite gradient stops the model as diverged, with its
//      weights unchanged; a loss ≤ threshold stops it as converged, before the update;
//   4. g ← g·mask, clipped to the global norm, plus the L2 weight decay λ·θ·mask; SGD with momentum or Adam with
//      bias correction; if any new weight or moment is not finite the model stops as diverged with its weights
//      unchanged.
// The loss and the gradient are first scaled by lossScale (1 for the SSR, 1/(values per step) for the mean).
// Four entry points, dispatched in this order each step:
//   check   one workgroup: the loss, the stop tests and the gradient's squared norm, summed in a fixed tree
//           (each invocation adds p = lid, lid + WG, … in order, then pairs in halves), so the bits never vary;
//   update  one invocation per parameter: the new weight and moments into scratch, a u32 flag if any is not finite;
//   commit  one invocation per parameter: unless flagged, the new values replace the old, and the weights' copies
//           Whᵀ and Wyᵀ that the gemm kernels read are rewritten;
//   finish  one invocation: the step count, or the divergence when flagged.
// Non-finite is tested on the bits (exponent all ones), which fast-math compilers cannot fold away.

override WG: u32 = 256u;

struct Config {
  P: u32,            // trainable parameters
  O: u32,            // output units: rows 0 … O−1 of `sums` are the SSR per unit, row O the overflow count
  H: u32,
  adam: u32,         // 0 SGD with momentum, 1 Adam
  hasThreshold: u32,
  trajectory: u32,   // 1: record the weights at record steps
  trajBase: u32,     // offset of the trajectory in `records`
  whOffset: u32,     // Wh (G×H, row-major: G = gates·H rows) in the parameters
  wyOffset: u32,     // Wy (O×H)
  offWhT: u32,       // Whᵀ (H×G, [k][q] = Wh[q][k]) in `weights`
  offWyT: u32,       // Wyᵀ (H×O, [j][o] = Wy[o][j])
  G: u32,            // rows of Wh: gates·H (H for Elman)
  momentum: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  threshold: f32,
  clipNorm: f32,     // 0: no clipping
  lr: f32,           // the model's learning rate before the schedule
  decay: f32,        // L2 weight decay λ (0: none)
  lossScale: f32,    // 1: SSR; 1/(target values per step): mean
  _pad1: f32,
  _pad2: f32,
}

struct Step {
  slot: u32,         // record slot of this step, or 0xFFFFFFFF
  k: u32,            // 0-based step number
  _pad0: u32,
  _pad1: u32,
  lrA: f32,          // lr = cfg.lr·lrA + lrB (the schedule)
  lrB: f32,
  c1: f32,           // Adam bias corrections 1 − β1^(k+1), 1 − β2^(k+1)
  c2: f32,
}

struct State {
  status: u32,       // 0 training, 1 converged, 2 diverged
  stepsDone: u32,    // updates applied
  divergedAt: u32,   // the step it diverged at, or 0xFFFFFFFF
  decision: u32,     // this step: 0 nothing (stopped before), 1 record only (stopping now), 2 update
  scale: f32,        // clipping factor of this step
  bad: atomic<u32>,  // 1 when a new value of this step is not finite (order-independent: an OR)
}

const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> cfg: Config;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> sums: array<f32>;
// The gradient dSSR/dθ at [0, P) (the gemm kernels' work buffer).
@group(0) @binding(3) var<storage, read> grads: array<f32>;
// 1 for trainable parameters, 0 for fixed ones.
@group(0) @binding(4) var<storage, read> mask: array<f32>;
// The parameters at [0, P), then the initial state (h0, c0) and the transposed copies.
@group(0) @binding(5) var<storage, read_write> weights: array<f32>;
// SGD velocity or Adam's first moment at [p], the second moment at [P + p]; scratch: new weight [2P + p], new
// moments [3P + p] and [4P + p].
@group(0) @binding(6) var<storage, read_write> moments: array<f32>;
@group(0) @binding(7) var<storage, read_write> state: State;
// The latest loss at [0], the curve at [1 + slot], the weights at trajBase + slot·P + p.
@group(0) @binding(8) var<storage, read_write> records: array<f32>;

var<workgroup> sqs: array<f32, WG>;
var<workgroup> bads: array<u32, WG>;

fn bad(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

@compute @workgroup_size(WG)
fn check(@builtin(local_invocation_index) lid: u32) {
  var sq = 0.0;
  var b = 0u;
  for (var p = lid; p < cfg.P; p += WG) {
    let raw = grads[p] * cfg.lossScale;
    if (bad(raw)) { b = 1u; }
    let g = raw * mask[p];
    sq += g * g;
  }
  sqs[lid] = sq;
  bads[lid] = b;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      sqs[lid] += sqs[lid + s];
      bads[lid] = bads[lid] | bads[lid + s];
    }
    workgroupBarrier();
  }
  if (lid != 0u) { return; }
  if (state.status != 0u) {
    state.decision = 0u;
    return;
  }
  var loss = 0.0;
  for (var o = 0u; o < cfg.O; o++) { loss += sums[o]; }
  loss = loss * cfg.lossScale;
  records[0] = loss;
  if (step.slot != NONE) { records[1u + step.slot] = loss; }
  let diverged = bad(loss) || sums[cfg.O] > 0.0 || bads[0] != 0u || (cfg.clipNorm > 0.0 && bad(sqs[0]));
  if (diverged) {
    state.status = 2u;
    state.divergedAt = step.k;
    state.decision = 1u;
    return;
  }
  if (cfg.hasThreshold != 0u && loss <= cfg.threshold) {
    state.status = 1u;
    state.decision = 1u;
    return;
  }
  var scale = 1.0;
  if (cfg.clipNorm > 0.0) {
    let norm = sqrt(sqs[0]);
    if (norm > cfg.clipNorm) { scale = cfg.clipNorm / norm; }
  }
  state.scale = scale;
  atomicStore(&state.bad, 0u);
  state.decision = 2u;
}

fn paramIndex(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;  // folded into 2D past 65535 workgroups
}

@compute @workgroup_size(WG)
fn update(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
          @builtin(local_invocation_index) lid: u32) {
  let p = paramIndex(wid, nwg, lid);
  let P = cfg.P;
  if (p >= P) { return; }
  let d = state.decision;
  if (d == 0u) { return; }
  if (cfg.trajectory != 0u && step.slot != NONE) { records[cfg.trajBase + step.slot * P + p] = weights[p]; }
  if (d != 2u) { return; }
  let old = weights[p];
  let gp = grads[p] * cfg.lossScale * mask[p] * state.scale + cfg.decay * mask[p] * old;
  let lr = cfg.lr * step.lrA + step.lrB;
  var m1: f32;
  var m2 = 0.0;
  var w: f32;
  if (cfg.adam == 0u) {
    m1 = cfg.momentum * moments[p] + gp;
    w = old - lr * m1;
  } else {
    m1 = cfg.beta1 * moments[p] + (1.0 - cfg.beta1) * gp;
    m2 = cfg.beta2 * moments[P + p] + (1.0 - cfg.beta2) * gp * gp;
    w = old - lr * (m1 / step.c1) / (sqrt(m2 / step.c2) + cfg.eps);
  }
  moments[2u * P + p] = w;
  moments[3u * P + p] = m1;
  moments[4u * P + p] = m2;
  if (bad(w) || bad(m1) || bad(m2)) { atomicOr(&state.bad, 1u); }
}

@compute @workgroup_size(WG)
fn commit(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
          @builtin(local_invocation_index) lid: u32) {
  let p = paramIndex(wid, nwg, lid);
  let P = cfg.P;
  if (p >= P) { return; }
  if (state.decision != 2u || atomicLoad(&state.bad) != 0u) { return; }
  let w = moments[2u * P + p];
  weights[p] = w;
  moments[p] = moments[3u * P + p];
  moments[P + p] = moments[4u * P + p];
  let H = cfg.H;
  if (p >= cfg.whOffset && p < cfg.whOffset + cfg.G * H) {
    let q = p - cfg.whOffset;
    weights[cfg.offWhT + (q % H) * cfg.G + q / H] = w;
  }
  if (p >= cfg.wyOffset && p < cfg.wyOffset + cfg.O * H) {
    let q = p - cfg.wyOffset;
    weights[cfg.offWyT + (q % H) * cfg.O + q / H] = w;
  }
}

@compute @workgroup_size(1)
fn finish() {
  if (state.decision != 2u) { return; }
  if (atomicLoad(&state.bad) != 0u) {
    state.status = 2u;
    state.divergedAt = step.k;
  } else {
    state.stepsDone = step.k + 1u;
  }
}
