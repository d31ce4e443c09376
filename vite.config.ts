// Vite (the experiments page, built into dist-page/; the library's dist/ is scripts/build-lib.mjs) and Vitest (the test suite) configuration.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: '.',
  build: { outDir: 'dist-page', target: 'es2022' },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores on CI: GPU (SwiftShader) suites are CPU-bound, so run files one or two at a time.
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
