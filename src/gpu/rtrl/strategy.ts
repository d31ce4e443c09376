// Strategy `rtrl`: forward-mode gradients (real-time recurrent learning, shaders/rtrl/rtrl.wgsl). Each invocation carries
// dh/dθ with its sequence's state instead of storing h_t for a backward sweep, so GPU memory holds no hidden states:
// O(N·H·P) in registers/private memory instead of O(N·T·H) in buffers. Only for small H: the carried values live in
// private arrays. Truncated BPTT has the same definition as everywhere (the sensitivity is reset at detach points).

import { cellOf, cellSizes } from '../../cells/index.ts';
import { RtrlKernel, carriedValues } from './kernel.ts';
import type { Strategy, StrategyContext, StrategyRequest, StrategyResult, StrategyShape } from '../strategy.ts';
import { oneLayerOnly } from '../strategy.ts';
import { runRowKernel } from '../per-sequence/strategy.ts';

/**
 * The most sensitivities one invocation carries: H·(H·I + H² + H) floats, in a private array (twice, old and new,
 * during a step). 512 floats = 2 KiB keeps them within what GPUs hold per invocation without heavy spilling, and
 * the unrolled shader compiles in seconds; e.g. H = 6 with I ≤ 7, H = 7 with I ≤ 2, H = 4 with I ≤ 27. The gated
 * cells carry their whole state: LSTM 2H·(4H·I + 4H² + 8H) (H = 2 with I ≤ 12, H = 3 with I ≤ 2), GRU
 * H·(3H·I + 3H² + 6H) (H = 3 with I ≤ 13, H = 4 with I ≤ 4).
 */
export const RTRL_MAX_CARRIED = 512;

export const rtrl: Strategy = {
  name: 'rtrl',

  supports(s: StrategyShape): string | null {
    const layered = oneLayerOnly(s);
    if (layered) return layered;
    const carried = carriedValues(s);
    if (carried > RTRL_MAX_CARRIED) {
      if (s.cell && s.cell !== 'elman') {
        const z = cellSizes(cellOf(s), s);
        return `it carries ds/dθ, ${z.NSTATE} state values × ${z.NREC} parameters of the ${s.cell} cell = ${carried} values per sequence, in private memory, at most ${RTRL_MAX_CARRIED} (hiddenSize ${s.hiddenSize}, inputSize ${s.inputSize})`;
      }
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
