// per_sequence/readout.wgsl — the readout of a layered run (per_sequence/layer.wgsl), one invocation per sequence:
// y_t = Wy·[h_fwd_t; h_rev_t] + by on the top layer's outputs at the steps with outputs (every step, or the
// sequence's own last), the squared error against the targets, and with BACKWARD dSSR/dWy, dSSR/dby and
// dSSR/dh_top for the top layer's `backward`. Row 0 of `rows` is the sequence's SSR, row 1 its overflow flag: 1 when
// a pre-activation of any of its layer-directions left the float32 range (their flags in `states`).
//
// Layout (time-major; N = params.n, T = params.steps):
//   top[(t*DH + j)*N + n]   targets/ys: `last` [o*N + n], `all` [(t*O + o)*N + n]
//   states: the layers' overflow flags at params.ovfAt + k*N + n, k < params.layers
//   dgrad: dSSR/dh_top at params.topAt + (t*DH + j)*N + n (every t < len; 0 at steps without outputs)
//   rows[(2 + params.gradAt + o*DH + j)*N + n] (dWy), rows[(2 + params.gradAt + O*DH + o)*N + n] (dby): at the
//   flat indices of Wy and by (gradAt = wy, where by follows Wy) among every parameter's rows, or first (0)

// Sizes, specialized by the host (src/gpu/specialize.ts): DH = D·H floats of the top layer per step, O outputs.
const DH: u32 = 1u;
const O: u32 = 1u;

override WG: u32 = 64u;
override OUT_ALL: bool = false;   // predict at every step (many-to-many) instead of the last
override WRITE_Y: bool = false;   // store predictions in `ys`
override HAS_TARGETS: bool = true;
override BACKWARD: bool = false;  // the readout's gradients and dSSR/dh_top

struct Params {
  n: u32,       // sequences in this chunk (the column stride)
  steps: u32,   // the chunk's longest sequence
  layers: u32,  // layer-directions whose overflow flags count
  wy: u32,      // flat offset of Wy (O × DH)
  by: u32,      // flat offset of by (O)
  ovfAt: u32,   // where the overflow flags start in `states` (per_sequence/layer.wgsl)
  topAt: u32,   // where dSSR/dh_top starts in `dgrad`
  gradAt: u32,  // BACKWARD: the row of dSSR/dWy[0][0] after the two rows (dSSR/dby follows)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read> lengths: array<u32>;
@group(0) @binding(3) var<storage, read> top: array<f32>;
@group(0) @binding(4) var<storage, read> targets: array<f32>;
@group(0) @binding(5) var<storage, read_write> ys: array<f32>;
@group(0) @binding(6) var<storage, read_write> states: array<f32>;
@group(0) @binding(7) var<storage, read_write> rows: array<f32>;
@group(0) @binding(8) var<storage, read_write> dgrad: array<f32>;

fn outIndex(t: u32, o: u32, n: u32, N: u32) -> u32 {
  if (OUT_ALL) { return (t * O + o) * N + n; }
  return o * N + n;
}

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
  let WY = params.wy;
  let BY = params.by;
  var flag = 0.0;
  for (var k = 0u; k < params.layers; k++) { flag = max(flag, states[params.ovfAt + k * N + n]); }
  rows[N + n] = flag;
  // dSSR/dWy and dSSR/dby of this sequence, summed over its steps in private memory and written once.
  var gWy: array<f32, O * DH>;
  var gby: array<f32, O>;
  var loss = 0.0;
  // Last step first, as the CPU reference adds the readout's gradients.
  for (var r = 0u; r < len; r++) {
    let t = len - 1u - r;
    let emits = OUT_ALL || t + 1u == len;
    var h: array<f32, DH>;
    for (var j = 0u; j < DH; j++) { h[j] = top[(t * DH + j) * N + n]; }
    var dh: array<f32, DH>;
    // Zeroed explicitly: SwiftShader was seen to keep the previous iteration's values in a loop-local var.
    for (var j = 0u; j < DH; j++) { dh[j] = 0.0; }
    if (emits) {
      for (var o = 0u; o < O; o++) {
        var y = weights[BY + o];
        for (var j = 0u; j < DH; j++) { y += weights[WY + o * DH + j] * h[j]; }
        let at = outIndex(t, o, n, N);
        if (WRITE_Y) { ys[at] = y; }
        if (HAS_TARGETS) {
          let e = y - targets[at];
          loss += e * e;
          if (BACKWARD) {
            let dy = 2.0 * e;
            gby[o] += dy;
            for (var j = 0u; j < DH; j++) {
              gWy[o * DH + j] += dy * h[j];
              dh[j] += weights[WY + o * DH + j] * dy;
            }
          }
        }
      }
    }
    if (BACKWARD) {
      for (var j = 0u; j < DH; j++) { dgrad[params.topAt + (t * DH + j) * N + n] = dh[j]; }
    }
  }
  rows[n] = loss;
  if (BACKWARD) {
    let G = params.gradAt;
    for (var q = 0u; q < O * DH; q++) { rows[(2u + G + q) * N + n] = gWy[q]; }
    for (var o = 0u; o < O; o++) { rows[(2u + G + O * DH + o) * N + n] = gby[o]; }
  }
}
