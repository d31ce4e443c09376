// gemm/gates.wgsl — the gemm strategy's elementwise steps of a gated cell (LSTM, GRU), between the products of
// shaders/gemm/gemm.wgsl, one invocation per (unit j, sequence c) of the chunk. The gates of unit j sit in rows j, H + j,
// 2H + j, … of the products, in different tiles, so the cell's nonlinear part runs here, on the unit's record
// (the cell module's part `gates`: gateForward, gateBackward; records of SLOT_VECS and GRAD_VECS H-vectors):
//   KIND 0 GATE       after STEP wrote Zh = Wh·h_{t−1} + bh into the scratch rows: gateForward on the step slot
//                     (the state, then Zx from PROJ), writing back h_t (and c_t) and the values backward needs;
//                     the state also into step.also (a checkpoint) when set; overflow flags
//   KIND 1 GATE_BACK  after DZ wrote dh_t = Wyᵀ·dy_t + Whᵀ·da_{t+1} into the scratch rows: gateBackward with the
//                     carry of step t+1 (vector GATES of its dz slot step.dzNext; 0 unless FLOW), writing the
//                     step's gradient record into its dz slot step.dzCur, and the recurrent side's da and the
//                     carry also into step.also (the carry slot) when set
// Past a sequence's end everything written is 0. Buffers, offsets and step records are gemm.wgsl's (its records
// section is spliced in below).

override H: u32 = 1u;
override I: u32 = 1u;
override O: u32 = 1u;
override KIND: u32 = 0u;
override WG: u32 = 64u;

// @cell gates

// The dims and step record structs and the flags, gemm.wgsl's (src/gpu/gemm/kernels.ts splices them in here).
// @records

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(3) var<storage, read> lengths: array<u32>;
@group(0) @binding(7) var<storage, read_write> states: array<f32>;
@group(0) @binding(8) var<storage, read_write> work: array<f32>;
@group(0) @binding(9) var<storage, read_write> flags: array<atomic<u32>>;

// Vector v of unit j, sequence c, in a slot at `base` (rows ld apart).
fn at(base: u32, v: u32, j: u32, c: u32) -> u32 {
  return base + (v * H + j) * dims.ld + c;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let N = dims.n;
  let e = (wid.y * nwg.x + wid.x) * WG + lid;   // workgroups past 65535 are folded into 2D
  if (e >= H * N) { return; }
  let j = e / N;
  let c = e % N;
  let live = step.t < lengths[c];
  var prev: array<f32, STATE_VECS>;
  var u: array<f32, SLOT_VECS>;
  if (live) {
    for (var v = 0u; v < STATE_VECS; v++) { prev[v] = states[at(step.prev, v, j, c)]; }
    // GATE: the record's state part is gateForward's output, not its input.
    for (var v = select(0u, STATE_VECS, KIND == 0u); v < SLOT_VECS; v++) { u[v] = states[at(step.cur, v, j, c)]; }
  }
  if (KIND == 0u) {
    if (live) {
      var zh: array<f32, GATES>;
      for (var q = 0u; q < GATES; q++) { zh[q] = work[at(dims.scratch, q, j, c)]; }
      u = gateForward(u, zh, prev);
      if (overflowed(gateScaled)) { atomicOr(&flags[c], 1u); }
    }
    for (var v = 0u; v < SLOT_VECS; v++) { states[at(step.cur, v, j, c)] = u[v]; }
    if (step.also != NONE) {
      for (var v = 0u; v < STATE_VECS; v++) { states[at(step.also, v, j, c)] = u[v]; }
    }
  } else {
    var d: array<f32, GRAD_VECS>;
    if (live) {
      var carry = 0.0;
      if ((step.flags & FLOW) != 0u) { carry = work[at(step.dzNext, GATES, j, c)]; }
      d = gateBackward(work[dims.scratch + j * dims.ld + c], carry, u, prev);
    }
    for (var v = 0u; v < GRAD_VECS; v++) { work[at(step.dzCur, v, j, c)] = d[v]; }
    if (step.also != NONE) {
      for (var v = 0u; v <= GATES; v++) { work[at(step.also, v, j, c)] = d[v]; }
    }
  }
}
