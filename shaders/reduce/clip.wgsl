// clip.wgsl — the global L2 norm of a gradient vector, and clipping by it: g ← g·min(1, clipNorm/‖g‖).
//
// One workgroup does it all, in a fixed order, so the same gradients give a bit-identical norm:
//   1. m = max |g_p|: each invocation scans p = lid, lid + WG, … in order, then a tree over the WG values;
//   2. s = Σ (g_p/m)²: the same strided scan and the same tree (scaling by m keeps the squares inside float32
//      for any finite g, so ‖g‖ = m·√s never overflows on the way);
//   3. scale = (clipNorm/m)/√s when ‖g‖ > clipNorm, else 1, and every g_p is multiplied by it.
// grads[offset .. offset + count) is the vector; stats[0] = ‖g‖ before clipping, stats[1] = the scale applied.
// clipNorm ≤ 0 computes the norm only. A non-finite g gives a non-finite norm and leaves g as it is.

override WG: u32 = 256u;  // must be a power of two

struct Params {
  offset: u32,
  count: u32,
  clipNorm: f32,
  _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

var<workgroup> tree: array<f32, WG>;

// Tree combine of tree[0..WG) into tree[0]: sum (isMax = false) or max (isMax = true).
fn combine(lid: u32, isMax: bool) {
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      tree[lid] = select(tree[lid] + tree[lid + s], max(tree[lid], tree[lid + s]), isMax);
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn clip_grads(@builtin(local_invocation_index) lid: u32) {
  let off = params.offset;
  let count = params.count;

  var m = 0.0;
  for (var p = lid; p < count; p += WG) { m = max(m, abs(grads[off + p])); }
  tree[lid] = m;
  workgroupBarrier();
  combine(lid, true);
  let big = workgroupUniformLoad(&tree[0]);
  workgroupBarrier();  // everyone has read tree[0] before it is overwritten

  let inv = select(0.0, 1.0 / big, big > 0.0);
  var s = 0.0;
  for (var p = lid; p < count; p += WG) {
    let v = grads[off + p] * inv;
    s += v * v;
  }
  tree[lid] = s;
  workgroupBarrier();
  combine(lid, false);
  let sum = workgroupUniformLoad(&tree[0]);

  let root = sqrt(sum);
  let norm = big * root;
  let clip = params.clipNorm > 0.0 && norm > params.clipNorm;
  let scale = select(1.0, (params.clipNorm / big) / root, clip);
  if (clip) {
    for (var p = lid; p < count; p += WG) { grads[off + p] *= scale; }
  }
  if (lid == 0u) {
    stats[0] = norm;
    stats[1] = scale;
  }
}
