// Gradient clipping by global norm on WebGPU (shaders/reduce/clip.wgsl through ClipKernel) against the float64 CPU version
// (src/cpu/clip.ts): the norm, clipping to the norm with the direction kept, no change under the threshold,
// an offset vector inside a bigger buffer, magnitudes whose squares overflow float32, determinism; then through the
// engine: gradNorm and clipped on both backends, and bad clipNorm values rejected.

import { describe, expect, it } from 'vitest';
import { batchFromArrays } from '../src/batch.ts';
import { clipByGlobalNorm, globalNorm } from '../src/cpu/clip.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import { CLIP_STATS_BYTES, ClipKernel } from '../src/gpu/reduce/clip.ts';
import { modelFromJSON, preset } from '../src/model.ts';
import { randomBatch, randomModel, Rng } from '../src/random.ts';
import { describeGpu } from './helpers/gpu.ts';

const { STORAGE, COPY_DST, COPY_SRC, MAP_READ, UNIFORM } = {
  STORAGE: 0x80,
  COPY_DST: 0x8,
  COPY_SRC: 0x4,
  MAP_READ: 0x1,
  UNIFORM: 0x40,
};

/** Runs ClipKernel on `values` placed at `offset` in a buffer; returns the buffer's contents and [norm, scale]. */
async function clipOnGpu(
  device: GPUDevice,
  values: Float32Array,
  offset: number,
  clipNorm?: number,
  workgroupSize?: number,
) {
  const k = new ClipKernel(device, workgroupSize);
  const total = offset + values.length + 3; // a few values after the vector that must stay untouched
  const host = new Float32Array(total).fill(7);
  host.set(values, offset);
  const grads = device.createBuffer({ label: 'test grads', size: total * 4, usage: STORAGE | COPY_SRC | COPY_DST });
  const stats = device.createBuffer({ label: 'test clip stats', size: CLIP_STATS_BYTES, usage: STORAGE | COPY_SRC });
  const params = device.createBuffer({ label: 'test clip params', size: 16, usage: UNIFORM | COPY_DST });
  const read = device.createBuffer({
    label: 'test readback',
    size: total * 4 + CLIP_STATS_BYTES,
    usage: MAP_READ | COPY_DST,
  });
  device.queue.writeBuffer(grads, 0, host);
  device.queue.writeBuffer(params, 0, k.params(offset, values.length, clipNorm));
  const enc = device.createCommandEncoder({ label: 'test clip' });
  const pass = enc.beginComputePass({ label: 'test clip' });
  k.encode(pass, k.bind('test', { params, grads, stats }));
  pass.end();
  enc.copyBufferToBuffer(grads, 0, read, 0, total * 4);
  enc.copyBufferToBuffer(stats, 0, read, total * 4, CLIP_STATS_BYTES);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(MAP_READ);
  const out = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const b of [grads, stats, params, read]) b.destroy();
  expect(Array.from(out.subarray(0, offset)).every((v) => v === 7)).toBe(true);
  expect(Array.from(out.subarray(offset + values.length, total)).every((v) => v === 7)).toBe(true);
  return { values: out.subarray(offset, offset + values.length), norm: out[total], scale: out[total + 1] };
}

function randomVector(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-scale, scale));
}

await describeGpu('WebGPU gradient clipping (ClipKernel)', (gpu) => {
  const device = (): GPUDevice => gpu().device!;

  for (const n of [1, 5, 255, 257, 1000, 70_001]) {
    it(`n = ${n}: the norm matches float64; clipping to half of it halves every value; above the norm nothing changes`, async () => {
      const v = randomVector(n, n, 3);
      const want = globalNorm(v);
      const measured = await clipOnGpu(device(), v, 0);
      expect(Math.abs(measured.norm - want)).toBeLessThanOrEqual(1e-6 * want);
      expect(measured.scale).toBe(1);
      expect(Array.from(measured.values)).toEqual(Array.from(v));

      const c = want / 2;
      const clipped = await clipOnGpu(device(), v, 3, c);
      expect(Math.abs(clipped.norm - want)).toBeLessThanOrEqual(1e-6 * want);
      // The clipped vector has norm c, and points the same way: every value is the original times one scale.
      expect(Math.abs(globalNorm(clipped.values) - c)).toBeLessThanOrEqual(1e-6 * c);
      const scale = clipped.scale;
      expect(Math.abs(scale - c / want)).toBeLessThanOrEqual(1e-6);
      for (let p = 0; p < n; p++) expect(clipped.values[p]).toBe(Math.fround(v[p] * scale));

      const under = await clipOnGpu(device(), v, 0, want * 1.01);
      expect(under.scale).toBe(1);
      expect(Array.from(under.values)).toEqual(Array.from(v));
    });
  }

  it('values whose squares overflow float32 (1e30) and tiny ones (1e-30) give the right norm', async () => {
    for (const mag of [1e30, 1e-30]) {
      const v = randomVector(300, 11, mag);
      const want = globalNorm(v);
      const r = await clipOnGpu(device(), v, 0, want / 4);
      expect(Math.abs(r.norm - want)).toBeLessThanOrEqual(1e-6 * want);
      expect(Math.abs(globalNorm(r.values) - want / 4)).toBeLessThanOrEqual(1e-6 * (want / 4));
    }
  });

  it('a zero vector has norm 0 and is left alone; other workgroup sizes give the same norm', async () => {
    const z = await clipOnGpu(device(), new Float32Array(100), 0, 1);
    expect(z.norm).toBe(0);
    expect(z.scale).toBe(1);
    const v = randomVector(1234, 5);
    for (const wg of [1, 32, 64]) {
      const r = await clipOnGpu(device(), v, 0, undefined, wg);
      expect(Math.abs(r.norm - globalNorm(v))).toBeLessThanOrEqual(1e-6 * globalNorm(v));
    }
    expect(() => new ClipKernel(device(), 48)).toThrow(/power of two/);
  });

  it('is deterministic: the same vector gives a bit-identical norm and clipped values', async () => {
    const v = randomVector(9999, 77);
    const a = await clipOnGpu(device(), v, 1, 0.5);
    const b = await clipOnGpu(device(), v, 1, 0.5);
    expect(b.norm).toBe(a.norm);
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
  });
});

