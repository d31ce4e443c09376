// Stacked and bidirectional models and carried states on an engine with WebGPU: `backend: 'webgpu'` refuses them
// with one line naming model.numLayers, model.bidirectional, initialStates or finalStates and saying they run on
// the CPU backend; `auto` runs them on the CPU reference (the same bits as cpuRun) and says why in the result's
// fallbackReason, while one-layer models without states stay on WebGPU; the CLI does the same (exit 2, or a note
// on stderr).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { batchFromArrays } from '../src/batch.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import type { AdapterChoice } from '../src/gpu/tuning.ts';
import { modelFromJSON } from '../src/model.ts';
import { cli, expectInputError } from './helpers/cli.ts';
import { describeGpu, testAdapter } from './helpers/gpu.ts';
import { layeredCase, type LayeredShape } from './helpers/layered-cases.ts';
import { Rng, randomData, randomModelJSON } from './helpers/random-cases.ts';

const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-gpu-layers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHAPE: LayeredShape = {
  cell: 'gru',
  inputSize: 2,
  hiddenSize: 3,
  outputSize: 2,
  output: 'last',
  numLayers: 2,
  bidirectional: false,
  h0: true,
};

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  const text = (e as Error).message;
  expect(text).not.toContain('\n');
  return text;
}

await describeGpu('stacked and bidirectional models and carried states with WebGPU', (gpu) => {
  const stacked = layeredCase(new Rng(1), SHAPE, [3, 2]);
  const bidi = layeredCase(new Rng(2), { ...SHAPE, numLayers: 1, bidirectional: true }, [3, 2]);
  const rng = new Rng(3);
  const flatJson = randomModelJSON(rng, {
    inputSize: 2,
    hiddenSize: 3,
    outputSize: 2,
    activation: 'tanh',
    output: 'last',
  });
  const flatData = randomData(rng, flatJson, [3, 2]);
  const flat = modelFromJSON(flatJson);
  const flatBatch = () => batchFromArrays(flatData.inputs, flatData.targets, 'last');

  it('backend webgpu refuses them with one line naming the field and the CPU backend', async () => {
    expect(gpu().backend).toBe('webgpu');
    expect(await refusal(gpu().run(stacked.model, stacked.batch))).toBe(
      'model.numLayers: the WebGPU kernels serve one layer in one direction, and this model has numLayers 2: it runs on the CPU backend (backend "cpu", --backend cpu)',
    );
    expect(await refusal(gpu().run(bidi.json, bidi.batch))).toBe(
      'model.bidirectional: the WebGPU kernels serve one direction, and this model is bidirectional: it runs on the CPU backend (backend "cpu", --backend cpu)',
    );
    const withStates = { ...flatBatch(), initialStates: { h: new Float64Array(6) } };
    expect(await refusal(gpu().run(flat, withStates))).toContain('data: initialStates: the WebGPU kernels do not take');
    expect(await refusal(gpu().run(flat, flatBatch(), { finalStates: true }))).toContain(
      'options: finalStates: the WebGPU kernels do not return final states yet: it runs on the CPU backend',
    );
    // The one-layer model itself still runs there.
    expect((await gpu().run(flat, flatBatch())).backend).toBe('webgpu');
  });

  it('auto runs them on the CPU reference and says why; one-layer runs stay on WebGPU', async () => {
    const auto = await Engine.create({ backend: 'auto', gpu: { adapter: testAdapter as AdapterChoice } });
    try {
      expect(auto.backend).toBe('webgpu');
      const r = await auto.run(stacked.model, stacked.batch, { outputs: true, finalStates: true });
      expect(r.backend).toBe('cpu');
      expect(r.adapter).toBe('cpu (float64 reference)');
      expect(r.fallbackReason).toBe(
        'model.numLayers: the WebGPU kernels serve one layer in one direction, and this model has numLayers 2',
      );
      const ref = cpuRun(stacked.model, stacked.batch, { gradients: true, outputs: true, finalStates: true });
      expect(Array.from(r.gradsFlat!)).toEqual(Array.from(ref.grads!));
      expect(Array.from(r.finalStates!.h)).toEqual(Array.from(ref.finalStates!.h));
      const s = await auto.run(flat, flatBatch(), { finalStates: true });
      expect(s.backend).toBe('cpu');
      expect(s.fallbackReason).toBe('finalStates: the WebGPU kernels do not return final states yet');
      const g = await auto.run(flat, flatBatch());
      expect(g.backend).toBe('webgpu');
      expect(g.fallbackReason).toBeUndefined();
    } finally {
      auto.dispose();
    }
  });

  it('the CLI: --backend webgpu exits 2 naming model.numLayers; auto notes the fallback on stderr', async () => {
    const model = join(dir, 'model.json');
    const data = join(dir, 'data.json');
    writeFileSync(model, JSON.stringify(stacked.json));
    writeFileSync(data, JSON.stringify(stacked.data));
    expectInputError(
      await cli('grad', '--model', model, '--data', data, '--backend', 'webgpu'),
      'model.numLayers: the WebGPU kernels serve one layer in one direction',
      '--backend cpu',
    );
    const r = await cli('grad', '--model', model, '--data', data, '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'webgpu-rnn: model.numLayers: the WebGPU kernels serve one layer in one direction, and this model has numLayers 2; using the CPU reference\n',
    );
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out.backend).toBe('cpu');
    expect(out.fallbackReason).toContain('model.numLayers');
    const text = await cli('forward', '--model', model, '--data', data);
    expect(text.stdout).toMatch(/^backend {3}cpu \(model\.numLayers: the WebGPU kernels serve one layer/);
  });
});
