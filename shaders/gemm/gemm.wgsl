// gemm.wgsl — the `gemm` strategy's kernels (cuDNN-style): every step of the RNN is a tiled matrix product across
// the whole chunk of sequences, with the pointwise work fused into its epilogue, and the weight gradients are
// products over all (sequence, step) pairs. One entry point, `main`; the KIND override picks the operands and the
// epilogue of one product C[m][c] = Σ_k A(m, k)·B(k, c). The kernel is cell-agnostic: the cell's module (part
// `gemm`, spliced below) gives the offsets of the blocks it reads by role and the rows of the step records, and
// defines the epilogues of PROJ, STEP and DZ (gemmProj, gemmStep, gemmDz), where the cell's algebra is (Elman's
// activation, length mask and overflow flag; a gated cell's scratch rows for its gate steps):
//
//   KIND 0 PROJ     Zx_t = Wx·x_t + bh for `count` steps at once (batched over steps), into the state slots
//                   (gated cells: Wx·x_t + bx, NGATE rows, into the Zx rows of the step slots)
//   KIND 1 STEP     h_t = act(Zx_t + Wh·h_{t-1}), in place over Zx_t; 0 past a sequence's end; overflow flags
//                   (gated cells: Zh = Wh·h_{t-1} + bh, NGATE rows, into the scratch rows; the cell's gate step,
//                   shaders/gemm/gates.wgsl, follows)
//   KIND 2 OUT      y_t = Wy·h_t + by: predictions, squared errors per (o, sequence), dy_t = 2(y − target) into
//                   the dy slot step.dy
//   KIND 3 DZ       dz_t = act'(h_t) ⊙ (Wyᵀ·dy_t + Whᵀ·dz_{t+1}) (EXT_DY: dy_t + Whᵀ·dz_{t+1}), 0 past a sequence's end, into the dz slot
//                   step.dzCur (and step.also, a carry slot, at the first step of a block)
//                   (gated cells: dh_t = Wyᵀ·dy_t + Whᵀ·da_{t+1} with K = O + NGATE, into the scratch rows; the
//                   cell's backward gate step, gemm/gates.wgsl, makes da_t and the carry from it)
//   KIND 4 WGRAD_H  dWh += Σ dz_t·h_{t-1}ᵀ, dWx += Σ dz_t·x_tᵀ, dbh += Σ dz_t over a block of `count` steps and
//                   the sequences of one part (K = steps × sequences; columns h, x, 1 in that order, so that all
//                   but the last tiles read h_{t-1} alone). Split-K: part p of dims.parts sums sequences
//                   [p·partLen, (p+1)·partLen) into its own row of partial sums. (Cells whose input side has its
//                   own bias, XC = 0, the gated ones: M = NGATE, columns h and 1 only, from the recurrent side's
//                   da: dWh and dbh; KIND 8 takes dWx and dbx.)
//   KIND 5 WGRAD_Y  dWy += Σ dy_t·h_tᵀ, dby += Σ dy_t over the steps of the block whose bit is set in step.flags
//   KIND 6 INIT     the h0 slot: h0 (and c0) broadcast to every sequence
//   KIND 7 WSUM     the chunk's gradient: work[p] += Σ_q partials[q][p], parts in order q = 0, 1, …
//   KIND 8 WGRAD_X  gated cells: dWx += Σ daX_t·x_tᵀ, dbx += Σ daX_t (the input side's da), as WGRAD_H
//   KIND 9 DX       dSSR/dx_t = Wxᵀ·daX_t (Elman: Wxᵀ·dz_t) for a block of `count` steps (batched over steps), into
//                   `ys` at the step's time in the layer below's layout, (t*I + i)*N + n (a layer of a stacked
//                   network, src/gpu/gemm/layers.ts): with DX_REVERSE the direction runs reversed, so step τ is time
//                   len − 1 − τ; with DX_ADD it adds to what the layer's other direction wrote there
//
// Determinism: every output element is owned by one invocation, which adds its products in a fixed order. The
// weight-gradient partials are loaded, extended and stored by one invocation per (element, part), steps in
// decreasing t and sequences in increasing order, so the additions are the same however the steps are grouped
// into blocks and segments (checkpointed runs equal stored-state runs bit for bit); the parts are then added in
// order by WSUM. No atomics on floats (the overflow flags are u32 atomicOr, whose result does not depend on order).
//
// Layout (N = dims.n sequences in the chunk; every per-sequence array is [row * N + n], except the state, dz and dy
// slots, whose rows are dims.ld ≥ N apart: padded so that the rows a weight-gradient tile reads at once do not all
// fall into the same sets of a CPU adapter's caches, as rows 4 KiB apart do):
//   xs[(t*I + i)*N + n], targets/ys as per_sequence/bptt.wgsl, states: slots of SR×ld values (a step: the state, h first, then
//   for gated cells the cell's record of the step; a checkpoint: the state alone) at the offsets the step record
//   names.
//   weights: the parameters (src/model.ts paramLayout), the initial state (h0, c0), then Whᵀ and Wyᵀ.
//   work: [0, NPARAM) gradient accumulators, dy slots (O×N each) from dims.dy, dz slots (DR×N each: Elman dz,
//   gated cells the da and carry record of gemm/gates.wgsl) at the offsets the step records name, the scratch
//   rows of gated cells (NGATE×N) at dims.scratch, the per-sequence rows (O squared-error rows, then the overflow
//   row) at dims.rows, and the split-K partial sums (dims.parts rows of NPARAM) at dims.partials.

