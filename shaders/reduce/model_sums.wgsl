// model_sums.wgsl — adds each row's `cols` columns in fixed order (column 0, 1, 2, …): one invocation per row.
// The per-sequence driver (per_sequence/bptt.wgsl, `train` interface) writes a population's per-model partial sums
// as rows (r·M + m) of C columns; this leaves one value per row, sums[r·M + m]. No atomics and no trees: the order of every addition depends only on the sizes, so the
// same input gives bit-identical sums (and a model's sums do not depend on how many other models there are).

override WG: u32 = 64u;

struct Params {
  rows: u32,   // number of rows (R·M)
  cols: u32,   // columns per row (C)
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> sums: array<f32>;

@compute @workgroup_size(WG)
fn sum_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) lid: u32) {
  let r = (wid.y * nwg.x + wid.x) * WG + lid;  // folded into 2D past 65535 workgroups
  if (r >= params.rows) { return; }
  var acc = 0.0;
  for (var c = 0u; c < params.cols; c++) { acc += src[r * params.cols + c]; }
  sums[r] = acc;
}
