// Training a user can rely on, on WebGPU: a resumed run (weights and Adam's moments read back, the global step,
// the mini-batch order and the schedule continued) equals the uninterrupted run bit for bit, on the training kernel
// and on fused gemm training (H past the training kernel); weight decay and the mean loss follow the CPU; early
// stopping keeps the best round's weights, which equal an uninterrupted GPU run to that step. Small shapes only.

import { expect, it } from 'vitest';
import { Engine } from '../src/engine.ts';
import { modelFromJSON } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import { train, type TrainOptions } from '../src/train/index.ts';
import { describeGpu } from './helpers/gpu.ts';
import { expectTrajectory } from './helpers/train.ts';

const cpuP = Engine.create({ backend: 'cpu' });

await describeGpu('resume, weight decay, the mean loss and early stopping on WebGPU', (gpu) => {
  const data = randomBatch({
    count: 12,
    inputSize: 1,
    outputSize: 1,
    output: 'last',
    minLength: 2,
    maxLength: 5,
    seed: 3,
  });

  it('2 × 10 resumed steps equal 20 uninterrupted, bit for bit (training kernel: Adam, mini-batches, cosine, decay, mean loss)', async () => {
    const model = modelFromJSON(randomModel({ inputSize: 1, hiddenSize: 3, outputSize: 1 }, 'tanh', 'last', 2, 0.5));
    const o: TrainOptions = {
      optimizer: { kind: 'adam', lr: 0.03 },
      steps: 20,
      batchSize: 5,
      seed: 7,
      schedule: { kind: 'cosine' },
      weightDecay: 0.05,
      loss: 'mean',
      readbackEvery: 4,
    };
    const whole = await train(gpu(), model, data, o);
    const first = await train(gpu(), model, data, { ...o, steps: 10, scheduleSteps: 20 });
    const second = await train(gpu(), first.model, data, { ...o, steps: 10, resume: first.optimizerState });
    expect(whole.backend).toBe('webgpu');
    expect(second.steps).toBe(20);
    expect(Array.from(second.model.params)).toEqual(Array.from(whole.model.params));
    expect(Array.from(second.optimizerState.m)).toEqual(Array.from(whole.optimizerState.m));
    expect(Array.from(second.optimizerState.v)).toEqual(Array.from(whole.optimizerState.v));
    // The same run on the CPU (float64): weight decay and the mean loss follow the reference.
    const cpu = await train(await cpuP, model, data, o);
    expectTrajectory(whole.model.params, cpu.model.params, 'params');
    expectTrajectory(
      whole.history.map((h) => h.loss),
      cpu.history.map((h) => h.loss),
      'history',
    );
    expect(whole.finalLoss).toBeCloseTo(cpu.finalLoss, 5);
  });

  it('fused gemm training (H = 17) resumes bit for bit too', async () => {
    const model = modelFromJSON(randomModel({ inputSize: 1, hiddenSize: 17, outputSize: 1 }, 'tanh', 'last', 4, 0.2));
    const small = randomBatch({
      count: 4,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      minLength: 2,
      maxLength: 3,
      seed: 5,
    });
    const o: TrainOptions = {
      optimizer: { kind: 'adam', lr: 0.01 },
      steps: 4,
      batchSize: 2,
      seed: 1,
      weightDecay: 0.1,
    };
    const whole = await train(gpu(), model, small, o);
    const first = await train(gpu(), model, small, { ...o, steps: 2 });
    const second = await train(gpu(), first.model, small, { ...o, steps: 2, resume: first.optimizerState });
    expect(Array.from(second.model.params)).toEqual(Array.from(whole.model.params));
    expect(Array.from(second.optimizerState.v)).toEqual(Array.from(whole.optimizerState.v));
    expectTrajectory(whole.model.params, (await train(await cpuP, model, small, o)).model.params, 'params');
  });

  it('early stopping keeps the best round: the weights of an uninterrupted run to that step', async () => {
    const model = modelFromJSON(randomModel({ inputSize: 1, hiddenSize: 3, outputSize: 1 }, 'tanh', 'last', 6, 0.5));
    const validation = { ...data, targets: Float64Array.from(data.targets!, (x) => -x) };
    const o: TrainOptions = { optimizer: { kind: 'adam', lr: 0.05 }, steps: 60 };
    const r = await train(gpu(), model, data, { ...o, validation, validateEvery: 5, patience: 2 });
    expect(r.bestStep).not.toBeNull();
    expect(r.validationLoss).toBe(Math.min(...r.validationHistory.map((p) => p.loss)));
    const ref = await train(gpu(), model, data, { ...o, steps: r.bestStep!, scheduleSteps: 60 });
    expect(Array.from(r.model.params)).toEqual(Array.from(ref.model.params));
  });
});