override H: u32 = 1u;
override I: u32 = 1u;
override O: u32 = 1u;
override KIND: u32 = 1u;
override OUT_ALL: bool = false;
override WRITE_Y: bool = false;
override HAS_TARGETS: bool = true;
// A layer of a stacked network (src/gpu/gemm/layers.ts): dSSR/dh_t comes from outside as −½·target, O = H. OUT skips
// its product (y = by = 0, so dy = 2·(0 − target) = dSSR/dh_t exactly), and DZ adds dy itself instead of Wyᵀ·dy.
override EXT_DY: bool = false;

// Tiles: a workgroup of TX×TY invocations computes (TY·RM) × (TX·RN) outputs, K in steps of BK. RM and RN size
// each invocation's private accumulator array, whose length must be a const-expression, so the host specializes
// exactly these two lines (src/gpu/specialize.ts) and unrolls the loops over them; the rest are overrides.
const RM: u32 = 4u;
const RN: u32 = 4u;
const ACC: u32 = RM * RN;
override TX: u32 = 16u;
override TY: u32 = 16u;
override BK: u32 = 16u;
// SHARED: stage A and B tiles in workgroup memory (GPUs). Without it every invocation reads its operands directly,
// with no barriers (CPU-emulated adapters such as SwiftShader, where barriers are costly and caches do the
// staging). Both add the same products in the same order (the staged path also adds its last tile's zero padding,
// so only an exact zero may differ in sign). A run uses one of the two throughout, so its results are deterministic.
override SHARED: bool = true;
override BM: u32 = TY * RM;
override BN: u32 = TX * RN;

// The cell is spliced in here from shaders/cells/ (src/gpu/cell.ts): its parameter layout (NPARAM, NGATE, NSTATE,
// OFF_H0, NWEIGHTS), its activation and the overflow test, the output index, and part `gemm`: generated from the
// descriptor's `gemm` record (src/cells/), the blocks the products read by role, GEMM_WX (input weights, NGATE×I),
// GEMM_WH (recurrent weights, NGATE×H), GEMM_BX (the input side's bias), GEMM_BH (the recurrent side's), GEMM_WY,
// GEMM_BY (the readout), and the step records' rows SR (a step's state slot), DR (its gradient slot: Elman dz, gated
// cells da and carry), ZX (first row of Zx in a step slot), DAX (first row of the input side's da in a gradient
// slot), XC (x columns of WGRAD_H: I where it sums the input side's gradients too, else 0, and WGRAD_X has them);
// then the cell's epilogues gemmProj, gemmStep and gemmDz.
// @cell scalar gemm
// Transposed copies the host appends, so that DZ reads Whᵀ and Wyᵀ row by row like the forward products.
override OFF_WHT: u32 = NWEIGHTS;      // Whᵀ: H×NGATE, [k][q] = Wh[q][k]
override OFF_WYT: u32 = OFF_WHT + H * NGATE; // Wyᵀ: H×O, [j][o] = Wy[o][j]

