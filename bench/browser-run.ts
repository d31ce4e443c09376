// `webgpu-rnn bench --browser` (dev-only): builds the in-browser benchmark page (bench/browser/) with Vite into a
// temporary folder, serves it, opens it in Debian's Chromium (WebGPU on SwiftShader, playwright-core), passes the
// run's options in the URL, relays its progress lines, and returns the report it publishes. The report is the one
// `runBrowserBench` makes (the same workloads, measurement and checks as the Node benchmark).

import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchReport } from '../src/benchmark/run.ts';
import type { BrowserBenchRequest } from './browser/main.ts';
import { CHROMIUM, FLAGS, serveDir } from './chromium.ts';

export async function runInChromium(
  req: BrowserBenchRequest,
  onLine: (line: string) => void,
  timeoutSeconds = 1800,
): Promise<{ report: BenchReport; text: string; markdown: string }> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM} (set CHROMIUM_PATH, or apt-get install chromium)`);
  const { build } = await import('vite');
  const { chromium } = await import('playwright-core');
  const outDir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-bench-page-'));
  const root = join(import.meta.dirname, 'browser');
  onLine('building the benchmark page…');
  await build({
    root,
    base: './',
    configFile: false,
    logLevel: 'error',
    build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1 << 20 },
    worker: { format: 'es' },
  });
  const server = await serveDir(outDir);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}#${encodeURIComponent(JSON.stringify(req))}`);
    let shown = 0;
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const state = await page.evaluate(() => {
        const w = window as unknown as { benchResult?: unknown; benchProgress?: string[] };
        return { done: w.benchResult !== undefined, progress: w.benchProgress ?? [] };
      });
      for (const line of state.progress.slice(shown)) onLine(line);
      shown = state.progress.length;
      if (state.done) break;
      if (errors.length) throw new Error(`the benchmark page failed: ${errors[0]}`);
      if (Date.now() > deadline) throw new Error(`the benchmark page did not finish within ${timeoutSeconds} s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const result = await page.evaluate(
      () =>
        (
          window as unknown as {
            benchResult: { report: BenchReport; text: string; markdown: string } | { error: string };
          }
        ).benchResult,
    );
    if ('error' in result) throw new Error(`the benchmark page failed: ${result.error}`);
    return result;
  } finally {
    await browser.close();
    await server.close();
    rmSync(outDir, { recursive: true, force: true });
  }
}
