// Kernel-level WebGPU tests: the reduction's fixed-order tree (exact partial sums, 2D folding past 65535
// workgroups, determinism), host/shader agreement through wgsl_reflect, error scopes and a lost device.

import { expect, it } from 'vitest';
import { Engine } from '../src/engine.ts';
import { GpuError } from '../src/errors.ts';
import { withErrorScopes } from '../src/gpu/device.ts';
import { Kernel, foldDispatch } from '../src/gpu/kernel.ts';
import { ReduceKernel } from '../src/gpu/reduce/reduce.ts';
import { RnnKernel } from '../src/gpu/per-sequence/rnn.ts';
import { packUniform, reflectKernel } from '../src/gpu/reflect.ts';
import { specializeShape } from '../src/gpu/specialize.ts';
import { shaders } from '../src/gpu/shaders.node.ts';
import { preset } from '../src/model.ts';
import { Rng } from '../src/random.ts';
import { describeGpu } from './helpers/gpu.ts';

const { STORAGE, COPY_SRC, COPY_DST, MAP_READ, UNIFORM } = {
  STORAGE: 0x80,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  MAP_READ: 0x1,
  UNIFORM: 0x40,
};

async function readBack(device: GPUDevice, src: GPUBuffer, bytes: number): Promise<Float32Array> {
  const read = device.createBuffer({ label: 'test readback', size: bytes, usage: MAP_READ | COPY_DST });
  const enc = device.createCommandEncoder({ label: 'test readback' });
  enc.copyBufferToBuffer(src, 0, read, 0, bytes);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(MAP_READ);
  const out = new Float32Array(read.getMappedRange().slice(0));
  read.destroy();
  return out;
}

/** One reduction level over `rows` × `cols` values; returns the partial sums. */
async function reduceLevel(
  device: GPUDevice,
  k: ReduceKernel,
  data: Float32Array<ArrayBuffer>,
  rows: number,
  cols: number,
): Promise<Float32Array> {
  const parts = k.partsFor(cols);
  const src = device.createBuffer({ label: 'test src', size: data.byteLength, usage: STORAGE | COPY_DST });
  const dst = device.createBuffer({ label: 'test dst', size: rows * parts * 4, usage: STORAGE | COPY_SRC });
  const u = device.createBuffer({ label: 'test params', size: 16, usage: UNIFORM | COPY_DST });
  device.queue.writeBuffer(src, 0, data);
  device.queue.writeBuffer(u, 0, k.params(cols, cols, parts, 0));
  const enc = device.createCommandEncoder({ label: 'test reduce' });
  const pass = enc.beginComputePass({ label: 'test reduce' });
  k.encode(pass, k.kernel.bind('test', { params: u, src, dst }), cols, rows);
  pass.end();
  device.queue.submit([enc.finish()]);
  const out = await readBack(device, dst, rows * parts * 4);
  for (const b of [src, dst, u]) b.destroy();
  return out;
}