// Each kind's product: M output rows × N output columns (N 0: one column per sequence of the chunk, dims.n). sizeM
// and sizeN read this table, and so does the host to size the dispatches and pick the tiles (src/gpu/gemm/kernels.ts
// evaluates these declarations for the variant's H, I, O and cell).
override PROJ_M: u32 = NGATE;        override PROJ_N: u32 = 0u;
override STEP_M: u32 = NGATE;        override STEP_N: u32 = 0u;
override OUT_M: u32 = O;             override OUT_N: u32 = 0u;
override DZ_M: u32 = H;              override DZ_N: u32 = 0u;
override WGRAD_H_M: u32 = NGATE;     override WGRAD_H_N: u32 = XC + H + 1u;
override WGRAD_Y_M: u32 = O;         override WGRAD_Y_N: u32 = H + 1u;
override INIT_M: u32 = NSTATE;       override INIT_N: u32 = 0u;
override WSUM_M: u32 = 1u;           override WSUM_N: u32 = NPARAM;
override WGRAD_X_M: u32 = NGATE;     override WGRAD_X_N: u32 = I + 1u;
override DX_M: u32 = I;              override DX_N: u32 = 0u;

// @records begin
// The chunk's dims and the step records, declared here once: src/gpu/gemm/kernels.ts splices these lines into
// gemm/gates.wgsl too, and the host packs both uniforms by member name and reads the flags' values from here
// (src/gpu/reflect.ts).
const NONE: u32 = 0xffffffffu;  // step.also: no second slot
const HAS_DY: u32 = 1u;     // step.flags: this step has a prediction for some sequence (dy is valid)
const FLOW: u32 = 2u;       // gradient flows from step t+1 into h_t
const LOSS: u32 = 4u;       // forward pass: record predictions, squared errors and the overflow row
const DX_ADD: u32 = 8u;     // DX: add to the input gradient already there (the layer's other direction)
const DX_REVERSE: u32 = 16u; // DX: the direction runs reversed (step τ is time len − 1 − τ)

struct Dims {
  n: u32,
  dy: u32,        // offset of dy slot 0 in work
  rows: u32,      // offset of the per-sequence rows in work
  parts: u32,     // split-K parts of the weight-gradient products
  partLen: u32,   // sequences per part
  partials: u32,  // offset of the partial sums in work
  ld: u32,       // row stride of the state, dz and dy slots: n padded so rows do not alias in CPU caches
  scratch: u32,  // gated cells: offset of the scratch rows (NGATE×ld) in work
}

// One record per dispatch. WGRAD_H/WGRAD_Y take a block of `count` steps from t: h_t of step t + j is in the
// state slot cur + j·H·N (h_{t-1} of the block's first step in `prev`), its dz in dzCur + j·H·N, its dy in
// dy + j·O·N.
struct Step {
  t: u32,       // step (PROJ, WGRAD_*: the first of `count` steps)
  count: u32,
  cur: u32,     // offset of h_t's slot in `states`
  prev: u32,    // offset of h_{t-1}'s slot
  also: u32,    // STEP: a second slot to store h_t in (a checkpoint); DZ: the carry slot for dz_t; or NONE
  dzCur: u32,   // offsets of dz_t and dz_{t+1} in `work`
  dzNext: u32,
  flags: u32,   // HAS_DY/FLOW/LOSS; WGRAD_Y: bit j set when step t + j has a prediction
  dy: u32,      // offset of this step's dy slot in work
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}
// @records end

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> lengths: array<u32>;
@group(0) @binding(4) var<storage, read> xs: array<f32>;
@group(0) @binding(5) var<storage, read> targets: array<f32>;
@group(0) @binding(6) var<storage, read_write> ys: array<f32>;
@group(0) @binding(7) var<storage, read_write> states: array<f32>;
@group(0) @binding(8) var<storage, read_write> work: array<f32>;
@group(0) @binding(9) var<storage, read_write> flags: array<atomic<u32>>;

