// The size the core engine promises: 4,000,000 sequences × 64 steps at H = 1, forward + BPTT + reduction on the
// GPU, split into chunks under the binding limit and memory budget, checked against the float64 CPU reference.
// Takes about a minute on SwiftShader with 2 cores; set WEBGPU_RNN_SKIP_LARGE=1 to leave it out locally.

import { expect, it } from 'vitest';
import { offsetsFromLengths, type Batch } from '../src/batch.ts';
import { compareArrays, describeComparison, gpuTolerance } from '../src/compare.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { modelFromJSON, preset } from '../src/model.ts';
import { Rng } from '../src/random.ts';
import { describeGpu } from './helpers/gpu.ts';

const N = 4_000_000;
const T = 64;

function seedBatch(): Batch {
  // The seed's toy stock values: low 0, medium 0.5, high 1.
  const rng = new Rng(2024);
  const lengths = new Uint32Array(N).fill(T);
  const inputs = new Float32Array(N * T);
  for (let k = 0; k < inputs.length; k++) inputs[k] = Math.floor(rng.next() * 3) / 2;
  const targets = new Float32Array(N);
  for (let k = 0; k < N; k++) targets[k] = Math.floor(rng.next() * 3) / 2;
  return {
    count: N,
    inputSize: 1,
    outputSize: 1,
    output: 'last',
    lengths,
    offsets: offsetsFromLengths(lengths),
    inputs,
    targets,
  };
}

if (process.env.WEBGPU_RNN_SKIP_LARGE === '1') {
  it.skip('4,000,000 sequences × 64 steps (skipped: WEBGPU_RNN_SKIP_LARGE=1)', () => {});
} else {
  await describeGpu('WebGPU engine at 4,000,000 sequences × 64 steps', (gpu) => {
    it('runs forward + BPTT in chunks and matches the CPU reference', async () => {
      const model = preset('statquest');
      const batch = seedBatch();
      const r = await gpu().run(model, batch);
      const stats = gpu().lastRunStats!;
      expect(stats.chunks).toBeGreaterThan(1);
      expect(stats.peakBytes).toBeLessThanOrEqual(
        Math.min(512 * 1024 * 1024, gpu().device!.limits.maxBufferSize) + 64 * 1024 * 1024,
      );
      const ref = cpuRun(modelFromJSON(model), batch, { gradients: true });
      const got = [r.loss!, ...r.gradsFlat!];
      const want = [ref.loss!, ...ref.grads!];
      // Each quantity on its own scale (the loss over 4M sequences dwarfs the gradients).
      ['loss', 'Wx', 'Wh', 'bh', 'Wy', 'by'].forEach((name, k) => {
        const tol = gpuTolerance(T, [want[k]]);
        const c = compareArrays([got[k]], [want[k]], tol);
        expect(
          c.ok,
          describeComparison(name, c, [got[k]], [want[k]], tol, () => name),
        ).toBe(true);
      });
      // Bit-identical on a second run, chunks and all.
      const again = await gpu().run(model, batch);
      expect([again.loss, ...again.gradsFlat!]).toEqual(got);
    }, 600_000);
  });
}
