// Strategy `workgroup` for medium hidden sizes: one workgroup per sequence (shaders/workgroup.wgsl), the state in
// workgroup memory and a matrix-vector product per step, its hidden units spread over the invocations. Planning,
// packing and the deterministic reduction are the per-sequence strategy's (same bindings and rows).

import { LIMITS } from '../../model.ts';
import { WorkgroupKernel, workgroupBytes } from '../kernels/workgroup.ts';
import type { Strategy, StrategyContext, StrategyRequest, StrategyResult, StrategyShape } from '../strategy.ts';
import { runRowKernel } from './per-sequence.ts';

/** Largest H: every invocation owns ⌈H/WG⌉ units and their H²-sized gradient rows; beyond this gemm is the better fit. */
export const WORKGROUP_MAX_HIDDEN = 128;
/** The most invocations per workgroup. */
export const WORKGROUP_SIZE = 64;

/** Invocations per workgroup for a shape: the next power of two ≥ max(H, O), at most WORKGROUP_SIZE. */
export function workgroupSizeFor(H: number, O: number): number {
  let wg = 1;
  while (wg < Math.max(H, O) && wg < WORKGROUP_SIZE) wg *= 2;
  return wg;
}

export const workgroup: Strategy = {
  name: 'workgroup',

  supports(s: StrategyShape, limits: GPUSupportedLimits): string | null {
    if (s.hiddenSize > WORKGROUP_MAX_HIDDEN) return `it takes hiddenSize ≤ ${WORKGROUP_MAX_HIDDEN}, got ${s.hiddenSize}`;
    if (s.inputSize > LIMITS.maxInputSize || s.outputSize > LIMITS.maxOutputSize) return `it takes I, O ≤ ${LIMITS.maxInputSize}`;
    const bytes = workgroupBytes(s.hiddenSize, s.outputSize, WORKGROUP_SIZE);
    if (bytes > limits.maxComputeWorkgroupStorageSize) return `it needs ${bytes} bytes of workgroup memory, more than maxComputeWorkgroupStorageSize (${limits.maxComputeWorkgroupStorageSize})`;
    if (WORKGROUP_SIZE > limits.maxComputeInvocationsPerWorkgroup) return `it needs ${WORKGROUP_SIZE} invocations per workgroup, more than maxComputeInvocationsPerWorkgroup (${limits.maxComputeInvocationsPerWorkgroup})`;
    return null;
  },

  run(ctx: StrategyContext, req: StrategyRequest): Promise<StrategyResult> {
    const { model } = req;
    const kernel = new WorkgroupKernel(ctx.device, {
      inputSize: model.inputSize,
      hiddenSize: model.hiddenSize,
      outputSize: model.outputSize,
      mode: req.gradients ? 'bptt' : 'forward',
      activation: model.activation,
      outAll: model.output === 'all',
      writeY: req.outputs,
      hasTargets: req.hasTargets,
      workgroupSize: workgroupSizeFor(model.hiddenSize, model.outputSize),
    });
    return runRowKernel(ctx, req, kernel);
  },
};
