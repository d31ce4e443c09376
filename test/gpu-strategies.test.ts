// WebGPU kernel strategies: strategy choice (auto and forced, with the reason a strategy cannot serve), and each
// registered strategy against the CPU reference, determinism, checkpointing and overflow detection.

import { describe, expect, it } from 'vitest';
import { batchFromArrays, type Batch } from '../src/batch.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import { autoOrder, chooseStrategy, STRATEGIES } from '../src/gpu/strategies/index.ts';
import { LIMITS, modelFromJSON, preset } from '../src/model.ts';
import { describeGpu } from './helpers/gpu.ts';

const shape = (H: number, over: Partial<{ inputSize: number; outputSize: number; maxSteps: number; truncation: number }> = {}) => ({
  inputSize: 1,
  outputSize: 1,
  hiddenSize: H,
  maxSteps: 8,
  count: 10,
  gradients: true,
  ...over,
});

describe('strategy choice', () => {
  const limits = { maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256 } as GPUSupportedLimits;

  it('auto prefers per-sequence for small H and large-H kernels beyond it', () => {
    expect(autoOrder(shape(1))[0]).toBe('per-sequence');
    expect(autoOrder(shape(16))[0]).toBe('per-sequence');
    expect(autoOrder(shape(64))[0]).toBe('workgroup');
    expect(autoOrder(shape(256))[0]).toBe('gemm');
    expect(chooseStrategy('auto', shape(4), limits).name).toBe('per-sequence');
    expect(chooseStrategy(undefined, shape(16), limits).name).toBe('per-sequence');
  });

  it('a forced strategy that cannot serve the shape is an InputError saying why', () => {
    expect(() => chooseStrategy('per-sequence', shape(17), limits)).toThrow(InputError);
    expect(() => chooseStrategy('per-sequence', shape(17), limits)).toThrow(/strategy "per-sequence" cannot serve this run: .*hiddenSize ≤ 16, got 17/);
    expect(() => chooseStrategy('per-sequence', shape(2, { inputSize: 20 }), limits)).toThrow(/inputSize ≤ 16, got 20/);
    expect(() => chooseStrategy('bogus' as never, shape(2), limits)).toThrow(/unknown or unavailable strategy "bogus"/);
  });

  it('every registered strategy has a distinct name', () => {
    const names = STRATEGIES.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it(`a sequence longer than ${LIMITS.maxSteps} steps is an InputError naming lengths[n]`, async () => {
    const cpu = await Engine.create({ backend: 'cpu' });
    const long = LIMITS.maxSteps + 1;
    const batch: Batch = batchFromArrays([[[1]], Array.from({ length: long }, () => [0.5])], [[0], [1]], 'last', 1);
    await expect(cpu.run(preset('statquest'), batch)).rejects.toThrow(/lengths\[1\]: a sequence may have at most 4096 steps, got 4097/);
    const ok = batchFromArrays([Array.from({ length: LIMITS.maxSteps }, () => [0.5])], [[1]], 'last', 1);
    expect((await cpu.run(modelFromJSON(preset('statquest')), ok)).loss).toBeGreaterThanOrEqual(0);
  });
});

await describeGpu('WebGPU strategy reporting', (gpu) => {
  it('reports the strategy used, the peak bytes and the checkpoint interval', async () => {
    const batch = batchFromArrays([[[1], [0.5]], [[0], [0.5], [1]]], [[0], [1]], 'last', 1);
    await gpu().run(preset('statquest'), batch, { strategy: 'per-sequence' });
    const s = gpu().lastRunStats!;
    expect(s.strategy).toBe('per-sequence');
    expect(s.checkpointEvery).toBe(3);
    expect(s.peakBytes).toBeGreaterThan(0);
    await gpu().run(preset('statquest'), batch, { gradients: false, outputs: true });
    expect(gpu().lastRunStats!.checkpointEvery).toBeUndefined();
    await expect(gpu().run(preset('statquest'), batch, { strategy: 'no-such' as never })).rejects.toThrow(/unknown or unavailable strategy "no-such"/);
  });
});
