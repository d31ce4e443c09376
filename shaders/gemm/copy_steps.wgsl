// gemm/copy_steps.wgsl — a time-major copy of a chunk's per-step rows into the order of one direction's run, for
// the layers of a stacked or bidirectional network on the gemm strategy (src/gpu/gemm/layers.ts): the model's
// inputs reversed for a reverse direction of the first layer, and dSSR/dh_t of one direction (its H of a step's
// D·H floats) as the targets of its program's BPTT. A reverse direction's step τ is time len − 1 − τ within each
// sequence's own length (PyTorch's PackedSequence):
//   dst[(τ*W + w)*N + n] = scale · src[(t*S + off + w)*N + n] for τ < len (t = τ, or len − 1 − τ reversed), else 0.
// With `drop` (training with inter-layer dropout), dSSR/dx_t of layer `layer` goes through that layer's dropout mask
// on the way down (common/dropout.wgsl, src/dropout.ts: unit off + w of step t of the sequence), as the forward pass
// (gemm/emit.wgsl) applied it. Every element is written by one invocation; with scale 1 or −½ the copy is exact.

override WG: u32 = 64u;

struct Copy {
  n: u32,        // sequences in the chunk (the column stride)
  steps: u32,    // the chunk's longest sequence
  width: u32,    // floats per step written (W)
  stride: u32,   // floats per step of the source (S)
  offset: u32,   // first float of a step's source rows (off)
  reverse: u32,  // 1: step τ reads time len − 1 − τ
  scale: f32,
  drop: u32,     // 1: multiply by the dropout mask of layer `layer`'s inputs
  layer: u32,    // the layer whose inputs the source rows are the gradient of
  seqBase: u32,  // the chunk's first sequence's index in the batch, for the mask
  dropSeed: u32,
  dropThreshold: u32, // a value is dropped where its hash is below this (⌊p·2³²⌋)
  dropScale: f32,     // the kept values' factor 1/(1 − p)
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> cp: Copy;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

// @dropout

// One invocation per (τ, w, n): n fastest, so neighbouring invocations write neighbouring words.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let N = cp.n;
  let e = (wid.y * nwg.x + wid.x) * WG + lid;   // folded into 2D past 65535 workgroups
  if (e >= cp.steps * cp.width * N) { return; }
  let n = e % N;
  let row = e / N;            // τ*W + w
  let w = row % cp.width;
  let tau = row / cp.width;
  let len = lengths[n];
  var v = 0.0;
  if (tau < len) {
    let t = select(tau, len - 1u - tau, cp.reverse == 1u);
    v = cp.scale * src[(t * cp.stride + cp.offset + w) * N + n];
    if (cp.drop == 1u) {
      v *= dropoutFactor(cp.dropSeed, cp.layer, cp.seqBase + n, t, cp.offset + w, cp.dropThreshold, cp.dropScale);
    }
  }
  dst[e] = v;
}
