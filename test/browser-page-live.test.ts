// The page's live charts and comparisons in Chromium on WebGPU (SwiftShader): the Train loss curve that updates
// during a run is drawn at full opacity while the previous results are dimmed; the playground's prediction chart
// names what it draws as its caption does, does not join unrelated sequences, and ticks whole sequences; the
// previous run is overlaid only when it used the same data, and a run that reaches the loss floor stops and says so.

import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { seedData } from '../src/data/index.ts';
import type { PlaygroundState } from '../src/page/panels/playground.ts';
import type { SeedResult } from '../src/page/panels/seed.ts';
import { scalarModel, statquestWeights } from '../src/statquest.ts';
import type { TrainResult } from '../src/page/panels/train.ts';
import { describeBrowser, result, runs, useBrowserPage, waitRuns } from './helpers/browser.ts';

/** The opacity an element is drawn with: the product of its own and every ancestor's. */
const drawnOpacity = (page: Page, sel: string): Promise<number> =>
  page.locator(sel).evaluate((el) => {
    let o = 1;
    for (let e: Element | null = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o;
  });

const spec = (page: Page, id: string) => page.evaluate((k) => window.webgpuRnn!.chartSpec(k), id);
const ticks = (page: Page, id: string) => page.evaluate((k) => window.webgpuRnn!.chartTicks(k), id);

describeBrowser('the page’s live charts and comparisons in Chromium', () => {
  const app = useBrowserPage();

  it('keeps the live Train curve at full opacity while it runs, and dims only the previous results', async () => {
    const { page, errors } = await app.open();
    await page.waitForFunction(() => document.body.dataset.warm === 'true', null, { timeout: 60_000 });
    await page.locator('#tr-steps').fill('200');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 1);
    // A long run (no loss floor, so it does not stop early): the curve grows while the panel is running.
    await page.locator('#tr-floor').fill('');
    await page.locator('#tr-steps').fill('100000');
    await page.locator('#tr-run').click();
    await expect.poll(() => page.locator('#tr-stop').isEnabled()).toBe(true);
    await expect
      .poll(() => page.evaluate(() => window.webgpuRnn!.chartData('tr-chart')?.[0].length ?? 0), { timeout: 60_000 })
      .toBeGreaterThan(3);
    expect(await page.locator('#train').evaluate((e) => e.classList.contains('running'))).toBe(true);
    expect(await drawnOpacity(page, '#tr-chart')).toBe(1);
    await expect.poll(() => drawnOpacity(page, '#tr-table')).toBeLessThan(0.5);
    await expect.poll(() => drawnOpacity(page, '#tr-summary')).toBeLessThan(0.5);
    expect(await drawnOpacity(page, '#tr-chart')).toBe(1);
    await page.locator('#tr-stop').click();
    await waitRuns(page, 'train', 2);
    await expect.poll(() => drawnOpacity(page, '#tr-table')).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('recomputes the seed panel on WebGPU within a second while a long Train run trains in the WebGPU worker', async () => {
    const { page, errors } = await app.open();
    await page.waitForFunction(() => document.body.dataset.warm === 'true', null, { timeout: 60_000 });
    await page.locator('#tr-floor').fill('');
    await page.locator('#tr-steps').fill('100000');
    await page.locator('#tr-run').click();
    await expect.poll(() => page.locator('#tr-stop').isEnabled()).toBe(true);
    const before = await runs(page, 'seed');
    const t0 = Date.now();
    await page.locator('#seed-w2').fill('0.25');
    await waitRuns(page, 'seed', before + 1, 5_000);
    const ms = Date.now() - t0;
    expect(ms).toBeLessThan(1000);
    const r = await result<SeedResult>(page, 'seed');
    expect(r.weights.w2).toBe(0.25);
    // Train runs on the WebGPU worker's own device, so the seed panel ran on WebGPU at once, with no waiting message.
    expect(await page.evaluate(() => document.body.dataset.longLane)).toBe('worker');
    expect(r.backend).toBe('webgpu');
    const text = await page.locator('#seed-status').textContent();
    expect(text).toMatch(/^Computed on WebGPU \(.*\) in [\d.]+ ms\.$/);
    expect(text).not.toMatch(/Waiting|busy/);
    // The numbers are the float64 reference's within float32: the SSR of the notes' data with w2 = 0.25.
    const ref = await app.cpu.run(scalarModel({ ...statquestWeights(), w2: 0.25 }, 'relu'), seedData(2).batch, {
      gradients: true,
    });
    expect(Math.abs(r.ssr - ref.loss!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.loss!)));
    expect(Math.abs(r.grads.w2 - ref.grads!.Wh[0][0])).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.grads!.Wh[0][0])));
    // The Train run goes on meanwhile.
    expect(await page.locator('#tr-stop').isEnabled()).toBe(true);
    await page.locator('#tr-stop').click();
    await waitRuns(page, 'train', 1);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('labels the playground’s predictions as its caption does, joins only windows in time order, and ticks whole sequences', async () => {
    const { page, errors } = await app.open();
    // The notes' two sequences, no validation split: the first training sequences, ticks 1 and 2 only.
    await page.locator('#pg-step').click();
    await waitRuns(page, 'playground', 1);
    let s = await spec(page, 'pg-pred');
    expect(s?.xLabel).toBe('training sequence');
    expect(await page.locator('#pg-pred-cap').textContent()).toMatch(
      /^Predictions against targets on the first training sequences/,
    );
    expect(s?.series.map((x) => x.line)).toEqual([false, false]);
    await expect.poll(async () => (await ticks(page, 'pg-pred'))?.x).toEqual(['1', '2']);

    // The sine with a validation split: validation sequences, not joined, whole-number ticks.
    await page.locator('#tr-data').selectOption('sine');
    await page.locator('#tr-count').fill('40');
    await page.locator('#tr-val').fill('0.2');
    await page.locator('#pg-reset').click();
    await page.locator('#pg-step').click();
    await waitRuns(page, 'playground', 2);
    s = await spec(page, 'pg-pred');
    expect(s?.xLabel).toBe('validation sequence');
    expect(await page.locator('#pg-pred-cap').textContent()).toMatch(
      /^Predictions against targets on the validation sequences/,
    );
    expect(s?.series.map((x) => x.line)).toEqual([false, false]);
    const xs = (await ticks(page, 'pg-pred'))!.x.filter((t) => t !== '');
    expect(xs.length).toBeGreaterThan(1);
    for (const t of xs) expect(Number.isInteger(Number(t))).toBe(true);

    // A CSV series: its windows follow each other in time, so they are joined.
    await page.locator('#tr-data').selectOption('csv');
    const rows = Array.from({ length: 60 }, (_, k) => (Math.sin(k / 4) + 2).toFixed(4)).join('\n');
    await page.locator('#tr-csv').fill(`v\n${rows}`);
    await page.locator('#tr-len').fill('8');
    await page.locator('#pg-reset').click();
    await page.locator('#pg-step').click();
    await waitRuns(page, 'playground', 3);
    s = await spec(page, 'pg-pred');
    expect(s?.xLabel).toBe('validation window, in time order');
    expect(s?.series.map((x) => x.line)).toEqual([true, true]);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('plays until paused with the optimizer state kept: N steps of Play are a Train run of N steps', async () => {
    const { page, errors } = await app.open();
    await page.waitForFunction(() => document.body.dataset.warm === 'true', null, { timeout: 60_000 });
    // The defaults: the notes' data, Adam (whose moments must carry over), 5 steps a frame, past Steps = 30.
    await page.locator('#tr-steps').fill('30');
    await page.locator('#pg-speed').selectOption('5');
    await page.locator('#pg-play').click();
    await page.waitForFunction(
      () => ((window.webgpuRnn!.results.playground as PlaygroundState | undefined)?.step ?? 0) >= 40,
      null,
      {
        timeout: 60_000,
      },
    );
    await page.locator('#pg-play').click(); // Pause
    await expect.poll(() => page.locator('#pg-play').textContent()).toBe('Play');
    const s = await result<PlaygroundState>(page, 'playground');
    expect(s.step % 5).toBe(0);
    expect(s.history.map((h) => h.step)).toEqual(Array.from({ length: s.step }, (_, k) => k));
    // The same number of steps as one Train run on the page (same backend): the same weights.
    await page.locator('#tr-floor').fill('');
    await page.locator('#tr-steps').fill(String(s.step));
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 1);
    const t = await result<TrainResult>(page, 'train');
    expect(t.steps).toBe(s.step);
    const flat = (w: TrainResult['model']['weights']): number[] =>
      Object.values(w).flatMap((b) => (b as (number | number[])[]).flat());
    const got = flat(s.model.weights);
    const want = flat(t.model.weights);
    got.forEach((v, k) => expect(Math.abs(v - want[k])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[k]))));
    // A new learning rate takes effect at the next frame.
    await page.locator('#tr-lr').fill('0.01');
    // The count before the click: a frame that ends before a count read after it would be waited for in vain.
    const runsBefore = await page.evaluate(() => Number(document.body.dataset.playgroundRuns ?? 0));
    await page.locator('#pg-step').click();
    await waitRuns(page, 'playground', runsBefore + 1);
    expect(await page.locator('#pg-status').textContent()).toMatch(/^Step \d+ on WebGPU \(adam, learning rate 0\.01\)/);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('stops at the loss floor and says so, and overlays the previous run only when it used the same data', async () => {
    const { page, errors } = await app.open();
    await page.waitForFunction(() => document.body.dataset.warm === 'true', null, { timeout: 60_000 });
    // The defaults: the notes' data, Adam, 1000 steps, floor 1e-12 (the SSR reaches it after a few hundred steps).
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 1);
    let r = await result<TrainResult>(page, 'train');
    expect(r.floorReached).toBe(1e-12);
    expect(r.stoppedEarly).toBe(true);
    expect(r.steps).toBeLessThan(600);
    // Every recorded loss before the last is above the floor: no step was spent on it.
    expect(r.history.at(-1)!.loss).toBeLessThanOrEqual(1e-12);
    expect(r.history.slice(0, -1).every((h) => h.loss > 1e-12)).toBe(true);
    expect(await page.locator('#tr-status').textContent()).toMatch(
      new RegExp(`Stopped at the loss floor: the SSR reached 1e-12 at step ${r.steps} of 1000\\.$`),
    );
    expect(await page.locator('#tr-summary').textContent()).toContain(
      `The run stopped at step ${r.steps} of 1000: the training SSR reached the floor 1e-12`,
    );
    expect(r.previousDrawn).toBe(false);
    // The predictions against the data: the notes' two sequences, both training (no validation split), not joined.
    const pred = (await page.evaluate(() => window.webgpuRnn!.chartData('tr-pred')))!;
    expect(pred[0]).toEqual([1, 2]);
    expect(pred[1]).toEqual([0, 1]);
    // The run reached SSR ≤ 1e-12, so each prediction is within 1e-6 of its target.
    pred[2].forEach((v, k) => expect(Math.abs(v! - pred[1][k]!)).toBeLessThan(1e-6));
    expect(pred[3]).toEqual([null, null]);
    expect((await spec(page, 'tr-pred'))!.series.map((x) => x.line)).toEqual([false, false, false]);
    expect(r.predicted).toEqual({ train: 2, validation: 0, units: 'data', forecast: [] });

    // The same data again (another learning rate): the previous run is drawn dashed, labelled.
    await page.locator('#tr-lr').fill('0.02');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 2);
    r = await result<TrainResult>(page, 'train');
    expect(r.previousDrawn).toBe(true);
    expect(r.previousLabel).toBe('seed, adam lr 0.05, H 1');
    expect((await spec(page, 'tr-chart'))!.series.map((x) => x.label)).toEqual([
      'training SSR',
      'previous run (seed, adam lr 0.05, H 1), training SSR',
    ]);
    expect(await page.locator('#tr-summary').textContent()).toContain(
      'Dashed: the previous run on the same data (seed, adam lr 0.05, H 1).',
    );

    // Other data (the sine): the seed run is not drawn on its axis, and the caption says why.
    await page.locator('#tr-data').selectOption('sine');
    await page.locator('#tr-count').fill('32');
    await page.locator('#tr-steps').fill('30');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 3);
    r = await result<TrainResult>(page, 'train');
    expect(r.previousDrawn).toBe(false);
    expect((await spec(page, 'tr-chart'))!.series.map((x) => x.label)).toEqual(['training SSR']);
    expect(await page.locator('#tr-summary').textContent()).toContain(
      'The previous run (seed, adam lr 0.02, H 1) trained on other data, so it is not drawn.',
    );
    // The same sine again with more sequences is other data too.
    await page.locator('#tr-count').fill('48');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 4);
    expect((await result<TrainResult>(page, 'train')).previousDrawn).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
