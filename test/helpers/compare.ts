// The tests' comparisons of numbers: expectClose, the one closeness check (docs/numerics.md's
// |a − b| ≤ atol + rtol·max(|a|, |b|), through src/compare.ts), and expectMatchesCpu, a WebGPU result against the
// float64 CPU reference on the same model and batch within the documented GPU tolerance (src/verify.ts).

import { expect } from 'vitest';
import type { Batch } from '../../src/batch.ts';
import type { RawResult, RunOptions } from '../../src/backend.ts';
import { compareArrays, describeComparison, gpuTolerance, type Tolerance } from '../../src/compare.ts';
import { Engine, type Result } from '../../src/engine.ts';
import { blockName, modelFromJSON, paramLayout, type ModelJSON } from '../../src/model.ts';
import { compareResults } from '../../src/verify.ts';

/**
 * Asserts that `actual` and `expected` have the same length and that every pair of values agrees:
 * |a − b| ≤ atol + rtol·max(|a|, |b|) (NaN never agrees). A failure names `what` and lists the first differing
 * indices (through `nameOf`, e.g. paramName) with both values.
 */
export function expectClose(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  nameOf?: (k: number) => string,
): void {
  if (actual.length !== expected.length) expect.fail(`${what}: ${actual.length} values, expected ${expected.length}`);
  const c = compareArrays(actual, expected, tol);
  if (!c.ok) expect.fail(describeComparison(what, c, actual, expected, tol, nameOf));
}

let cpu: Engine | undefined;

/**
 * Asserts GPU ≈ CPU: runs the float64 CPU reference on the same model and batch with the same options (`opts`: what
 * the GPU run was given, its strategy aside) and compares the loss, the outputs and every gradient block within
 * gpuTolerance (compareResults), printing the first differing entries under `what`. Outputs are compared when
 * `opts.outputs` says so, or else when the GPU run returned them; gradients when the batch has targets, unless
 * `opts.gradients` is false. Every one of those quantities must have been compared, each gradient block of the
 * cell included.
 */
export async function expectMatchesCpu(
  gpu: Result,
  json: ModelJSON,
  batch: Batch,
  opts: RunOptions = {},
  what = '',
): Promise<void> {
  cpu ??= await Engine.create({ backend: 'cpu' });
  const model = modelFromJSON(json);
  const gradients = opts.gradients ?? batch.targets !== null;
  const outputs = opts.outputs ?? !!gpu.outputs;
  const ref = await cpu.run(model, batch, { ...opts, gradients, outputs, strategy: undefined });
  const report = compareResults(model, batch, gpu, ref);
  expect(report.ok, [what, ...report.checks.map((c) => c.details)].filter(Boolean).join('\n')).toBe(true);
  expect(report.checks.map((c) => c.name)).toEqual([
    ...(batch.targets !== null ? ['loss'] : []),
    ...(outputs ? ['outputs'] : []),
    ...(gradients ? paramLayout(model).order.map(blockName) : []),
  ]);
}

/** A GPU run's final states against the reference's (h, and c where the reference has it), for sequences up to T steps. */
export function expectFinalStates(r: Result, ref: RawResult, T: number, what = ''): void {
  const at = what ? `${what}: ` : '';
  expectClose(`${at}finalStates.h`, r.finalStates!.h, ref.finalStates!.h, gpuTolerance(T, ref.finalStates!.h));
  if (ref.finalStates!.c)
    expectClose(`${at}finalStates.c`, r.finalStates!.c!, ref.finalStates!.c, gpuTolerance(T, ref.finalStates!.c));
  else expect(r.finalStates!.c).toBeUndefined();
}
