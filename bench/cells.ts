// Times engine.run on one strategy for each recurrent cell (Elman, LSTM, GRU) at one shape: forward and
// forward + gradient over N sequences of T steps, the median of `reps` runs after one warm-up run (which also
// creates the pipelines), on the acquired adapter. Prints sequence-steps per second and each gated cell's time
// against Elman's at the same H (a gated cell does about gates × Elman's product work).
//
//   npx tsx bench/cells.ts [--h 64] [--n 4096] [--t 16] [--reps 3] [--strategy gemm] [--cells elman,lstm,gru]

import { benchOptions, integer } from './options.ts';
import { CELL_NAMES, CELLS, type CellName } from '../src/cells/index.ts';
import { Engine } from '../src/engine.ts';
import { describeAdapter } from '../src/gpu/device.ts';
import type { StrategyName } from '../src/gpu/strategy.ts';
import { modelFromJSON, type ModelJSON } from '../src/model.ts';
import { randomBatch, Rng } from '../src/random.ts';

const opts = benchOptions<{ h: number; n: number; t: number; reps: number; strategy: StrategyName; cells: string }>(
  'cells',
  'times each cell on one strategy',
  (c) =>
    c
      .option('--h <units>', 'hidden units', integer(1, 512), 64)
      .option('--n <sequences>', 'sequences', integer(1), 4096)
      .option('--t <steps>', 'steps per sequence', integer(1), 16)
      .option('--reps <k>', 'timed runs per phase (the median is kept)', integer(1), 3)
      .option('--strategy <name>', 'kernel strategy', 'gemm')
      .option('--cells <list>', 'cells, comma-separated', CELL_NAMES.join(',')),
);
const cells = opts.cells.split(',').map((s) => s.trim()) as CellName[];
for (const c of cells) {
  if (!CELL_NAMES.includes(c)) {
    console.error(`cells: unknown cell "${c}" (known: ${CELL_NAMES.join(', ')})`);
    process.exit(2);
  }
}
const { h: H, n: N, t: T, reps } = opts;
const I = 1;
const O = 1;

/** Seeded weights uniform in ±1/√H, every block of the cell (gate blocks gates·H rows). */
function model(cell: CellName): ModelJSON {
  const rng = new Rng(1000 + H);
  const s = 1 / Math.sqrt(H);
  const G = CELLS[cell].gates * H;
  const mat = (r: number, k: number): number[][] =>
    Array.from({ length: r }, () => Array.from({ length: k }, () => rng.uniform(-s, s)));
  const vec = (r: number): number[] => Array.from({ length: r }, () => rng.uniform(-s, s));
  const weights =
    cell === 'elman'
      ? { Wx: mat(H, I), Wh: mat(H, H), bh: vec(H), Wy: mat(O, H), by: vec(O) }
      : { Wx: mat(G, I), Wh: mat(G, H), bx: vec(G), bh: vec(G), Wy: mat(O, H), by: vec(O) };
  return {
    ...(cell === 'elman' ? {} : { cell }),
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    activation: 'tanh',
    output: 'last',
    weights,
  };
}

const engine = await Engine.create({ backend: 'webgpu' });
const batch = randomBatch({
  count: N,
  inputSize: I,
  outputSize: O,
  output: 'last',
  minLength: T,
  maxLength: T,
  seed: 7,
});
const rows: Record<string, string | number>[] = [];
const base: Record<string, number> = {};
for (const cell of cells) {
  const m = modelFromJSON(model(cell));
  for (const gradients of [false, true]) {
    const phase = gradients ? 'forward+gradient' : 'forward';
    const t0 = performance.now();
    await engine.run(m, batch, { gradients, strategy: opts.strategy });
    const first = performance.now() - t0;
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t1 = performance.now();
      await engine.run(m, batch, { gradients, strategy: opts.strategy });
      times.push(performance.now() - t1);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)];
    if (cell === 'elman') base[phase] = ms;
    rows.push({
      cell,
      phase,
      strategy: engine.lastRunStats!.strategy,
      'median ms': Number(ms.toFixed(1)),
      'first run ms': Number(first.toFixed(0)),
      'M steps/s': Number(((N * T) / ms / 1000).toFixed(3)),
      ...(base[phase] && cell !== 'elman' ? { '÷ elman': Number((ms / base[phase]).toFixed(2)) } : {}),
    });
  }
}
console.log(
  JSON.stringify({ adapter: describeAdapter(engine.device!.adapterInfo), H, N, T, I, O, reps, results: rows }, null, 1),
);
engine.dispose();
