// The gemm strategy's stacked and bidirectional networks, forward: every layer-direction runs the one-layer gemm
// program (src/gpu/gemm/strategy.ts GemmProgram, its kernels unchanged) as a one-layer model of its own — the
// layer's recurrent blocks, its h0 (c0), a placeholder readout it never runs — over the whole chunk, bottom up.
// A reverse direction reads its input reversed within each sequence's length (shaders/gemm/reverse.wgsl for the
// model's inputs), so that step τ of its run is time len − 1 − τ (PyTorch's PackedSequence). After each forward
// segment, the segment's hidden states go to the layer's outputs in time order and reversed (shaders/gemm/emit.wgsl),
// which the next layer's two directions read as their inputs; the readout on the top layer's [h_fwd; h_rev] is the
// layered runs' readout (shaders/per_sequence/readout.wgsl), followed by the first level of the row sums. One submit
// per chunk; one chunk plan for all programs (the sum of their buffers and the layer outputs within the budget).
// Gradients of stacked and bidirectional networks, and carried states, stay with the per-sequence strategy.

import { maxLength, outputCount } from '../../batch.ts';
import { cellOf } from '../../cells/index.ts';
import { GpuError } from '../../errors.ts';
import { directions, layerCount, layerLayouts, paramLayout, type LayerLayout, type Model } from '../../model.ts';
import { LayerReadoutKernel } from '../per-sequence/layer.ts';
import { ReduceKernel } from '../reduce/reduce.ts';
import { runResult } from '../reduce/sums.ts';
import { packInputs, packTargets, unpackOutputs } from '../packing.ts';
import { evenCapacity, splitChunks } from '../plan.ts';
import { BufferUsage } from '../pool.ts';
import { readBuffers } from '../runtime.ts';
import type { StrategyContext, StrategyRequest, StrategyResult } from '../strategy.ts';
import { EMIT_RECORD_BYTES, EmitKernel, ReverseKernel, type EmitRecord } from './copies.ts';
import { FORWARD_SEGMENT, rowStride, type GemmPlan } from './plan.ts';
import { GemmProgram, type GemmProgramSpec } from './program.ts';

const { STORAGE, COPY_DST, COPY_SRC, UNIFORM } = BufferUsage;
/** Rows per sequence of the readout: the SSR and the overflow flag. */
const ROWS = 2;
/** Pool roles each layer-direction's program owns; the rest are shared by the programs of one input size. */
const OWN_ROLES = new Set(['weights', 'steps', 'gemm dims', 'reduce params']);
/** Bytes of a program's own small uniforms (dims, reduction parameters). */
const OWN_SMALL_BYTES = 512;

/**
 * Layer-direction `layer` of a layered model as a one-layer model: its recurrent blocks (the same blocks in the same
 * order as a one-layer layout's recurrent part), a zero readout of one output, and its h0 (c0).
 */
export function layerModel(model: Model, layer: LayerLayout): Model {
  const H = model.hiddenSize;
  const shape = { cell: model.cell, inputSize: layer.inputSize, hiddenSize: H, outputSize: 1 };
  const one = paramLayout(shape);
  for (const [name, b] of Object.entries(layer.blocks)) {
    const at = one.blocks[name as keyof typeof one.blocks];
    if (!at || at.offset !== b.offset - layer.offset || at.size !== b.size)
      throw new GpuError(
        `layer ${layer.index}: block ${name} is not where a one-layer ${cellOf(model).name} layout has it`,
      );
  }
  const params = new Float64Array(one.count);
  params.set(model.params.subarray(layer.offset, layer.offset + layer.size));
  const k = layer.index;
  return {
    ...shape,
    activation: model.activation,
    output: 'last',
    params,
    h0: model.h0.slice(k * H, (k + 1) * H),
    ...(model.c0 ? { c0: model.c0.slice(k * H, (k + 1) * H) } : {}),
  };
}

