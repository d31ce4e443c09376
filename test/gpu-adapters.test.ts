// Choosing the adapter (GpuOptions.adapter, WEBGPU_RNN_ADAPTER): the engine runs on the adapter asked for, named in
// its description; bad names and a user's broken VK_ICD_FILENAMES are one-line errors naming the cause. Also the
// pipeline cache of src/gpu/kernel.ts: keyed by what makes the pipeline, counted by pipelineStats, and reported
// per run as RunStats.pipelineMilliseconds.

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.ts';
import { GpuError, InputError } from '../src/errors.ts';
import { acquireDevice, LAVAPIPE_ICD, resolveAdapterChoice, SWIFTSHADER_ICD } from '../src/gpu/device.ts';
import { Kernel, pipelineStats, specKey } from '../src/gpu/kernel.ts';
import { shaders } from '../src/gpu/shaders.node.ts';
import { adapterKind, ADAPTER_TUNING, tuningFor } from '../src/gpu/tuning.ts';
import { preset, modelFromJSON } from '../src/model.ts';
import { cli, expectInputError } from './helpers/cli.ts';
import { describeGpu, gpuRequired, testAdapter } from './helpers/gpu.ts';

const DESCRIPTION = { swiftshader: /swiftshader/i, lavapipe: /llvmpipe/i } as const;

describe('adapter choice without a device', () => {
  it('takes auto, hardware, swiftshader and lavapipe, and names `adapter` for anything else', () => {
    for (const name of ['auto', 'hardware', 'swiftshader', 'lavapipe'] as const)
      expect(resolveAdapterChoice(name)).toBe(name);
    expect(() => resolveAdapterChoice('llvmpipe')).toThrow(InputError);
    expect(() => resolveAdapterChoice('llvmpipe')).toThrow(
      /^adapter: unknown adapter "llvmpipe": use auto, hardware, swiftshader, lavapipe$/,
    );
  });

  it('--adapter takes only the known names, and a bad WEBGPU_RNN_ADAPTER is bad input too (exit 2) unless --backend cpu', async () => {
    for (const cmd of ['statquest', 'grad', 'forward', 'verify', 'train', 'population', 'landscape', 'unroll-study']) {
      const r = await cli(cmd, '--adapter', 'bogus');
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(2);
      expectInputError(r, '--adapter', 'bogus');
    }
    const bogusCpu = await cli('statquest', '--backend', 'cpu', '--adapter', 'bogus');
    expect(bogusCpu.code).toBe(2);
    expectInputError(bogusCpu, '--adapter', 'bogus');
    const saved = process.env.WEBGPU_RNN_ADAPTER;
    process.env.WEBGPU_RNN_ADAPTER = 'nope';
    try {
      for (const backend of ['auto', 'webgpu']) {
        const r = await cli('statquest', '--backend', backend);
        expect(r.code, `${backend}: ${r.stderr}`).toBe(2);
        expectInputError(r, 'adapter: unknown adapter "nope" (from WEBGPU_RNN_ADAPTER)');
      }
      // The CPU reference opens no adapter: the variable is not read, and the run is the same as without it.
      const cpu = await cli('statquest', '--backend', 'cpu', '--json');
      expect(cpu.code, cpu.stderr).toBe(0);
      expect(cpu.stderr).toBe('');
      delete process.env.WEBGPU_RNN_ADAPTER;
      const plain = await cli('statquest', '--backend', 'cpu', '--json');
      expect(plain.code, plain.stderr).toBe(0);
      expect(cpu.stdout).toBe(plain.stdout);
      expect(JSON.parse(cpu.stdout)).toMatchObject({ backend: 'cpu' });
    } finally {
      if (saved === undefined) delete process.env.WEBGPU_RNN_ADAPTER;
      else process.env.WEBGPU_RNN_ADAPTER = saved;
    }
  });

  it('classifies adapter descriptions', () => {
    expect(adapterKind('google swiftshader (SwiftShader driver 5.0.0)')).toBe('swiftshader');
    expect(adapterKind('mesa software (llvmpipe: Mesa 25.0.7 (LLVM 15.0.6))')).toBe('lavapipe');
    expect(adapterKind('nvidia ampere (NVIDIA GeForce RTX 3080)')).toBe('hardware');
  });

  it("blames the user's VK_ICD_FILENAMES when it names no file, without advising chromium", async () => {
    const saved = { icd: process.env.VK_ICD_FILENAMES, files: process.env.VK_DRIVER_FILES };
    delete process.env.VK_DRIVER_FILES;
    process.env.VK_ICD_FILENAMES = '/nonexistent/webgpu-rnn-test_icd.json';
    try {
      const err = await acquireDevice('auto').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GpuError);
      expect((err as Error).message).toMatch(
        /VK_ICD_FILENAMES names \/nonexistent\/webgpu-rnn-test_icd\.json, which does not exist/,
      );
      expect((err as Error).message).not.toMatch(/chromium/);
    } finally {
      if (saved.icd === undefined) delete process.env.VK_ICD_FILENAMES;
      else process.env.VK_ICD_FILENAMES = saved.icd;
      if (saved.files !== undefined) process.env.VK_DRIVER_FILES = saved.files;
    }
  });
});

