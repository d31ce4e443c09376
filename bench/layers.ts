// `npm run bench:layers`: what stacking and both directions cost on WebGPU. With the per-sequence strategy (the
// default) it times engine.run (forward, and forward+BPTT) for each cell on one layer in one direction, one
// bidirectional layer and 2 and 3 stacked layers, all through the layered kernels, plus the fused one-layer
// kernel, and prints each time as a ratio to the layered one-layer run: both directions run in the same
// dispatches, so a bidirectional layer should cost at most 2.2× one direction, and L layers at most 1.1·L×. With
// `--strategy gemm` it times the same configurations at `--hidden` units (default 64), as ratios to the one-layer
// gemm run (one program per layer-direction, src/gpu/gemm/layers.ts).
// Options: --adapter swiftshader|lavapipe|hardware|auto --strategy per-sequence|gemm --hidden H --n 4096 --t 32
// --repeats 5 --cells elman,lstm,gru --json F. Times are medians of the repeats after one warm-up run; the adapter
// and machine are printed.

import { writeFileSync } from 'node:fs';
import { machineInfo } from '../src/benchmark/node-env.ts';
import type { CellName } from '../src/cells/index.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import type { AdapterChoice } from '../src/gpu/tuning.ts';
import { randomBatch } from '../src/random.ts';
import { median } from '../src/stats.ts';
import type { Model } from '../src/model.ts';
import { zeroModel } from '../src/train/index.ts';
import { benchOptions, integer } from './options.ts';

const opts = benchOptions<{
  adapter: string;
  strategy: string;
  hidden?: number;
  n: number;
  t: number;
  repeats: number;
  cells: string;
  json?: string;
}>('bench:layers', 'the cost of stacked and bidirectional layers on WebGPU, as ratios to one layer', (c) =>
  c
    .option('--adapter <name>', 'WebGPU adapter (swiftshader, lavapipe, hardware, auto)', 'auto')
    .option('--strategy <name>', 'per-sequence or gemm', 'per-sequence')
    .option('--hidden <H>', 'hidden units (default: per-sequence, its largest per cell; gemm, 64)', integer(1))
    .option('--n <count>', 'sequences per batch', integer(1), 4096)
    .option('--t <steps>', 'steps per sequence', integer(1), 32)
    .option('--repeats <k>', 'timed repeats after the warm-up', integer(1), 5)
    .option('--cells <list>', 'cells to run', 'elman,lstm,gru')
    .option('--json <file>', 'write the figures as JSON'),
);

if (opts.strategy !== 'per-sequence' && opts.strategy !== 'gemm')
  throw new InputError('--strategy', `expected per-sequence or gemm, got "${opts.strategy}"`);
const gemm = opts.strategy === 'gemm';
/** The per-sequence strategy's largest hidden size per cell, where registers matter most. */
const PER_SEQUENCE_HIDDEN: Record<CellName, number> = { elman: 16, lstm: 8, gru: 8 };
const hiddenOf = (cell: CellName): number => opts.hidden ?? (gemm ? 64 : PER_SEQUENCE_HIDDEN[cell]);

interface Row {
  cell: CellName;
  config: string;
  forwardMs: number;
  gradientMs: number;
}

/** A seeded model of the shape, weights uniform in ±1/√H (zeroModel's layout, filled by a fixed LCG). */
function model(cell: CellName, numLayers: number, bidirectional: boolean): Model {
  const H = hiddenOf(cell);
  const m = zeroModel(
    cell,
    { inputSize: 1, hiddenSize: H, outputSize: 1, output: 'last', numLayers, bidirectional },
    'tanh',
  );
  let s = 12345;
  const a = 1 / Math.sqrt(H);
  const params = m.params.map(() => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (2 * (s / 2147483648) - 1) * a;
  });
  return { ...m, params };
}

async function time(engine: Engine, m: Model, finalStates: boolean, gradients: boolean): Promise<number> {
  const batch = randomBatch({
    count: opts.n,
    inputSize: 1,
    outputSize: 1,
    output: 'last',
    minLength: opts.t,
    maxLength: opts.t,
    seed: 7,
  });
  const strategy = gemm ? 'gemm' : 'per-sequence';
  await engine.run(m, batch, { gradients, finalStates, strategy });
  const ms: number[] = [];
  for (let k = 0; k < opts.repeats; k++) {
    const t0 = performance.now();
    await engine.run(m, batch, { gradients, finalStates, strategy });
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** The configuration the others are compared with. */
const BASE = gemm ? '1 layer' : '1 layer (layered kernels)';

const engine = await Engine.create({ backend: 'webgpu', gpu: { adapter: opts.adapter as AdapterChoice } });
const rows: Row[] = [];
try {
  for (const cell of opts.cells.split(',').map((c) => c.trim()) as CellName[]) {
    // Per-sequence: finalStates sends a one-layer run through the layered kernels. Gemm: one program per layer.
    const configs: [string, Model, boolean][] = gemm
      ? [
          [BASE, model(cell, 1, false), false],
          ['1 layer, bidirectional', model(cell, 1, true), false],
          ['2 layers', model(cell, 2, false), false],
          ['3 layers', model(cell, 3, false), false],
        ]
      : [
          ['1 layer (fused kernel)', model(cell, 1, false), false],
          [BASE, model(cell, 1, false), true],
          ['1 layer, bidirectional', model(cell, 1, true), true],
          ['2 layers', model(cell, 2, false), true],
          ['3 layers', model(cell, 3, false), true],
        ];
    for (const [config, m, layered] of configs) {
      const forwardMs = await time(engine, m, layered, false);
      const gradientMs = await time(engine, m, layered, true);
      rows.push({ cell, config, forwardMs, gradientMs });
      process.stderr.write(`bench:layers: ${cell} ${config}: ${forwardMs.toFixed(1)} / ${gradientMs.toFixed(1)} ms\n`);
    }
  }
} finally {
  engine.dispose();
}

const mi = machineInfo();
const lines = [
  `adapter: ${engine.adapter}; strategy ${opts.strategy}; ${mi.cpu}, ${mi.cores} cores; N = ${opts.n}, T = ${opts.t}, I = O = 1, median of ${opts.repeats}`,
  '',
  '| cell | H | configuration | forward ms | × one layer | forward+BPTT ms | × one layer |',
  '|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const base = rows.find((b) => b.cell === r.cell && b.config === BASE)!;
  lines.push(
    `| ${r.cell} | ${hiddenOf(r.cell)} | ${r.config} | ${r.forwardMs.toFixed(1)} | ${(r.forwardMs / base.forwardMs).toFixed(2)} | ${r.gradientMs.toFixed(1)} | ${(r.gradientMs / base.gradientMs).toFixed(2)} |`,
  );
}
process.stdout.write(lines.join('\n') + '\n');
if (opts.json) writeFileSync(opts.json, JSON.stringify({ adapter: engine.adapter, machine: mi, opts, rows }, null, 2));