await describeGpu('WebGPU kernels', (gpu) => {
  const device = (): GPUDevice => gpu().device!;

  it('sums pairs exactly in each partial and folds 70,002 workgroups per row into 2D', async () => {
    const k = new ReduceKernel(device(), 2, 1); // span 2: 140,003 columns -> 70,002 partial sums per row
    const rows = 3;
    const cols = 140_003;
    const rng = new Rng(9);
    const data = Float32Array.from({ length: rows * cols }, () => rng.uniform(-1, 1));
    expect(foldDispatch(k.partsFor(cols), device().limits.maxComputeWorkgroupsPerDimension)[1]).toBeGreaterThan(1);
    const out = await reduceLevel(device(), k, data, rows, cols);
    const parts = k.partsFor(cols);
    for (let r = 0; r < rows; r++) {
      for (let p = 0; p < parts; p++) {
        const a = data[r * cols + 2 * p];
        const b = 2 * p + 1 < cols ? data[r * cols + 2 * p + 1] : 0;
        if (out[r * parts + p] !== Math.fround(a + b)) {
          throw new Error(`row ${r} part ${p}: got ${out[r * parts + p]}, expected ${Math.fround(a + b)}`);
        }
      }
    }
  });

  it('sums a workgroup in the documented tree order, bit for bit', async () => {
    const k = new ReduceKernel(device(), 8, 2); // span 16
    const rng = new Rng(4);
    const cols = 37;
    const data = Float32Array.from({ length: cols }, () => rng.uniform(-1e3, 1e3));
    const out = await reduceLevel(device(), k, data, 1, cols);
    // Invocation l adds columns part*16 + l and part*16 + 8 + l, then a tree: s = 4, 2, 1.
    for (let part = 0; part < k.partsFor(cols); part++) {
      const acc = Array.from({ length: 8 }, (_, l) => {
        let v = 0;
        for (let j = 0; j < 2; j++) {
          const c = part * 16 + j * 8 + l;
          if (c < cols) v = Math.fround(v + data[c]);
        }
        return v;
      });
      for (let s = 4; s > 0; s >>= 1) for (let l = 0; l < s; l++) acc[l] = Math.fround(acc[l] + acc[l + s]);
      expect(out[part]).toBe(acc[0]);
    }
  });

  it('refuses a reduction that would never shrink', () => {
    expect(() => new ReduceKernel(device(), 1, 1)).toThrow(/at least 2 columns/);
    expect(() => new ReduceKernel(device(), 3, 1)).toThrow(/power of two/);
  });

  it('derives binding layouts from the WGSL and names a host/shader mismatch', () => {
    const k = new RnnKernel(device(), {
      inputSize: 1,
      hiddenSize: 1,
      outputSize: 1,
      mode: 'forward',
      activation: 'relu',
      outAll: false,
      writeY: true,
      hasTargets: true,
      workgroupSize: 64,
    });
    const refl = k.kernel.reflection;
    expect(refl.bindings.map((b) => b.name)).toEqual([
      'params',
      'weights',
      'lengths',
      'xs',
      'targets',
      'ys',
      'rows',
      'hs',
    ]);
    expect(refl.bindings.find((b) => b.name === 'ys')!.kind).toBe('storage');
    expect(refl.bindings.find((b) => b.name === 'xs')!.kind).toBe('read-only-storage');
    expect(refl.uniforms.params.members.n).toEqual({ offset: 0, size: 4, type: 'u32' });
    const buf = device().createBuffer({ label: 'test any', size: 64, usage: STORAGE | UNIFORM });
    const all = { params: buf, weights: buf, lengths: buf, xs: buf, targets: buf, ys: buf, rows: buf, hs: buf };
    expect(() => k.kernel.bind('t', { ...all, hz: buf })).toThrow(
      /binds "hz" but entry point "main" uses no such binding/,
    );
    const missing = Object.fromEntries(Object.entries(all).filter(([name]) => name !== 'rows'));
    expect(() => k.kernel.bind('t', missing)).toThrow(/binding "rows" \(@binding\(6\)\) has no buffer/);
    buf.destroy();
  });

  it('packs uniforms at the offsets the WGSL declares and names unknown or missing members', () => {
    const refl = reflectKernel('reduce', shaders.reduce, 'reduce_rows');
    const layout = refl.uniforms.params;
    expect(Object.fromEntries(Object.entries(layout.members).map(([n, m]) => [n, m.offset]))).toEqual({
      cols: 0,
      inStride: 4,
      outStride: 8,
      outOffset: 12,
    });
    const bytes = new Uint32Array(packUniform('reduce', layout, { cols: 5, inStride: 6, outStride: 7, outOffset: 8 }));
    expect(Array.from(bytes)).toEqual([5, 6, 7, 8]);
    expect(() => packUniform('reduce', layout, { cols: 5, inStride: 6, outStride: 7, outOffset: 8, colls: 1 })).toThrow(
      /member "colls"/,
    );
    expect(() => packUniform('reduce', layout, { cols: 5, inStride: 6, outStride: 7 })).toThrow(
      /member "outOffset" is not set/,
    );
    expect(() => packUniform('reduce', layout, { cols: -1, inStride: 6, outStride: 7, outOffset: 8 })).toThrow(
      /does not fit a u32/,
    );
  });

  it('names an override the shader does not declare', () => {
    expect(() =>
      Kernel.get(device(), 'bogus override test', () => ({
        label: 'bogus',
        source: shaders.reduce,
        entry: 'reduce_rows',
        constants: { WG: 64, TILE: 4 },
      })),
    ).toThrow(/override "TILE"/);
  });

  it('specializes exactly the three shape constants', () => {
    const src = specializeShape(shaders.per_sequence.bptt, { inputSize: 3, hiddenSize: 7, outputSize: 2 });
    expect(src).toMatch(/^const H: u32 = 7u;$/m);
    expect(src).toMatch(/^const I: u32 = 3u;$/m);
    expect(src).toMatch(/^const O: u32 = 2u;$/m);
    expect(() => specializeShape('const H: u32 = 1u;', { inputSize: 1, hiddenSize: 1, outputSize: 1 })).toThrow(
      /const I/,
    );
  });

  it('turns a validation error inside a scope into a GpuError', async () => {
    const bad = withErrorScopes(device(), 'test', () =>
      Promise.resolve(device().createBuffer({ label: 'invalid usage', size: 16, usage: MAP_READ | STORAGE })),
    );
    await expect(bad).rejects.toThrow(GpuError);
    await expect(
      withErrorScopes(device(), 'test', () =>
        Promise.resolve(device().createBuffer({ label: 'invalid usage', size: 16, usage: MAP_READ | STORAGE })),
      ),
    ).rejects.toThrow(/test: WebGPU validation error/);
  });
});

await describeGpu(
  'WebGPU device loss',
  (gpu) => {
    it('gives a clear error after the device is lost', async () => {
      const e: Engine = gpu();
      const batch = {
        count: 1,
        inputSize: 1,
        outputSize: 1,
        output: 'last' as const,
        lengths: Uint32Array.of(2),
        offsets: Float64Array.of(0, 2),
        inputs: Float64Array.of(1, 0.5),
        targets: Float64Array.of(0),
      };
      await e.run(preset('statquest'), batch);
      e.device!.destroy();
      await new Promise((r) => setTimeout(r, 50));
      await expect(e.run(preset('statquest'), batch)).rejects.toThrow(/device was lost/);
    });
  },
  {},
  { errorScopes: false },
);
