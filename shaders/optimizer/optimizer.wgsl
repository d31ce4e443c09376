// optimizer.wgsl — one optimizer step, in place, for the training loop (src/train/gpu.ts). The float64 reference
// is src/train/optimizer.ts; the order of the checks is the same:
//   1. a stopped model (status ≠ 0) is left alone;
//   2. the step's loss goes to lastLoss and, at record steps, to curves (and the weights to the trajectory);
//   3. a non-finite loss, an overflowed hidden state or a non-finite gradient stops the model as diverged, with its
//      weights unchanged (the last finite ones); a loss ≤ threshold stops it as converged, before the update;
//   4. g ← g·mask, clipped to the global norm, plus the L2 weight decay λ·θ·mask; SGD with momentum or Adam with
//      bias correction; if any new weight or moment is not finite the model stops as diverged with its weights
//      unchanged.
// The loss and the gradient are first scaled by lossScale (1 for the SSR, 1/(values per step) for the mean).
// The stop test (stopOf), the clipping factor (clipScale) and the update rule (updated) are written once, for two
// dispatch shapes:
//   main    one invocation per model of a population (the per-sequence program): sums[r·M + m] (model_sums.wgsl):
//           r = 0 SSR, 1 overflow count, 2 + p dSSR/dθ_p; weights[m·NWEIGHTS + p];
//   check, update, commit, finish: one model, parallel over its parameters (the gemm program), dispatched in this
//           order each step:
//     check   one workgroup: the loss, the stop tests and the gradient's squared norm, summed in a fixed tree
//             (each invocation adds p = lid, lid + WG, … in order, then pairs in halves), so the bits never vary;
//     update  one invocation per parameter: the new weight and moments into scratch, a flag if any is not finite;
//     commit  one invocation per parameter: unless flagged, the new values replace the old, and the weights' copies
//             Whᵀ and Wyᵀ that the gemm kernels read are rewritten;
//     finish  one invocation: the step count, or the divergence when flagged.
//           sums[o] is output unit o's SSR, sums[O] the overflow count, grads[p] dSSR/dθ_p; weights[p].
// Both read and write the same buffers in the same layout (the parallel entry points with M = 1), so the training
// loop's records, status and read-back are one for both. Non-finite is tested on the bits (exponent all ones),
// which compilers cannot fold away as fast-math may fold isinf/isnan-style comparisons.

// Shape constants of `main`, specialized by the host (src/gpu/specialize.ts), which then unrolls the loops over
// NPARAM so that the gradient and the new values stay in registers. The parallel entry points take their sizes
// from `cfg`.
const H: u32 = 1u;
const I: u32 = 1u;
const O: u32 = 1u;
// The cell's parameter layout: NPARAM trainable parameters, NWEIGHTS = NPARAM + the initial state (src/gpu/cell.ts).
// @cell layout

override WG: u32 = 64u;

