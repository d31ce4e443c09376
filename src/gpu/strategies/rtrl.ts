// Strategy `rtrl`: forward-mode gradients (real-time recurrent learning, shaders/rtrl.wgsl). Each invocation carries
// dh/dθ with its sequence's state instead of storing h_t for a backward sweep, so GPU memory holds no hidden states:
// O(N·H·P) in registers/private memory instead of O(N·T·H) in buffers. Only for small H: the carried values live in
// private arrays. Truncated BPTT has the same definition as everywhere (the sensitivity is reset at detach points).

import { RtrlKernel, carriedValues } from '../kernels/rtrl.ts';
import type { Strategy, StrategyContext, StrategyRequest, StrategyResult, StrategyShape } from '../strategy.ts';
import { runRowKernel } from './per-sequence.ts';

/**
 * The most sensitivities one invocation carries: H·(H·I + H² + H) floats, in a private array (twice, old and new,
 * during a step). 512 floats = 2 KiB keeps them within what GPUs hold per invocation without heavy spilling, and
 * the unrolled shader compiles in seconds; e.g. H = 6 with I ≤ 7, H = 7 with I ≤ 2, H = 4 with I ≤ 27.
 */
export const RTRL_MAX_CARRIED = 512;

export const rtrl: Strategy = {
  name: 'rtrl',

  supports(s: StrategyShape): string | null {
    const carried = carriedValues(s);
    if (carried > RTRL_MAX_CARRIED) {
      return `it carries dh/dθ, H·(H·I + H² + H) = ${carried} values per sequence, in private memory, at most ${RTRL_MAX_CARRIED} (hiddenSize ${s.hiddenSize}, inputSize ${s.inputSize})`;
    }
    return null;
  },

  async run(ctx: StrategyContext, req: StrategyRequest): Promise<StrategyResult> {
    const { model, gradients, outputs, hasTargets } = req;
    const O = model.outputSize;
    const outAll = model.output === 'all';
    const kernel = await RtrlKernel.load(ctx.device, {
      cell: model.cell,
      inputSize: model.inputSize,
      hiddenSize: model.hiddenSize,
      outputSize: O,
      gradients,
      activation: model.activation,
      outAll,
      writeY: outputs,
      hasTargets,
      workgroupSize: ctx.opts.workgroupSize ?? 64,
      unroll: ctx.opts.unroll,
    });
    return runRowKernel(ctx, req, kernel);
  },
};
