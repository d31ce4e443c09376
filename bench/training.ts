// Training benchmark beyond the training kernel's shapes: sequence-steps per second of `train` (Adam, full batch) at
// hidden size H on the fused gemm path (forward + BPTT + the parameter-parallel optimizer, many steps per submit),
// against the same training step by step through engine.run (one submit, read-back and host optimizer per step)
// and against the float64 CPU path, in one run. The WebGPU figures are taken after a warm-up run (pipelines).
// Usage: npx tsx bench/training.ts [--h 64] [--n 256] [--t 32] [--steps 20] [--cpu-steps 2]

import { cpus } from 'node:os';
import { benchOptions, integer } from './options.ts';
import { Engine } from '../src/engine.ts';
import { modelFromJSON } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import { train, type TrainOptions } from '../src/train/index.ts';
import { resolveOptions } from '../src/train/options.ts';
import { stepwise } from '../src/train/stepwise.ts';

const a = benchOptions<{ h: number; n: number; t: number; steps: number; cpuSteps: number }>(
  'training',
  'fused gemm training against step-by-step and the CPU',
  (c) =>
    c
      .option('--h <units>', 'hidden units (above 16: the gemm path)', integer(17, 512), 64)
      .option('--n <sequences>', 'sequences (the full batch of every step)', integer(1), 256)
      .option('--t <steps>', 'steps per sequence', integer(1, 4096), 32)
      .option('--steps <k>', 'optimizer steps timed on WebGPU', integer(1), 20)
      .option('--cpu-steps <k>', 'optimizer steps timed on the CPU path', integer(1), 2),
);
const gpu = await Engine.create({ backend: 'webgpu' });
const cpu = await Engine.create({ backend: 'cpu' });
const model = modelFromJSON(randomModel({ inputSize: 1, hiddenSize: a.h, outputSize: 1 }, 'tanh', 'last', 5, 0.1));
const data = randomBatch({
  count: a.n,
  inputSize: 1,
  outputSize: 1,
  output: 'last',
  minLength: a.t,
  maxLength: a.t,
  seed: 9,
});
const o: TrainOptions = { optimizer: { kind: 'adam', lr: 0.001 }, steps: a.steps, historyEvery: 1 };
const rate = (steps: number, ms: number): number => (steps * a.n * a.t * 1000) / ms;
await train(gpu, model, data, { ...o, steps: 2 });
let t0 = performance.now();
const fused = await train(gpu, model, data, o);
const fusedMs = performance.now() - t0;
t0 = performance.now();
const slow = await stepwise(gpu).population([model], [data], true, resolveOptions(o, 1, a.n), {
  mask: null,
  trajectory: false,
});
const slowMs = performance.now() - t0;
t0 = performance.now();
await train(cpu, model, data, { ...o, steps: a.cpuSteps });
const cpuMs = performance.now() - t0;
const rel = Math.abs(fused.history[a.steps - 1].loss - slow.curves[a.steps - 1]) / Math.abs(slow.curves[a.steps - 1]);
console.log(
  `${gpu.adapter}; ${cpus()[0]?.model ?? 'CPU'} × ${cpus().length}; H=${a.h} N=${a.n} T=${a.t}, Adam, full batch`,
);
console.log(
  `fused gemm training:      ${(rate(a.steps, fusedMs) / 1e3).toFixed(1)} k sequence-steps/s (${a.steps} steps in ${fusedMs.toFixed(0)} ms)`,
);
console.log(
  `step by step (engine.run): ${(rate(a.steps, slowMs) / 1e3).toFixed(1)} k sequence-steps/s (${(slowMs / fusedMs).toFixed(2)}× the fused time)`,
);
console.log(
  `CPU (float64):            ${(rate(a.cpuSteps, cpuMs) / 1e3).toFixed(1)} k sequence-steps/s (${a.cpuSteps} steps)`,
);
console.log(`last loss, fused vs step by step: relative difference ${rel.toExponential(1)}`);
process.exit(0);
