// The per-sequence strategy's layered runs: stacked and bidirectional networks and runs with carried states (in or
// out). Per chunk, one compute pass records each layer's `forward` (both directions in one dispatch, bottom up), the
// readout with the loss, then for BPTT each layer's `backward` (top down, each passing dSSR/dx_t to the layer
// below) and the first reduction level of the rows; the partial sums are summed at the end as for one layer
// (shaders/per_sequence/, src/gpu/per-sequence/layer.ts). One-layer, one-direction runs without carried states keep the
// fused driver (shaders/per_sequence/bptt.wgsl), whose results stay bit for bit what they were.

import type { Batch } from '../../batch.ts';
import { cellOf } from '../../cells/index.ts';
import { directions, layerCount, layerLayouts, paramLayout, type Model } from '../../model.ts';
import { LayerKernel, LayerReadoutKernel } from './layer.ts';
import { ReduceKernel } from '../reduce/reduce.ts';
import { LayeredChunks } from '../layered-io.ts';
import { planChunks } from '../plan.ts';
import { BufferUsage } from '../pool.ts';
import type { StrategyContext, StrategyRequest, StrategyResult } from '../strategy.ts';
import { runResult } from '../reduce/sums.ts';
import { truncationUniform } from '../truncation.ts';
import { dropThreshold } from '../../dropout.ts';

const { STORAGE, COPY_DST, COPY_SRC, UNIFORM } = BufferUsage;

/** True when a run needs the layered kernels: a stacked or bidirectional model, or carried states in or out. */
export function needsLayeredRun(model: Model, batch: Batch, finalStates: boolean | undefined): boolean {
  return layerCount(model) > 1 || batch.initialStates !== undefined || finalStates === true;
}

