// gemm/emit.wgsl — the outputs of one layer-direction of a stacked or bidirectional network on the gemm strategy
// (src/gpu/gemm/layers.ts). Each layer-direction runs the one-layer gemm kernels (gemm/gemm.wgsl) over the chunk in
// its own processing order (a reverse direction reads its input reversed within each sequence's length, so step τ
// of its run is time len − 1 − τ). After each forward segment of that run, this copies h of the segment's steps
// (the first H rows of each step slot of `states`) to the layer's outputs at the step's time t,
// out[(t*DH + d*H + j)*N + n], and to the same outputs reversed, outRev[((len − 1 − t)*DH + d*H + j)*N + n], which
// the next layer's reverse direction reads; both 0 past a sequence's end. After the run's last segment it writes
// the direction's overflow flags (`flags`, per sequence) to ovf[k*N + n] as 0 or 1 for the readout
// (per_sequence/readout.wgsl). With `drop` (training with inter-layer dropout, a layer below the top), the outputs
// go through the dropout mask of the layer above's inputs (common/dropout.wgsl, src/dropout.ts): unit d·H + j of
// step t of the sequence. Every output element is written by one invocation: the copies are exact.

override WG: u32 = 64u;

struct Emit {
  n: u32,          // sequences in the chunk (the column stride)
  ld: u32,         // row stride of the state slots (src/gpu/gemm/plan.ts rowStride)
  t0: u32,         // the segment's first step (in the direction's processing order)
  count: u32,      // steps of the segment
  slot0: u32,      // offset in `states` of the slot of step t0
  slotStride: u32, // floats between consecutive steps' slots
  reverse: u32,    // 1: the direction runs reversed (step τ is time len − 1 − τ)
  dh: u32,         // D·H: floats of the layer's output per step
  hOff: u32,       // d·H: where this direction's h goes in a step's output
  h: u32,          // H
  ovfRow: u32,     // k·N: where this layer-direction's overflow flags go in `ovf`
  last: u32,       // 1 after the run's last segment: write the overflow flags
  drop: u32,       // 1: the outputs go through the dropout mask of layer `layer`'s inputs
  layer: u32,      // the layer above (the one that reads these outputs), for the mask
  seqBase: u32,    // the chunk's first sequence's index in the batch, for the mask
  dropSeed: u32,
  dropThreshold: u32, // a value is dropped where its hash is below this (⌊p·2³²⌋)
  dropScale: f32,  // the kept values' factor 1/(1 − p)
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> rec: Emit;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;
@group(0) @binding(2) var<storage, read> states: array<f32>;
@group(0) @binding(3) var<storage, read> flags: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> outRev: array<f32>;
@group(0) @binding(6) var<storage, read_write> ovf: array<f32>;

// @dropout

// One invocation per (step of the segment, j, n), n fastest.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let N = rec.n;
  let H = rec.h;
  let e = (wid.y * nwg.x + wid.x) * WG + lid;   // folded into 2D past 65535 workgroups
  if (e >= rec.count * H * N) { return; }
  let n = e % N;
  let j = (e / N) % H;
  let s = e / (N * H);
  let tau = rec.t0 + s;
  let len = lengths[n];
  if (tau < len) {
    let t = select(tau, len - 1u - tau, rec.reverse == 1u);
    var h = states[rec.slot0 + s * rec.slotStride + j * rec.ld + n];
    if (rec.drop == 1u) {
      h *= dropoutFactor(rec.dropSeed, rec.layer, rec.seqBase + n, t, rec.hOff + j, rec.dropThreshold, rec.dropScale);
    }
    out[(t * rec.dh + rec.hOff + j) * N + n] = h;
    outRev[((len - 1u - t) * rec.dh + rec.hOff + j) * N + n] = h;
  } else {
    out[(tau * rec.dh + rec.hOff + j) * N + n] = 0.0;
    outRev[(tau * rec.dh + rec.hOff + j) * N + n] = 0.0;
  }
  if (rec.last == 1u && s == 0u && j == 0u) {
    ovf[rec.ovfRow + n] = select(0.0, 1.0, flags[n] != 0u);
  }
}
