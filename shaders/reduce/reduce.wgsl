// reduce.wgsl — deterministic sum of every row of a matrix, one level of a fixed tree.
//
// src is R rows × `cols` columns (row r starts at r*inStride). Workgroup (part b, row r) sums columns
// [b*B, (b+1)*B) with B = WG*PER_THREAD: each invocation first adds its PER_THREAD columns in a fixed
// order, then the workgroup adds the WG partial sums as a binary tree in workgroup memory, and writes
// dst[r*outStride + outOffset + b]. The host repeats levels until one column is left. No atomics: the
// order of every addition depends only on the sizes, so the same input gives bit-identical sums.

override WG: u32 = 64u;         // must be a power of two
override PER_THREAD: u32 = 64u;

struct Params {
  cols: u32,
  inStride: u32,
  outStride: u32,
  outOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

var<workgroup> tree: array<f32, WG>;

@compute @workgroup_size(WG)
fn reduce_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let span = WG * PER_THREAD;
  let blocks = (params.cols + span - 1u) / span;
  let part = wid.y * nwg.x + wid.x;   // blocks past 65535 are folded into 2D
  if (part >= blocks) { return; }     // whole workgroup leaves together: uniform
  let row = wid.z;
  var acc = 0.0;
  for (var k = 0u; k < PER_THREAD; k++) {
    let c = part * span + k * WG + lid;
    if (c < params.cols) { acc += src[row * params.inStride + c]; }
  }
  tree[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { tree[lid] += tree[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { dst[row * params.outStride + params.outOffset + part] = tree[0]; }
}
