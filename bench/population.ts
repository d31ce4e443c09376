// Population benchmark: model-steps per second (one model trained one optimizer step on its data set) for a
// population of the seed network (1-1-1 ReLU, Adam) on the seed notes' two sequences, on WebGPU and on the CPU
// path, in one run; then the time of a 512 × 512 w1 × w2 loss landscape on both. Wall time includes upload, the
// read-backs and the final loss evaluation; the WebGPU figure is taken after a warm-up run (pipeline compilation).
// Usage: npx tsx bench/population.ts [--models 10000] [--steps 200] [--grid 512] [--json out.json]

import { cpus } from 'node:os';
import { benchOptions, integer } from './options.ts';
import { writeFileSync } from 'node:fs';
import { batchFromArrays } from '../src/batch.ts';
import { Engine } from '../src/engine.ts';
import { modelFromJSON, preset } from '../src/model.ts';
import { lossLandscape, randomPopulation, trainPopulation } from '../src/train/index.ts';

const args = benchOptions<{ models: number; steps: number; grid: number; json?: string }>(
  'population',
  'population training and landscape speed, WebGPU and CPU',
  (c) =>
    c
      .option('--models <n>', 'models in the population', integer(2), 10000)
      .option('--steps <n>', 'optimizer steps per model', integer(2), 200)
      .option('--grid <n>', 'landscape points per axis', integer(2, 4096), 512)
      .option('--json <file>', 'write the figures as JSON'),
);
const M = args.models;
const steps = args.steps;
const grid = args.grid;

const data = batchFromArrays(
  [
    [[1], [0.5]],
    [[0], [0.5]],
  ],
  [[0], [1]],
  'last',
  1,
);
const base = modelFromJSON(preset('statquest'));
const models = randomPopulation(base, M, 1);
const opts = { optimizer: { kind: 'adam' as const, lr: 0.05 }, steps, readbackEvery: 100 };

const gpu = await Engine.create({ backend: 'webgpu' }).catch((e: Error) => e.message);
const cpu = await Engine.create({ backend: 'cpu' });
const rows: Record<string, string | number>[] = [];
for (const [name, engine] of [
  ['webgpu', gpu],
  ['cpu', cpu],
] as const) {
  if (typeof engine === 'string') {
    console.log(`webgpu: unavailable (${engine})`);
    continue;
  }
  if (name === 'webgpu') await trainPopulation(engine, models.slice(0, 64), data, { ...opts, steps: 2 }); // warm-up
  const t0 = performance.now();
  const r = await trainPopulation(engine, models, data, opts);
  const s = (performance.now() - t0) / 1000;
  const reached = Array.from(r.finalLoss).filter((l) => l < 1e-3).length;
  const rate = (M * steps) / s;
  rows.push({
    backend: name,
    adapter: engine.adapter,
    models: M,
    steps,
    seconds: +s.toFixed(3),
    modelStepsPerSec: Math.round(rate),
    reachedBelow1e3: reached,
  });
  console.log(
    `${name.padEnd(6)} population ${M} × ${steps} steps: ${s.toFixed(2)} s, ${(rate / 1e6).toFixed(3)} M model-steps/s (${reached} models end below SSR 1e-3)`,
  );
}
for (const [name, engine] of [
  ['webgpu', gpu],
  ['cpu', cpu],
] as const) {
  if (typeof engine === 'string') continue;
  const axis = (param: string) => ({ param, min: -3, max: 3, steps: grid });
  if (name === 'webgpu')
    await lossLandscape(engine, base, data, { ...axis('w1'), steps: 2 }, { ...axis('w2'), steps: 2 }); // warm-up
  const t0 = performance.now();
  await lossLandscape(engine, base, data, axis('w1'), axis('w2'));
  const ms = performance.now() - t0;
  rows.push({ backend: name, adapter: engine.adapter, landscape: `${grid}x${grid}`, ms: +ms.toFixed(1) });
  console.log(`${name.padEnd(6)} landscape ${grid} × ${grid} (w1 × w2): ${ms.toFixed(0)} ms`);
}
const machine = {
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  node: process.version,
  adapter: typeof gpu === 'string' ? `none (${gpu})` : gpu.adapter,
};
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; adapter: ${machine.adapter}`);
const out = args.json ?? '';
if (out) writeFileSync(out, JSON.stringify({ machine, rows }, null, 2));
if (typeof gpu !== 'string') gpu.dispose();
process.exit(0);
