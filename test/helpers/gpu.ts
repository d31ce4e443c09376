// Shared WebGPU test setup: one engine per test file on the `webgpu` package (Dawn, on the adapter WEBGPU_RNN_ADAPTER
// names: `npm test` runs the GPU files on swiftshader, then on lavapipe), error scopes around every test, and the
// skip-or-fail policy: without that adapter the GPU suites are skipped with a printed notice, except in CI (CI=true)
// or with WEBGPU_RNN_REQUIRE_GPU=1, where they fail.

import { afterAll, afterEach, beforeEach, describe, expect } from 'vitest';
import { Engine, type EngineOptions } from '../../src/engine.ts';

export const gpuRequired =
  process.env.CI === 'true' || process.env.CI === '1' || process.env.WEBGPU_RNN_REQUIRE_GPU === '1';

/** The adapter the GPU suites run on (WEBGPU_RNN_ADAPTER; unset: auto). */
export const testAdapter = process.env.WEBGPU_RNN_ADAPTER || 'auto';

/** Creates a WebGPU engine, or returns the reason there is none. */
export async function tryGpuEngine(opts: EngineOptions['gpu'] = {}): Promise<Engine | string> {
  try {
    return await Engine.create({ backend: 'webgpu', gpu: opts });
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * `describe` for a GPU suite: runs `body` with a live engine and wraps every test in validation and
 * out-of-memory error scopes that must come back empty.
 */
export async function describeGpu(
  name: string,
  body: (gpu: () => Engine) => void,
  opts: EngineOptions['gpu'] = {},
  { errorScopes = true }: { errorScopes?: boolean } = {},
): Promise<void> {
  const made = await tryGpuEngine(opts);
  if (typeof made === 'string') {
    if (gpuRequired) {
      describe(name, () => {
        throw new Error(
          `GPU tests are required here (CI or WEBGPU_RNN_REQUIRE_GPU=1) but WebGPU adapter "${testAdapter}" is unavailable: ${made}`,
        );
      });
      return;
    }
    console.warn(`\n[webgpu-rnn] GPU tests skipped ("${name}", adapter ${testAdapter}): ${made}\n`);
    describe.skip(name, () => body(() => made as never));
    return;
  }
  const engine = made;
  describe(name, () => {
    beforeEach(() => {
      if (!errorScopes) return;
      engine.device!.pushErrorScope('out-of-memory');
      engine.device!.pushErrorScope('validation');
    });
    afterEach(async () => {
      if (!errorScopes) return;
      const validation = await engine.device!.popErrorScope();
      const oom = await engine.device!.popErrorScope();
      expect(validation?.message ?? null).toBeNull();
      expect(oom?.message ?? null).toBeNull();
    });
    afterAll(() => engine.dispose());
    body(() => engine);
  });
}
