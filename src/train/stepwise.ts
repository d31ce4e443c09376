// Training and loss evaluation through engine.run: loss evaluation for shapes beyond the training kernel
// (src/train/gpu-per-sequence.ts), and training where an adapter's limits refuse the gemm kernels of fused training
// (src/train/gpu-gemm.ts). Each step runs the engine's forward + BPTT for each model, reads the gradient back and
// applies the float64 optimizer on the host.

import type { Engine } from '../engine.ts';
import { NonFiniteError } from '../errors.ts';
import { cpuTrainPopulation, type GradientFn, type TrainBackend } from './cpu.ts';

/**
 * Shapes beyond the training kernel on WebGPU: each step runs the engine's general forward + BPTT (whichever
 * strategy serves the shape) for each model with a read-back, and the float64 optimizer on the host. Same
 * semantics, much slower than the fused training kernel.
 */
export function stepwise(engine: Engine): TrainBackend {
  const gradient: GradientFn = async (model, batch, dropout) => {
    try {
      const r = await engine.run({ ...model, params: model.params.slice() }, batch, {
        gradients: true,
        ...(dropout ? { dropout } : {}),
      });
      return { loss: r.loss as number, overflowed: 0, grads: r.gradsFlat! };
    } catch (e) {
      if (e instanceof NonFiniteError)
        return { loss: NaN, overflowed: 1, grads: new Float64Array(model.params.length) };
      throw e;
    }
  };
  return {
    population: (models, sets, shared, o, x) => cpuTrainPopulation(models, sets, shared, o, x, gradient),
    losses: async (base, params, sets, h0s, c0s) => {
      const P = base.params.length;
      const out = new Float64Array(params.length / P);
      for (let m = 0; m < out.length; m++) {
        const model = {
          ...base,
          params: params.slice(m * P, (m + 1) * P),
          h0: h0s ? h0s[m] : base.h0,
          c0: c0s ? c0s[m] : base.c0,
        };
        try {
          out[m] = (await engine.run(model, sets.length === 1 ? sets[0] : sets[m], { gradients: false }))
            .loss as number;
        } catch (e) {
          if (!(e instanceof NonFiniteError)) throw e;
          out[m] = NaN;
        }
      }
      return out;
    },
  };
}
