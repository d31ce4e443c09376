// Training stacked and bidirectional models on an engine with WebGPU: `backend: 'webgpu'` refuses them (train,
// trainPopulation, lossLandscape) with the engine's one line naming model.numLayers or model.bidirectional; `auto`
// trains them on the CPU reference (the bits of a CPU engine) and says why in the report's fallbackReason.

import { expect, it } from 'vitest';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import type { AdapterChoice } from '../src/gpu/tuning.ts';
import { lossLandscape, train, trainPopulation } from '../src/train/index.ts';
import { describeGpu, testAdapter } from './helpers/gpu.ts';
import { layeredCase } from './helpers/layered-cases.ts';
import { Rng } from './helpers/random-cases.ts';

const opts = { optimizer: { kind: 'adam' as const, lr: 0.02 }, steps: 4 };

await describeGpu('training stacked and bidirectional models with WebGPU', (gpu) => {
  const c = layeredCase(
    new Rng(5),
    { cell: 'lstm', inputSize: 2, hiddenSize: 3, outputSize: 1, output: 'last', numLayers: 2, bidirectional: false },
    [3, 2],
  );
  const bi = layeredCase(
    new Rng(6),
    { cell: 'gru', inputSize: 2, hiddenSize: 2, outputSize: 1, output: 'last', numLayers: 1, bidirectional: true },
    [3, 2],
  );

  it('backend webgpu refuses them with one line naming the field', async () => {
    const stacked =
      'model.numLayers: WebGPU training serves one layer in one direction, and this model has numLayers 2: it runs on the CPU backend (backend "cpu", --backend cpu)';
    await expect(train(gpu(), c.model, c.batch, opts)).rejects.toThrow(stacked);
    await expect(train(gpu(), c.model, c.batch, opts)).rejects.toThrow(InputError);
    await expect(trainPopulation(gpu(), [bi.model], bi.batch, opts)).rejects.toThrow(
      'model.bidirectional: WebGPU training serves one direction',
    );
    const axis = { param: 'Wy[0][0]', min: -1, max: 1, steps: 2 };
    await expect(lossLandscape(gpu(), c.model, c.batch, axis, { ...axis, param: 'by[0]' })).rejects.toThrow(stacked);
  });

  it('auto trains them on the CPU with the bits of a CPU engine and says why', async () => {
    const auto = await Engine.create({ backend: 'auto', gpu: { adapter: testAdapter as AdapterChoice } });
    const cpu = await Engine.create({ backend: 'cpu' });
    try {
      expect(auto.backend).toBe('webgpu');
      const r = await train(auto, c.model, c.batch, opts);
      const ref = await train(cpu, c.model, c.batch, opts);
      expect(r.backend).toBe('cpu');
      expect(r.fallbackReason).toBe(
        'model.numLayers: WebGPU training serves one layer in one direction, and this model has numLayers 2',
      );
      expect(Array.from(r.model.params)).toEqual(Array.from(ref.model.params));
      expect(r.finalLoss).toBe(ref.finalLoss);
      const p = await trainPopulation(auto, [bi.model], bi.batch, opts);
      expect(p.backend).toBe('cpu');
      expect(p.fallbackReason).toContain('model.bidirectional');
    } finally {
      auto.dispose();
      cpu.dispose();
    }
  });
});
