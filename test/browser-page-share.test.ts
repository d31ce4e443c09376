// Sharing and reproducing on the experiments page in Chromium (test/helpers/browser.ts; WebGPU on SwiftShader):
// settings in the URL (applied on opening, updated on edits), presets whose lesson is checked against the
// numbers (a dead ReLU unit has exactly zero gradients), and the export of a chart's data (CSV equal to what it
// draws), picture (PNG and SVG) and of the landscape (SVG); the built page works when served from a sub-path.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { build } from 'vite';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { SeedResult } from '../src/page/panels/seed.ts';
import type { TrainResult } from '../src/page/panels/train.ts';
import { describeBrowser, result, useBrowserPage, waitRuns } from './helpers/browser.ts';
import { allElements, allText, parseXml } from './helpers/xml.ts';

/** Clicks the export button `label` in `selector`'s tool bar and returns the saved file's bytes. */
async function save(page: Page, selector: string, label: string): Promise<Buffer> {
  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.locator(`${selector} .export button`, { hasText: label }).click(),
  ]);
  return readFileSync(await dl.path());
}

describeBrowser('the experiments page: URL settings, presets and export', () => {
  const app = useBrowserPage();

  it('applies the settings in the URL and writes edits back to it', async () => {
    const { page, errors } = await app.open();
    await page.goto(
      `${app.url}?tr-data=sine&tr-hidden=4&tr-steps=300&tr-opt=sgd&tr-lr=0.0005&seed-w2=0.3&seed-act=identity&ls-path=0`,
    );
    await waitRuns(page, 'seed', 1);
    const seed = await result<SeedResult>(page, 'seed');
    expect(seed.weights.w2).toBe(0.3);
    expect(seed.activation).toBe('identity');
    expect(await page.locator('#tr-data').inputValue()).toBe('sine');
    expect(await page.locator('#tr-hidden').inputValue()).toBe('4'); // not the data set's suggested 8
    expect(await page.locator('#tr-lr').inputValue()).toBe('0.0005');
    expect(await page.locator('#tr-count').isVisible()).toBe(true);
    expect(await page.locator('#ls-path').isChecked()).toBe(false);
    // The URL reproduces the run: the page trains with its settings on open, with no click.
    await waitRuns(page, 'train', 1);
    const opened = await result<TrainResult>(page, 'train');
    expect([opened.data, opened.steps, opened.model.hiddenSize]).toEqual(['sine', 300, 4]);
    expect(opened.diverged).toBe(false);
    await page.locator('#tr-steps').fill('50');
    await expect.poll(() => page.evaluate(() => location.search)).toContain('tr-steps=50');
    expect(await page.evaluate(() => location.search)).toContain('seed-w2=0.3');
    // An edited setting runs as it is: train with it.
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 2);
    const r = await result<TrainResult>(page, 'train');
    expect(r.data).toBe('sine');
    expect(r.diverged).toBe(false);
    expect(r.steps).toBe(50);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('applies presets: a dead ReLU unit has exactly zero gradients except b2; exploding sets the unroll study', async () => {
    const { page, errors } = await app.open();
    const before = Number(await page.evaluate(() => document.body.dataset.seedRuns));
    await page.locator('#preset').selectOption('dead');
    await page.waitForFunction(
      (n) =>
        Number(document.body.dataset.seedRuns) > n && (window.webgpuRnn!.results.seed as SeedResult).weights.b1 === -3,
      before,
    );
    const s = await result<SeedResult>(page, 'seed');
    expect(s.hidden.flat().every((h) => h === 0)).toBe(true);
    expect([s.grads.w1, s.grads.b1, s.grads.w2, s.grads.w3]).toEqual([0, 0, 0, 0]);
    // dSSR/db2 = Σ 2(b2 − observed) = 2(0 − 0) + 2(0 − 1) = −2 with b2 = 0 and a dead unit.
    expect(s.grads.b2).toBeCloseTo(-2, 6);
    expect(await page.locator('#preset-note').textContent()).toMatch(/only b2 learns/);
    await page.locator('#preset').selectOption('exploding');
    expect(await page.locator('#ur-w2').inputValue()).toBe('1.1, 1.3, 1.6');
    expect(await page.locator('#ur-t').inputValue()).toBe('40');
    await expect.poll(() => page.evaluate(() => location.search)).toContain('ur-w2=1.1%2C+1.3%2C+1.6');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('exports a chart as CSV (the data it draws), JSON, PNG and SVG, and the landscape as SVG', async () => {
    const { page, errors } = await app.open();
    await page.locator('#tr-steps').fill('40');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 1);
    const csv = (await save(page, '#tr-chart', 'CSV')).toString('utf8').trim().split('\n');
    const drawn = (await page.evaluate(() => window.webgpuRnn!.chartData('tr-chart')))!;
    expect(csv[0]).toBe('step,training SSR');
    expect(csv.length - 1).toBe(drawn[0].length);
    csv.slice(1).forEach((line, i) => expect(line).toBe(`${drawn[0][i]},${drawn[1][i] ?? ''}`));
    const json = JSON.parse((await save(page, '#tr-chart', 'JSON')).toString('utf8')) as { rows: unknown[] };
    expect(json.rows.length).toBe(drawn[0].length);
    const png = await save(page, '#tr-chart', 'PNG');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    // SVG: the same data drawn by the CLI's writer; one path per series, a vertex per finite point.
    const chartSvg = parseXml((await save(page, '#tr-chart', 'SVG')).toString('utf8'));
    const paths = allElements(chartSvg).filter((e) => e.name === 'path' && e.attrs.class === 'series');
    expect(paths.map((p) => p.attrs['data-label'])).toEqual(['training SSR']);
    const finite = drawn[1].filter((v) => v !== null && Number.isFinite(v) && v > 0).length;
    expect((paths[0].attrs.d.match(/[ML]/g) ?? []).length).toBe(finite);
    expect(allText(chartSvg)).toContain('(log scale)');
    await page.locator('#ls-grid').fill('8');
    await page.locator('#ls-run').click();
    await waitRuns(page, 'landscape', 1);
    const svg = (await save(page, '#ls-heat', 'SVG')).toString('utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('<image');
    expect(svg).toContain('SSR (log scale)');
    const grid = (await save(page, '#ls-heat', 'CSV')).toString('utf8').trim().split('\n');
    expect(grid.length).toBe(1 + 64);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('works when the build is served from a sub-path', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-subpath-'));
    await build({ root: join(import.meta.dirname, '..'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
    const prefix = '/some/deep/dir/';
    const http = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (!path.startsWith(prefix)) return void res.writeHead(404).end();
      const file = join(outDir, normalize(path.slice(prefix.length) || 'index.html').replace(/^(\.\.[/\\])+/, ''));
      if (!file.startsWith(outDir) || !existsSync(file)) return void res.writeHead(404).end();
      res
        .writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' })
        .end(readFileSync(file));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as { port: number }).port;
    const page = await app.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    try {
      await page.goto(`http://127.0.0.1:${port}${prefix}?run=0`);
      await waitRuns(page, 'seed', 1);
      expect((await result<SeedResult>(page, 'seed')).ssr).toBeGreaterThan(0);
      // The CPU worker loads from the sub-path too.
      await page.locator('#vf-n').fill('50');
      await page.locator('#vf-run').click();
      await waitRuns(page, 'verify', 1);
      expect(await page.evaluate(() => document.body.dataset.cpuWorker)).toBe('true');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await new Promise((r) => http.close(r));
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
