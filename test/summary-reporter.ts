// Vitest reporter that ends the run with one plain line, `N passed, N failed, N skipped`, which CI reads, and
// says how many GPU tests ran, so a silently skipped GPU suite is visible.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    let gpuRan = 0;
    for (const m of modules) {
      const isGpu = /\/(gpu|browser)[^/]*\.test\.ts$/.test(m.moduleId);
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
        if (isGpu && (state === 'passed' || state === 'failed')) gpuRan++;
      }
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) failed++;
    }
    console.log(`\nGPU tests run: ${gpuRan}`);
    console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