// WGRAD_*: the operand slots of the step being summed (set before each step's loop over the sequences).
var<private> gA: u32;   // dz_t (WGRAD_H) or dy_t (WGRAD_Y) slot in work
var<private> gB: u32;   // h_{t-1} (WGRAD_H) or h_t (WGRAD_Y) slot in states
var<private> gT: u32;   // t

var<workgroup> As: array<f32, BK * BM>;
var<workgroup> Bs: array<f32, BK * BN>;

fn hasFlag(f: u32) -> bool {
  return (step.flags & f) != 0u;
}

// The first operand row range of DZ: skip Wyᵀ·dy when the step has no prediction.
fn dzKStart() -> u32 {
  return select(O, 0u, hasFlag(HAS_DY) && !EXT_DY);
}

// Problem sizes (M rows, NC columns, K) of this dispatch, from the table above; uniform across the workgroup.
fn sizeM() -> u32 {
  switch KIND {
    case 0u: { return PROJ_M; }
    case 1u: { return STEP_M; }
    case 2u: { return OUT_M; }
    case 3u: { return DZ_M; }
    case 4u: { return WGRAD_H_M; }
    case 5u: { return WGRAD_Y_M; }
    case 6u: { return INIT_M; }
    case 7u: { return WSUM_M; }
    case 8u: { return WGRAD_X_M; }
    default: { return DX_M; }
  }
}
fn sizeN() -> u32 {
  var nc: u32;
  switch KIND {
    case 0u: { nc = PROJ_N; }
    case 1u: { nc = STEP_N; }
    case 2u: { nc = OUT_N; }
    case 3u: { nc = DZ_N; }
    case 4u: { nc = WGRAD_H_N; }
    case 5u: { nc = WGRAD_Y_N; }
    case 6u: { nc = INIT_N; }
    case 7u: { nc = WSUM_N; }
    case 8u: { nc = WGRAD_X_N; }
    default: { nc = DX_N; }
  }
  return select(nc, dims.n, nc == 0u);
}
// K of one product (WGRAD_*: of one step, the part's sequences).
fn sizeK() -> u32 {
  switch KIND {
    case 0u: { return I; }
    case 1u: { return H; }
    case 2u: { return select(H, 0u, EXT_DY); }
    case 3u: { return select(O, O + NGATE, hasFlag(FLOW)) - dzKStart(); }
    case 9u: { return NGATE; }
    default: { return 0u; }
  }
}
fn batches() -> u32 {
  if (KIND == 0u || KIND == 9u) { return step.count; }
  if (KIND == 4u || KIND == 5u || KIND == 8u) { return dims.parts; }
  return 1u;
}

// WGRAD_*: the parameter an output element (m, c) adds to.
fn paramIndex(m: u32, c: u32) -> u32 {
  if (KIND == 4u) {
    if (c < H) { return GEMM_WH + m * H + c; }
    if (c < H + XC) { return GEMM_WX + m * I + (c - H); }
    return GEMM_BH + m;
  }
  if (KIND == 8u) {
    if (c < I) { return GEMM_WX + m * I + c; }
    return GEMM_BX + m;
  }
  if (c < H) { return GEMM_WY + m * H + c; }
  return GEMM_BY + m;
}

fn loadA(m: u32, k: u32, b: u32) -> f32 {
  let N = dims.n;
  let L = dims.ld;
  switch KIND {
    case 0u: { return weights[GEMM_WX + m * I + k]; }
    case 1u: { return weights[GEMM_WH + m * H + k]; }
    case 2u: { return weights[GEMM_WY + m * H + k]; }
    case 3u: {
      let kk = k + dzKStart();
      if (kk < O) { return weights[OFF_WYT + m * O + kk]; }
      return weights[OFF_WHT + m * NGATE + (kk - O)];
    }
    case 4u, 5u, 8u: { return work[gA + m * L + k]; }
    case 9u: { return weights[GEMM_WX + k * I + m]; }
    default: { return 0.0; }
  }
}

