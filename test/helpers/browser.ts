// Shared setup of the browser tests: Vite builds the page into a temporary folder, a static server serves it on
// 127.0.0.1, and Debian's Chromium (playwright-core) opens it with WebGPU on SwiftShader; describeBrowser and
// useBrowserPage give a test file that setup once (with a CPU engine for the numbers computed in Node). Pages record
// console errors; helpers wait for a panel's published results (document.body.dataset.<panel>Runs).

import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe } from 'vitest';
import { Engine } from '../../src/engine.ts';
import { CHROMIUM, FLAGS, serveDir } from '../../bench/chromium.ts';
import { gpuRequired } from './gpu.ts';

export { CHROMIUM, FLAGS };
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

export const chromiumAvailable = existsSync(CHROMIUM);
if (!chromiumAvailable && !gpuRequired)
  console.warn(`\n[webgpu-rnn] browser tests skipped: no Chromium at ${CHROMIUM}\n`);
/** Run the browser suites here: Chromium exists, or CI requires them (and they fail without it). */
export const runBrowserTests = chromiumAvailable || gpuRequired;
/** `describe` for a browser suite: skipped without Chromium unless CI requires it. */
export const describeBrowser = runBrowserTests ? describe : describe.skip;

export interface PageServer {
  url: string;
  browser: Browser;
  /**
   * Opens the page in a new tab once its seed panel has run. Without `autorun` it opens `?run=0`: the other panels
   * wait for their buttons (the page's runs on open would otherwise count as the tests' runs).
   */
  open(opts?: {
    withoutWebGpu?: boolean;
    autorun?: boolean;
    query?: string;
  }): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

/** Builds the page, serves it and launches Chromium (once per test file). */
export async function startPageServer(): Promise<PageServer> {
  if (!chromiumAvailable)
    throw new Error(`browser tests are required here (CI) but there is no Chromium at ${CHROMIUM}`);
  const outDir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-page-'));
  await build({ root: join(import.meta.dirname, '..', '..'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  const server = await serveDir(outDir);
  const url = server.url;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    url,
    browser,
    async open({ withoutWebGpu = false, autorun = false, query = '' } = {}) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      // Text, not a function: a transpiler may wrap a function's inner arrows in helpers the page lacks (esbuild's
      // __name), which would throw there and leave WebGPU on.
      if (withoutWebGpu)
        await page.addInitScript({
          content: "Object.defineProperty(Navigator.prototype, 'gpu', { get() { return undefined; } });",
        });
      const q = new URLSearchParams(query);
      if (!autorun) q.set('run', '0');
      await page.goto(`${url}${q.size ? `?${q}` : ''}`);
      await waitRuns(page, 'seed', 1);
      return { page, errors };
    },
    async close() {
      await browser.close();
      await server.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

/** The page of a test file (useBrowserPage): its server and Chromium, and a CPU engine for reference numbers. */
export interface BrowserPage {
  /** The page's address (…/index.html is served at /). */
  readonly url: string;
  readonly browser: Browser;
  /** Opens the page in a new tab (optionally without navigator.gpu, or running on open) once its seed panel has run. */
  open: PageServer['open'];
  /** A CPU engine (float64) for computing the expected numbers in Node. */
  readonly cpu: Engine;
}

/**
 * Registers the file's beforeAll (build and serve the page, launch Chromium, create a CPU engine) and afterAll
 * (close them), to be called inside describeBrowser; the returned handle is usable in the tests.
 */
export function useBrowserPage(): BrowserPage {
  let server: PageServer | undefined;
  let cpu: Engine | undefined;
  beforeAll(async () => {
    server = await startPageServer();
    cpu = await Engine.create({ backend: 'cpu' });
  });
  afterAll(async () => {
    cpu?.dispose();
    await server?.close();
  });
  const started = (): PageServer => {
    if (!server) throw new Error('the page server is not started (useBrowserPage outside a running suite)');
    return server;
  };
  return {
    get url() {
      return started().url;
    },
    get browser() {
      return started().browser;
    },
    open: (opts) => started().open(opts),
    get cpu() {
      if (!cpu) throw new Error('the CPU engine is not created (useBrowserPage outside a running suite)');
      return cpu;
    },
  };
}

/** Waits until panel `name` has published at least `n` results. */
export async function waitRuns(page: Page, name: string, n: number, timeout = 60_000): Promise<void> {
  await page.waitForFunction(
    ([k, m]) => Number(document.body.dataset[`${k}Runs`] ?? 0) >= Number(m),
    [name, n] as const,
    { timeout },
  );
}

/** How many results panel `name` has published. */
export const runs = (page: Page, name: string): Promise<number> =>
  page.evaluate((k) => Number(document.body.dataset[`${k}Runs`] ?? 0), name);

/** The last result panel `name` published (window.webgpuRnn.results). */
export const result = <T>(page: Page, name: string): Promise<T> =>
  page.evaluate((k) => window.webgpuRnn!.results[k], name) as Promise<T>;

/**
 * How far the page scrolls sideways (0 when it does not), measured with every panel's content-visibility set to
 * visible: the page's `content-visibility: auto` also clips each panel's painting to its box, which would hide a
 * child that overflows the panel instead of letting it widen the page. Panels out of view are not laid out, so
 * their charts follow a new width when they are next rendered: the measure waits two frames for that.
 */
export const sideways = (page: Page): Promise<number> =>
  page.evaluate(async () => {
    const panels = Array.from(document.querySelectorAll<HTMLElement>('main > section'));
    for (const p of panels) p.style.contentVisibility = 'visible';
    for (let k = 0; k < 2; k++) await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const over = document.documentElement.scrollWidth - document.documentElement.clientWidth;
    for (const p of panels) p.style.contentVisibility = '';
    return over;
  });

/** How many jobs of each kind came back from the page's CPU worker (document.body.dataset.cpuWorkerJobs). */
export const workerJobs = (page: Page): Promise<Record<string, number>> =>
  page.evaluate(() => JSON.parse(document.body.dataset.cpuWorkerJobs ?? '{}') as Record<string, number>);
