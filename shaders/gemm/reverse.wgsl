// gemm/reverse.wgsl — a chunk's time-major rows reversed within each sequence's own length, for the reverse
// direction of a bidirectional network's first layer on the gemm strategy (src/gpu/gemm/layers.ts; PyTorch's
// PackedSequence: step τ of the reverse direction's run is time len − 1 − τ):
//   dst[(τ*W + w)*N + n] = src[((len − 1 − τ)*W + w)*N + n] for τ < len, else 0.
// Every element is written by one invocation: the copy is exact.

override WG: u32 = 64u;

struct Rev {
  n: u32,      // sequences in the chunk (the column stride)
  steps: u32,  // the chunk's longest sequence
  width: u32,  // floats per step (W)
  _pad: u32,
}

@group(0) @binding(0) var<uniform> rev: Rev;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

// One invocation per (τ, w, n): n fastest, so neighbouring invocations write neighbouring words.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let N = rev.n;
  let e = (wid.y * nwg.x + wid.x) * WG + lid;   // folded into 2D past 65535 workgroups
  if (e >= rev.steps * rev.width * N) { return; }
  let n = e % N;
  let row = e / N;            // τ*W + w
  let w = row % rev.width;
  let tau = row / rev.width;
  let len = lengths[n];
  var v = 0.0;
  if (tau < len) { v = src[((len - 1u - tau) * rev.width + w) * N + n]; }
  dst[e] = v;
}
