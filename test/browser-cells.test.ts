// The page with LSTM and GRU cells in Chromium: the cell selectors (Train and its playground, Population, Verify) on the CPU fallback
// and on WebGPU, and the Unroll study's cells side by side, with their numbers checked against the same library run
// here in Node (the cells study in the page's CPU worker on both backends, and the chaotic tanh preset); the new
// controls fit a 390 px screen.

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CELL_NAMES } from '../src/cells/index.ts';
import { seedData } from '../src/data/index.ts';
import type { CellStudyView } from '../src/page/panels/cell-study.ts';
import type { PopulationResult } from '../src/page/panels/population.ts';
import type { TrainResult } from '../src/page/panels/train.ts';
import { randomModel } from '../src/random.ts';
import { cellStudy, randomCellModels } from '../src/study/cells.ts';
import { randomPopulation, train, trainPopulation } from '../src/train/index.ts';
import type { VerifyReport } from '../src/verify.ts';
import {
  ARTIFACTS,
  describeBrowser,
  result,
  sideways,
  useBrowserPage,
  waitRuns,
  workerJobs,
  type PageServer,
} from './helpers/browser.ts';

const close = (a: number, b: number, rel: number): boolean =>
  Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

describeBrowser('the page with LSTM and GRU cells in Chromium', () => {
  const app = useBrowserPage();

  /** Trains a 1-2-1 LSTM on the seed data for 60 steps on the page and in Node (float64 CPU). */
  async function trainLstm(
    page: Awaited<ReturnType<PageServer['open']>>['page'],
  ): Promise<{ r: TrainResult; ref: number }> {
    await page.locator('#tr-cell').selectOption('lstm');
    expect(await page.locator('#tr-act').isDisabled()).toBe(true);
    expect(await page.locator('#tr-act').inputValue()).toBe('tanh');
    await page.locator('#tr-hidden').fill('2');
    await page.locator('#tr-steps').fill('60');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 1);
    const r = await result<TrainResult>(page, 'train');
    const init = randomModel({ inputSize: 1, hiddenSize: 2, outputSize: 1 }, 'tanh', 'last', 1, 1, 'lstm');
    const ref = await train(app.cpu, init, seedData(2).batch, { optimizer: { kind: 'adam', lr: 0.05 }, steps: 60 });
    return { r, ref: ref.finalLoss };
  }

  it('CPU fallback: trains an LSTM, a population of GRUs and verifies a GRU; compares the cells in the Unroll study', async () => {
    const { page, errors } = await app.open({ withoutWebGpu: true });
    const { r, ref } = await trainLstm(page);
    expect(r.backend).toBe('cpu');
    expect(r.model.cell).toBe('lstm');
    expect(r.model.weights.bx!.length).toBe(8);
    expect(close(r.finalLoss, ref, 1e-9)).toBe(true);
    expect(r.finalLoss).toBeLessThan(r.initialLoss);
    expect(await page.locator('#tr-table').textContent()).toContain('LSTM; I 1, H 2, O 1');
    // The playground steps the same LSTM: its weights table has every block of the cell, bx included.
    await page.locator('#pg-step').click();
    await waitRuns(page, 'playground', 1);
    expect(await result<{ model: { cell?: string } }>(page, 'playground')).toMatchObject({ model: { cell: 'lstm' } });
    const heads = await page.locator('#pg-weights th').allTextContents();
    expect(heads.slice(0, 7)).toEqual(['block', 'Wx', 'Wh', 'bx', 'bh', 'Wy', 'by']);
    // Back to Elman: the activation select is enabled again with its value.
    await page.locator('#tr-cell').selectOption('elman');
    expect(await page.locator('#tr-act').isDisabled()).toBe(false);
    expect(await page.locator('#tr-act').inputValue()).toBe('relu');

    await page.locator('#pop-cell').selectOption('gru');
    await page.locator('#pop-hidden').fill('2');
    await page.locator('#pop-count').fill('20');
    await page.locator('#pop-steps').fill('30');
    await page.locator('#pop-run').click();
    await waitRuns(page, 'population', 1);
    const pop = await result<PopulationResult>(page, 'population');
    const base = randomModel({ inputSize: 1, hiddenSize: 2, outputSize: 1 }, 'tanh', 'last', 0, 0.5, 'gru');
    const lib = await trainPopulation(app.cpu, randomPopulation(base, 20, 1, 1), seedData(2).batch, {
      optimizer: { kind: 'adam', lr: 0.05 },
      steps: 30,
      lossThreshold: 0.001,
    });
    pop.finalLoss.forEach((v, m) =>
      expect(close(v, lib.finalLoss[m], 1e-9), `model ${m}: ${v} vs ${lib.finalLoss[m]}`).toBe(true),
    );

    await page.locator('#vf-cell').selectOption('gru');
    await page.locator('#vf-n').fill('50');
    await page.locator('#vf-h').fill('4');
    await page.locator('#vf-run').click();
    await waitRuns(page, 'verify', 1);
    const v = await result<VerifyReport>(page, 'verify');
    expect(v.ok).toBe(true);
    expect(v.checks.map((c) => c.name)).toEqual(['loss', 'outputs', 'Wx', 'Wh', 'bx', 'bh', 'Wy', 'by']);

    await page.locator('#uc-t').fill('40');
    await page.locator('#uc-hidden').fill('4');
    await page.locator('#uc-run').click();
    await waitRuns(page, 'cells', 1);
    const c = await result<CellStudyView>(page, 'cells');
    const lib2 = cellStudy({
      models: randomCellModels({ cells: CELL_NAMES, hidden: 4, seed: 1, saturation: 20 }),
      length: 40,
      seed: 1,
    });
    expect(c.labels).toEqual(lib2.rows.map((row) => row.label));
    c.values.forEach((vals, j) => vals.forEach((x, k) => expect(close(x, lib2.rows[j].state[k], 1e-9)).toBe(true)));
    expect(c.perStep[c.labels.indexOf('lstm (saturated)')]!.verdict).toBe('flat');
    expect(await page.locator('#uc-chart canvas').count()).toBeGreaterThan(0);
    // It ran in the CPU worker, and says so.
    expect((await workerJobs(page)).cells).toBe(1);
    expect(await page.locator('#uc-status').textContent()).toContain('in a worker');

    // At 390 px the new controls fit without sideways scrolling.
    await page.setViewportSize({ width: 390, height: 844 });
    // Charts follow their container through a ResizeObserver, a frame or two after the resize.
    await expect.poll(() => sideways(page), { timeout: 10_000 }).toBeLessThanOrEqual(0);
    await page.locator('#uc-form').screenshot({ path: join(ARTIFACTS, 'panel-cells-390.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.locator('#unroll').screenshot({ path: join(ARTIFACTS, 'panel-unroll-cells.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('WebGPU: trains an LSTM like the CPU (float32 against float64); the chaotic tanh preset runs the cells study in the worker', async () => {
    const { page, errors } = await app.open();
    const { r, ref } = await trainLstm(page);
    expect(r.backend).toBe('webgpu');
    expect(r.model.cell).toBe('lstm');
    expect(Math.abs(r.finalLoss - ref)).toBeLessThan(1e-4 + 1e-3 * ref);

    // The preset sets the cells study's fields (kept in the URL) and runs it: the tanh Elman network explodes.
    await page.locator('#preset').selectOption('chaos');
    await waitRuns(page, 'cells', 1);
    expect(await page.locator('#uc-hidden').inputValue()).toBe('32');
    expect(await page.locator('#uc-scale').inputValue()).toBe('1');
    await expect.poll(() => page.evaluate(() => location.search)).toContain('uc-hidden=32');
    const c = await result<CellStudyView>(page, 'cells');
    const lib = cellStudy({
      models: randomCellModels({ cells: CELL_NAMES, hidden: 32, seed: 1, scale: 1, saturation: 20 }),
      length: 100,
      seed: 1,
    });
    expect(c.labels).toEqual(lib.rows.map((row) => row.label));
    c.values.forEach((vals, j) => vals.forEach((x, k) => expect(close(x, lib.rows[j].state[k], 1e-9)).toBe(true)));
    expect(c.perStep[c.labels.indexOf('elman (tanh)')]!.verdict).toBe('explodes');
    expect(c.perStep[c.labels.indexOf('gru')]!.verdict).toBe('vanishes');
    expect(await page.locator('#preset-note').textContent()).toContain('chaotic');
    expect((await workerJobs(page)).cells).toBe(1);
    // A weight scale out of range is an error naming the field.
    await page.locator('#uc-scale').fill('20');
    await page.locator('#uc-run').click();
    await expect.poll(() => page.locator('#uc-status').textContent()).toMatch(/Weight scale.*10/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
