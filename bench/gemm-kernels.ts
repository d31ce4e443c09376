// Times each gemm kernel kind alone (one dispatch per kind, repeated) at one shape on the acquired adapter, and
// prints GFLOP/s per kind (2·M·NC·K flops; the weight-gradient kinds over one block of steps, all parts). Values are random; this measures speed only, not results.
//
//   npx tsx bench/gemm-kernels.ts [--h 256] [--n 1024] [--reps 3] [--shared] [--tile TXxTYxRMxRNxBK] [--ld <floats>]

import { benchOptions, integer } from './options.ts';
import { acquireDevice, describeAdapter } from '../src/gpu/device.ts';
import { GRAD_BLOCK, rowStride, splitParts } from '../src/gpu/gemm/plan.ts';
import { tuningFor } from '../src/gpu/tuning.ts';
import { GemmKernels, STEP_RECORD_BYTES, type GemmKind, type GemmTile } from '../src/gpu/gemm/kernels.ts';

const opts = benchOptions<{ h: number; n: number; reps: number; shared: boolean; tile?: string; ld?: number }>(
  'gemm-kernels',
  'times each gemm kernel kind alone',
  (c) =>
    c
      .option('--h <units>', 'hidden units', integer(1, 512), 256)
      .option('--n <sequences>', 'sequences (columns)', integer(1), 1024)
      .option('--reps <k>', 'timed repeats (the best is kept)', integer(1), 3)
      .option('--shared', 'stage tiles in workgroup memory', false)
      .option('--tile <TXxTYxRMxRNxBK>', 'one tile for every kind, e.g. 8x8x8x8x16')
      .option(
        '--ld <floats>',
        "row stride of the state, dz and dy slots (default: the planner's, rowStride(n))",
        integer(1),
      ),
);
const H = opts.h;
const n = opts.n;
const ld = opts.ld ?? rowStride(n);
if (ld < n) {
  console.error(`gemm-kernels: --ld must be at least --n (${n}), got ${ld}`);
  process.exit(2);
}
const reps = opts.reps;
let tile: GemmTile | undefined;
if (opts.tile) {
  const f = opts.tile.split('x').map((v) => integer(1, 1024)(v));
  if (f.length !== 5) {
    console.error(`gemm-kernels: --tile must be TXxTYxRMxRNxBK, got "${opts.tile}"`);
    process.exit(2);
  }
  tile = { tx: f[0], ty: f[1], rm: f[2], rn: f[3], bk: f[4] };
}
const I = 1;
const O = 1;
const { device } = await acquireDevice();
const shared = opts.shared;
const k = await GemmKernels.load(device, {
  inputSize: I,
  hiddenSize: H,
  outputSize: O,
  activation: 'tanh',
  outAll: false,
  writeY: false,
  hasTargets: true,
  shared,
  tile,
});
const P = H * I + H * H + H + O * H + O;
const S = GPUBufferUsage.STORAGE;
const buf = (
  floats: number,
  usage = S | GPUBufferUsage.COPY_DST,
  data?: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>,
): GPUBuffer => {
  const b = device.createBuffer({ label: 'bench', size: Math.max(16, floats * 4), usage });
  if (data) device.queue.writeBuffer(b, 0, data);
  return b;
};
const rand = (len: number): Float32Array<ArrayBuffer> => Float32Array.from({ length: len }, () => Math.random() - 0.5);
// work: accumulators, G dy slots, G + 2 dz slots, rows, partials; states: G + 1 slots (h_{-1} first).
const G = GRAD_BLOCK;
const { parts, partLen } = splitParts(n, { inputSize: I, hiddenSize: H, wgradGroups: tuningFor(device).wgradGroups });
const dyOff = Math.ceil(P / 64) * 64;
const dzOff = dyOff + Math.ceil((G * O * ld) / 64) * 64;
const rows = dzOff + Math.ceil(((G + 2) * H * ld) / 64) * 64;
const partials = rows + Math.ceil(((O + 1) * n) / 64) * 64;
const workFloats = partials + parts * P;
const weights = buf(P + H + H * H + H * O, undefined, rand(P + H + H * H + H * O));
const lengths = buf(n, undefined, new Uint32Array(n).fill(G));
const xs = buf(n * G * I, undefined, rand(n * G * I));
const targets = buf(n * O, undefined, rand(n * O));
const ys = buf(n * O);
const states = buf((G + 1) * H * ld, undefined, rand((G + 1) * H * ld));
const work = buf(workFloats, undefined, rand(workFloats));
const flags = buf(n, undefined, new Uint32Array(n));
// Record 0, a single step: t=1, count=1, cur=slot 1, prev=slot 0, no second slot, dzCur, dzNext, a prediction and
// the gradient flowing from t+1, dy. Record 1, a block of G steps for the weight-gradient products (every step with
// a prediction). Packed by member name (gemm.wgsl's Step struct and flags).
const { NONE, HAS_DY, FLOW } = k.flags;
const rec = k.packSteps([
  {
    t: 1,
    count: 1,
    cur: H * ld,
    prev: 0,
    also: NONE,
    dzCur: dzOff,
    dzNext: dzOff + H * ld,
    flags: HAS_DY | FLOW,
    dy: dyOff,
  },
  { t: 0, count: G, cur: H * ld, prev: 0, also: NONE, dzCur: dzOff, dzNext: 0, flags: 2 ** G - 1, dy: dyOff },
]);
const steps = buf((2 * STEP_RECORD_BYTES) / 4, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, rec);
const dims = buf(8, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
device.queue.writeBuffer(
  dims,
  0,
  // scratch: the gated cells' rows; an Elman model has none.
  k.kernel('step').uniform('dims', { n, ld, dy: dyOff, rows, parts, partLen, partials, scratch: 0 }),
);
const buffers = {
  dims,
  step: { buffer: steps, offset: 0, size: k.uniformLayout('step').size },
  weights,
  lengths,
  xs,
  targets,
  ys,
  states,
  work,
  flags,
};
const K: Partial<Record<GemmKind, number>> = {
  proj: I,
  step: H,
  out: H,
  dz: O + H,
  wgradH: G * n,
  wgradY: G * n,
  init: 1,
  wsum: parts,
};
const record: Partial<Record<GemmKind, number>> = { wgradH: 1, wgradY: 1 };
const batches: Partial<Record<GemmKind, number>> = { wgradH: parts, wgradY: parts };
const out: Record<string, string> = {};
for (const kind of ['init', 'proj', 'step', 'out', 'dz', 'wgradH', 'wgradY', 'wsum'] as GemmKind[]) {
  const bg = k.kernel(kind).bind('bench', buffers);
  const run = async (): Promise<number> => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    k.encode(pass, kind, bg, record[kind] ?? 0, n, batches[kind] ?? 1);
    pass.end();
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await run();
  let best = Infinity;
  for (let r = 0; r < reps; r++) best = Math.min(best, await run());
  const [M, NC] = k.size(kind, n);
  const gf = (2 * M * NC * K[kind]!) / (best / 1000) / 1e9;
  out[kind] = `${best.toFixed(1)} ms ${gf.toFixed(2)} GFLOP/s`;
}
console.log(
  JSON.stringify({ adapter: describeAdapter(device.adapterInfo), H, n, ld, shared, block: G, parts, ...out }, null, 1),
);
