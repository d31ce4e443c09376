// The experiment panels of the page in Chromium (test/helpers/browser.ts; WebGPU on SwiftShader): a short training
// with a live loss curve and the stop button, a CSV upload (bad and good), a population, a loss landscape with its
// descent path and the unroll study, with their numbers checked against the same library run here in Node. Screenshots go to test-artifacts/.

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { seedData } from '../src/data/index.ts';
import type { LandscapeView } from '../src/page/panels/landscape.ts';
import type { PopulationResult } from '../src/page/panels/population.ts';
import type { TrainResult } from '../src/page/panels/train.ts';
import type { UnrollView } from '../src/page/panels/unroll.ts';
import { scalarModel, statquestWeights } from '../src/statquest.ts';
import { unrollClosedForm } from '../src/study/unroll.ts';
import { randomModel } from '../src/random.ts';
import { randomPopulation, train, trainPopulation } from '../src/train/index.ts';
import { ARTIFACTS, describeBrowser, result, runs, useBrowserPage, waitRuns } from './helpers/browser.ts';

describeBrowser('the experiments page in Chromium: train, population, landscape, unroll study', () => {
  const app = useBrowserPage();

  it('trains on the seed data with a live loss curve, stops on request, and refuses a malformed CSV', async () => {
    const { page, errors } = await app.open();
    // Every step: a blank loss floor (the notes' data reaches the default 1e-12 before step 400).
    await page.locator('#tr-floor').fill('');
    await page.locator('#tr-steps').fill('400');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 1);
    const r = await result<TrainResult>(page, 'train');
    expect(r.backend).toBe('webgpu');
    expect(r.steps).toBe(400);
    expect(r.progressCalls).toBeGreaterThan(1);
    // The same training in Node on the CPU reference (same init: randomModel with the page's default seed 1).
    const ref = await train(
      app.cpu,
      randomModel({ inputSize: 1, hiddenSize: 1, outputSize: 1 }, 'relu', 'last', 1, 1),
      seedData(2).batch,
      {
        optimizer: { kind: 'adam', lr: 0.05 },
        steps: 400,
      },
    );
    expect(r.finalLoss).toBeLessThan(r.initialLoss);
    expect(Math.abs(r.finalLoss - ref.finalLoss)).toBeLessThan(1e-4 + 1e-2 * ref.finalLoss);
    expect(await page.locator('#tr-chart canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#tr-progress').evaluate((e) => (e as HTMLProgressElement).value)).toBe(1);
    expect(await page.locator('#tr-table').textContent()).toContain('learned weights');
    await page.locator('#train').screenshot({ path: join(ARTIFACTS, 'panel-train.png') });

    // A long run, stopped: the page stays responsive and reports the steps done.
    await page.locator('#tr-steps').fill('100000');
    await page.locator('#tr-run').click();
    await expect.poll(() => page.locator('#tr-stop').isEnabled()).toBe(true);
    await page.waitForFunction(() => (document.getElementById('tr-progress') as HTMLProgressElement).value > 0);
    await page.locator('#tr-stop').click();
    await waitRuns(page, 'train', 2);
    const stopped = await result<TrainResult>(page, 'train');
    expect(stopped.aborted).toBe(true);
    expect(stopped.steps).toBeGreaterThan(0);
    expect(stopped.steps).toBeLessThan(100000);
    expect(await page.locator('#tr-status').textContent()).toMatch(/^Stopped after \d+ steps/);

    // A malformed CSV: the message names row and column, and nothing trains.
    await page.locator('#tr-data').selectOption('csv');
    expect(await page.locator('#tr-csv-box').isVisible()).toBe(true);
    await page.locator('#tr-csv').fill('price\n1\n2\nabc\n4\n5\n6\n7');
    await page.locator('#tr-len').fill('3');
    await page.locator('#tr-run').click();
    await expect
      .poll(() => page.locator('#tr-status').textContent())
      .toMatch(/row 4, column 1 \("price"\): expected a number, got "abc"/);
    expect(await runs(page, 'train')).toBe(2);
    await page.locator('#tr-status').screenshot({ path: join(ARTIFACTS, 'panel-train-bad-csv.png') });

    // A good CSV trains: a sine sampled 80 times, windows of 8, the last 20% for validation.
    const rows = Array.from({ length: 80 }, (_, t) => Math.sin((2 * Math.PI * t) / 16).toFixed(4));
    await page.locator('#tr-csv').fill(`value\n${rows.join('\n')}`);
    await page.locator('#tr-len').fill('8');
    await page.locator('#tr-val').fill('0.2');
    await page.locator('#tr-steps').fill('60');
    await page.locator('#tr-lr').fill('0.01');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 3);
    const c = await result<TrainResult>(page, 'train');
    expect(c.data).toBe('pasted CSV');
    expect(c.validationLoss).not.toBeNull();
    expect(c.finalLoss).toBeLessThan(c.initialLoss);
    // The validation loss every 2 steps (60 / 40, rounded up), beside the training loss, and the best weights kept.
    expect(c.validationHistory.map((h) => h.step)).toEqual(Array.from({ length: 30 }, (_, k) => 2 * (k + 1)));
    const best = c.validationHistory.reduce((b, h) => (h.loss < b.loss ? h : b));
    expect(c.bestStep).toBe(best.step);
    expect(c.validationLoss).toBe(best.loss);
    // 80 rows split by time as the CLI does: the last 20% (16 rows) for validation; windows of 8 inside each part →
    // 64 − 8 = 56 training windows and 16 − 8 = 8 validation windows, one output each (z-score normalised).
    expect([c.perTrainStep, c.perValidation]).toEqual([56, 8]);
    expect(c.normalization).toBe('zscore');
    // "Loss shown: mean" draws every SSR divided by the values it sums over.
    await page.locator('#tr-scale').selectOption('mean');
    const drawn = (await page.evaluate(() => window.webgpuRnn!.chartData('tr-chart')))!;
    // Step, training and validation: the previous run trained on the notes' data, so it is not drawn on this axis.
    expect(drawn.length).toBe(3);
    expect(await page.locator('#tr-summary').textContent()).toMatch(
      /The previous run \(seed, .*\) trained on other data/,
    );
    const at = (col: (number | null)[], step: number): number | null => col[drawn[0].indexOf(step)];
    for (const h of c.validationHistory) expect(at(drawn[2], h.step)).toBeCloseTo(h.loss / 8, 10);
    for (const h of c.history) expect(at(drawn[1], h.step)).toBeCloseTo(h.loss / 56, 10);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('trains a population of the notes network and shows the histogram of final losses', async () => {
    const { page, errors } = await app.open();
    await page.locator('#pop-count').fill('300');
    await page.locator('#pop-steps').fill('250');
    await page.locator('#pop-run').click();
    await waitRuns(page, 'population', 1);
    const r = await result<PopulationResult>(page, 'population');
    expect(r.backend).toBe('webgpu');
    expect(r.count).toBe(300);
    expect(r.histogram.reduce((s, b) => s + b.count, 0)).toBe(r.finalLoss.filter(Number.isFinite).length);
    // The same population in Node on the CPU reference: same inits (randomPopulation, seed 1), same options.
    const base = randomModel({ inputSize: 1, hiddenSize: 1, outputSize: 1 }, 'relu', 'last', 0);
    const ref = await trainPopulation(app.cpu, randomPopulation(base, 300, 1, 1), seedData(2).batch, {
      optimizer: { kind: 'adam', lr: 0.05 },
      steps: 250,
      lossThreshold: 0.001,
    });
    const refReached = Array.from(ref.finalLoss).filter((v) => v <= 0.001).length;
    expect(Math.abs(r.reached - refReached)).toBeLessThanOrEqual(4);
    expect(r.reached).toBeGreaterThan(0);
    expect(await page.locator('#pop-hist canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#pop-curves canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#pop-summary').textContent()).toMatch(/of 300 models reached an SSR of at most 0.001/);
    await page.locator('#population').screenshot({ path: join(ARTIFACTS, 'panel-population.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws a loss landscape with the descent path, and the unroll study beside the closed form', async () => {
    const { page, errors } = await app.open();
    // Bad input first: the same parameter on both axes.
    await page.locator('#ls-y').selectOption('w1');
    await page.locator('#ls-run').click();
    await expect
      .poll(() => page.locator('#ls-status').textContent())
      .toMatch(/Vertical parameter: choose a parameter other than w1/);
    expect(await runs(page, 'landscape')).toBe(0);
    await page.locator('#ls-y').selectOption('w2');
    await page.locator('#ls-grid').fill('48');
    await page.locator('#ls-steps').fill('60');
    await page.locator('#ls-run').click();
    await waitRuns(page, 'landscape', 1);
    const l = await result<LandscapeView>(page, 'landscape');
    expect(l.backend).toBe('webgpu');
    expect(l.losses.length).toBe(48 * 48);
    expect([l.x[0], l.x[47], l.y[0], l.y[47]]).toEqual([-1, 3, -2, 2]);
    // Sampled grid points against the CPU reference in Node.
    const data = seedData(2).batch;
    for (const [ix, iy] of [
      [0, 0],
      [47, 47],
      [13, 30],
      [30, 7],
      [24, 24],
    ]) {
      const w = { ...statquestWeights(), w1: l.x[ix], w2: l.y[iy] };
      const ref = await app.cpu.run(scalarModel(w, 'relu'), data, { gradients: false });
      const got = l.losses[iy * 48 + ix];
      expect(Math.abs(got - ref.loss!), `(${ix}, ${iy})`).toBeLessThanOrEqual(1e-5 + 1e-4 * ref.loss!);
    }
    expect(l.path!.length).toBeGreaterThan(2);
    expect(l.path![0].x).toBeCloseTo(0.3, 6);
    expect(l.path![0].y).toBeCloseTo(1.5, 6);
    expect(l.path!.at(-1)!.loss).toBeLessThan(l.path![0].loss);
    expect(await page.locator('#ls-heat canvas').count()).toBe(1);
    expect(await page.locator('#ls-heat polyline').count()).toBe(2);
    await page.locator('#landscape').screenshot({ path: join(ARTIFACTS, 'panel-landscape.png') });

    await page.locator('#ur-run').click();
    await waitRuns(page, 'unroll', 1);
    const u = await result<UnrollView>(page, 'unroll');
    expect(u.method).toBe('webgpu');
    expect(u.w2).toEqual([0.5, 0.9, 1, 1.1, 1.5].map(Math.fround)); // the study rounds its inputs to float32
    const closed = unrollClosedForm({ inputs: new Array(20).fill(0.5), w2: u.w2, target: 1 });
    closed.rows.forEach((row, j) => {
      const scale = Math.max(...Array.from(row.contributions, Math.abs));
      row.contributions.forEach((c, k) =>
        expect(Math.abs(u.contributions[j][k] - c), `w2 ${row.w2}, k ${k}`).toBeLessThanOrEqual(1e-4 * scale),
      );
    });
    // The lesson: the far past vanishes for |w2| < 1 and explodes for |w2| > 1.
    expect(Math.abs(u.contributions[0][19] / u.contributions[0][0])).toBeLessThan(1e-5);
    expect(Math.abs(u.contributions[4][19] / u.contributions[4][0])).toBeGreaterThan(1e3);
    expect(Math.max(...u.maxRelDiff!)).toBeLessThan(1e-4);
    expect(await page.locator('#ur-chart canvas').count()).toBeGreaterThan(0);
    await page.locator('#unroll').screenshot({ path: join(ARTIFACTS, 'panel-unroll.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
