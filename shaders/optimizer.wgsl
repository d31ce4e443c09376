// optimizer.wgsl — one optimizer step for every model of a population, in place, one invocation per model. The
// float64 reference is src/train/optimizer.ts; the order of the checks is the same:
//   1. a stopped model (status ≠ 0) is left alone;
//   2. the step's loss goes to lastLoss and, at record steps, to curves (and the weights to traj);
//   3. a non-finite loss, an overflowed hidden state or a non-finite gradient stops the model as diverged, with its
//      weights unchanged (the last finite ones); a loss ≤ threshold stops it as converged, before the update;
//   4. g ← g·mask, clipped to the global norm, plus the L2 weight decay λ·θ·mask; SGD with momentum or Adam with
//      bias correction; if any new weight or moment is not finite the model stops as diverged with its weights
//      unchanged.
// The loss and the gradient are first scaled by lossScale (1 for the SSR, 1/(values per step) for the mean).
// sums[r·M + m] (model_sums.wgsl): r = 0 SSR, 1 overflow count, 2 + p dSSR/dθ_p. weights[m·NW + p].
// Non-finite is tested on the bits (exponent all ones), which compilers cannot fold away as fast-math may
// fold isinf/isnan-style comparisons.

// Shape constants, specialized by the host (src/gpu/specialize.ts), which then unrolls the loops over NPARAM so
// that the gradient and the new values stay in registers.
const H: u32 = 1u;
const I: u32 = 1u;
const O: u32 = 1u;
// The cell's parameter layout: NPARAM trainable parameters, NWEIGHTS = NPARAM + the initial state (src/gpu/cell.ts).
// @cell layout

override WG: u32 = 64u;

struct Config {
  models: u32,       // M
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

fn stop(m: u32, why: u32) {
  status[m] = why;
  if (why == 2u) { info[m * 2u + 1u] = step.k; }
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
  if (step.slot != 0xFFFFFFFFu) {
    records[M + step.slot * M + m] = loss;
    if (cfg.trajectory != 0u) {
      for (var p = 0u; p < NPARAM; p++) { records[cfg.trajBase + (step.slot * M + m) * NPARAM + p] = weights[m * NWEIGHTS + p]; }
    }
  }
  var diverged = bad(loss) || sums[M + m] > 0.0;
  var g: array<f32, NPARAM>;
  var sq = 0.0;
  for (var p = 0u; p < NPARAM; p++) {
    let raw = sums[(2u + p) * M + m] * cfg.lossScale;
    diverged = diverged || bad(raw);
    g[p] = raw * consts[M + p];
    sq += g[p] * g[p];
  }
  if (cfg.clipNorm > 0.0 && bad(sq)) { diverged = true; }
  if (diverged) {
    stop(m, 2u);
    return;
  }
  if (cfg.hasThreshold != 0u && loss <= cfg.threshold) {
    stop(m, 1u);
    return;
  }
  var scale = 1.0;
  if (cfg.clipNorm > 0.0) {
    let norm = sqrt(sq);
    if (norm > cfg.clipNorm) { scale = cfg.clipNorm / norm; }
  }
  let lr = consts[m] * step.lrA + step.lrB;
  // Every new value first, then the writes: a model that would go non-finite keeps its last finite weights.
  var w: array<f32, NPARAM>;
  var m1: array<f32, NPARAM>;
  var m2: array<f32, NPARAM>;
  var ok = true;
  for (var p = 0u; p < NPARAM; p++) {
    let old = weights[m * NWEIGHTS + p];
    let gp = g[p] * scale + cfg.decay * consts[M + p] * old;
    if (cfg.adam == 0u) {
      m1[p] = cfg.momentum * moments[m * NPARAM + p] + gp;
      m2[p] = 0.0;
      w[p] = old - lr * m1[p];
    } else {
      m1[p] = cfg.beta1 * moments[m * NPARAM + p] + (1.0 - cfg.beta1) * gp;
      m2[p] = cfg.beta2 * moments[(M + m) * NPARAM + p] + (1.0 - cfg.beta2) * gp * gp;
      w[p] = old - lr * (m1[p] / step.c1) / (sqrt(m2[p] / step.c2) + cfg.eps);
    }
    ok = ok && !(bad(w[p]) || bad(m1[p]) || bad(m2[p]));
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
  info[m * 2u] = step.k + 1u;
}