export async function runLayered(ctx: StrategyContext, req: StrategyRequest): Promise<StrategyResult> {
  const { device, pool } = ctx;
  const { model, batch, gradients, outputs, hasTargets } = req;
  const cell = cellOf(model);
  const { inputSize: I, hiddenSize: H, outputSize: O } = model;
  const D = directions(model);
  const K = layerCount(model);
  const NL = K / D;
  const DH = D * H;
  const S = cell.stateVectors * H;
  const layout = paramLayout(model);
  const layers = layerLayouts(model);
  const outAll = model.output === 'all';
  const wantFinal = req.finalStates === true;
  const wg = ctx.opts.workgroupSize ?? 64;
  const R = gradients ? 2 + layout.count : 2;
  const common = { cell: model.cell, activation: model.activation, hiddenSize: H, workgroupSize: wg };
  const unroll = ctx.opts.unroll;
  // Dropout acts between layers (src/dropout.ts): on the inputs of the layers above the first.
  const drop = req.dropout && req.dropout.p > 0 && NL > 1 ? req.dropout : null;

  const reduce = await ReduceKernel.load(device, ctx.opts.reduceWorkgroupSize, ctx.opts.reducePerThread);
  const forward = await Promise.all(
    Array.from({ length: NL }, (_, l) =>
      LayerKernel.load(device, {
        ...common,
        inputSize: l === 0 ? I : DH,
        entry: 'forward',
        storeStates: gradients,
        writeFinal: wantFinal,
        inputGrad: false,
        dropout: drop !== null && l > 0,
        unroll,
      }),
    ),
  );
  const backward = gradients
    ? await Promise.all(
        Array.from({ length: NL }, (_, l) =>
          LayerKernel.load(device, {
            ...common,
            inputSize: l === 0 ? I : DH,
            entry: 'backward',
            storeStates: false,
            writeFinal: false,
            inputGrad: l > 0,
            dropout: drop !== null && l > 0,
            unroll,
          }),
        ),
      )
    : [];
  const readout = await LayerReadoutKernel.load(device, {
    width: DH,
    outputSize: O,
    outAll,
    writeY: outputs,
    hasTargets,
    backward: gradients,
    workgroupSize: wg,
  });

  const plan = planChunks({
    lengths: batch.lengths,
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    storeStates: false,
    outAll,
    hasTargets,
    outputs,
    rows: R,
    reduceSpan: reduce.span,
    maxBindingBytes: ctx.maxBindingBytes,
    budgetBytes: ctx.budgetBytes,
    weightFloats: layout.count,
    extraPerSequence: (T) => {
      const bytes: Record<string, number> = { states: (2 * K * S + K) * 4 };
      for (let l = 0; l < NL; l++) {
        bytes[`layer ${l} outputs`] = T * DH * 4;
        if (gradients) bytes[`layer ${l} states`] = D * T * S * 4;
      }
      if (gradients) bytes.dgrad = 2 * D * T * DH * 4;
      if (wantFinal) bytes['final states readback'] = K * S * 4;
      return bytes;
    },
  });
  const cap = plan.capacity;
  const T = plan.maxSteps;
  const outPerSeq = (outAll ? T : 1) * O;

  const weights = pool.get('weights', layout.count * 4, STORAGE | COPY_DST);
  device.queue.writeBuffer(weights, 0, Float32Array.from(model.params));
  const xs = pool.get('xs', cap * T * I * 4, STORAGE | COPY_DST);
  const lengths = pool.get('lengths', cap * 4, STORAGE | COPY_DST);
  const targets = pool.get('targets', hasTargets ? cap * outPerSeq * 4 : 4, STORAGE | COPY_DST);
  const ys = pool.get('ys', outputs ? cap * outPerSeq * 4 : 4, STORAGE | COPY_SRC);
  const rows = pool.get('rows', cap * R * 4, STORAGE | COPY_SRC);
  const states = pool.get('states', cap * (2 * K * S + K) * 4, STORAGE | COPY_DST | COPY_SRC);
  const half = D * T * DH * cap; // floats of one half of dgrad
  const dgrad = pool.get('dgrad', gradients ? 2 * half * 4 : 4, STORAGE);
  const outs = Array.from({ length: NL }, (_, l) => pool.get(`layer ${l} outputs`, cap * T * DH * 4, STORAGE));
  const hs = Array.from({ length: NL }, (_, l) =>
    pool.get(`layer ${l} states`, gradients ? cap * D * T * S * 4 : 4, STORAGE),
  );
  const layerParams = Array.from({ length: NL }, (_, l) => pool.get(`layer ${l} params`, 80, UNIFORM | COPY_DST));
  const readoutParams = pool.get('readout params', 32, UNIFORM | COPY_DST);
  const reduceParams = pool.get('reduce params', 16, UNIFORM | COPY_DST);
  const parts = pool.get('partials', R * plan.totalParts * 4, STORAGE | COPY_SRC | COPY_DST);

  // dgrad's halves: the readout writes dSSR/dh_top to half 0, and each layer's backward reads the half the layer
  // above wrote and writes the other one.
  const aboveAt = (l: number, N: number): number => ((NL - 1 - l) % 2) * D * T * DH * N;
  const belowAt = (l: number, N: number): number => ((NL - l) % 2) * D * T * DH * N;

  const bind = (l: number, k: LayerKernel): GPUBindGroup =>
    k.kernel.bind(`layer ${l}`, {
      params: layerParams[l],
      weights,
      lengths,
      x: l === 0 ? xs : outs[l - 1],
      out: outs[l],
      hs: hs[l],
      states,
      dgrad,
      rows,
    });
  const forwardBinds = forward.map((k, l) => bind(l, k));
  const backwardBinds = backward.map((k, l) => bind(l, k));
  const readoutBind = readout.kernel.bind('chunk', {
    params: readoutParams,
    weights,
    lengths,
    top: outs[NL - 1],
    targets,
    ys,
    states,
    rows,
    dgrad,
  });
  const reduceBind = reduce.kernel.bind('chunk partials', { params: reduceParams, src: rows, dst: parts });

  const io = new LayeredChunks(device, pool, model, batch, cap, T, { outputs, hasTargets, finalStates: wantFinal });
  const data = { xs, lengths, targets, ys };
  const truncation = truncationUniform(req.truncation);

  let done = 0;
  for (const c of plan.chunks) {
    const N = c.count;
    io.upload(c, data);
    io.uploadStates(c, states);
    const finAt = K * S * N;
    const ovfAt = 2 * K * S * N;
    for (let l = 0; l < NL; l++)
      device.queue.writeBuffer(
        layerParams[l],
        0,
        forward[l].kernel.uniform('params', {
          n: N,
          steps: c.steps,
          truncation,
          dirs: D,
          w0: layers[l * D].offset,
          w1: D === 2 ? layers[l * D + 1].offset : 0,
          k0: l * D,
          dh: DH,
          sources: l === NL - 1 ? 1 : D,
          finAt,
          ovfAt,
          aboveAt: gradients ? aboveAt(l, N) : 0,
          belowAt: gradients ? belowAt(l, N) : 0,
          layer: l,
          seqBase: c.start,
          dropSeed: drop ? drop.seed : 0,
          dropThreshold: drop ? dropThreshold(drop.p) : 0,
          dropScale: drop ? 1 / (1 - drop.p) : 1,
        }),
      );
    device.queue.writeBuffer(
      readoutParams,
      0,
      readout.kernel.uniform('params', {
        n: N,
        steps: c.steps,
        layers: K,
        wy: layout.blocks.Wy.offset,
        by: layout.blocks.by.offset,
        ovfAt,
        topAt: 0,
        gradAt: layout.blocks.Wy.offset,
      }),
    );
    device.queue.writeBuffer(reduceParams, 0, reduce.params(N, N, plan.totalParts, c.partOffset));

    const enc = device.createCommandEncoder({ label: `webgpu-rnn layered chunk ${c.start}+${N}` });
    const pass = enc.beginComputePass({ label: 'webgpu-rnn layers + readout + partial sums', ...ctx.timer?.pass() });
    for (let l = 0; l < NL; l++) forward[l].encode(pass, forwardBinds[l], N, D);
    readout.encode(pass, readoutBind, N);
    for (let l = NL - 1; l >= 0 && gradients; l--) backward[l].encode(pass, backwardBinds[l], N, D);
    reduce.encode(pass, reduceBind, N, R);
    pass.end();
    await io.finish(enc, c, data, { buffer: states, at: finAt });
    done += N;
    req.onProgress?.(done, batch.count);
  }

  const raw = await runResult(
    device,
    pool,
    reduce,
    parts,
    R,
    plan.totalParts,
    ctx.timer,
    { hasTargets, gradients, clipNorm: req.clipNorm },
    io.outputs,
  );
  if (io.finalStates) raw.finalStates = io.finalStates;
  return { raw, chunks: plan.chunks.length, sequencesPerChunk: cap, checkpointEvery: gradients ? T : undefined };
}
