// gemm/carry.wgsl — states carried between runs, for the layer-directions of a network on the gemm strategy
// (src/gpu/gemm/layers.ts), each run by the one-layer gemm kernels (gemm/gemm.wgsl) in its own processing order:
//   load   before a program's pass: each sequence's initial state (the batch's initialStates, h then c) into the
//          program's slot 0, in place of the model's h0 (c0) that INIT broadcasts;
//   store  after each forward segment: the state after each sequence's own last step, where that step lies in the
//          segment (a reverse direction's last step in its order is time 0, as PyTorch's h_n), to `stateOut`.
// Both carry buffers are [(k·rows + m)·n + c] for layer-direction k, state row m (h rows, then c rows) and chunk
// sequence c; the state slots' rows are ld apart (src/gpu/gemm/plan.ts rowStride). Every element is written by
// one invocation: the copies are exact.

override WG: u32 = 64u;

struct Carry {
  n: u32,          // sequences in the chunk
  ld: u32,         // row stride of the state slots
  rows: u32,       // state rows per sequence (H, or 2H for the LSTM)
  k: u32,          // the layer-direction: rows [k·rows, (k + 1)·rows) of the carry buffers
  slot0: u32,      // load: the offset of slot 0; store: the offset of the slot of step t0
  slotStride: u32, // store: floats between consecutive steps' slots
  t0: u32,         // store: the segment's first step (in the direction's processing order)
  count: u32,      // store: steps of the segment
}

@group(0) @binding(0) var<uniform> rec: Carry;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;
@group(0) @binding(2) var<storage, read_write> states: array<f32>;
@group(0) @binding(3) var<storage, read> stateIn: array<f32>;
@group(0) @binding(4) var<storage, read_write> stateOut: array<f32>;

// One invocation per (row m, sequence c), c fastest; folded into 2D past 65535 workgroups.
fn element(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn load(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let e = element(wid, nwg, lid);
  if (e >= rec.rows * rec.n) { return; }
  let m = e / rec.n;
  let c = e % rec.n;
  states[rec.slot0 + m * rec.ld + c] = stateIn[(rec.k * rec.rows + m) * rec.n + c];
}

@compute @workgroup_size(WG)
fn store(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
         @builtin(local_invocation_index) lid: u32) {
  let e = element(wid, nwg, lid);
  if (e >= rec.rows * rec.n) { return; }
  let m = e / rec.n;
  let c = e % rec.n;
  let last = lengths[c] - 1u;
  if (lengths[c] == 0u || last < rec.t0 || last >= rec.t0 + rec.count) { return; }
  stateOut[(rec.k * rec.rows + m) * rec.n + c] = states[rec.slot0 + (last - rec.t0) * rec.slotStride + m * rec.ld + c];
}
