// The Throughput panel in Chromium on WebGPU (SwiftShader), measured honestly: the software adapter is named as one
// (here and in the backend line), every median comes with the slowest and fastest of its repeats, the chart's ticks
// are the measured batch sizes, and no share of a peak is shown when the adapter reports none.

import { expect, it } from 'vitest';
import type { ThroughputResult } from '../src/page/panels/throughput.ts';
import { describeBrowser, result, useBrowserPage, waitRuns } from './helpers/browser.ts';

describeBrowser('the Throughput panel', () => {
  const app = useBrowserPage();

  it('names SwiftShader as a CPU emulation, shows the spread of the repeats, ticks the measured sizes, and no unknown peak', async () => {
    const { page, errors } = await app.open();
    expect(await page.locator('#backend-line').textContent()).toMatch(
      /^Backend: WebGPU — .*swiftshader.* \(SwiftShader: WebGPU emulated on the CPU, not a GPU\)$/i,
    );
    await page.locator('#tp-sizes').fill('64, 128, 1025');
    await page.locator('#tp-t').fill('8');
    await page.locator('#tp-reps').fill('3');
    await page.locator('#tp-run').click();
    await waitRuns(page, 'throughput', 1, 180_000);
    const r = await result<ThroughputResult>(page, 'throughput');
    expect(r.software).toBe('SwiftShader: WebGPU emulated on the CPU');
    expect(r.peakKnown).toBe(false);
    for (const row of r.rows) {
      expect(row.gpuRuns).toBeGreaterThanOrEqual(3);
      expect(row.gpuRange![0]).toBeLessThanOrEqual(row.gpu!);
      expect(row.gpuRange![1]).toBeGreaterThanOrEqual(row.gpu!);
      expect(row.cpuRange![0]).toBeLessThanOrEqual(row.cpu!);
    }
    // The table: a spread in every WebGPU and CPU cell, no peak column, the adapter named in the caption.
    const table = (await page.locator('#tp-table').textContent()) ?? '';
    expect(table).not.toMatch(/peak unknown|share of peak/);
    expect(await page.locator('#tp-table caption').textContent()).toMatch(
      /^SwiftShader: WebGPU emulated on the CPU: these are CPU timings, not a GPU's; /,
    );
    const cells = await page.locator('#tp-table tbody tr td:nth-child(2)').allTextContents();
    expect(cells).toHaveLength(3);
    for (const c of cells) expect(c).toMatch(/^\S+( [kMG])? \(.+–.+, \d+ runs\)$/);
    expect(await page.locator('#tp-summary').textContent()).toContain('reports no peak bandwidth');
    // Ticks at the measured sizes only, written exactly.
    await expect
      .poll(async () => (await page.evaluate(() => window.webgpuRnn!.chartTicks('tp-chart')))?.x)
      .toEqual(['64', '128', '1025']);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
