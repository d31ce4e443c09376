// `webgpu-rnn verify`'s text and JSON reports of a comparison made by src/verify.ts.

import type { VerifyReport } from '../verify.ts';

const sci = (v: number): string => (Number.isNaN(v) ? 'NaN' : v === 0 ? '0' : v.toExponential(2));

/** The table printed by `verify`, then the first differing indices of each failing quantity. */
export function verifyText(r: VerifyReport): string {
  const header = ['quantity', 'values', 'max abs diff', 'max rel diff', 'atol', 'rtol', 'result'];
  const rows = r.checks.map((c) => [
    c.name,
    String(c.comparison.count),
    sci(c.comparison.maxAbs),
    sci(c.comparison.maxRel),
    sci(c.tolerance.atol),
    sci(c.tolerance.rtol),
    c.comparison.ok ? 'ok' : `FAIL (${c.comparison.failureCount})`,
  ]);
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, j) => (j === 0 || j === cells.length - 1 ? c.padEnd(widths[j]) : c.padStart(widths[j])))
      .join('  ')
      .trimEnd();
  const out = [
    `actual    ${r.actual.backend}: ${r.actual.adapter}`,
    `expected  ${r.expected.backend}: ${r.expected.adapter}`,
    `tolerance |a − e| ≤ atol + rtol·max(|a|, |e|), longest sequence ${r.maxLength} steps`,
    '',
    line(header),
    ...rows.map(line),
  ];
  const failing = r.checks.filter((c) => !c.comparison.ok);
  if (failing.length) out.push('', ...failing.map((c) => c.details));
  out.push(
    '',
    r.ok
      ? 'verify: ok, WebGPU matches the CPU reference within tolerance'
      : `verify: FAILED for ${failing.map((c) => c.name).join(', ')}`,
  );
  return out.join('\n') + '\n';
}

/** The object printed by `verify --json`. NaN differences print as null. */
export function verifyJson(r: VerifyReport): Record<string, unknown> {
  return {
    ok: r.ok,
    actual: r.actual,
    expected: r.expected,
    maxLength: r.maxLength,
    quantities: r.checks.map((c) => ({
      name: c.name,
      count: c.comparison.count,
      maxAbs: c.comparison.maxAbs,
      maxRel: c.comparison.maxRel,
      atol: c.tolerance.atol,
      rtol: c.tolerance.rtol,
      ok: c.comparison.ok,
      failureCount: c.comparison.failureCount,
      failures: c.failures,
    })),
  };
}