struct Config {
  models: u32,       // M (1 for the parallel entry points)
  adam: u32,         // 0 SGD with momentum, 1 Adam
  hasThreshold: u32,
  trajectory: u32,   // 1: record the weights at record steps
  momentum: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  threshold: f32,
  clipNorm: f32,     // 0: no clipping
  trajBase: u32,     // offset of the trajectory in `records` (after lastLoss and the curves)
  decay: f32,        // L2 weight decay λ (0: none)
  lossScale: f32,    // 1: SSR; 1/(target values per step): mean
  // The parallel entry points only (0 for main):
  P: u32,            // trainable parameters
  outputs: u32,      // output units: sums[0 … outputs−1] are the SSR per unit, sums[outputs] the overflow count
  hidden: u32,       // H
  whOffset: u32,     // Wh (G×H, row-major: G = gates·H rows) in the parameters
  wyOffset: u32,     // Wy (O×H)
  offWhT: u32,       // Whᵀ (H×G, [k][q] = Wh[q][k]) in `weights`
  offWyT: u32,       // Wyᵀ (H×O, [j][o] = Wy[o][j])
  G: u32,            // rows of Wh: gates·H (H for Elman)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

struct Step {
  orderOffset: u32,  // unused here (the training driver's, per_sequence/bptt.wgsl)
  slot: u32,         // record slot of this step, or 0xFFFFFFFF
  k: u32,            // 0-based step number
  _pad: u32,
  lrA: f32,          // lr = lrs[m]·lrA + lrB (the schedule)
  lrB: f32,
  c1: f32,           // Adam bias corrections 1 − β1^(k+1), 1 − β2^(k+1)
  c2: f32,
}

const NONE = 0xffffffffu;

@group(0) @binding(0) var<uniform> cfg: Config;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> sums: array<f32>;
// The gradient dSSR/dθ at [0, P) (the gemm kernels' work buffer); main reads its gradient from `sums`.
@group(0) @binding(3) var<storage, read> grads: array<f32>;
// lrs[m] at [m], then the trainable mask (1 or 0 per parameter) at [M + p].
@group(0) @binding(4) var<storage, read> consts: array<f32>;
// Model m's parameters at [m·NWEIGHTS, +P), then its initial state; the parallel entry points' one model also has
// the transposed copies after it.
@group(0) @binding(5) var<storage, read_write> weights: array<f32>;
// SGD velocity or Adam's first moment at [m·P + p], Adam's second moment at [M·P + m·P + p]; the parallel entry
// points' scratch: new weight [2P + p], new moments [3P + p] and [4P + p].
@group(0) @binding(6) var<storage, read_write> moments: array<f32>;
// Per model: 0 training, 1 converged, 2 diverged (per_sequence/bptt.wgsl skips stopped models).
@group(0) @binding(7) var<storage, read_write> status: array<u32>;
// Per model: updates applied at [2m], the step it diverged at (or NONE) at [2m + 1]. The parallel entry points'
// step state after them: the decision at [2] (0 nothing: stopped before, 1 record only: stopping now, 2 update), the
// clipping factor's bits at [3], and at [4] 1 when a new value of this step is not finite (an OR: any order).
@group(0) @binding(8) var<storage, read_write> info: array<atomic<u32>>;
// The latest loss at [m], the loss curves at [M + slot·M + m], the weights at trajBase + (slot·M + m)·P + p.
@group(0) @binding(9) var<storage, read_write> records: array<f32>;

var<workgroup> sqs: array<f32, WG>;
var<workgroup> bads: array<u32, WG>;

fn bad(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

// How a model stops on this step's loss, overflow count and gradient: 0 it trains on, 1 converged, 2 diverged.
fn stopOf(loss: f32, overflow: f32, badGrad: bool, sq: f32) -> u32 {
  if (bad(loss) || overflow > 0.0 || badGrad || (cfg.clipNorm > 0.0 && bad(sq))) { return 2u; }
  if (cfg.hasThreshold != 0u && loss <= cfg.threshold) { return 1u; }
  return 0u;
}

// The factor that clips a gradient of squared norm `sq` to clipNorm (1: none).
fn clipScale(sq: f32) -> f32 {
  var scale = 1.0;
  if (cfg.clipNorm > 0.0) {
    let norm = sqrt(sq);
    if (norm > cfg.clipNorm) { scale = cfg.clipNorm / norm; }
  }
  return scale;
}

struct Update {
  w: f32,
  m1: f32,
  m2: f32,
}

// The update of one parameter: `g` its masked, loss-scaled gradient, `scale` the clipping factor, `mask` its mask,
// `old` its value, `v1` and `v2` its moments, `lr` the step's learning rate.
fn updated(g: f32, scale: f32, mask: f32, old: f32, v1: f32, v2: f32, lr: f32) -> Update {
  let gp = g * scale + cfg.decay * mask * old;
  var u: Update;
  if (cfg.adam == 0u) {
    u.m1 = cfg.momentum * v1 + gp;
    u.m2 = 0.0;
    u.w = old - lr * u.m1;
  } else {
    u.m1 = cfg.beta1 * v1 + (1.0 - cfg.beta1) * gp;
    u.m2 = cfg.beta2 * v2 + (1.0 - cfg.beta2) * gp * gp;
    u.w = old - lr * (u.m1 / step.c1) / (sqrt(u.m2 / step.c2) + cfg.eps);
  }
  return u;
}

fn anyBad(u: Update) -> bool {
  return bad(u.w) || bad(u.m1) || bad(u.m2);
}

fn stop(m: u32, why: u32) {
  status[m] = why;
  if (why == 2u) { atomicStore(&info[m * 2u + 1u], step.k); }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let M = cfg.models;
  let m = (wid.y * nwg.x + wid.x) * WG + lid;
  if (m >= M) { return; }
  if (status[m] != 0u) { return; }
  let loss = sums[m] * cfg.lossScale;
  records[m] = loss;
  if (step.slot != NONE) {
    records[M + step.slot * M + m] = loss;
    if (cfg.trajectory != 0u) {
      for (var p = 0u; p < NPARAM; p++) { records[cfg.trajBase + (step.slot * M + m) * NPARAM + p] = weights[m * NWEIGHTS + p]; }
    }
  }
  var badGrad = false;
  var g: array<f32, NPARAM>;
  var sq = 0.0;
  for (var p = 0u; p < NPARAM; p++) {
    let raw = sums[(2u + p) * M + m] * cfg.lossScale;
    badGrad = badGrad || bad(raw);
    g[p] = raw * consts[M + p];
    sq += g[p] * g[p];
  }
  let why = stopOf(loss, sums[M + m], badGrad, sq);
  if (why != 0u) {
    stop(m, why);
    return;
  }
  let scale = clipScale(sq);
  let lr = consts[m] * step.lrA + step.lrB;
  // Every new value first, then the writes: a model that would go non-finite keeps its last finite weights.
  var w: array<f32, NPARAM>;
  var m1: array<f32, NPARAM>;
  var m2: array<f32, NPARAM>;
  var ok = true;
  for (var p = 0u; p < NPARAM; p++) {
    let u = updated(g[p], scale, consts[M + p], weights[m * NWEIGHTS + p], moments[m * NPARAM + p], moments[(M + m) * NPARAM + p], lr);
    w[p] = u.w;
    m1[p] = u.m1;
    m2[p] = u.m2;
    ok = ok && !anyBad(u);
  }
  if (!ok) {
    stop(m, 2u);
    return;
  }
  for (var p = 0u; p < NPARAM; p++) {
    weights[m * NWEIGHTS + p] = w[p];
    moments[m * NPARAM + p] = m1[p];
    moments[(M + m) * NPARAM + p] = m2[p];
  }
  atomicStore(&info[m * 2u], step.k + 1u);
}

// The parallel entry points: one model (M = 1), the step state at info[2 …].
const DECISION: u32 = 2u;
const SCALE: u32 = 3u;
const BAD: u32 = 4u;

@compute @workgroup_size(WG)
fn check(@builtin(local_invocation_index) lid: u32) {
  var sq = 0.0;
  var b = 0u;
  for (var p = lid; p < cfg.P; p += WG) {
    let raw = grads[p] * cfg.lossScale;
    if (bad(raw)) { b = 1u; }
    let g = raw * consts[1u + p];
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
  if (status[0] != 0u) {
    atomicStore(&info[DECISION], 0u);
    return;
  }
  var loss = 0.0;
  for (var o = 0u; o < cfg.outputs; o++) { loss += sums[o]; }
  loss = loss * cfg.lossScale;
  records[0] = loss;
  if (step.slot != NONE) { records[1u + step.slot] = loss; }
  let why = stopOf(loss, sums[cfg.outputs], bads[0] != 0u, sqs[0]);
  if (why != 0u) {
    stop(0u, why);
    atomicStore(&info[DECISION], 1u);
    return;
  }
  atomicStore(&info[SCALE], bitcast<u32>(clipScale(sqs[0])));
  atomicStore(&info[BAD], 0u);
  atomicStore(&info[DECISION], 2u);
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
  let d = atomicLoad(&info[DECISION]);
  if (d == 0u) { return; }
  if (cfg.trajectory != 0u && step.slot != NONE) { records[cfg.trajBase + step.slot * P + p] = weights[p]; }
  if (d != 2u) { return; }
  let mask = consts[1u + p];
  let scale = bitcast<f32>(atomicLoad(&info[SCALE]));
  let lr = consts[0] * step.lrA + step.lrB;
  let u = updated(grads[p] * cfg.lossScale * mask, scale, mask, weights[p], moments[p], moments[P + p], lr);
  moments[2u * P + p] = u.w;
  moments[3u * P + p] = u.m1;
  moments[4u * P + p] = u.m2;
  if (anyBad(u)) { atomicOr(&info[BAD], 1u); }
}

@compute @workgroup_size(WG)
fn commit(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
          @builtin(local_invocation_index) lid: u32) {
  let p = paramIndex(wid, nwg, lid);
  let P = cfg.P;
  if (p >= P) { return; }
  if (atomicLoad(&info[DECISION]) != 2u || atomicLoad(&info[BAD]) != 0u) { return; }
  let w = moments[2u * P + p];
  weights[p] = w;
  moments[p] = moments[3u * P + p];
  moments[P + p] = moments[4u * P + p];
  let H = cfg.hidden;
  if (p >= cfg.whOffset && p < cfg.whOffset + cfg.G * H) {
    let q = p - cfg.whOffset;
    weights[cfg.offWhT + (q % H) * cfg.G + q / H] = w;
  }
  if (p >= cfg.wyOffset && p < cfg.wyOffset + cfg.outputs * H) {
    let q = p - cfg.wyOffset;
    weights[cfg.offWyT + (q % H) * cfg.outputs + q / H] = w;
  }
}

@compute @workgroup_size(1)
fn finish() {
  if (atomicLoad(&info[DECISION]) != 2u) { return; }
  if (atomicLoad(&info[BAD]) != 0u) {
    stop(0u, 2u);
  } else {
    atomicStore(&info[0], step.k + 1u);
  }
}
