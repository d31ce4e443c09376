// cells/elman.wgsl — the Elman cell, h_t = act(Wx·x_t + Wh·h_{t−1} + bh), for every kernel that runs it. WGSL has
// no includes: the host splices this module (and cells/readout.wgsl) into a kernel in place of its `// @cell <part>`
// line (src/gpu/cell.ts, docs/cells.md), with the parameter layout generated from src/cells/elman.ts:
//   OFF_WX, OFF_WH, OFF_BH, OFF_WY, OFF_BY (Wx H×I, Wh H×H, bh H, Wy O×H, by O), NPARAM, NREC = OFF_WY,
//   NSTATE = H, OFF_H0 = NPARAM, NWEIGHTS = NPARAM + H
// (`const` where the kernel's H, I, O are consts, `override` where they are overrides). Parts (each brings the
// parts it builds on; src/gpu/cell.ts):
//   layout     — the generated layout alone; needs H, I, O (const or override).
//   activation — act and actGrad on scalars (the overflow test comes with cells/readout.wgsl); needs nothing.
//   scalar     — layout, activation and the output index (cells/readout.wgsl); needs H, I, O, OUT_ALL.
//   sequence   — the per-sequence functions on private arrays (state, weights); needs const H, I, O.
//   backward   — cellBackward (BPTT), on top of sequence.
//   tangent    — cellTangent (forward-mode sensitivities, RTRL), on top of sequence.
//   gemm       — the gemm strategy's epilogues (gemmProj, gemmStep, gemmDz), fused into shaders/gemm/gemm.wgsl's
//                products: the bias, the activation, the length mask and the overflow flag of the step, and act'.

// @part activation

override ACT: u32 = 1u;  // 0 identity, 1 relu, 2 tanh (src/cells/elman.ts ACTIVATION_CODE)

fn act(z: f32) -> f32 {
  if (ACT == 1u) { return select(0.0, z, z > 0.0); }
  // tanh saturates to ±1 in float32 beyond |z| = 15; clamping keeps backends whose tanh overflows from giving NaN.
  if (ACT == 2u) { return tanh(clamp(z, -15.0, 15.0)); }
  return z;
}

// act'(z) through h = act(z): ReLU' = 1 where z > 0 (exactly where h > 0), else 0 (0 at z = 0); tanh' = 1 − h².
fn actGrad(h: f32) -> f32 {
  if (ACT == 1u) { return select(0.0, 1.0, h > 0.0); }
  if (ACT == 2u) { return 1.0 - h * h; }
  return 1.0;
}

// @part sequence

// The model's weights in the layout above, copied from storage by the kernel (its loadWeights): with the loops
// unrolled every index is constant, so compilers can keep them in registers instead of reloading them every step.
var<private> w: array<f32, NWEIGHTS>;

// Σ overflowTerm(z) over the current sequence's pre-activations (cellForward adds to it); a kernel running several
// sequences per invocation resets it per sequence.
var<private> zScaled: f32;

// The initial state s_0 = h0.
fn cellInit() -> array<f32, NSTATE> {
  var s: array<f32, NSTATE>;
  for (var j = 0u; j < H; j++) { s[j] = w[OFF_H0 + j]; }
  return s;
}

// s_t from s_{t−1} and x_t: h_j = act(bh_j + Σ_i Wx[j][i]·x_i + Σ_k Wh[j][k]·h_k).
fn cellForward(sPrev: array<f32, NSTATE>, x: array<f32, I>) -> array<f32, NSTATE> {
  var s: array<f32, NSTATE>;
  for (var j = 0u; j < H; j++) {
    var z = w[OFF_BH + j];
    for (var i = 0u; i < I; i++) { z += w[OFF_WX + j * I + i] * x[i]; }
    for (var k = 0u; k < H; k++) { z += w[OFF_WH + j * H + k] * sPrev[k]; }
    zScaled += overflowTerm(z);
    s[j] = act(z);
  }
  return s;
}

// @part backward

// dSSR/dx_t of the last cellBackward, where the kernel sets INPUT_GRAD (a stacked layer passes it to the layer
// below); kernels that leave INPUT_GRAD false never compute it.
override INPUT_GRAD: bool = false;
var<private> dInput: array<f32, I>;

