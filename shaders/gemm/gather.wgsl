// gather.wgsl — copies the sequences of one chunk of a training step out of the whole data set on the GPU: column
// j of the chunk is sequence order[offset + j] of the data set (a mini-batch's draw, or every sequence in order).
// Both sides are time-major like the gemm kernels' chunks (src/gpu/packing.ts): value i of step t of sequence s is
// src[(t*I + i)*total + s] and lands at xs[(t*I + i)*count + j]; values past a sequence's end are written as 0.
// One invocation per column, so neighbouring invocations write neighbouring words.

override I: u32 = 1u;
override O: u32 = 1u;
override OUT_ALL: bool = false;
override HAS_TARGETS: bool = true;
override WG: u32 = 64u;

struct Gather {
  offset: u32,  // first index in `order` of this chunk's columns
  count: u32,   // columns (sequences) of the chunk
  steps: u32,   // time extent of the chunk's arrays (its longest sequence)
  total: u32,   // sequences of the whole data set (the source's row length)
}

@group(0) @binding(0) var<uniform> g: Gather;
@group(0) @binding(1) var<storage, read> order: array<u32>;
@group(0) @binding(2) var<storage, read> srcXs: array<f32>;
@group(0) @binding(3) var<storage, read> srcTargets: array<f32>;
@group(0) @binding(4) var<storage, read> srcLengths: array<u32>;
@group(0) @binding(5) var<storage, read_write> xs: array<f32>;
@group(0) @binding(6) var<storage, read_write> targets: array<f32>;
@group(0) @binding(7) var<storage, read_write> lengths: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let j = (wid.y * nwg.x + wid.x) * WG + lid;  // folded into 2D past 65535 workgroups
  if (j >= g.count) { return; }
  let s = order[g.offset + j];
  if (s >= g.total) { return; }
  let len = srcLengths[s];
  lengths[j] = len;
  let N = g.total;
  let n = g.count;
  for (var t = 0u; t < g.steps; t++) {
    let live = t < len;
    for (var i = 0u; i < I; i++) {
      var v = 0.0;
      if (live) { v = srcXs[(t * I + i) * N + s]; }
      xs[(t * I + i) * n + j] = v;
    }
  }
  if (!HAS_TARGETS) { return; }
  if (OUT_ALL) {
    for (var t = 0u; t < g.steps; t++) {
      let live = t < len;
      for (var o = 0u; o < O; o++) {
        var v = 0.0;
        if (live) { v = srcTargets[(t * O + o) * N + s]; }
        targets[(t * O + o) * n + j] = v;
      }
    }
  } else {
    for (var o = 0u; o < O; o++) { targets[o * n + j] = srcTargets[o * N + s]; }
  }
}