// The adapter this run of the suite asked for (npm test: swiftshader, then lavapipe) is the one every GPU file gets.
await describeGpu('WebGPU adapter of this test run', (gpu) => {
  it(`runs on the adapter asked for (${testAdapter})`, () => {
    const want = testAdapter;
    if (want === 'swiftshader' || want === 'lavapipe') expect(gpu().adapter).toMatch(DESCRIPTION[want]);
    else if (want === 'hardware') expect(adapterKind(gpu().adapter)).toBe('hardware');
    else expect(['hardware', 'swiftshader', 'lavapipe']).toContain(adapterKind(gpu().adapter));
  });

  it('caches pipelines by source, entry and constants (not by label), and counts their creation', async () => {
    const device = gpu().device!;
    const spec = (label: string, wg: number) => ({ label, source: shaders.copy, entry: 'copy', constants: { WG: wg } });
    const before = pipelineStats(device);
    const a = await Kernel.load(device, spec('copy probe a', 32));
    const mid = pipelineStats(device);
    const b = await Kernel.load(device, spec('copy probe b', 32)); // another label, same pipeline
    const c = Kernel.create(device, spec('copy probe c', 32)); // the synchronous path finds it too
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(specKey(spec('x', 32))).toBe(specKey(spec('y', 32)));
    expect(pipelineStats(device).pipelines).toBe(mid.pipelines);
    const d = await Kernel.load(device, spec('copy probe d', 16)); // other constants: another pipeline
    expect(d).not.toBe(a);
    const after = pipelineStats(device);
    expect(after.pipelines - before.pipelines).toBe(mid.pipelines === before.pipelines ? 1 : 2);
    expect(after.milliseconds).toBeGreaterThan(before.milliseconds);
  });

  it('reports the pipeline time of a run, and none when every pipeline is cached', async () => {
    const model = modelFromJSON(preset('statquest'));
    const batch = {
      count: 2,
      inputSize: 1,
      outputSize: 1,
      output: 'last' as const,
      lengths: Uint32Array.of(2, 2),
      offsets: Float64Array.of(0, 2, 4),
      inputs: Float64Array.of(1, 0.5, 0, 0.5),
      targets: Float64Array.of(0, 1),
    };
    const engine = gpu();
    await engine.run(model, batch, { gradients: true });
    expect(engine.lastRunStats?.pipelineMilliseconds).toBeGreaterThanOrEqual(0);
    await engine.run(model, batch, { gradients: true });
    expect(engine.lastRunStats?.pipelineMilliseconds).toBe(0);
  });

  it("unrolls within the adapter's budget", () => {
    expect(tuningFor(gpu().device!).unrollChars).toBe(
      process.env.WEBGPU_RNN_UNROLL_CHARS
        ? Number(process.env.WEBGPU_RNN_UNROLL_CHARS)
        : ADAPTER_TUNING[adapterKind(gpu().adapter)].unrollChars,
    );
  });
});

// Each installed software adapter, asked for by name, gives exactly that adapter and computes the seed example.
for (const [kind, icd] of [
  ['swiftshader', SWIFTSHADER_ICD],
  ['lavapipe', LAVAPIPE_ICD],
] as const) {
  const installed = existsSync(icd);
  describe.skipIf(!installed && !gpuRequired)(`adapter ${kind} asked for by name`, () => {
    it(`gives ${kind} and its numbers match the notes`, async () => {
      const engine = await Engine.create({ backend: 'webgpu', gpu: { adapter: kind } });
      try {
        expect(engine.adapter).toMatch(DESCRIPTION[kind]);
        const batch = {
          count: 1,
          inputSize: 1,
          outputSize: 1,
          output: 'last' as const,
          lengths: Uint32Array.of(2),
          offsets: Float64Array.of(0, 2),
          inputs: Float64Array.of(0, 0.5),
          targets: Float64Array.of(1),
        };
        // The notes' network on input (0, 0.5): h1 = relu(1.8·0 − 0.5·0 + 0) = 0, h2 = relu(1.8·0.5 − 0.5·0) = 0.9,
        // y = 1.1·0.9 = 0.99 (w3 = 1.1, biases 0 in the preset).
        const r = await engine.run(modelFromJSON(preset('statquest')), batch, { outputs: true });
        expect(r.outputs![0]).toBeCloseTo(0.99, 5);
      } finally {
        engine.dispose();
      }
    });
  });
}