// One step back through the cell. dS = dSSR/ds_t (the readout's share included), s = s_t, sPrev = s_{t−1}, x = x_t:
// adds this step's dSSR/dθ for the cell's blocks to *g (dz = act'(z) ⊙ dh; dWx += dz·xᵀ, dWh += dz·h_{t−1}ᵀ,
// dbh += dz) and returns dSSR/ds_{t−1} through the cell (Whᵀ·dz); truncation is the kernel's business.
fn cellBackward(g: ptr<function, array<f32, NPARAM>>, dS: array<f32, NSTATE>, s: array<f32, NSTATE>,
                sPrev: array<f32, NSTATE>, x: array<f32, I>) -> array<f32, NSTATE> {
  var dz: array<f32, H>;
  for (var j = 0u; j < H; j++) {
    dz[j] = dS[j] * actGrad(s[j]);
    (*g)[OFF_BH + j] += dz[j];
    for (var i = 0u; i < I; i++) { (*g)[OFF_WX + j * I + i] += dz[j] * x[i]; }
    for (var k = 0u; k < H; k++) { (*g)[OFF_WH + j * H + k] += dz[j] * sPrev[k]; }
  }
  if (INPUT_GRAD) {
    for (var i = 0u; i < I; i++) {
      var u = 0.0;
      for (var j = 0u; j < H; j++) { u += w[OFF_WX + j * I + i] * dz[j]; }
      dInput[i] = u;
    }
  }
  var dPrev: array<f32, NSTATE>;
  for (var k = 0u; k < H; k++) {
    var v = 0.0;
    for (var j = 0u; j < H; j++) { v += w[OFF_WH + j * H + k] * dz[j]; }
    dPrev[k] = v;
  }
  return dPrev;
}

// @part tangent

// RTRL's sensitivities ds/dθ_rec: S[q·NREC + p] = ds_q/dθ_p for the parameters of the recurrence.
const NSENS: u32 = NSTATE * NREC;

// One step of forward-mode differentiation (RTRL): replaces *S = ds_{t−1}/dθ_rec by ds_t/dθ_rec,
//   S_t[j][p] = act'(z_j)·( Σ_k Wh[j][k]·S_{t−1}[k][p] + ∂z_j/∂θ_p ),
//   ∂z_j/∂Wx[j][i] = x_i,  ∂z_j/∂Wh[j][k] = h_{t−1}[k],  ∂z_j/∂bh[j] = 1,
// given s = s_t, sPrev = s_{t−1}, x = x_t.
fn cellTangent(S: ptr<function, array<f32, NSENS>>, s: array<f32, NSTATE>, sPrev: array<f32, NSTATE>,
               x: array<f32, I>) {
  var Sn: array<f32, NSENS>;
  for (var j = 0u; j < H; j++) {
    for (var p = 0u; p < NREC; p++) {
      var v = 0.0;
      for (var k = 0u; k < H; k++) { v += w[OFF_WH + j * H + k] * (*S)[k * NREC + p]; }
      Sn[j * NREC + p] = v;
    }
    for (var i = 0u; i < I; i++) { Sn[j * NREC + OFF_WX + j * I + i] += x[i]; }
    for (var k = 0u; k < H; k++) { Sn[j * NREC + OFF_WH + j * H + k] += sPrev[k]; }
    Sn[j * NREC + OFF_BH + j] += 1.0;
    let d = actGrad(s[j]);
    for (var p = 0u; p < NREC; p++) { Sn[j * NREC + p] *= d; }
  }
  *S = Sn;
}

// @part gemm

// The gemm strategy's epilogues (shaders/gemm/gemm.wgsl; they use its buffers, dims and step record), on output (m, c)
// of a product: unit m, sequence c of the chunk, acc = the product's sum. Elman's step slot holds Zx_t, which the
// step product turns into h_t in place; its gradient slot holds dz_t.

// PROJ, step b of the batch: Zx_t = Wx·x_t + bh into the state slot of step t + b.
fn gemmProj(m: u32, c: u32, b: u32, acc: f32) {
  states[step.cur + b * SR * dims.ld + m * dims.ld + c] = acc + weights[OFF_BH + m];
}

// STEP: h_t = act(Zx_t + Wh·h_{t−1}) in place over Zx_t, 0 past the sequence's end; the overflow flag; a copy into
// step.also (a checkpoint) when set.
fn gemmStep(m: u32, c: u32, acc: f32) {
  let L = dims.ld;
  let k = step.cur + m * L + c;
  let z = states[k] + acc;
  var h = 0.0;
  if (step.t < lengths[c]) {
    h = act(z);
    if (overflowed(overflowTerm(z))) { atomicOr(&flags[c], 1u); }
  }
  states[k] = h;
  if (step.also != NONE) { states[step.also + m * L + c] = h; }
}

// DZ: dz_t = act'(h_t) ⊙ (Wyᵀ·dy_t + Whᵀ·dz_{t+1}), 0 past the sequence's end, into the dz slot (and step.also, the
// carry slot, when set).
fn gemmDz(m: u32, c: u32, acc: f32) {
  let L = dims.ld;
  var dz = 0.0;
  if (step.t < lengths[c]) { dz = acc * actGrad(states[step.cur + m * L + c]); }
  work[step.dzCur + m * L + c] = dz;
  if (step.also != NONE) { work[step.also + m * L + c] = dz; }
}