const cpu = await Engine.create({ backend: 'cpu' });

await describeGpu('WebGPU engine: gradNorm, clipNorm', (gpu) => {
  const shape = { inputSize: 3, hiddenSize: 4, outputSize: 2 };
  const json = randomModel(shape, 'tanh', 'all', 41, 0.6);
  const model = modelFromJSON(json);
  const batch = randomBatch({ count: 77, ...shape, output: 'all', minLength: 1, maxLength: 12, seed: 42 });

  for (const strategy of ['per-sequence', 'rtrl'] as const) {
    it(`${strategy}: gradNorm matches the CPU; clipping to a third gives norm c in the same direction; above the norm nothing changes`, async () => {
      const ref = await cpu.run(model, batch, {});
      const full = await gpu().run(model, batch, { strategy });
      expect(full.clipped).toBe(false);
      expect(ref.clipped).toBe(false);
      expect(Math.abs(full.gradNorm! - ref.gradNorm!)).toBeLessThanOrEqual(1e-4 * ref.gradNorm!);
      expect(Math.abs(full.gradNorm! - globalNorm(full.gradsFlat!))).toBeLessThanOrEqual(1e-6 * full.gradNorm!);

      const c = ref.gradNorm! / 3;
      const r = await gpu().run(model, batch, { strategy, clipNorm: c });
      const rc = await cpu.run(model, batch, { clipNorm: c });
      expect(r.clipped).toBe(true);
      expect(rc.clipped).toBe(true);
      expect(r.gradNorm).toBe(full.gradNorm); // the norm before clipping
      expect(Math.abs(globalNorm(r.gradsFlat!) - c)).toBeLessThanOrEqual(1e-5 * c);
      expect(Math.abs(globalNorm(rc.gradsFlat!) - c)).toBeLessThanOrEqual(1e-12 * c);
      // Direction unchanged: every value is the unclipped one times c/‖g‖.
      const scale = c / full.gradNorm!;
      full.gradsFlat!.forEach((g, p) =>
        expect(Math.abs(r.gradsFlat![p] - g * scale)).toBeLessThanOrEqual(1e-6 * Math.max(Math.abs(g * scale), c)),
      );
      rc.gradsFlat!.forEach((g, p) => expect(Math.abs(r.gradsFlat![p] - g)).toBeLessThanOrEqual(1e-4 * c));
      expect(r.loss).toBe(full.loss);

      const under = await gpu().run(model, batch, { strategy, clipNorm: full.gradNorm! * 1.01 });
      expect(under.clipped).toBe(false);
      expect(Array.from(under.gradsFlat!)).toEqual(Array.from(full.gradsFlat!));
    });
  }

  it('a forward pass has no gradNorm; the seed notes give ‖g‖ = √(0.011² + 0.022² + 0 + 0.018² + 0.02²)', async () => {
    const fwd = await gpu().run(model, batch, { gradients: false });
    expect(fwd.gradNorm).toBeUndefined();
    expect(fwd.clipped).toBeUndefined();
    const seed = batchFromArrays(
      [
        [[1], [0.5]],
        [[0], [0.5]],
      ],
      [[0], [1]],
      'last',
    );
    const r = await gpu().run(preset('statquest'), seed, {});
    const want = Math.hypot(0.011, 0.022, 0, 0.018, 0.02);
    expect(Math.abs(r.gradNorm! - want)).toBeLessThanOrEqual(1e-6);
  });

  for (const bad of [0, -1, NaN, Infinity, '2' as unknown as number]) {
    it(`clipNorm ${typeof bad === 'string' ? JSON.stringify(bad) : bad} is an InputError naming clipNorm on both backends`, async () => {
      for (const engine of [gpu(), cpu]) {
        const err = await engine.run(model, batch, { clipNorm: bad }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InputError);
        expect((err as InputError).field).toBe('clipNorm');
      }
    });
  }
});

describe('clipByGlobalNorm (CPU, float64)', () => {
  it('scales to the norm, keeps small gradients, and treats non-finite values as unclippable', () => {
    const g = Float64Array.of(3, -4);
    expect(clipByGlobalNorm(g.slice())).toEqual({ norm: 5, clipped: false });
    const c = g.slice();
    expect(clipByGlobalNorm(c, 1)).toEqual({ norm: 5, clipped: true });
    expect(Array.from(c)).toEqual([0.6000000000000001, -0.8]);
    expect(clipByGlobalNorm(g.slice(), 5)).toEqual({ norm: 5, clipped: false });
    expect(globalNorm([1e200, 1e200])).toBeCloseTo(Math.SQRT2 * 1e200, -185);
    expect(Number.isNaN(clipByGlobalNorm(Float64Array.of(1, Infinity), 1).norm)).toBe(true);
  });
});
