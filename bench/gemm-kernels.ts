// Times each gemm kernel kind alone (one dispatch per kind, repeated) at one shape on the acquired adapter, and
// prints GFLOP/s per kind (2·M·NC·K flops). Values are random; this measures speed only, not results.
//
//   npx tsx bench/gemm-kernels.ts [--h 256] [--n 1024] [--reps 3] [--shared 0|1] [--tile TXxTYxRMxRNxBK]

import { acquireDevice } from '../src/gpu/device.ts';
import { GemmKernels, STEP_RECORD_BYTES, type GemmKind, type GemmTile } from '../src/gpu/kernels/gemm.ts';

const arg = (name: string, dflt: string): string => {
  const k = process.argv.indexOf(`--${name}`);
  return k > 0 ? process.argv[k + 1] : dflt;
};
const H = Number(arg('h', '256'));
const n = Number(arg('n', '1024'));
const reps = Number(arg('reps', '3'));
const I = 1;
const O = 1;
const T = 4;
const { device } = await acquireDevice();
const shared = arg('shared', '0') === '1';
const k = new GemmKernels(device, { inputSize: I, hiddenSize: H, outputSize: O, activation: 'tanh', outAll: false, writeY: false, hasTargets: true, shared, tile: arg('tile', '') ? Object.fromEntries(['tx', 'ty', 'rm', 'rn', 'bk'].map((f, j) => [f, Number(arg('tile', '').split('x')[j])])) as unknown as GemmTile : undefined });
const P = H * I + H * H + H + O * H + O;
const S = GPUBufferUsage.STORAGE;
const buf = (floats: number, usage = S | GPUBufferUsage.COPY_DST, data?: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>): GPUBuffer => {
  const b = device.createBuffer({ label: 'bench', size: Math.max(16, floats * 4), usage });
  if (data) device.queue.writeBuffer(b, 0, data);
  return b;
};
const rand = (len: number): Float32Array<ArrayBuffer> => Float32Array.from({ length: len }, () => Math.random() - 0.5);
const dyOff = Math.ceil(P / 64) * 64;
const dz0 = dyOff + Math.ceil((O * n) / 64) * 64;
const dz1 = dz0 + H * n;
const rows = dz1 + H * n;
const weights = buf(P + H + H * H + H * O, undefined, rand(P + H + H * H + H * O));
const lengths = buf(n, undefined, new Uint32Array(n).fill(T));
const xs = buf(n * T * I, undefined, rand(n * T * I));
const targets = buf(n * O, undefined, rand(n * O));
const ys = buf(n * O);
const states = buf(3 * H * n, undefined, rand(3 * H * n));
const work = buf(rows + (O + 1) * n, undefined, rand(rows + (O + 1) * n));
const flags = buf(n, undefined, new Uint32Array(n));
const words = STEP_RECORD_BYTES / 4;
// one record: t=1, count=1, cur=slot1, prev=slot0, also=NONE, dzCur, dzNext, flags=HAS_DY|FLOW
const rec = new Uint32Array(words);
rec.set([1, 1, H * n, 0, 0xffffffff, dz0, dz1, 3]);
const steps = buf(words, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, rec);
const dims = buf(4, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
device.queue.writeBuffer(dims, 0, k.kernel('step').uniform('dims', { n, dy: dyOff, rows }));
const buffers = { dims, step: { buffer: steps, offset: 0, size: 32 }, weights, lengths, xs, targets, ys, states, work, flags };
const K: Record<GemmKind, number> = { proj: I, step: H, out: H, dz: O + H, wgradH: n, wgradY: n, init: 1 };
const out: Record<string, string> = {};
for (const kind of ['init', 'proj', 'step', 'out', 'dz', 'wgradH', 'wgradY'] as GemmKind[]) {
  const bg = k.kernel(kind).bind('bench', buffers);
  const run = async (): Promise<number> => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    k.encode(pass, kind, bg, 0, n);
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
  const gf = (2 * M * NC * K[kind]) / (best / 1000) / 1e9;
  out[kind] = `${best.toFixed(1)} ms ${gf.toFixed(2)} GFLOP/s`;
}
console.log(JSON.stringify({ H, n, shared, ...out }, null, 1));
