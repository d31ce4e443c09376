// The experiments page's usability fixes in Chromium (test/helpers/browser.ts; WebGPU on SwiftShader, and the CPU
// fallback): fields that do not apply stay hidden, unreadable numbers are errors naming the field and quoting the
// text, red marks clear on edit, zero losses stay on the log chart, a diverging run is reported at the same step
// on both backends, queued runs say what they wait for, stale results are dimmed, a start point outside the
// landscape is a warning, one overflowing w2 does not sink the unroll study, long panels stop, and at 390 px the
// page does not scroll sideways. (The page timer during runs is test/browser-page-timer.test.ts.) Screenshots of
// every panel at 1440 and 390 px go to test-artifacts/.

import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedData } from '../src/data/index.ts';
import { Engine } from '../src/engine.ts';
import type { LandscapeView } from '../src/page/panels/landscape.ts';
import type { TrainResult } from '../src/page/panels/train.ts';
import type { UnrollView } from '../src/page/panels/unroll.ts';
import type { VerifyReport } from '../src/verify.ts';
import { randomModel } from '../src/random.ts';
import { train } from '../src/train/index.ts';
import { unrollStudyCpu } from '../src/study/unroll.ts';
import {
  ARTIFACTS,
  result,
  runBrowserTests,
  runs,
  sideways,
  startPageServer,
  waitRuns,
  workerJobs,
  type PageServer,
} from './helpers/browser.ts';

const PANELS = ['seed', 'train', 'population', 'landscape', 'unroll', 'throughput', 'verify'];

const status = (page: Page, id: string): Promise<string> =>
  page
    .locator(`#${id}`)
    .textContent()
    .then((t) => t ?? '');

/** Clicks a Stop button unless its run has already ended (the button is then disabled); whether it clicked. */
async function clickIfEnabled(button: ReturnType<Page['locator']>): Promise<boolean> {
  try {
    await button.click({ timeout: 5_000 });
    return true;
  } catch (e) {
    if (await button.isEnabled()) throw e;
    return false;
  }
}

