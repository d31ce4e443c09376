// The cells' unroll study through the engine on WebGPU (src/study/cells-engine.ts: one-hot input columns, so
// dSSR/dWx of those columns is the gradient reaching the input projection k steps back) against the float64 CPU
// study, for Elman, LSTM, GRU and the saturated LSTM, and `unroll-study --cells` on WebGPU. Tolerance per model: the engine's documented gpuTolerance
// over the model's ∂SSR/∂x values (atol 1e-5·max, rtol 1e-4·√T); on SwiftShader the largest relative difference
// of a random Elman network (H = 8, T = 70) was 2.8e-5.

import { expect, it } from 'vitest';
import { compareArrays, gpuTolerance } from '../src/compare.ts';
import type { CellName } from '../src/cells/index.ts';
import { cellStudy, randomCellModels } from '../src/study/cells.ts';
import { cellStudyOnEngine } from '../src/study/cells-engine.ts';
import { json } from './helpers/cli.ts';
import { describeGpu } from './helpers/gpu.ts';
import type { CellStudyReport } from './helpers/reports.ts';

const T = 12;

await describeGpu("the cells' study on WebGPU", (gpu) => {
  for (const cells of [['elman'], ['lstm'], ['gru']] as CellName[][]) {
    it(`${cells[0]}${cells[0] === 'lstm' ? ' and the saturated LSTM' : ''}: ∂SSR/∂x k steps back and the Wx terms equal the float64 CPU's`, async () => {
      const models = randomCellModels({ cells, hidden: 4, seed: 2, saturation: 20 });
      const g = await cellStudyOnEngine(gpu(), { models, length: T, seed: 6 });
      const c = cellStudy({ models, length: T, seed: 6 });
      expect(g.backend).toBe('webgpu');
      g.rows.forEach((row, j) => {
        const exp = c.rows[j].dInput.flatMap((v) => Array.from(v));
        const act = row.dInput.flatMap((v) => Array.from(v));
        const cmp = compareArrays(act, exp, gpuTolerance(T, exp));
        expect(cmp.ok, `${row.label}: max rel ${cmp.maxRel}`).toBe(true);
        const w = compareArrays(row.wx, c.rows[j].wx, gpuTolerance(T, c.rows[j].wx));
        expect(w.ok, `${row.label} wx: max rel ${w.maxRel}`).toBe(true);
        expect(compareArrays([row.loss], [c.rows[j].loss], gpuTolerance(T, [c.rows[j].loss])).ok).toBe(true);
      });
    });
  }

  it('unroll-study --cells on WebGPU: the input side again through the engine, checked against the CPU', async () => {
    const rep = await json<CellStudyReport>(
      'unroll-study',
      '--cells',
      'elman',
      '--backend',
      'webgpu',
      '--length',
      '8',
      '--hidden',
      '3',
    );
    const engine = rep.engine!;
    expect(engine.backend).toBe('webgpu');
    expect(engine.check.failures).toBe(0);
    expect(engine.check.values).toBe(8 + 8 + 1);
    const c = compareArrays(engine.rows[0].input, rep.rows[0].input, gpuTolerance(8, rep.rows[0].input));
    expect(c.ok).toBe(true);
    expect(c.maxAbs).toBeGreaterThan(0); // float32 against float64: not the same numbers
  });
});
