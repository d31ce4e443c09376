// Vitest reporter that ends the run with one plain line, `N passed, N failed, N skipped`, which CI reads, and
// says how many GPU tests ran, so a silently skipped GPU suite is visible. `npm test` runs vitest twice (the whole
// suite on SwiftShader, then the GPU files on lavapipe): with WEBGPU_RNN_TEST_SUMMARY naming a file, each run adds
// its counts there and the closing line counts every run so far (WEBGPU_RNN_TEST_SUMMARY_RESET=1 starts afresh),
// after a line of its own that names the adapter.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

interface Counts {
  adapter: string;
  passed: number;
  failed: number;
  skipped: number;
  gpuRan: number;
}

function previousRuns(file: string): Counts[] {
  if (process.env.WEBGPU_RNN_TEST_SUMMARY_RESET === '1') return [];
  try {
    const runs = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(runs) ? (runs as Counts[]) : [];
  } catch {
    return [];
  }
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const adapter = process.env.WEBGPU_RNN_ADAPTER || 'auto';
    const c: Counts = { adapter, passed: 0, failed: 0, skipped: 0, gpuRan: 0 };
    for (const m of modules) {
      const isGpu = /\/(gpu|browser)[^/]*\.test\.ts$/.test(m.moduleId);
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') c.passed++;
        else if (state === 'failed') c.failed++;
        else c.skipped++;
        if (isGpu && (state === 'passed' || state === 'failed')) c.gpuRan++;
      }
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) c.failed++;
    }
    const file = process.env.WEBGPU_RNN_TEST_SUMMARY;
    const runs = file ? [...previousRuns(file), c] : [c];
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(runs) + '\n');
    }
    console.log(`\nGPU tests run (adapter ${adapter}): ${c.gpuRan}`);
    if (runs.length > 1) {
      console.log(`adapter ${adapter} alone: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
      console.log(`all ${runs.length} runs (${runs.map((r) => r.adapter).join(', ')}):`);
    }
    const sum = (k: 'passed' | 'failed' | 'skipped'): number => runs.reduce((s, r) => s + r[k], 0);
    console.log(`${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped`);
  }
}
