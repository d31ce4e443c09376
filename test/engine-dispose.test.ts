// An engine disposed while a run is in flight: the run rejects with a GpuError saying the engine was disposed
// during the run (on the CPU and on WebGPU, not an AbortError with an empty message), and later runs are refused.

import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.ts';
import { GpuError } from '../src/errors.ts';
import { preset } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import { gpuRequired, tryGpuEngine } from './helpers/gpu.ts';

describe('dispose during a run', () => {
  it('CPU: the run in flight rejects with a GpuError saying the engine was disposed; later runs are refused', async () => {
    const cpu = await Engine.create({ backend: 'cpu' });
    const b = randomBatch({
      count: 20,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      minLength: 2,
      maxLength: 5,
      seed: 1,
    });
    const run = cpu.run(preset('statquest'), b);
    cpu.dispose();
    await expect(run).rejects.toThrow(GpuError);
    await expect(run).rejects.toThrow('the engine was disposed during the run');
    await expect(cpu.run(preset('statquest'), b)).rejects.toThrow('the engine has been disposed');
    cpu.dispose(); // twice is harmless
  });

  it('WebGPU: a run in flight rejects with a GpuError (not an AbortError with an empty message)', async () => {
    const gpu = await tryGpuEngine();
    if (typeof gpu === 'string') {
      if (gpuRequired)
        throw new Error(`WebGPU is required here (CI or WEBGPU_RNN_REQUIRE_GPU=1) but unavailable: ${gpu}`);
      return void console.warn(`[webgpu-rnn] dispose-during-run GPU case skipped: ${gpu}`);
    }
    const m = randomModel({ inputSize: 2, hiddenSize: 16, outputSize: 1 }, 'tanh', 'last', 2);
    const b = randomBatch({
      count: 512,
      inputSize: 2,
      outputSize: 1,
      output: 'last',
      minLength: 20,
      maxLength: 30,
      seed: 2,
    });
    const run = gpu.run(m, b);
    await new Promise((r) => setTimeout(r, 20));
    gpu.dispose();
    const e = await run.then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(GpuError);
    expect((e as Error).message).toContain('the engine was disposed during the run');
  }, 60_000);
});