(runBrowserTests ? describe : describe.skip)('the experiments page: fixes for fields, charts, runs and phones', () => {
  let server: PageServer;
  let cpu: Engine;

  beforeAll(async () => {
    server = await startPageServer();
    cpu = await Engine.create({ backend: 'cpu' });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('shows only the fields that apply, refuses unreadable numbers by name, clears red marks on edit, marks the CSV text', async () => {
    const { page, errors } = await server.open();
    // The notes' data: no sequence count or window; CSV: a window, no count; sine: both.
    expect(await page.locator('#tr-count').isVisible()).toBe(false);
    expect(await page.locator('#tr-len').isVisible()).toBe(false);
    await page.locator('#tr-data').selectOption('csv');
    expect(await page.locator('#tr-count').isVisible()).toBe(false);
    expect(await page.locator('#tr-len').isVisible()).toBe(true);
    await page.locator('#tr-data').selectOption('sine');
    expect(await page.locator('#tr-count').isVisible()).toBe(true);
    await page.locator('#tr-data').selectOption('seed');

    // Unreadable numbers: an error naming the field and quoting the text; nothing trains.
    for (const typed of ['1e', '--']) {
      await page.locator('#tr-batch').fill(typed);
      await page.locator('#tr-run').click();
      await expect
        .poll(() => status(page, 'tr-status'))
        .toContain(`Mini-batch (blank: all): "${typed}" is not a number`);
      expect(await page.locator('#tr-batch').getAttribute('aria-invalid')).toBe('true');
    }
    expect(await runs(page, 'train')).toBe(0);
    // Correcting the field clears its mark at once.
    await page.locator('#tr-batch').fill('');
    expect(await page.locator('#tr-batch').getAttribute('aria-invalid')).toBeNull();
    await page.locator('#vf-trunc').fill('abc');
    await page.locator('#vf-run').click();
    await expect
      .poll(() => status(page, 'vf-status'))
      .toContain('Truncate BPTT after (steps; blank: full): "abc" is not a number');
    expect(await runs(page, 'verify')).toBe(0);
    await page.locator('#vf-trunc').fill('5');
    expect(await page.locator('#vf-trunc').getAttribute('aria-invalid')).toBeNull();

    // A malformed CSV marks the text area (as the README says), and editing it clears the mark.
    await page.locator('#tr-data').selectOption('csv');
    await page.locator('#tr-csv').fill('price\n1\n2\nabc\n4\n5\n6\n7');
    await page.locator('#tr-len').fill('3');
    await page.locator('#tr-run').click();
    await expect
      .poll(() => status(page, 'tr-status'))
      .toMatch(/row 4, column 1 \("price"\): expected a number, got "abc"/);
    expect(await page.locator('#tr-csv').getAttribute('aria-invalid')).toBe('true');
    await page.locator('#tr-csv').fill('price\n1\n2\n3\n4\n5\n6\n7');
    expect(await page.locator('#tr-csv').getAttribute('aria-invalid')).toBeNull();

    // The notes' panel explains the activation chosen.
    await page.locator('#seed-act').selectOption('tanh');
    await expect.poll(() => status(page, 'seed-closed-note')).toMatch(/tanh′ = 1 − hidden²/);
    expect(await status(page, 'seed-closed-note')).not.toMatch(/ReLU′/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws zero losses on the log chart, and reports a diverging run at the same step as the CPU run in Node', async () => {
    const { page, errors } = await server.open();
    // The page builds its training kernels once after loading (that holds the main thread on a software adapter).
    await page.waitForFunction(() => document.body.dataset.warm === 'true', null, { timeout: 60_000 });
    await page.locator('#tr-run').click(); // the defaults: the notes' data, Adam, 1000 steps
    await waitRuns(page, 'train', 1);
    const r = await result<TrainResult>(page, 'train');
    // The same run in Node on the CPU reference reaches an SSR that float32 records as 0.
    const ref = await train(
      cpu,
      randomModel({ inputSize: 1, hiddenSize: 1, outputSize: 1 }, 'relu', 'last', 1, 1),
      seedData(2).batch,
      {
        optimizer: { kind: 'adam', lr: 0.05 },
        steps: 1000,
        historyEvery: 1,
      },
    );
    expect(ref.history.some((h) => h.loss === 0)).toBe(true);
    expect(r.history.length).toBe(1000);
    expect(r.history.filter((h) => h.loss === 0).length).toBeGreaterThan(0);
    // Every recorded step is drawn, zeros at the floor 1e-14; the curve reaches the last step.
    expect(r.chartPoints).toBe(r.history.length);
    const data = await page.evaluate(() => window.webgpuRnn!.chartData('tr-chart'));
    expect(data![0].at(-1)).toBe(999);
    expect(data![1].at(-1)).toBe(1e-14);
    expect(data![1].every((v) => v !== null && v > 0)).toBe(true);
    expect(await status(page, 'tr-summary')).toMatch(/including 0, at 1e-14/);

    // SGD with learning rate 100 diverges: the SSR leaves the float32 range at step 8.
    await page.locator('#tr-opt').selectOption('sgd');
    await page.locator('#tr-lr').fill('100');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 2);
    const d = await result<TrainResult>(page, 'train');
    const refD = await train(
      cpu,
      randomModel({ inputSize: 1, hiddenSize: 1, outputSize: 1 }, 'relu', 'last', 1, 1),
      seedData(2).batch,
      {
        optimizer: { kind: 'sgd', lr: 100 },
        steps: 1000,
        historyEvery: 1,
      },
    );
    const refStep = refD.history.find((h) => !Number.isFinite(h.loss))!.step;
    expect(refStep).toBe(8);
    expect(d.diverged).toBe(true);
    expect(d.overflowStep).toBe(refStep);
    expect(await status(page, 'tr-status')).toMatch(/^Diverged: the SSR left the float32 range at step 8\./);
    const table = await status(page, 'tr-table');
    expect(table).not.toMatch(/NaN/);
    expect(table).toMatch(/not finite: the SSR overflows at those weights too/);
    // The y axis carries labels (at least three).
    const ticks = (await page.evaluate(() => window.webgpuRnn!.chartTicks('tr-chart')))!;
    expect(ticks.y.filter((t) => t !== '').length).toBeGreaterThanOrEqual(3);
    expect(new Set(ticks.y).size).toBe(ticks.y.length);
    await page.locator('#train').screenshot({ path: join(ARTIFACTS, 'fix-train-diverged.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('reports a diverging run at the same step on the CPU fallback, in the CPU worker', async () => {
    const { page, errors } = await server.open({ withoutWebGpu: true });
    expect(await status(page, 'backend-line')).toBe('Backend: CPU reference (float64 JavaScript)');
    const notice = await status(page, 'fallback');
    expect(notice).toMatch(/^WebGPU is not available here, so every panel runs on the CPU reference\./);
    expect(notice).not.toMatch(/use the CPU backend/);
    await page.locator('#tr-opt').selectOption('sgd');
    await page.locator('#tr-lr').fill('100');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 1);
    const d = await result<TrainResult>(page, 'train');
    expect(d.backend).toBe('cpu');
    expect(d.overflowStep).toBe(8);
    expect(await status(page, 'tr-status')).toMatch(
      /^Diverged: the SSR left the float32 range at step 8 \(the float64 CPU reference went on until step \d+/,
    );
    expect((await workerJobs(page)).train).toBe(1);

    await page.locator('#pop-count').fill('50');
    await page.locator('#pop-steps').fill('50');
    await page.locator('#pop-run').click();
    await waitRuns(page, 'population', 1);
    // Training and populations on the CPU ran in the page's worker, off the main thread.
    expect(await workerJobs(page)).toMatchObject({ train: 1, population: 1 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says when a run waits for another, dims stale results, warns about a start point off the grid, and stops', async () => {
    const { page, errors } = await server.open();
    await page.waitForFunction(() => document.body.dataset.warm === 'true', null, { timeout: 60_000 });
    // A long population run holds the engine; the landscape queued behind it says what it waits for.
    await page.locator('#pop-steps').fill('100000');
    await page.locator('#pop-run').click();
    await expect.poll(() => page.locator('#pop-stop').isEnabled()).toBe(true);
    await page.locator('#ls-grid').fill('16');
    await page.locator('#ls-sx').fill('5'); // outside -1 … 3
    await page.locator('#ls-run').click();
    await expect
      .poll(() => status(page, 'ls-status'))
      .toMatch(/^Waiting: the Population panel is running; this run starts when it finishes\./);
    await expect.poll(() => page.locator('#pop-progress-text').textContent()).toMatch(/left|estimating/);
    expect(await page.locator('#population').evaluate((e) => e.classList.contains('running'))).toBe(true);
    await page.locator('#pop-stop').click();
    await waitRuns(page, 'population', 1);
    expect(await status(page, 'pop-status')).toMatch(/^Stopped 2000 models/);
    await waitRuns(page, 'landscape', 1);
    const l = await result<LandscapeView>(page, 'landscape');
    expect(l.startOutside).toBe(true);
    expect(await page.locator('#ls-status').getAttribute('data-state')).toBe('warn');
    expect(await status(page, 'ls-status')).toMatch(/The start point \(w1 = 5, w2 = 1\.5\) lies outside the grid/);

    // A failed run leaves the old results dimmed and labelled.
    await page.locator('#ls-xmax').fill('x');
    await page.locator('#ls-run').click();
    await expect.poll(() => status(page, 'ls-status')).toContain('Horizontal to: "x" is not a number');
    expect(await page.locator('#landscape').evaluate((e) => e.classList.contains('stale'))).toBe(true);
    await expect
      .poll(() => page.locator('#landscape .outputs').evaluate((e) => Number(getComputedStyle(e).opacity)))
      .toBeLessThan(0.5);
    await page.locator('#ls-xmax').fill('3');
    await page.locator('#ls-sx').fill('0.3');

    // A big landscape stops between bands of rows, with an estimate of the time left.
    await page.locator('#ls-grid').fill('512');
    await page.locator('#ls-path').uncheck();
    await page.locator('#ls-run').click();
    await expect
      .poll(() => page.locator('#ls-progress-text').textContent(), { timeout: 60_000 })
      .toMatch(/rows, (about .* left|estimating)/);
    // The run may finish before the click lands (Stop is then disabled): both outcomes are checked below.
    await clickIfEnabled(page.locator('#ls-stop'));
    await waitRuns(page, 'landscape', 2);
    const s = await result<LandscapeView>(page, 'landscape');
    expect(await page.locator('#landscape').evaluate((e) => e.classList.contains('stale'))).toBe(false);
    if (s.aborted) {
      expect(await status(page, 'ls-status')).toMatch(/^Stopped: \d+ of 512 rows/);
      expect(s.losses.some(Number.isNaN)).toBe(true);
    }
    // Throughput stops after the size being measured.
    await page.locator('#tp-sizes').fill('64, 128, 256, 512');
    await page.locator('#tp-t').fill('8');
    await page.locator('#tp-reps').fill('1');
    await page.locator('#tp-run').click();
    await expect.poll(() => page.locator('#tp-stop').isEnabled()).toBe(true);
    const stopped = await clickIfEnabled(page.locator('#tp-stop'));
    await expect.poll(() => page.locator('#tp-run').isEnabled(), { timeout: 60_000 }).toBe(true);
    if (stopped) expect(await status(page, 'tp-status')).toMatch(/^Stopped/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('returns the unroll rows that did not overflow and names the one that did', async () => {
    const { page, errors } = await server.open();
    await page.locator('#ur-t').fill('200');
    await page.locator('#ur-w2').fill('10, 0.5');
    await page.locator('#ur-run').click();
    await waitRuns(page, 'unroll', 1);
    const u = await result<UnrollView>(page, 'unroll');
    expect(u.w2).toEqual([0.5]);
    expect(u.overflowed.map((o) => o.w2)).toEqual([10]);
    const ref = unrollStudyCpu({ inputs: new Array(200).fill(0.5), w2: [0.5] });
    u.contributions[0].forEach((c, k) =>
      expect(Math.abs(c - ref.rows[0].contributions[k])).toBeLessThanOrEqual(
        1e-5 * Math.abs(ref.rows[0].contributions[0]),
      ),
    );
    expect(await page.locator('#ur-status').getAttribute('data-state')).toBe('warn');
    expect(await status(page, 'ur-status')).toMatch(/Left out, because their values overflowed: w2 = 10 /);
    expect(await page.locator('#ur-table tbody tr').count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  for (const withoutWebGpu of [false, true]) {
    it(`fits a 390 px phone without sideways scroll, draws every panel, and saves screenshots at both sizes (${withoutWebGpu ? 'CPU fallback' : 'WebGPU'})`, async () => {
      const { page, errors } = await server.open({ withoutWebGpu });
      const tag = withoutWebGpu ? '-cpu' : '';
      // Fill every panel with a short run.
      await page.locator('#tr-steps').fill('200');
      await page.locator('#tr-run').click();
      await waitRuns(page, 'train', 1);
      await page.locator('#pop-count').fill('200');
      await page.locator('#pop-steps').fill('200');
      await page.locator('#pop-run').click();
      await waitRuns(page, 'population', 1);
      await page.locator('#ls-grid').fill('64');
      await page.locator('#ls-run').click();
      await waitRuns(page, 'landscape', 1);
      await page.locator('#ur-run').click();
      await waitRuns(page, 'unroll', 1);
      await page.locator('#tp-sizes').fill('64, 256, 1024');
      await page.locator('#tp-t').fill('8');
      await page.locator('#tp-reps').fill('1');
      await page.locator('#tp-run').click();
      await waitRuns(page, 'throughput', 1);
      await page.locator('#vf-n').fill('100');
      const runsBefore = (await workerJobs(page)).run ?? 0;
      await page.locator('#vf-run').click();
      await waitRuns(page, 'verify', 1);
      expect(await status(page, 'vf-status')).toMatch(
        withoutWebGpu
          ? /\(float32 CPU \d+ ms, float64 CPU reference \d+ ms\)/
          : /\(WebGPU \d+ ms, float64 CPU reference \d+ ms\)/,
      );
      // The reference ran off the main thread (and, without WebGPU, the float32 mode too).
      expect((await workerJobs(page)).run).toBe(runsBefore + (withoutWebGpu ? 2 : 1));
      // A row that passes with a relative difference above rtol says that the atol term allowed it.
      const v = await result<VerifyReport>(page, 'verify');
      const cells = await page.locator('#vf-table tbody tr td:last-child').allTextContents();
      v.checks.forEach((c, k) => {
        if (c.comparison.ok && c.comparison.maxRel > c.tolerance.rtol)
          expect(cells[k]).toMatch(/^pass \(the atol term allowed/);
        else if (c.comparison.ok) expect(cells[k]).toBe('pass');
      });

      // The two population charts have the same height; the histogram's first and last bars are whole.
      const heights = await page.evaluate(() =>
        ['pop-hist', 'pop-curves'].map((id) => document.querySelector(`#${id} canvas`)!.getBoundingClientRect().height),
      );
      expect(heights[0]).toBe(heights[1]);
      const centres = (await page.evaluate(() => window.webgpuRnn!.chartData('pop-hist')))![0] as number[];
      const xs = (await page.evaluate(() => window.webgpuRnn!.chartScales('pop-hist')))!.x;
      const half = (centres[1] - centres[0]) / 2;
      expect(centres.length).toBe(30);
      expect(xs[0]).toBeLessThanOrEqual(centres[0] - half * 0.99);
      expect(xs[1]).toBeGreaterThanOrEqual(centres.at(-1)! + half * 0.99);
      // The throughput axes end near the data (not whole decades beyond it).
      const tp = (await page.evaluate(() => window.webgpuRnn!.chartScales('tp-chart')))!;
      expect(tp.x[0]).toBeGreaterThan(64 / 1.5);
      expect(tp.x[1]).toBeLessThan(1024 * 1.5);

      for (const [w, h] of [
        [1440, 900],
        [390, 844],
      ]) {
        await page.setViewportSize({ width: w, height: h });
        await page.waitForTimeout(300); // ResizeObserver → charts resize
        expect(await sideways(page), `sideways scroll at ${w} px`).toBeLessThanOrEqual(0);
        for (const id of PANELS)
          await page.locator(`#${id}`).screenshot({ path: join(ARTIFACTS, `page-${id}-${w}${tag}.png`) });
        // Every chart fits its panel.
        const over = await page.evaluate(() =>
          Array.from(document.querySelectorAll('.chart, .heat')).map((c) => {
            const section = c.closest('section')!.getBoundingClientRect();
            const inner = (c.querySelector('.uplot, .heat > div') ?? c).getBoundingClientRect();
            return { id: c.id, overflow: inner.right - section.right };
          }),
        );
        for (const o of over) expect(o.overflow, `${o.id} at ${w} px`).toBeLessThanOrEqual(0);
      }
      // The seed panel's weight boxes are on screen at 390 px.
      const box = await page.locator('#seed-w3').boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(390);
      // The measure sees a panel's child that is too wide (the panels' paint containment does not hide it).
      await page.evaluate(() => {
        const wide = document.createElement('div');
        wide.id = 'too-wide';
        wide.style.width = '600px';
        wide.style.height = '1px';
        document.getElementById('verify')!.appendChild(wide);
      });
      expect(await sideways(page)).toBeGreaterThan(100);
      await page.evaluate(() => document.getElementById('too-wide')!.remove());
      expect(errors).toEqual([]);
      await page.close();
    });
  }
});
