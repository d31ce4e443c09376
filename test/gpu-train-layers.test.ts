// Training stacked and bidirectional models on an engine with WebGPU: train, trainPopulation and lossLandscape
// run them step by step through engine.run (the per-sequence strategy's layered kernels, or beyond their sizes the
// gemm strategy's, give the gradients; the optimizer runs on the host), and agree with the CPU trainer within the
// GPU tolerance, inter-layer dropout included (the CPU trainer's masks) on both strategies.

import { expect, it } from 'vitest';
import { gpuTolerance } from '../src/compare.ts';
import { Engine } from '../src/engine.ts';
import { lossLandscape, train, trainPopulation } from '../src/train/index.ts';
import { expectClose } from './helpers/compare.ts';
import { describeGpu } from './helpers/gpu.ts';
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
  const big = layeredCase(
    new Rng(7),
    { cell: 'lstm', inputSize: 2, hiddenSize: 12, outputSize: 1, output: 'last', numLayers: 2, bidirectional: false },
    [3, 2],
  );
  const axis = { param: 'Wy[0][0]', min: -1, max: 1, steps: 3 };

  it('train, trainPopulation and lossLandscape run them on WebGPU and agree with the CPU trainer', async () => {
    const cpu = await Engine.create({ backend: 'cpu' });
    try {
      const r = await train(gpu(), c.model, c.batch, opts);
      const ref = await train(cpu, c.model, c.batch, opts);
      expect(r.backend).toBe('webgpu');
      expect(r.fallbackReason).toBeUndefined();
      expect(r.model.numLayers).toBe(2);
      expectClose('trained params', r.model.params, ref.model.params, gpuTolerance(3, ref.model.params));
      expectClose('final loss', [r.finalLoss], [ref.finalLoss], gpuTolerance(3, [ref.finalLoss]));
      const p = await trainPopulation(gpu(), [bi.model, bi.model], bi.batch, opts);
      const pRef = await trainPopulation(cpu, [bi.model, bi.model], bi.batch, opts);
      expect(p.backend).toBe('webgpu');
      expectClose('population losses', p.finalLoss, pRef.finalLoss, gpuTolerance(3, pRef.finalLoss));
      const l = await lossLandscape(gpu(), bi.model, bi.batch, axis, { ...axis, param: 'layers[1].bh[0]' });
      const lRef = await lossLandscape(cpu, bi.model, bi.batch, axis, { ...axis, param: 'layers[1].bh[0]' });
      expect(l.backend).toBe('webgpu');
      expectClose('landscape', l.losses, lRef.losses, gpuTolerance(3, lRef.losses));
    } finally {
      cpu.dispose();
    }
  });

  it('training with dropout on WebGPU follows the CPU trainer (the same masks for the same seed)', async () => {
    const cpu = await Engine.create({ backend: 'cpu' });
    try {
      const withDropout = { ...opts, dropout: 0.3, seed: 11 };
      const r = await train(gpu(), c.model, c.batch, withDropout);
      const ref = await train(cpu, c.model, c.batch, withDropout);
      expect(r.backend).toBe('webgpu');
      expectClose('trained params', r.model.params, ref.model.params, gpuTolerance(3, ref.model.params));
      const plain = await train(cpu, c.model, c.batch, opts);
      expect(Array.from(plain.model.params)).not.toEqual(Array.from(ref.model.params));
    } finally {
      cpu.dispose();
    }
  });

  it('beyond the per-sequence sizes they train on the gemm strategy and agree with the CPU trainer', async () => {
    const cpu = await Engine.create({ backend: 'cpu' });
    try {
      const r = await train(gpu(), big.model, big.batch, opts);
      const ref = await train(cpu, big.model, big.batch, opts);
      expect(r.backend).toBe('webgpu');
      expect(gpu().lastRunStats?.strategy).toBe('gemm');
      expectClose('trained params', r.model.params, ref.model.params, gpuTolerance(3, ref.model.params));
      expectClose('final loss', [r.finalLoss], [ref.finalLoss], gpuTolerance(3, [ref.finalLoss]));
    } finally {
      cpu.dispose();
    }
  });

  it("with dropout beyond the per-sequence sizes they train on the gemm strategy with the CPU trainer's masks", async () => {
    const cpu = await Engine.create({ backend: 'cpu' });
    try {
      const dropped = { ...opts, dropout: 0.2, seed: 12 };
      const r = await train(gpu(), big.model, big.batch, dropped);
      const ref = await train(cpu, big.model, big.batch, dropped);
      expect(r.backend).toBe('webgpu');
      expect(r.fallbackReason).toBeUndefined();
      expect(gpu().lastRunStats?.strategy).toBe('gemm');
      expectClose('trained params', r.model.params, ref.model.params, gpuTolerance(3, ref.model.params));
      // The masks matter: without dropout the CPU trainer ends elsewhere.
      const plain = await train(cpu, big.model, big.batch, opts);
      expect(Array.from(plain.model.params)).not.toEqual(Array.from(ref.model.params));
    } finally {
      cpu.dispose();
    }
  });
});
