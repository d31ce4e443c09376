// unroll_study.wgsl — the vanishing/exploding gradient study: for one input sequence x_1..x_T and the seed notes'
// scalar network (h_t = act(w1·x_t + b1 + w2·h_{t−1}), h_0 = 0, predicted = w3·h_T + b2), one invocation per w2
// value runs the forward pass and backpropagation through time, and writes for every k = 0..T−1 (steps back from
// the last input) the term that input x_{T−k} adds to dPredicted/dw1 and to dSSR/dw1:
//
//   g[k]       = dPredicted/dz_{T−k} · x_{T−k}            (identity: w3·w2^k·x_{T−k})
//   contrib[k] = dSSR/dPredicted · g[k],   dSSR/dPredicted = 2·(predicted − observed)
//
// so Σ_k contrib[k] = dSSR/dw1. Layout (time-major, neighbouring invocations touch neighbouring words;
// N = params.count): hs[t*N + j] = h_{t+1}, g[k*N + j], contrib[k*N + j]; outs[j] = predicted,
// outs[N + j] = dSSR/dPredicted, outs[2N + j] = overflow flag (1 when a value left the float32 range).

override WG: u32 = 64u;   // invocations (w2 values) per workgroup

// The Elman cell's activation: act, actGrad (through h), overflowTerm, overflowed and the ACT override
// (shaders/cells/elman.wgsl, spliced by src/gpu/cell.ts).
// @cell activation

struct Params {
  count: u32,   // number of w2 values
  steps: u32,   // T
  w1: f32,
  b1: f32,
  w3: f32,
  b2: f32,
  observed: f32,   // the target
  _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> w2s: array<f32>;
@group(0) @binding(3) var<storage, read_write> hs: array<f32>;
@group(0) @binding(4) var<storage, read_write> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> contrib: array<f32>;
@group(0) @binding(6) var<storage, read_write> outs: array<f32>;

@compute @workgroup_size(WG)
fn study(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = gid.y * nwg.x * WG + gid.x;   // dispatches past 65535 workgroups are folded into 2D
  let N = params.count;
  if (j >= N) { return; }
  let T = params.steps;
  let w2 = w2s[j];
  // Σ overflowTerm(value) stays finite for finite values and becomes ±Inf or NaN with one non-finite value.
  var scaled = 0.0;
  var h = 0.0;
  for (var t = 0u; t < T; t++) {
    let z = params.w1 * xs[t] + params.b1 + w2 * h;
    scaled += overflowTerm(z);
    h = act(z);
    hs[t * N + j] = h;
  }
  let y = params.w3 * h + params.b2;
  let dy = 2.0 * (y - params.observed);
  var dh = params.w3;   // dPredicted/dh_T
  for (var k = 0u; k < T; k++) {
    let t = T - 1u - k;
    let dz = dh * actGrad(hs[t * N + j]);
    let term = dz * xs[t];
    g[k * N + j] = term;
    contrib[k * N + j] = dy * term;
    scaled += overflowTerm(dy * term) + overflowTerm(dz);
    dh = w2 * dz;
  }
  outs[j] = y;
  outs[N + j] = dy;
  outs[2u * N + j] = select(0.0, 1.0, overflowed(scaled));
}
