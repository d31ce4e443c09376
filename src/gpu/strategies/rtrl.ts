// Strategy `rtrl`: forward-mode gradients (real-time recurrent learning, shaders/rtrl.wgsl). Each invocation carries
// dh/dθ with its sequence's state instead of storing h_t for a backward sweep, so GPU memory holds no hidden states:
// O(N·H·P) in registers/private memory instead of O(N·T·H) in buffers. Only for small H: the carried values live in
// private arrays. Truncated BPTT has the same definition as everywhere (the sensitivity is reset at detach points).

import { outputCount } from '../../batch.ts';
import { ReduceKernel } from '../kernels/reduce.ts';
import { RtrlKernel, carriedValues } from '../kernels/rtrl.ts';
import { packInputs, packTargets, unpackOutputs } from '../packing.ts';
import { planChunks } from '../plan.ts';
import { BufferUsage } from '../pool.ts';
import type { Strategy, StrategyContext, StrategyRequest, StrategyResult, StrategyShape } from '../strategy.ts';
import { runResult } from '../sums.ts';
import { truncationUniform } from '../truncation.ts';

const { STORAGE, COPY_DST, COPY_SRC, MAP_READ, UNIFORM } = BufferUsage;

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
    const { device, pool } = ctx;
    const { model, batch, gradients, outputs, hasTargets } = req;
    const O = model.outputSize;
    const outAll = model.output === 'all';
    const kernel = new RtrlKernel(device, {
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
    const reduce = new ReduceKernel(device, ctx.opts.reduceWorkgroupSize, ctx.opts.reducePerThread);
    const R = kernel.rows;
    const plan = planChunks({
      lengths: batch.lengths,
      inputSize: model.inputSize,
      hiddenSize: model.hiddenSize,
      outputSize: O,
      storeStates: false,
      outAll,
      hasTargets,
      outputs,
      rows: R,
      reduceSpan: reduce.span,
      maxBindingBytes: ctx.maxBindingBytes,
      budgetBytes: ctx.budgetBytes,
    });
    const cap = plan.capacity;
    const T = plan.maxSteps;
    const I = model.inputSize;
    const outPerSeq = (outAll ? T : 1) * O;

    const P = model.params.length;
    const weights = pool.get('weights', (P + model.hiddenSize) * 4, STORAGE | COPY_DST);
    const w32 = new Float32Array(P + model.hiddenSize);
    w32.set(model.params);
    w32.set(model.h0, P);
    device.queue.writeBuffer(weights, 0, w32);
    const xs = pool.get('xs', cap * T * I * 4, STORAGE | COPY_DST);
    const lengths = pool.get('lengths', cap * 4, STORAGE | COPY_DST);
    const targets = pool.get('targets', hasTargets ? cap * outPerSeq * 4 : 4, STORAGE | COPY_DST);
    const ys = pool.get('ys', outputs ? cap * outPerSeq * 4 : 4, STORAGE | COPY_SRC);
    const rows = pool.get('rows', cap * R * 4, STORAGE | COPY_SRC);
    const ysRead = outputs ? pool.get('ys readback', cap * outPerSeq * 4, MAP_READ | COPY_DST) : null;
    const kParams = pool.get('rtrl params', 16, UNIFORM | COPY_DST);
    const reduceParams = pool.get('reduce params', 16, UNIFORM | COPY_DST);
    const parts = pool.get('partials', R * plan.totalParts * 4, STORAGE | COPY_SRC | COPY_DST);

    const xsHost = new Float32Array(cap * T * I);
    const lenHost = new Uint32Array(cap);
    const tgHost = hasTargets ? new Float32Array(cap * outPerSeq) : null;
    const outHost = outputs ? new Float64Array(outputCount({ ...batch, outputSize: O }, model.output)) : null;

    const bind = kernel.kernel.bind('chunk', { params: kParams, weights, lengths, xs, targets, ys, rows });
    const reduceBind = reduce.kernel.bind('chunk partials', { params: reduceParams, src: rows, dst: parts });
    const truncation = truncationUniform(req.truncation);

    let done = 0;
    for (const c of plan.chunks) {
      packInputs(batch, c, xsHost, lenHost);
      device.queue.writeBuffer(xs, 0, xsHost, 0, c.steps * I * c.count);
      device.queue.writeBuffer(lengths, 0, lenHost, 0, c.count);
      if (tgHost) {
        packTargets(batch, c, O, tgHost);
        device.queue.writeBuffer(targets, 0, tgHost, 0, (outAll ? c.steps : 1) * O * c.count);
      }
      device.queue.writeBuffer(kParams, 0, kernel.kernel.uniform('params', { n: c.count, truncation }));
      device.queue.writeBuffer(reduceParams, 0, reduce.params(c.count, c.count, plan.totalParts, c.partOffset));

      const enc = device.createCommandEncoder({ label: `webgpu-rnn rtrl chunk ${c.start}+${c.count}` });
      const pass = enc.beginComputePass({ label: `webgpu-rnn ${kernel.kernel.spec.label} + partial sums` });
      kernel.encode(pass, bind, c.count);
      reduce.encode(pass, reduceBind, c.count, R);
      pass.end();
      const ysBytes = (outAll ? c.steps : 1) * O * c.count * 4;
      if (ysRead) enc.copyBufferToBuffer(ys, 0, ysRead, 0, ysBytes);
      device.queue.submit([enc.finish()]);
      if (ysRead && outHost) {
        await ysRead.mapAsync(MAP_READ, 0, ysBytes);
        unpackOutputs(batch, c, O, outAll, new Float32Array(ysRead.getMappedRange(0, ysBytes)), outHost);
        ysRead.unmap();
      }
      done += c.count;
      req.onProgress?.(done, batch.count);
    }

    const raw = await runResult(device, pool, reduce, parts, R, plan.totalParts, ctx.timer, { hasTargets, gradients, clipNorm: req.clipNorm }, outHost);
    return { raw, chunks: plan.chunks.length, sequencesPerChunk: cap };
  },
};
