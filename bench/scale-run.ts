// One forward + BPTT run of a large shape (by default H = 256, T = 256, N = 16,384) on WebGPU, printing
// the wall time and RunStats (strategy, chunks, peak GPU bytes, checkpoint interval). Not the benchmark sweep.
//
//   npx tsx bench/scale-run.ts [--h 256] [--t 256] [--n 16384] [--budget BYTES] [--strategy auto|gemm|…]

import { offsetsFromLengths, type Batch } from '../src/batch.ts';
import { Engine } from '../src/engine.ts';
import { randomModel, Rng } from '../src/random.ts';
import type { StrategyChoice } from '../src/gpu/strategy.ts';
import { strategyOption } from '../src/cli/options.ts';
import { benchOptions, integer, parseBytes } from './options.ts';

const opts = benchOptions<{ h: number; t: number; n: number; budget?: number; strategy: StrategyChoice }>(
  'scale-run',
  'one forward + BPTT run of a large shape on WebGPU',
  (c) =>
    c
      .option('--h <units>', 'hidden units', integer(1, 512), 256)
      .option('--t <steps>', 'steps per sequence', integer(1, 4096), 256)
      .option('--n <sequences>', 'sequences', integer(1), 16384)
      .option('--budget <bytes>', 'GPU memory budget (e.g. 512M)', parseBytes)
      .addOption(strategyOption()),
);
const H = opts.h;
const T = opts.t;
const N = opts.n;
const budget = opts.budget;
const strategy = opts.strategy ?? 'auto';

const rng = new Rng(1);
const json = randomModel({ inputSize: 1, hiddenSize: H, outputSize: 1 }, 'tanh', 'last', 7, 1 / Math.sqrt(H));
const batchOf = (n: number): Batch => {
  const lengths = new Uint32Array(n).fill(T);
  return {
    count: n,
    inputSize: 1,
    outputSize: 1,
    output: 'last',
    lengths,
    offsets: offsetsFromLengths(lengths),
    inputs: Float32Array.from({ length: n * T }, () => rng.uniform(-1, 1)),
    targets: Float32Array.from({ length: n }, () => rng.uniform(-1, 1)),
  };
};
const engine = await Engine.create({ backend: 'webgpu', gpu: budget ? { memoryBudget: budget } : {} });
await engine.run(json, batchOf(4), { strategy }); // compiles the pipelines
const batch = batchOf(N);
const t0 = performance.now();
const r = await engine.run(json, batch, {
  strategy,
  onProgress: (done, total) =>
    console.error(`${((performance.now() - t0) / 1000).toFixed(1)} s: ${done} of ${total} sequences done`),
});
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    adapter: engine.adapter,
    H,
    T,
    N,
    seconds: Number(seconds.toFixed(1)),
    loss: r.loss,
    gradNorm: r.gradNorm,
    stats: engine.lastRunStats,
  }),
);
engine.dispose();
