// optimizer.wgsl — one optimizer step for every model of a population, in place, one invocation per model. The
// float64 reference is src/train/optimizer.ts; the order of the checks is the same:
//   1. a stopped model (status ≠ 0) is left alone;
//   2. the step's loss goes to lastLoss and, at record steps, to curves (and the weights to traj);
//   3. a non-finite loss, an overflowed hidden state or a non-finite gradient stops the model as diverged, with its
//      weights unchanged (the last finite ones); a loss ≤ threshold stops it as converged, before the update;
//   4. g ← g·mask, clipped to the global norm; SGD with momentum or Adam with bias correction; if any new weight
//      or moment is not finite the model stops as diverged with its weights unchanged.
// sums[r·M + m] (model_sums.wgsl): r = 0 SSR, 1 overflow count, 2 + p dSSR/dθ_p. weights[m·NW + p].
// Non-finite is tested on the bits (exponent all ones), which compilers cannot fold away as fast-math may
// fold isinf/isnan-style comparisons.

override WG: u32 = 64u;

struct Config {
  models: u32,       // M
  nparam: u32,       // P
  nweights: u32,     // NW: the stride of a model's weights (P + H: h0 follows the parameters)
  adam: u32,         // 0 SGD with momentum, 1 Adam
  momentum: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  hasThreshold: u32,
  threshold: f32,
  clipNorm: f32,     // 0: no clipping
  trajectory: u32,   // 1: record the weights at record steps
  trajBase: u32,     // offset of the trajectory in `records` (after lastLoss and the curves)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

struct Step {
  orderOffset: u32,  // unused here (train.wgsl's)
  slot: u32,         // record slot of this step, or 0xFFFFFFFF
  k: u32,            // 0-based step number
  _pad: u32,
  lrA: f32,          // lr = lrs[m]·lrA + lrB (the schedule)
  lrB: f32,
  c1: f32,           // Adam bias corrections 1 − β1^(k+1), 1 − β2^(k+1)
  c2: f32,
}

@group(0) @binding(0) var<uniform> cfg: Config;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> sums: array<f32>;
// lrs[m] at [m], then the trainable mask (1 or 0 per parameter) at [M + p].
@group(0) @binding(3) var<storage, read> consts: array<f32>;
@group(0) @binding(4) var<storage, read_write> weights: array<f32>;
// SGD velocity or Adam's first moment at [m·P + p], Adam's second moment at [M·P + m·P + p].
@group(0) @binding(5) var<storage, read_write> moments: array<f32>;
// Per model: 0 training, 1 converged, 2 diverged (train.wgsl skips stopped models).
@group(0) @binding(6) var<storage, read_write> status: array<u32>;
// Per model: updates applied at [2m], the step it diverged at (or 0xFFFFFFFF) at [2m + 1].
@group(0) @binding(7) var<storage, read_write> info: array<u32>;
// The latest loss at [m], the loss curves at [M + slot·M + m], the weights at trajBase + (slot·M + m)·P + p.
@group(0) @binding(8) var<storage, read_write> records: array<f32>;

fn bad(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

// The update of parameter p, or NaN-free values with `ok` false when something is not finite.
struct Update {
  w: f32,
  m1: f32,
  m2: f32,
  ok: bool,
}

fn update(m: u32, p: u32, g: f32, lr: f32) -> Update {
  let P = cfg.nparam;
  let M = cfg.models;
  let old = weights[m * cfg.nweights + p];
  var u: Update;
  if (cfg.adam == 0u) {
    u.m1 = cfg.momentum * moments[m * P + p] + g;
    u.m2 = 0.0;
    u.w = old - lr * u.m1;
  } else {
    u.m1 = cfg.beta1 * moments[m * P + p] + (1.0 - cfg.beta1) * g;
    u.m2 = cfg.beta2 * moments[(M + m) * P + p] + (1.0 - cfg.beta2) * g * g;
    u.w = old - lr * (u.m1 / step.c1) / (sqrt(u.m2 / step.c2) + cfg.eps);
  }
  u.ok = !(bad(u.w) || bad(u.m1) || bad(u.m2));
  return u;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let M = cfg.models;
  let m = (wid.y * nwg.x + wid.x) * WG + lid;
  if (m >= M) { return; }
  if (status[m] != 0u) { return; }
  let P = cfg.nparam;
  let loss = sums[m];
  records[m] = loss;
  if (step.slot != 0xFFFFFFFFu) {
    records[M + step.slot * M + m] = loss;
    if (cfg.trajectory != 0u) {
      for (var p = 0u; p < P; p++) { records[cfg.trajBase + (step.slot * M + m) * P + p] = weights[m * cfg.nweights + p]; }
    }
  }
  var diverged = bad(loss) || sums[M + m] > 0.0;
  var sq = 0.0;
  for (var p = 0u; p < P; p++) {
    let g = sums[(2u + p) * M + m] * consts[M + p];
    diverged = diverged || bad(sums[(2u + p) * M + m]);
    sq += g * g;
  }
  if (cfg.clipNorm > 0.0 && bad(sq)) { diverged = true; }
  if (diverged) {
    status[m] = 2u;
    info[m * 2u + 1u] = step.k;
    return;
  }
  if (cfg.hasThreshold != 0u && loss <= cfg.threshold) {
    status[m] = 1u;
    return;
  }
  var scale = 1.0;
  if (cfg.clipNorm > 0.0) {
    let norm = sqrt(sq);
    if (norm > cfg.clipNorm) { scale = cfg.clipNorm / norm; }
  }
  let lr = consts[m] * step.lrA + step.lrB;
  // Check every new value first, then write: a model that would go non-finite keeps its last finite weights.
  for (var p = 0u; p < P; p++) {
    let u = update(m, p, sums[(2u + p) * M + m] * consts[M + p] * scale, lr);
    if (!u.ok) { diverged = true; }
  }
  if (diverged) {
    status[m] = 2u;
    info[m * 2u + 1u] = step.k;
    return;
  }
  for (var p = 0u; p < P; p++) {
    let u = update(m, p, sums[(2u + p) * M + m] * consts[M + p] * scale, lr);
    weights[m * cfg.nweights + p] = u.w;
    moments[m * P + p] = u.m1;
    moments[(M + m) * P + p] = u.m2;
  }
  info[m * 2u] = step.k + 1u;
}
