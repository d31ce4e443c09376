// The page in a real browser: Vite builds it, a local static server serves it on 127.0.0.1, and Debian's
// Chromium (driven by playwright-core, WebGPU on SwiftShader) runs the seed notes with WebGPU, then again with
// navigator.gpu removed, where it must say it fell back to the CPU and still compute. Screenshots go to
// test-artifacts/ (ignored by git).

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.ts';
import { statquestReport, type StatquestReport } from '../src/statquest.ts';
import { gpuRequired } from './helpers/gpu.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wgsl': 'text/plain' };

const available = existsSync(CHROMIUM);
if (!available && !gpuRequired) console.warn(`\n[webgpu-rnn] browser tests skipped: no Chromium at ${CHROMIUM}\n`);

(available || gpuRequired ? describe : describe.skip)('the page in Chromium', () => {
  let outDir = '';
  let server: Server;
  let url = '';
  let browser: Browser;
  let cpuReport: StatquestReport;

  beforeAll(async () => {
    if (!available) throw new Error(`browser tests are required here (CI) but there is no Chromium at ${CHROMIUM}`);
    outDir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-page-'));
    await build({ root: join(import.meta.dirname, '..'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
      const file = join(outDir, path === '/' ? 'index.html' : path);
      if (!file.startsWith(outDir) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
    const cpu = await Engine.create({ backend: 'cpu' });
    cpuReport = await statquestReport(cpu);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(null)));
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  async function openPage(withoutWebGpu: boolean): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    if (withoutWebGpu) await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.backend || document.getElementById('status')?.classList.contains('error'), null, { timeout: 60_000 });
    return { page, errors };
  }

  function expectSameNumbers(r: StatquestReport): void {
    expect(r.forward.map((f) => f.predicted)[0]).toBe(0);
    r.forward.forEach((f, k) => expect(f.predicted).toBeCloseTo(cpuReport.forward[k].predicted, 6));
    expect(r.ssr.ssr).toBeCloseTo(cpuReport.ssr.ssr, 9);
    for (const [name, v] of Object.entries(r.ssr.grads)) expect(v, name).toBeCloseTo((cpuReport.ssr.grads as unknown as Record<string, number>)[name], 6);
  }

  it('runs the seed notes on WebGPU (SwiftShader) with the CPU reference numbers', async () => {
    const { page, errors } = await openPage(false);
    const status = await page.locator('#status').textContent();
    expect(status).toMatch(/^Ran on webgpu: .*swiftshader/i);
    expect(await page.locator('#fallback').isHidden()).toBe(true);
    const r = (await page.evaluate(() => window.webgpuRnnReport)) as StatquestReport;
    expect(r.backend).toBe('webgpu');
    expectSameNumbers(r);
    expect(await page.locator('#report').textContent()).toContain('0.99');
    await page.screenshot({ path: join(ARTIFACTS, 'page-webgpu.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('falls back to the CPU with a visible notice when navigator.gpu is absent', async () => {
    const { page, errors } = await openPage(true);
    expect(await page.locator('#status').textContent()).toMatch(/^Ran on cpu/);
    expect(await page.locator('#fallback').isVisible()).toBe(true);
    expect(await page.locator('#fallback').textContent()).toMatch(/WebGPU is not available/);
    const r = (await page.evaluate(() => window.webgpuRnnReport)) as StatquestReport;
    expect(r.backend).toBe('cpu');
    expectSameNumbers(r);
    await page.screenshot({ path: join(ARTIFACTS, 'page-cpu-fallback.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
