// The unroll-study kernel (shaders/study/unroll_study.wgsl) on WebGPU: equal to the closed form and to the CPU path
// within the float32 tolerance of test/helpers/study.ts, summing to the engine's dSSR/dw1, refusing overflow.

import { expect, it } from 'vitest';
import { Engine } from '../src/engine.ts';
import { unrollClosedForm, unrollStudy, unrollStudyCpu } from '../src/study/unroll.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import { describeGpu } from './helpers/gpu.ts';
import { engineDw1, expectStudyClose, inputs, w2s } from './helpers/study.ts';

await describeGpu('unroll study on WebGPU', (gpu) => {
  it('equals the closed form for 70 w2 values (not a multiple of the workgroup size)', async () => {
    const many = Array.from({ length: 70 }, (_, j) => -1.6 + (3.2 * j) / 69);
    const g = await unrollStudy(gpu(), { inputs, w2: many });
    expect(g.method).toBe('webgpu');
    expectStudyClose(g, unrollClosedForm({ inputs, w2: many }));
  });

  it('equals the CPU for ReLU and tanh, and its terms sum to the CPU engine dSSR/dw1', async () => {
    for (const activation of ['relu', 'tanh'] as const) {
      const g = await unrollStudy(gpu(), { inputs, w2: w2s, activation, target: 0.25 });
      expectStudyClose(g, unrollStudyCpu({ inputs, w2: w2s, activation, target: 0.25 }));
      for (const row of g.rows.slice(0, 3)) {
        const expected = await engineDw1(activation, row.w2, inputs, 0.25);
        expect(Math.abs(row.dSSRdw1 - expected)).toBeLessThan(1e-4 * Math.max(1, Math.abs(expected)));
      }
    }
  });

  it('gives bit-identical terms on a second run', async () => {
    const a = await unrollStudy(gpu(), { inputs, w2: w2s, activation: 'tanh' });
    const b = await unrollStudy(gpu(), { inputs, w2: w2s, activation: 'tanh' });
    a.rows.forEach((row, j) => {
      expect(b.rows[j].contributions).toEqual(row.contributions);
      expect(b.rows[j].dPredicted).toEqual(row.dPredicted);
    });
  });

  it('refuses values beyond the float32 range', async () => {
    await expect(unrollStudy(gpu(), { inputs: new Array(60).fill(1), w2: [0.5, 10] })).rejects.toThrow(/w2 = 10/);
  });

  it("runs on the engine's runtime: interleaved with engine.run the same terms and loss, refused once the engine is disposed", async () => {
    const e = await Engine.create({ backend: 'webgpu', gpu: { device: gpu().device! } });
    const model = randomModel({ inputSize: 1, hiddenSize: 2, outputSize: 1 }, 'tanh', 'last', 4);
    const batch = randomBatch({
      count: 50,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      minLength: 2,
      maxLength: 5,
      seed: 5,
    });
    const study = { inputs, w2: w2s, activation: 'tanh' as const };
    const a = await unrollStudy(e, study);
    const r = await e.run(model, batch);
    const [b, r2, c] = await Promise.all([unrollStudy(e, study), e.run(model, batch), unrollStudy(e, study)]);
    for (const other of [b, c])
      other.rows.forEach((row, j) => expect(row.contributions).toEqual(a.rows[j].contributions));
    expect(r2.loss).toBe(r.loss);
    expect(Array.from(r2.gradsFlat!)).toEqual(Array.from(r.gradsFlat!));
    e.dispose();
    await expect(unrollStudy(e, study)).rejects.toThrow(/this engine was disposed/);
  });
});