fn loadB(k: u32, c: u32, b: u32) -> f32 {
  let N = dims.n;
  let L = dims.ld;
  switch KIND {
    case 0u: { return xs[((step.t + b) * I + k) * N + c]; }
    case 1u: { return states[step.prev + k * L + c]; }
    case 2u: { return states[step.cur + k * L + c]; }
    case 3u: {
      let kk = k + dzKStart();
      if (kk < O) { return work[step.dy + kk * L + c]; }
      return work[step.dzNext + (kk - O) * L + c];
    }
    case 4u: {
      if (c < H) { return states[gB + c * L + k]; }
      if (c < H + XC) { return xs[(gT * I + (c - H)) * N + k]; }
      return 1.0;
    }
    case 8u: {
      if (c < I) { return xs[(gT * I + c) * N + k]; }
      return 1.0;
    }
    case 5u: {
      if (c < H) { return states[gB + c * L + k]; }
      return 1.0;
    }
    case 9u: { return work[step.dzCur + b * DR * L + (DAX + k) * L + c]; }
    default: { return 0.0; }
  }
}

fn epilogue(m: u32, c: u32, b: u32, acc: f32) {
  let N = dims.n;
  let L = dims.ld;
  switch KIND {
    case 0u: { gemmProj(m, c, b, acc); }
    case 1u: { gemmStep(m, c, acc); }
    case 2u: {
      let y = acc + weights[GEMM_BY + m];
      let len = lengths[c];
      let t = step.t;
      let predicted = t < len && (OUT_ALL || t + 1u == len);
      let k = outIndex(t, m, c, N);
      var dy = 0.0;
      if (predicted) {
        if (WRITE_Y && hasFlag(LOSS)) { ys[k] = y; }
        if (HAS_TARGETS) {
          let d = y - targets[k];
          dy = 2.0 * d;
          if (hasFlag(LOSS)) { work[dims.rows + m * N + c] += d * d; }
        }
      }
      work[step.dy + m * L + c] = dy;
      if (m == 0u && hasFlag(LOSS)) { work[dims.rows + O * N + c] = f32(atomicLoad(&flags[c])); }
    }
    case 3u: { gemmDz(m, c, select(acc, acc + work[step.dy + m * L + c], EXT_DY && hasFlag(HAS_DY))); }
    case 4u, 5u, 8u: {
      work[dims.partials + b * NPARAM + paramIndex(m, c)] = acc;
    }
    case 6u: {
      states[step.cur + m * L + c] = weights[OFF_H0 + m];
    }
    case 7u: {
      var g = 0.0;
      for (var q = 0u; q < dims.parts; q++) { g += work[dims.partials + q * NPARAM + c]; }
      work[c] += g;
    }
    case 9u: {
      let tau = step.t + b;
      let len = lengths[c];
      if (tau < len) {
        let t = select(tau, len - 1u - tau, hasFlag(DX_REVERSE));
        let k = (t * I + m) * N + c;
        ys[k] = select(acc, ys[k] + acc, hasFlag(DX_ADD));
      }
    }
    default: {}
  }
}

// Operands of the direct (unstaged) path over absolute k in one source range `ph` (a constant at every call):
// DZ: 0 = Wyᵀ·dy (k < O), 1 = Whᵀ·dz_{t+1} (k ≥ O); WGRAD_H/WGRAD_Y: 1 = a tile of h columns only, 2 = a tile
// of x_t and bias columns only (WGRAD_H); else loadA/loadB.
fn loadAP(m: u32, k: u32, b: u32, ph: u32) -> f32 {
  if (KIND == 3u) {
    if (ph == 0u) { return weights[OFF_WYT + m * O + k]; }
    return weights[OFF_WHT + m * NGATE + (k - O)];
  }
  return loadA(m, k, b);
}

