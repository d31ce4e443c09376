// Which strategy's training program trains a shape (src/gpu/registry.ts chooseTrainingStrategy): the
// per-sequence program within its kernel's limits, gemm beyond them, none for stacked or bidirectional models or
// where the adapter's limits refuse the gemm kernels (those train step by step through engine.run).

import { describe, expect, it } from 'vitest';
import { chooseTrainingStrategy, TRAINING } from '../src/gpu/registry.ts';

const limits = {
  maxStorageBuffersPerShaderStage: 8,
  minUniformBufferOffsetAlignment: 256,
} as GPUSupportedLimits;

const shape = (hiddenSize: number, over: Partial<{ inputSize: number; outputSize: number }> = {}) => ({
  inputSize: 1,
  outputSize: 1,
  hiddenSize,
  ...over,
});

describe('training programs in the strategy registry', () => {
  it('picks per-sequence within its limits per cell, gemm beyond them', () => {
    expect(chooseTrainingStrategy(shape(16), limits).strategy?.name).toBe('per-sequence');
    expect(chooseTrainingStrategy(shape(17), limits).strategy?.name).toBe('gemm');
    expect(chooseTrainingStrategy(shape(4, { inputSize: 17 }), limits).strategy?.name).toBe('gemm');
    expect(chooseTrainingStrategy(shape(4, { outputSize: 17 }), limits).strategy?.name).toBe('gemm');
    expect(chooseTrainingStrategy({ ...shape(8), cell: 'lstm' }, limits).strategy?.name).toBe('per-sequence');
    expect(chooseTrainingStrategy({ ...shape(9), cell: 'gru' }, limits).strategy?.name).toBe('gemm');
    expect(chooseTrainingStrategy(shape(512), limits).strategy?.name).toBe('gemm');
  });

  it('gives no program, with every strategy’s reason, for layered models and adapters the gemm kernels refuse', () => {
    const stacked = chooseTrainingStrategy({ ...shape(4), numLayers: 2 }, limits);
    expect(stacked.strategy).toBeNull();
    expect(stacked.reasons).toBe(
      'per-sequence: its training program trains one layer, and this model has numLayers 2; ' +
        'gemm: its training program trains one layer, and this model has numLayers 2; ' +
        'rtrl: it has no training program',
    );
    expect(chooseTrainingStrategy({ ...shape(4), bidirectional: true }, limits).reasons).toMatch(
      /^per-sequence: its training program trains one direction, and this model is bidirectional; /,
    );
    const few = chooseTrainingStrategy(shape(20), { ...limits, maxStorageBuffersPerShaderStage: 4 });
    expect(few.strategy).toBeNull();
    expect(few.reasons).toMatch(/^per-sequence: .*hiddenSize ≤ 16, got 20; gemm: it binds \d+ storage buffers/);
    expect(chooseTrainingStrategy(shape(2000), limits).reasons).toMatch(/gemm: it takes I ≤ \d+, H ≤ 512/);
  });

  it('lists a program for per-sequence and gemm only', () => {
    expect(Object.keys(TRAINING).sort()).toEqual(['gemm', 'per-sequence']);
  });
});
