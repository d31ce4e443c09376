// Vite (the experiments page, built into dist-page/; the library's dist/ is scripts/build-lib.mjs) and Vitest (the test suite) configuration.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: '.',
  // Relative asset URLs: the built page works from any sub-path (e.g. https://host/some/dir/), not only the root.
  base: './',
  // The page goes to dist-page/ (dist/ is the library build).
  build: { outDir: 'dist-page', target: 'es2022' },
  // The page's CPU worker imports the library, which splits into chunks: ES-module workers allow that.
  worker: { format: 'es' },
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
