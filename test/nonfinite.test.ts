// Non-finite values: exploding runs are refused on both backends, including the case ReLU would hide (a ±Inf
// pre-activation followed by Inf − Inf = NaN, which ReLU maps to 0, leaving finite outputs); and inputs that only
// overflow in float32 are bad input for the WebGPU backend, named by field and index.

import { describe, expect, it } from 'vitest';
import type { Batch } from '../src/batch.ts';
import { Engine } from '../src/engine.ts';
import { InputError, NonFiniteError } from '../src/errors.ts';
import type { ModelJSON } from '../src/model.ts';
import { describeGpu } from './helpers/gpu.ts';

const scalar = (Wx: number, Wh: number): ModelJSON => ({
  inputSize: 1,
  hiddenSize: 1,
  outputSize: 1,
  activation: 'relu',
  output: 'last',
  weights: { Wx: [[Wx]], Wh: [[Wh]], bh: [0], Wy: [[1]], by: [0.5] },
});
const oneSequence = (xs: number[]): Batch => ({
  count: 1,
  inputSize: 1,
  outputSize: 1,
  output: 'last',
  lengths: Uint32Array.of(xs.length),
  offsets: Float64Array.of(0, xs.length),
  inputs: Float64Array.from(xs),
  targets: Float64Array.of(0),
});

describe('CPU reference', () => {
  it('refuses a run whose hidden state overflowed even when ReLU hid it from the outputs', async () => {
    // Step 1: z = 1e200·1e200 = +Inf, h = Inf. Step 2: z = 1e200·1 − 1·Inf = −Inf, h = 0, so y = 0.5 is finite.
    const cpu = await Engine.create({ backend: 'cpu' });
    const run = cpu.run(scalar(1e200, -1), oneSequence([1e200, 1]), { outputs: true });
    await expect(run).rejects.toThrow(NonFiniteError);
    await expect(cpu.run(scalar(1e200, -1), oneSequence([1e200, 1]))).rejects.toThrow(
      /cpu: the hidden state of 1 of 1 sequences became ±Infinity or NaN/,
    );
    // Without the overflow the same network runs fine.
    await expect(cpu.run(scalar(1, -1), oneSequence([2, 1]), { outputs: true })).resolves.toMatchObject({ loss: 0.25 });
  });

  it('float32 mode flags what overflows in float32 only', async () => {
    const f32 = await Engine.create({ backend: 'cpu', cpuPrecision: 'f32' });
    const f64 = await Engine.create({ backend: 'cpu' });
    // 1e20·1e20 = 1e40: finite in float64, +Inf in float32; the next step resets h to 0.
    await expect(f64.run(scalar(1e20, -1), oneSequence([1e20, 1]))).resolves.toBeTruthy();
    await expect(f32.run(scalar(1e20, -1), oneSequence([1e20, 1]))).rejects.toThrow(/hidden state of 1 of 1/);
  });
});

await describeGpu('WebGPU backend and non-finite values', (gpu) => {
  it('refuses a run whose float32 hidden state overflowed even when ReLU hid it from the outputs', async () => {
    // 1e20·1e20 = +Inf in float32, then 1e20·1 − Inf = −Inf → ReLU 0; the flag row still reports it.
    const batch: Batch = {
      ...oneSequence([1e20, 1]),
      count: 3,
      lengths: Uint32Array.of(2, 2, 2),
      offsets: Float64Array.of(0, 2, 4, 6),
      inputs: Float64Array.of(1, 1, 1e20, 1, 2, 1),
      targets: Float64Array.of(0, 0, 0),
    };
    await expect(gpu().run(scalar(1e20, -1), batch, { outputs: true })).rejects.toThrow(
      /webgpu: the hidden state of 1 of 3 sequences became ±Infinity or NaN/,
    );
    // The same shapes without overflow run, and the next run on the engine is unaffected.
    const ok = await gpu().run(scalar(1, -1), batch, { outputs: true });
    expect(Number.isFinite(ok.loss)).toBe(true);
  });

  it('names an input, target or weight that does not fit float32 as bad input', async () => {
    await expect(gpu().run(scalar(1, -1), oneSequence([1, 1e39]))).rejects.toThrow(InputError);
    await expect(gpu().run(scalar(1, -1), oneSequence([1, 1e39]))).rejects.toThrow(
      /inputs\[0\]\[1\]\[0\]: 1e\+39 overflows float32/,
    );
    await expect(gpu().run(scalar(1e39, -1), oneSequence([1, 2]))).rejects.toThrow(
      /weights\.Wx\[0\]\[0\]: 1e\+39 overflows float32/,
    );
    await expect(gpu().run(scalar(1, -1), { ...oneSequence([1, 2]), targets: Float64Array.of(-4e38) })).rejects.toThrow(
      /targets\[0\]\[0\]/,
    );
  });
});
