// Strategy `gemm` (cuDNN-style) for every hidden size beyond the per-sequence kernel's: per chunk of sequences,
// the input projection Wx·x_t + bh of a whole segment of steps is one batched GEMM; each step is one recurrent
// GEMM across the chunk with the activation fused; the output projection computes predictions, squared errors and
// dL/dy in its epilogue. BPTT mirrors it step by step in reverse (dz_t from Wyᵀ·dy_t + Whᵀ·dz_{t+1}), keeping dz
// and dy for a block of steps, and computes the weight gradients of each block as one product over all its
// (sequence, step) pairs, split over the sequences into parts whose partial sums are added in a fixed order at the
// end of the chunk. No per-sequence gradient rows. When the hidden states of a chunk do not fit the memory budget,
// only every k-th is stored and segments are recomputed (src/gpu/gemm/plan.ts). Gated cells (LSTM, GRU) run the
// same products with gates·H rows, and after each step's recurrent product and each dz product the cell's
// elementwise gate step (shaders/gemm/gates.wgsl); their weight gradients add one product for the input side.

// Stacked and bidirectional networks, and runs with carried states, run as one program per layer-direction
// (src/gpu/gemm/layers.ts); the program itself, shared with training, is src/gpu/gemm/program.ts.

import { outputCount } from '../../batch.ts';
import { LIMITS, isLayered } from '../../model.ts';
import { STEP_RECORD_BYTES } from './kernels.ts';
import { packInputs, packTargets, unpackOutputs } from '../packing.ts';
import { BufferUsage } from '../pool.ts';
import { readBuffers } from '../runtime.ts';
import type { Strategy, StrategyContext, StrategyRequest, StrategyResult, StrategyShape } from '../strategy.ts';
import { readBack } from '../reduce/sums.ts';
import { CLIP_STATS_BYTES, ClipKernel } from '../reduce/clip.ts';
import type { RawResult } from '../../backend.ts';
import { GemmProgram } from './program.ts';
import { runGemmLayered } from './layers.ts';

const { STORAGE, COPY_SRC, COPY_DST, UNIFORM } = BufferUsage;
/** Storage buffers the shader binds (maxStorageBuffersPerShaderStage must allow them). */
const STORAGE_BINDINGS = 8;

export const gemm: Strategy = {
  name: 'gemm',

  supports(s: StrategyShape, limits: GPUSupportedLimits): string | null {
    if (
      s.hiddenSize > LIMITS.maxHiddenSize ||
      s.inputSize > LIMITS.maxInputSize ||
      s.outputSize > LIMITS.maxOutputSize
    ) {
      return `it takes I ≤ ${LIMITS.maxInputSize}, H ≤ ${LIMITS.maxHiddenSize}, O ≤ ${LIMITS.maxOutputSize}`;
    }
    if (limits.maxStorageBuffersPerShaderStage < STORAGE_BINDINGS) {
      return `it binds ${STORAGE_BINDINGS} storage buffers, more than maxStorageBuffersPerShaderStage (${limits.maxStorageBuffersPerShaderStage})`;
    }
    if (limits.minUniformBufferOffsetAlignment > STEP_RECORD_BYTES) {
      return `its step records are ${STEP_RECORD_BYTES} bytes apart, less than minUniformBufferOffsetAlignment (${limits.minUniformBufferOffsetAlignment})`;
    }
    return null;
  },

  async run(ctx: StrategyContext, req: StrategyRequest): Promise<StrategyResult> {
    if (isLayered(req.model) || req.batch.initialStates !== undefined || req.finalStates === true)
      return runGemmLayered(ctx, req);
    const { device, pool } = ctx;
    const { model, batch, gradients, outputs, hasTargets } = req;
    const { inputSize: I, outputSize: O } = model;
    const outAll = model.output === 'all';
    const prog = await GemmProgram.load(ctx, { model, lengths: batch.lengths, gradients, outputs, hasTargets });
    const { plan } = prog;
    const P = model.params.length;
    const cap = plan.capacity;
    const T = plan.maxSteps;
    const outPerSeq = (outAll ? T : 1) * O;
    const R = prog.rows;
    const { xs, lengths, targets, ys, work } = prog.buffers;
    device.queue.writeBuffer(prog.buffers.weights, 0, GemmProgram.weightsImage(model, plan.bytes.weights));

    const xsHost = new Float32Array(cap * T * I);
    const lenHost = new Uint32Array(cap);
    const tgHost = hasTargets ? new Float32Array(cap * outPerSeq) : null;
    const outHost = outputs ? new Float64Array(outputCount({ ...batch, outputSize: O }, model.output)) : null;

    let done = 0;
    for (const [ci, c] of plan.chunks.entries()) {
      packInputs(batch, c, xsHost, lenHost);
      device.queue.writeBuffer(xs, 0, xsHost, 0, c.steps * I * c.count);
      device.queue.writeBuffer(lengths, 0, lenHost, 0, c.count);
      if (tgHost) {
        packTargets(batch, c, O, tgHost);
        device.queue.writeBuffer(targets, 0, tgHost, 0, (outAll ? c.steps : 1) * O * c.count);
      }
      const rec = prog.records(c, batch.lengths, req.truncation);
      device.queue.writeBuffer(prog.buffers.steps, 0, rec.words);
      prog.writeChunkUniforms(c);
      const enc = device.createCommandEncoder({ label: `webgpu-rnn gemm chunk ${c.start}+${c.count}` });
      prog.encodeChunk(enc, c, ci === 0, rec.dispatches);
      const ysBytes = (outAll ? c.steps : 1) * O * c.count * 4;
      if (outHost) {
        const got = await readBuffers(device, pool, enc, [[ys, ysBytes]]);
        unpackOutputs(batch, c, O, outAll, new Float32Array(got), outHost);
      } else {
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
      }
      done += c.count;
      req.onProgress?.(done, batch.count);
    }

    // Final sums of the per-sequence rows; the gradients are already summed in work[0, P): measure their global norm
    // (and clip them to clipNorm) on the GPU in place, then read everything back in one mapping.
    const enc = device.createCommandEncoder({ label: 'webgpu-rnn gemm final sums' });
    const rowSums = prog.encodeSums(enc);
    const reads: [GPUBuffer, number][] = [[rowSums, R * 4]];
    if (gradients) {
      const stats = pool.get('clip stats', CLIP_STATS_BYTES, STORAGE | COPY_SRC);
      const u = pool.get('clip params', 16, UNIFORM | COPY_DST);
      const clip = await ClipKernel.load(device);
      device.queue.writeBuffer(u, 0, clip.params(0, P, req.clipNorm));
      const pass = enc.beginComputePass({ label: 'webgpu-rnn gradient norm and clipping', ...ctx.timer?.pass() });
      clip.encode(pass, clip.bind('run', { params: u, grads: work, stats }));
      pass.end();
      reads.push([work, P * 4], [stats, CLIP_STATS_BYTES]);
    }
    const v = await readBack(device, pool, enc, reads, ctx.timer);
    let loss = 0;
    for (let o = 0; o < O; o++) loss += v[o];
    const raw: RawResult = { loss: hasTargets ? loss : null, grads: null, outputs: outHost, overflowed: v[O] };
    if (gradients) {
      raw.grads = Float64Array.from(v.subarray(R, R + P));
      raw.gradNorm = v[R + P];
      raw.clipped = v[R + P + 1] !== 1;
    }
    return {
      raw,
      chunks: plan.chunks.length,
      sequencesPerChunk: cap,
      checkpointEvery: gradients ? plan.segment : undefined,
    };
  },
};