fn loadBP(k: u32, c: u32, b: u32, ph: u32) -> f32 {
  let N = dims.n;
  let L = dims.ld;
  if (KIND == 3u) {
    if (ph == 0u) { return work[step.dy + k * L + c]; }
    return work[step.dzNext + (k - O) * L + c];
  }
  if ((KIND == 4u || KIND == 5u) && ph == 1u) { return states[gB + c * L + k]; }
  if (KIND == 4u && ph == 2u) { return select(1.0, xs[(gT * I + min(c - H, max(XC, 1u) - 1u)) * N + k], c < H + XC); }
  return loadB(k, c, b);
}

// Adds A(m, k)·B(k, c) for k = kFrom … kTo−1 to this invocation's RM×RN outputs, reading operands directly.
fn direct(acc: ptr<function, array<f32, ACC>>, kFrom: u32, kTo: u32, ph: u32, m0: u32, c0: u32, lid: vec2u,
          M: u32, NC: u32, bt: u32) {
  var a: array<f32, RM>;
  var b: array<f32, RN>;
  for (var k = kFrom; k < kTo; k++) {
    for (var r = 0u; r < RM; r++) {
      let m = m0 + lid.y + r * TY;
      a[r] = select(0.0, loadAP(min(m, M - 1u), k, bt, ph), m < M);
    }
    for (var q = 0u; q < RN; q++) {
      let c = c0 + lid.x + q * TX;
      b[q] = select(0.0, loadBP(k, min(c, NC - 1u), bt, ph), c < NC);
    }
    for (var q = 0u; q < RN; q++) {
      for (var r = 0u; r < RM; r++) { (*acc)[r * RN + q] += a[r] * b[q]; }
    }
  }
}

// A and B tiles are loaded with consecutive invocations on consecutive addresses: along k where the operand is
// contiguous in k (weights row-major, the K = sequences products), else along the row/column.
fn aAlongK() -> bool {
  return true;
}
fn bAlongK() -> bool {
  return KIND == 4u || KIND == 5u || KIND == 8u;
}

// Adds A(m, k)·B(k, c) for k = kFrom … kTo−1 to this invocation's RM×RN outputs through tiles staged in workgroup
// memory (called in uniform control flow: it holds barriers). The last tile's zero padding is added too.
fn staged(acc: ptr<function, array<f32, ACC>>, kFrom: u32, kTo: u32, m0: u32, c0: u32, lid: vec2u, tid: u32,
          M: u32, NC: u32, bt: u32) {
  let threads = TX * TY;
  var a: array<f32, RM>;
  for (var k0 = kFrom; k0 < kTo; k0 += BK) {
    for (var e = tid; e < BK * BM; e += threads) {
      var kk: u32;
      var mm: u32;
      if (aAlongK()) { kk = e % BK; mm = e / BK; } else { mm = e % BM; kk = e / BM; }
      var v = 0.0;
      if (m0 + mm < M && k0 + kk < kTo) { v = loadA(m0 + mm, k0 + kk, bt); }
      As[kk * BM + mm] = v;
    }
    for (var e = tid; e < BK * BN; e += threads) {
      var kk: u32;
      var cc: u32;
      if (bAlongK()) { kk = e % BK; cc = e / BK; } else { cc = e % BN; kk = e / BN; }
      var v = 0.0;
      if (c0 + cc < NC && k0 + kk < kTo) { v = loadB(k0 + kk, c0 + cc, bt); }
      Bs[kk * BN + cc] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      for (var r = 0u; r < RM; r++) { a[r] = As[kk * BM + lid.y + r * TY]; }
      for (var q = 0u; q < RN; q++) {
        let bv = Bs[kk * BN + lid.x + q * TX];
        for (var r = 0u; r < RM; r++) { (*acc)[r * RN + q] += a[r] * bv; }
      }
    }
    workgroupBarrier();
  }
}

