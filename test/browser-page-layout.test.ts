// The experiments page's layout in Chromium (test/helpers/browser.ts; WebGPU on SwiftShader, and the CPU fallback):
// with every panel filled by a short run, at 1440 and 390 px the page does not scroll sideways, every chart fits its
// panel, the seed panel's boxes stay on screen, the population charts line up, the throughput axes end near the
// data and the verify table says when the atol term let a value pass. Screenshots of every panel at both widths go
// to test-artifacts/.

import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { VerifyReport } from '../src/verify.ts';
import {
  ARTIFACTS,
  describeBrowser,
  result,
  sideways,
  useBrowserPage,
  waitRuns,
  workerJobs,
} from './helpers/browser.ts';

const PANELS = ['seed', 'train', 'population', 'landscape', 'unroll', 'throughput', 'verify'];

const status = (page: Page, id: string): Promise<string> =>
  page
    .locator(`#${id}`)
    .textContent()
    .then((t) => t ?? '');

describeBrowser('the experiments page: every panel at 1440 and 390 px', () => {
  const app = useBrowserPage();

  for (const withoutWebGpu of [false, true]) {
    it(`fits a 390 px phone without sideways scroll, draws every panel, and saves screenshots at both sizes (${withoutWebGpu ? 'CPU fallback' : 'WebGPU'})`, async () => {
      const { page, errors } = await app.open({ withoutWebGpu });
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
