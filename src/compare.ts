// Comparison of two arrays with combined absolute and relative tolerance, as the WebGPU CTS does:
// |a − b| ≤ atol + rtol·max(|a|, |b|). Reports the maximum differences and the first differing indices.

/** A combined tolerance: values a and b agree when |a − b| ≤ atol + rtol·max(|a|, |b|). */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** The outcome of {@link compareArrays}. */
export interface Comparison {
  /** Number of values compared. */
  count: number;
  maxAbs: number;
  /** max |a − b| / max(|a|, |b|) over values where that is defined (0/0 counts as 0). */
  maxRel: number;
  /** Indices (up to `maxReported`) where the tolerance is exceeded. */
  failures: number[];
  /** Total number of values beyond the tolerance. */
  failureCount: number;
  ok: boolean;
}

/** Compares two arrays of equal length under a {@link Tolerance}; reports the largest differences and the first failures. */
export function compareArrays(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  maxReported = 8,
): Comparison {
  if (actual.length !== expected.length) {
    throw new RangeError(`length mismatch: actual has ${actual.length} values, expected ${expected.length}`);
  }
  let maxAbs = 0;
  let maxRel = 0;
  const failures: number[] = [];
  let failureCount = 0;
  for (let k = 0; k < actual.length; k++) {
    const a = actual[k];
    const e = expected[k];
    const d = Math.abs(a - e);
    const scale = Math.max(Math.abs(a), Math.abs(e));
    // NaN never passes, not even against NaN.
    const bad = !(d <= tol.atol + tol.rtol * scale);
    if (Number.isNaN(d)) {
      maxAbs = NaN;
      maxRel = NaN;
    } else {
      if (d > maxAbs) maxAbs = d;
      const rel = scale === 0 ? 0 : d / scale;
      if (rel > maxRel) maxRel = rel;
    }
    if (bad) {
      failureCount++;
      if (failures.length < maxReported) failures.push(k);
    }
  }
  return { count: actual.length, maxAbs, maxRel, failures, failureCount, ok: failureCount === 0 };
}

/** A readable failure message listing the first differing indices with both values. */
export function describeComparison(
  what: string,
  c: Comparison,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  nameOf: (k: number) => string = (k) => `[${k}]`,
): string {
  const head = `${what}: ${c.failureCount} of ${c.count} values beyond atol=${tol.atol} rtol=${tol.rtol} (max abs ${c.maxAbs.toExponential(3)}, max rel ${c.maxRel.toExponential(3)})`;
  if (c.ok) return head;
  const rows = c.failures.map(
    (k) => `  ${nameOf(k)}: actual ${actual[k]}, expected ${expected[k]}, diff ${actual[k] - expected[k]}`,
  );
  return [head, ...rows, c.failureCount > c.failures.length ? `  … and ${c.failureCount - c.failures.length} more` : '']
    .filter(Boolean)
    .join('\n');
}

/**
 * The documented GPU (float32) vs CPU (float64) tolerance for one array of results (loss, outputs or one gradient
 * block) from a batch whose longest sequence has `maxLen` steps:
 *   rtol = 1e-4 · max(1, √maxLen)   — float32 rounding accumulates step by step through the recurrence;
 *   atol = 1e-5 · max(1, max|expected|) — sums over many sequences can cancel to near zero, leaving float32
 *                                          error of the size of the terms, not of the result.
 */
export function gpuTolerance(maxLen: number, expected: ArrayLike<number>): Tolerance {
  let m = 0;
  for (let k = 0; k < expected.length; k++) m = Math.max(m, Math.abs(expected[k]));
  return { atol: 1e-5 * Math.max(1, m), rtol: 1e-4 * Math.max(1, Math.sqrt(maxLen)) };
}