// WGRAD_*: this part's sums over the block's steps, last step first, each over the part's sequences in order.
fn weightGradients(acc: ptr<function, array<f32, ACC>>, m0: u32, c0: u32, lid: vec2u, tid: u32, M: u32, NC: u32,
                   part: u32) {
  let N = dims.n;
  let L = dims.ld;
  let kFrom = min(N, part * dims.partLen);
  let kTo = min(N, kFrom + dims.partLen);
  for (var j = step.count; j > 0u; j--) {
    let jj = j - 1u;
    if (KIND == 5u && ((step.flags >> jj) & 1u) == 0u) { continue; }   // no prediction at this step
    gT = step.t + jj;
    if (KIND == 4u) {
      gA = step.dzCur + jj * DR * L;
      gB = select(step.cur + (jj - 1u) * SR * L, step.prev, jj == 0u);
    } else if (KIND == 8u) {
      gA = step.dzCur + jj * DR * L + DAX * L;
    } else {
      gA = step.dy + jj * O * L;
      gB = step.cur + jj * SR * L;
    }
    if (SHARED) {
      staged(acc, kFrom, kTo, m0, c0, lid, tid, M, NC, part);
    } else if (KIND == 8u) {
      direct(acc, kFrom, kTo, 0u, m0, c0, lid, M, NC, part);
    } else if (c0 + BN <= H) {
      direct(acc, kFrom, kTo, 1u, m0, c0, lid, M, NC, part);   // a tile of h columns only
    } else if (KIND == 4u && c0 >= H) {
      direct(acc, kFrom, kTo, 2u, m0, c0, lid, M, NC, part);   // a tile of dWx and dbh columns only
    } else {
      direct(acc, kFrom, kTo, 0u, m0, c0, lid, M, NC, part);
    }
  }
}

@compute @workgroup_size(TX, TY)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let M = sizeM();
  let NC = sizeN();
  let K = sizeK();
  let tilesN = (NC + BN - 1u) / BN;
  let tilesM = (M + BM - 1u) / BM;
  let flat = wid.y * nwg.x + wid.x;   // workgroups past 65535 are folded into 2D
  if (flat >= tilesN * tilesM * batches()) { return; }   // the whole workgroup leaves together
  let tn = flat % tilesN;
  let tm = (flat / tilesN) % tilesM;
  let bt = flat / (tilesN * tilesM);
  let m0 = tm * BM;
  let c0 = tn * BN;
  let tid = lid.y * TX + lid.x;

  var acc: array<f32, ACC>;
  if (KIND == 4u || KIND == 5u || KIND == 8u) {
    // Continue this part's partial sums where the previous block left them.
    for (var r = 0u; r < RM; r++) {
      for (var q = 0u; q < RN; q++) {
        let m = m0 + lid.y + r * TY;
        let c = c0 + lid.x + q * TX;
        if (m < M && c < NC) { acc[r * RN + q] = work[dims.partials + bt * NPARAM + paramIndex(m, c)]; }
      }
    }
    weightGradients(&acc, m0, c0, lid.xy, tid, M, NC, bt);
  } else if (!SHARED) {
    // One k loop per operand source, so the inner loop holds no data-dependent branch (a CPU adapter runs both
    // sides of one, masked). The loops run one after another over increasing k: the same order as one loop.
    if (KIND == 3u) {
      direct(&acc, dzKStart(), O, 0u, m0, c0, lid.xy, M, NC, bt);
      if (hasFlag(FLOW)) { direct(&acc, O, O + NGATE, 1u, m0, c0, lid.xy, M, NC, bt); }
    } else {
      direct(&acc, 0u, K, 0u, m0, c0, lid.xy, M, NC, bt);
    }
  } else {
    staged(&acc, 0u, K, m0, c0, lid.xy, tid, M, NC, bt);
  }
  for (var r = 0u; r < RM; r++) {
    for (var q = 0u; q < RN; q++) {
      let m = m0 + lid.y + r * TY;
      let c = c0 + lid.x + q * TX;
      if (m < M && c < NC) { epilogue(m, c, bt, acc[r * RN + q]); }
    }
  }
}
