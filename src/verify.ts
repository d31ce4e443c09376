// Comparison of a WebGPU result with the float64 CPU reference, quantity by quantity (loss, outputs, and each
// gradient block Wx, Wh, bh, Wy, by), with the documented tolerance (gpuTolerance in src/compare.ts). Used by
// `webgpu-rnn verify` and the GPU tests.

import { maxLength, type Batch } from './batch.ts';
import { compareArrays, describeComparison, gpuTolerance, type Comparison, type Tolerance } from './compare.ts';
import { outputName, type Result } from './engine.ts';
import { blockName, paramLayout, paramName, type Model } from './model.ts';

/** One quantity's comparison in a {@link VerifyReport}. */
export interface QuantityCheck {
  /** `loss`, `outputs`, or a parameter block (`Wx`, `Wh`, `bx`, `bh`, `Wy`, `by`). */
  name: string;
  tolerance: Tolerance;
  comparison: Comparison;
  /** The failure description with the first differing indices (named, e.g. `Wh[0][1]`), or '' when ok. */
  details: string;
  /** The first differing values. */
  failures: { index: string; actual: number; expected: number }[];
}

/** WebGPU against the CPU reference, quantity by quantity (what `webgpu-rnn verify` prints). */
export interface VerifyReport {
  ok: boolean;
  /** Adapter descriptions of the two runs. */
  actual: { backend: string; adapter: string };
  expected: { backend: string; adapter: string };
  maxLength: number;
  checks: QuantityCheck[];
}

/** Compares `actual` (WebGPU) with `expected` (CPU reference). Both must carry the same quantities. */
export function compareResults(model: Model, batch: Batch, actual: Result, expected: Result): VerifyReport {
  const T = maxLength(batch);
  const checks: QuantityCheck[] = [];
  const check = (name: string, a: ArrayLike<number>, e: ArrayLike<number>, nameOf: (k: number) => string): void => {
    const tolerance = gpuTolerance(T, e);
    const comparison = compareArrays(a, e, tolerance);
    checks.push({
      name,
      tolerance,
      comparison,
      details: comparison.ok ? '' : describeComparison(name, comparison, a, e, tolerance, nameOf),
      failures: comparison.failures.map((k) => ({ index: nameOf(k), actual: a[k], expected: e[k] })),
    });
  };
  if (expected.loss !== null) {
    if (actual.loss === null) throw new Error('verify: the WebGPU run returned no loss');
    check('loss', [actual.loss], [expected.loss], () => 'loss');
  }
  if (expected.outputs) {
    if (!actual.outputs) throw new Error('verify: the WebGPU run returned no outputs');
    check('outputs', actual.outputs, expected.outputs, (k) => outputName(model, batch, k));
  }
  if (expected.gradsFlat) {
    if (!actual.gradsFlat) throw new Error('verify: the WebGPU run returned no gradients');
    for (const b of paramLayout(model).order) {
      const name = blockName(b);
      const slice = (g: Float64Array): Float64Array => g.subarray(b.offset, b.offset + b.size);
      check(name, slice(actual.gradsFlat), slice(expected.gradsFlat), (k) => paramName(model, b.offset + k));
    }
  }
  return {
    ok: checks.every((c) => c.comparison.ok),
    actual: { backend: actual.backend, adapter: actual.adapter },
    expected: { backend: expected.backend, adapter: expected.adapter },
    maxLength: T,
    checks,
  };
}