export async function runGemmLayered(ctx: StrategyContext, req: StrategyRequest): Promise<StrategyResult> {
  const { device, pool } = ctx;
  const { model, batch, outputs, hasTargets } = req;
  if (req.gradients) throw new GpuError('the gemm strategy runs stacked and bidirectional networks forward only');
  const { inputSize: I, hiddenSize: H, outputSize: O } = model;
  const D = directions(model);
  const K = layerCount(model);
  const NL = K / D;
  const DH = D * H;
  const outAll = model.output === 'all';
  const layout = paramLayout(model);
  const layers = layerLayouts(model);
  const subs = layers.map((l) => layerModel(model, l));
  const N = batch.count;
  const T = maxLength(batch);
  const wg = ctx.opts.workgroupSize ?? 64;

  const [reduce, readout, emit, reverse] = await Promise.all([
    ReduceKernel.load(device, ctx.opts.reduceWorkgroupSize, ctx.opts.reducePerThread),
    LayerReadoutKernel.load(device, {
      width: DH,
      outputSize: O,
      outAll,
      writeY: outputs,
      hasTargets,
      backward: false,
      workgroupSize: wg,
    }),
    EmitKernel.load(device),
    ReverseKernel.load(device),
  ]);

  // Programs of one input size (layer 0's, the layers' above) share their state and work buffers: they run one after
  // another within the chunk's submit.
  const specOf = (k: number, maxCapacity: number, inputs?: GemmProgramSpec['inputs']): GemmProgramSpec => ({
    model: subs[k],
    lengths: batch.lengths,
    gradients: false,
    outputs: false,
    hasTargets: false,
    rowSums: false,
    maxCapacity,
    inputs,
    role: (r) => (OWN_ROLES.has(r) ? `gemm layer ${k} ${r}` : `gemm layers I=${layers[k].inputSize} ${r}`),
  });
  const sizes = [...new Set(layers.map((l) => l.inputSize))];
  const outPerSeq = (outAll ? T : 1) * O;
  const layeredBytes = (cap: number): Record<string, number> => ({
    xs: cap * T * I * 4,
    ...(D === 2 ? { 'reversed xs': cap * T * I * 4 } : {}),
    // Two sets of layer outputs, in time order and reversed: a layer reads the set below and writes the other.
    'layer outputs': Math.min(NL, 2) * 2 * cap * T * DH * 4,
    lengths: cap * 4,
    targets: hasTargets ? cap * outPerSeq * 4 : 0,
    ys: outputs ? 2 * cap * outPerSeq * 4 : 0,
    rows: ROWS * cap * 4,
    'overflow flags': K * cap * 4,
    partials: ROWS * (Math.ceil(N / cap) + Math.ceil(N / reduce.span)) * 4,
    weights: layout.count * 4,
    'emit records': K * Math.ceil(T / FORWARD_SEGMENT) * EMIT_RECORD_BYTES,
  });
  const fits = (cap: number): boolean => {
    const own = layeredBytes(cap);
    const perBuffer = [cap * T * I * 4, cap * T * DH * 4, K * cap * 4];
    if (perBuffer.some((b) => b > ctx.maxBindingBytes)) return false;
    let total = Object.values(own).reduce((a, b) => a + b, 0);
    for (const size of sizes) {
      const ks = layers.filter((l) => l.inputSize === size).map((l) => l.index);
      let plan: GemmPlan;
      try {
        plan = GemmProgram.plan(ctx, specOf(ks[0], cap), reduce.span, Infinity);
      } catch {
        return false;
      }
      if (plan.capacity < evenCapacity(N, cap)) return false;
      const b = plan.bytes;
      const ownBytes = b.weights + b.steps + OWN_SMALL_BYTES;
      total += plan.totalBytes - b.xs - b.lengths + (ks.length - 1) * ownBytes;
    }
    return total <= ctx.budgetBytes;
  };
  if (!fits(1))
    throw new GpuError(
      `one sequence of ${T} steps of this ${NL}-layer${D === 2 ? ' bidirectional' : ''} network needs more GPU memory than the budget of ${ctx.budgetBytes} bytes or the device's buffer limit of ${ctx.maxBindingBytes} bytes allow`,
    );
  let lo = 1;
  let hi = N + 1;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  const cap = evenCapacity(N, lo);
  const { chunks, parts: totalParts } = splitChunks(batch.lengths, cap, reduce.span);

  // The caller's buffers: the inputs (and reversed), two sets of layer outputs, the readout's.
  const xs = pool.get('gemm layered xs', cap * T * I * 4, STORAGE | COPY_DST);
  const xsRev = D === 2 ? pool.get('gemm layered reversed xs', cap * T * I * 4, STORAGE) : xs;
  const outs = [0, 1].map((i) => pool.get(`gemm layer outputs ${i}`, cap * T * DH * 4, STORAGE));
  const outRevs = [0, 1].map((i) => pool.get(`gemm layer outputs reversed ${i}`, cap * T * DH * 4, STORAGE));
  const lengths = pool.get('gemm layered lengths', cap * 4, STORAGE | COPY_DST);
  const targets = pool.get('gemm layered targets', hasTargets ? cap * outPerSeq * 4 : 4, STORAGE | COPY_DST);
  const ys = pool.get('gemm layered ys', outputs ? cap * outPerSeq * 4 : 4, STORAGE | COPY_SRC);
  const rows = pool.get('gemm layered rows', ROWS * cap * 4, STORAGE);
  const ovf = pool.get('gemm layered overflow flags', K * cap * 4, STORAGE);
  const parts = pool.get('gemm layered partials', ROWS * totalParts * 4, STORAGE | COPY_SRC | COPY_DST);
  const weights = pool.get('gemm layered weights', layout.count * 4, STORAGE | COPY_DST);
  device.queue.writeBuffer(weights, 0, Float32Array.from(model.params));
  const unused = pool.get('gemm layered unused', 4, STORAGE);
  const readoutParams = pool.get('gemm layered readout params', 32, UNIFORM | COPY_DST);
  const reduceParams = pool.get('gemm layered reduce params', 16, UNIFORM | COPY_DST);
  const reverseParams = pool.get('gemm layered reverse params', 16, UNIFORM | COPY_DST);

  const inputOf = (k: number): GPUBuffer => {
    const l = Math.floor(k / D);
    const reversed = k % D === 1;
    if (l === 0) return reversed ? xsRev : xs;
    return reversed ? outRevs[(l - 1) % 2] : outs[(l - 1) % 2];
  };
  const progs: GemmProgram[] = [];
  for (let k = 0; k < K; k++) progs.push(await GemmProgram.load(ctx, specOf(k, cap, { xs: inputOf(k), lengths })));
  for (const [k, p] of progs.entries()) {
    if (p.plan.capacity < cap) throw new GpuError(`layer ${k}: its plan holds ${p.plan.capacity} of ${cap} sequences`);
    device.queue.writeBuffer(p.buffers.weights, 0, GemmProgram.weightsImage(subs[k], p.plan.bytes.weights));
  }
  const segmentsPer = Math.ceil(T / progs[0].plan.segment);
  const emitRecords = pool.get('gemm layered emit records', K * segmentsPer * EMIT_RECORD_BYTES, UNIFORM | COPY_DST);
  const emitBinds = progs.map((p, k) =>
    emit.kernel.bind(`layer ${k}`, {
      rec: { buffer: emitRecords, offset: 0, size: emit.kernel.reflection.uniforms.rec.size },
      lengths,
      states: p.buffers.states,
      flags: p.buffers.flags,
      out: outs[Math.floor(k / D) % 2],
      outRev: outRevs[Math.floor(k / D) % 2],
      ovf,
    }),
  );
  const reverseBind =
    D === 2 ? reverse.kernel.bind('inputs', { rev: reverseParams, lengths, src: xs, dst: xsRev }) : null;
  const readoutBind = readout.kernel.bind('gemm layers', {
    params: readoutParams,
    weights,
    lengths,
    top: outs[(NL - 1) % 2],
    targets,
    ys,
    states: ovf,
    rows,
    dgrad: unused,
  });
  const reduceBind = reduce.kernel.bind('gemm layered partials', { params: reduceParams, src: rows, dst: parts });

  const xsHost = new Float32Array(cap * T * I);
  const lenHost = new Uint32Array(cap);
  const tgHost = hasTargets ? new Float32Array(cap * outPerSeq) : null;
  const recHost = new Uint8Array(K * segmentsPer * EMIT_RECORD_BYTES);
  const outHost = outputs ? new Float64Array(outputCount({ ...batch, outputSize: O }, model.output)) : null;

  let done = 0;
  for (const c of chunks) {
    const n = c.count;
    packInputs(batch, c, xsHost, lenHost);
    device.queue.writeBuffer(xs, 0, xsHost, 0, c.steps * I * n);
    device.queue.writeBuffer(lengths, 0, lenHost, 0, n);
    if (tgHost) {
      packTargets(batch, c, O, tgHost);
      device.queue.writeBuffer(targets, 0, tgHost, 0, (outAll ? c.steps : 1) * O * n);
    }
    const recs = progs.map((p) => p.records(c, batch.lengths, undefined));
    const emits: EmitRecord[][] = [];
    for (const [k, p] of progs.entries()) {
      device.queue.writeBuffer(p.buffers.steps, 0, recs[k].words);
      p.writeChunkUniforms(c);
      const ld = rowStride(n);
      const R = p.plan.slots;
      const segs = recs[k].segments;
      emits.push(
        segs.map((s, i) => {
          const r: EmitRecord = {
            n,
            ld,
            t0: s.t0,
            count: s.count,
            slot0: p.plan.checkpointSlots * R.state * ld,
            slotStride: R.slot * ld,
            reverse: k % D,
            dh: DH,
            hOff: (k % D) * H,
            h: H,
            ovfRow: k * n,
            last: i === segs.length - 1 ? 1 : 0,
          };
          recHost.set(new Uint8Array(emit.record(r)), (k * segmentsPer + i) * EMIT_RECORD_BYTES);
          return r;
        }),
      );
    }
    device.queue.writeBuffer(emitRecords, 0, recHost);
    device.queue.writeBuffer(
      readoutParams,
      0,
      readout.kernel.uniform('params', {
        n,
        steps: c.steps,
        layers: K,
        wy: layout.blocks.Wy.offset,
        by: layout.blocks.by.offset,
        ovfAt: 0,
        topAt: 0,
      }),
    );
    device.queue.writeBuffer(reduceParams, 0, reduce.params(n, n, totalParts, c.partOffset));
    if (reverseBind) device.queue.writeBuffer(reverseParams, 0, reverse.params(n, c.steps, I));

    const enc = device.createCommandEncoder({ label: `webgpu-rnn gemm layers chunk ${c.start}+${n}` });
    if (reverseBind) {
      const pass = enc.beginComputePass({ label: 'webgpu-rnn gemm reversed inputs', ...ctx.timer?.pass() });
      reverse.encode(pass, reverseBind, n, c.steps, I);
      pass.end();
    }
    for (const [k, p] of progs.entries())
      p.encodeChunk(enc, c, false, recs[k].dispatches, 0, 0, {
        segments: recs[k].segments,
        onSegment: (pass, _s, i) => emit.encode(pass, emitBinds[k], k * segmentsPer + i, emits[k][i]),
      });
    const pass = enc.beginComputePass({ label: 'webgpu-rnn gemm layers readout + partial sums', ...ctx.timer?.pass() });
    readout.encode(pass, readoutBind, n);
    reduce.encode(pass, reduceBind, n, ROWS);
    pass.end();
    if (outHost) {
      const ysBytes = (outAll ? c.steps : 1) * O * n * 4;
      const got = await readBuffers(device, pool, enc, [[ys, ysBytes]]);
      unpackOutputs(batch, c, O, outAll, new Float32Array(got), outHost);
    } else {
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
    }
    done += n;
    req.onProgress?.(done, batch.count);
  }

  const raw = await runResult(
    device,
    pool,
    reduce,
    parts,
    ROWS,
    totalParts,
    ctx.timer,
    { hasTargets, gradients: false, clipNorm: req.clipNorm },
    outHost,
  );
  return { raw, chunks: chunks.length, sequencesPerChunk: cap };
}
