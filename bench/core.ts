// Core-engine benchmark: sequence-steps per second of forward and forward+BPTT+reduction for the seed network
// (H=1) and a wider one, on WebGPU and on the CPU reference, in one run. Wall time includes upload and readback.
// Usage: npx tsx bench/core.ts [--n 65536] [--t 64] [--h 1,8] [--reps 5] [--unroll true|false] [--json out.json]
// (Issue 5 turns this into `webgpu-rnn bench` with peers and hardware limits.)

import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import { Engine } from '../src/engine.ts';
import { randomBatch, randomModel } from '../src/random.ts';

function arg(name: string, def: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : def;
}
const N = Number(arg('n', '65536'));
const T = Number(arg('t', '64'));
const Hs = arg('h', '1,8').split(',').map(Number);
const reps = Number(arg('reps', '5'));
for (const [k, v] of Object.entries({ n: N, t: T, reps })) if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
if (Hs.some((h) => !Number.isInteger(h) || h < 1 || h > 16)) throw new Error('--h must list hidden sizes from 1 to 16');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const unroll = arg('unroll', 'true') !== 'false';
const gpu = await Engine.create({ backend: 'webgpu', gpu: { unroll } }).catch((e: Error) => e.message);
const cpu = await Engine.create({ backend: 'cpu' });
const rows: Record<string, string | number>[] = [];
for (const H of Hs) {
  const model = randomModel({ inputSize: 1, hiddenSize: H, outputSize: 1 }, 'relu', 'last', 1, 0.5);
  const batch = randomBatch({ count: N, inputSize: 1, outputSize: 1, output: 'last', minLength: T, maxLength: T, seed: 2 });
  for (const mode of ['forward', 'forward+bptt'] as const) {
    const opts = mode === 'forward' ? { gradients: false } : { gradients: true };
    const rates: Record<string, number> = {};
    for (const [name, engine] of [['webgpu', gpu], ['cpu', cpu]] as const) {
      if (typeof engine === 'string') continue;
      const cpuReps = name === 'cpu' ? Math.min(reps, 3) : reps;
      await engine.run(model, batch, opts); // warm-up (pipeline compilation, buffer allocation)
      const times: number[] = [];
      for (let r = 0; r < cpuReps; r++) {
        const t0 = performance.now();
        await engine.run(model, batch, opts);
        times.push(performance.now() - t0);
      }
      rates[name] = (N * T) / (median(times) / 1000);
      rows.push({ H, mode, backend: name, adapter: engine.adapter, ms: +median(times).toFixed(1), stepsPerSec: Math.round(rates[name]) });
    }
    const line = Object.entries(rates).map(([k, v]) => `${k} ${(v / 1e6).toFixed(2)} M steps/s`).join('   ');
    const ratio = rates.webgpu && rates.cpu ? `   webgpu/cpu ${(rates.webgpu / rates.cpu).toFixed(2)}×` : '';
    console.log(`H=${H} ${mode.padEnd(13)} N=${N} T=${T}   ${line}${ratio}`);
  }
}
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, adapter: typeof gpu === 'string' ? `none (${gpu})` : gpu.adapter, unroll };
console.log(`machine: ${machine.cpu}, ${machine.cores} cores; adapter: ${machine.adapter}`);
const out = arg('json', '');
if (out) writeFileSync(out, JSON.stringify({ machine, N, T, reps, rows }, null, 2));
if (typeof gpu !== 'string') gpu.dispose();
process.exit(0);
