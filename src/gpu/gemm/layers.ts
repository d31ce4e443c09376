// The gemm strategy's stacked and bidirectional networks: every layer-direction runs the one-layer gemm program
// (src/gpu/gemm/program.ts) as a one-layer model of its own — the layer's recurrent blocks, its h0 (c0), a readout of
// its own that the network's replaces (layerModel) — over the whole chunk. Per chunk, one submit records:
//   forward, bottom up: a reverse direction reads its input reversed within each sequence's length
//     (shaders/gemm/copy_steps.wgsl for the model's inputs), so that step τ of its run is time len − 1 − τ (PyTorch's
//     PackedSequence); after each forward segment the segment's hidden states go to the layer's outputs in time order
//     and reversed (shaders/gemm/emit.wgsl), which the next layer's two directions read as their inputs;
//   the readout on the top layer's [h_fwd; h_rev] (shaders/per_sequence/readout.wgsl: SSR, overflow, and for BPTT
//     dSSR/dWy, dSSR/dby and dSSR/dh_top), then the first level of its row sums;
//   BPTT, top down: for each layer-direction its dSSR/dh_t (the readout's, or the layer above's dSSR/dx_t, both
//     directions added) goes in its run's order to its program's targets as −½·dSSR/dh_t, so that its output step
//     (EXT_DY: no product, by = 0) gives dy = dSSR/dh_t exactly, which DZ adds; the program runs the BPTT part of its
//     records on the states its forward pass left in its own state slots (the last segment's, and the checkpoints
//     from which it recomputes the earlier segments), adding its weight gradients to its own accumulators (saved and
//     restored around it, since programs of one input size share their work buffer), and above the first layer
//     writes dSSR/dx_t (KIND DX) for the layer below.
// One chunk plan for all programs: the sum of their buffers and the layer buffers within the budget. The gradients
// are gathered into the flat layout on the GPU, where the global norm is measured and clipped as for one layer.
// Carried states: each program's slot 0 is loaded from the batch's initialStates at the start of its forward pass, in
// place of INIT, and each sequence's state after its own last step is stored after each forward segment
// (shaders/gemm/carry.wgsl). One-layer runs with carried states come here too. Inter-layer dropout (training):
// the outputs of every layer but the top go through the mask as they are copied out (emit.wgsl), and dSSR/dx_t
// through the same mask on the way down (copy_steps.wgsl).

import { maxLength } from '../../batch.ts';
import { cellOf } from '../../cells/index.ts';
import { dropThreshold } from '../../dropout.ts';
import { GpuError } from '../../errors.ts';
import { directions, layerCount, layerLayouts, paramLayout, type LayerLayout, type Model } from '../../model.ts';
import { LayerReadoutKernel } from '../per-sequence/layer.ts';
import { ReduceKernel } from '../reduce/reduce.ts';
import { encodeLevels, readBack } from '../reduce/sums.ts';
import { CLIP_STATS_BYTES, ClipKernel } from '../reduce/clip.ts';
import type { RawResult } from '../../backend.ts';
import { LayeredChunks } from '../layered-io.ts';
import { evenCapacity, fitCapacity, splitChunks } from '../plan.ts';
import { BufferUsage } from '../pool.ts';
import type { StrategyContext, StrategyRequest, StrategyResult } from '../strategy.ts';
import {
  CARRY_RECORD_BYTES,
  CarryKernel,
  EMIT_RECORD_BYTES,
  EmitKernel,
  NO_MASK,
  StepCopyKernel,
  type CarryRecord,
  type MaskFields,
  type EmitRecord,
  type StepCopy,
} from './copies.ts';
import { FORWARD_SEGMENT, rowStride, type GemmPlan } from './plan.ts';
import { GemmProgram, type GemmProgramSpec } from './program.ts';

const { STORAGE, COPY_DST, COPY_SRC, UNIFORM } = BufferUsage;
/**
 * Pool roles each layer-direction's program owns; the rest are shared by the programs of one input size. With BPTT
 * each owns its state slots too: its BPTT runs on the states its forward pass left there.
 */
const OWN_ROLES = new Set(['weights', 'steps', 'gemm dims', 'reduce params']);
/** Bytes of a program's own small uniforms (dims, reduction parameters). */
const OWN_SMALL_BYTES = 512;

/**
 * Layer-direction `layer` of a layered model as a one-layer model: its recurrent blocks (the same blocks in the same
 * order as a one-layer layout's recurrent part), a zero readout of `outputs` outputs (1 forward; H for BPTT, whose
 * output product passes dSSR/dh_t in), every step an output, and its h0 (c0).
 */
export function layerModel(model: Model, layer: LayerLayout, outputs: number): Model {
  const H = model.hiddenSize;
  const shape = { cell: model.cell, inputSize: layer.inputSize, hiddenSize: H, outputSize: outputs };
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
    output: 'all',
    params,
    h0: model.h0.slice(k * H, (k + 1) * H),
    ...(model.c0 ? { c0: model.c0.slice(k * H, (k + 1) * H) } : {}),
  };
}

export async function runGemmLayered(ctx: StrategyContext, req: StrategyRequest): Promise<StrategyResult> {
  const { device, pool } = ctx;
  const { model, batch, outputs, hasTargets, gradients } = req;
  const { inputSize: I, hiddenSize: H, outputSize: O } = model;
  const D = directions(model);
  const K = layerCount(model);
  const NL = K / D;
  const DH = D * H;
  const outAll = model.output === 'all';
  // Dropout acts between layers (src/dropout.ts): on the outputs of every layer but the top, as the layer above reads them.
  const drop = req.dropout && req.dropout.p > 0 && NL > 1 ? req.dropout : null;
  const layout = paramLayout(model);
  const layers = layerLayouts(model);
  const subs = layers.map((l) => layerModel(model, l, gradients ? H : 1));
  const N = batch.count;
  const T = maxLength(batch);
  const wg = ctx.opts.workgroupSize ?? 64;
  /** Rows per sequence of the readout: the SSR, the overflow flag, and for BPTT dSSR/dWy and dSSR/dby. */
  const R = gradients ? 2 + O * DH + O : 2;
  /** Layer outputs kept: every layer's for BPTT (its programs read them again there), else two sets in turn. */
  const sets = gradients ? NL : Math.min(NL, 2);
  const setOf = (l: number): number => (gradients ? l : l % 2);
  // Carried states: rows per sequence and layer-direction (h, then c for the LSTM).
  const carriedIn = batch.initialStates !== undefined;
  const wantFinal = req.finalStates === true;
  const SR = cellOf(model).stateVectors * H;
  const segmentsOf = (steps: number): number => Math.ceil(steps / FORWARD_SEGMENT);

  const [reduce, readout, emit, copy, clip, carry] = await Promise.all([
    ReduceKernel.load(device, ctx.opts.reduceWorkgroupSize, ctx.opts.reducePerThread),
    LayerReadoutKernel.load(device, {
      width: DH,
      outputSize: O,
      outAll,
      writeY: outputs,
      hasTargets,
      backward: gradients,
      workgroupSize: wg,
    }),
    EmitKernel.load(device),
    StepCopyKernel.load(device),
    gradients ? ClipKernel.load(device) : null,
    carriedIn || wantFinal ? CarryKernel.load(device) : null,
  ]);

  // Programs of one input size (layer 0's, the layers' above) share their work buffer, and without BPTT their state
  // slots: they run one after another within the chunk's submit.
  const specOf = (k: number, maxCapacity: number, inputs?: GemmProgramSpec['inputs']): GemmProgramSpec => ({
    model: subs[k],
    lengths: batch.lengths,
    gradients,
    outputs: false,
    hasTargets: gradients,
    layer: {
      rowSums: false,
      externalDy: gradients,
      inputGrad: gradients && k >= D ? { reverse: k % D === 1, add: k % D === 1 } : undefined,
      carriedIn,
    },
    maxCapacity,
    inputs,
    role: (r) =>
      OWN_ROLES.has(r) || (gradients && r === 'states')
        ? `gemm layer ${k} ${r}`
        : `gemm layers I=${layers[k].inputSize} ${r}`,
  });
  const sizes = [...new Set(layers.map((l) => l.inputSize))];
  const outPerSeq = (outAll ? T : 1) * O;
  const layeredBytes = (cap: number): Record<string, number> => ({
    xs: cap * T * I * 4,
    ...(D === 2 ? { 'reversed xs': cap * T * I * 4 } : {}),
    // Each set: the outputs in time order and reversed.
    'layer outputs': sets * 2 * cap * T * DH * 4,
    lengths: cap * 4,
    targets: hasTargets ? cap * outPerSeq * 4 : 0,
    ys: outputs ? 2 * cap * outPerSeq * 4 : 0,
    rows: R * cap * 4,
    'overflow flags': K * cap * 4,
    partials: R * (Math.ceil(N / cap) + Math.ceil(N / reduce.span)) * 4,
    weights: layout.count * 4,
    'emit records': K * segmentsOf(T) * EMIT_RECORD_BYTES,
    'initial states': carriedIn ? K * SR * cap * 4 : 0,
    'final states': wantFinal ? K * SR * cap * 4 : 0,
    'carry records': carriedIn || wantFinal ? K * (1 + segmentsOf(T)) * CARRY_RECORD_BYTES : 0,
    ...(gradients
      ? {
          'dh top': cap * T * DH * 4,
          'layer targets': cap * T * H * 4,
          'input gradients': (NL > 1 ? 2 : 0) * cap * T * DH * 4,
          gradients: (subs.reduce((a, m) => a + m.params.length, 0) + 2 * layout.count + 64) * 4,
        }
      : {}),
  });
  const fits = (cap: number): boolean => {
    const own = layeredBytes(cap);
    const perBuffer = [cap * T * I * 4, cap * T * DH * 4, K * cap * 4, R * cap * 4, K * SR * cap * 4];
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
      // Each program's step records and weights, and with BPTT its state slots.
      const ownBytes = b.steps + b.weights + OWN_SMALL_BYTES + (gradients ? b.states : 0);
      total += plan.totalBytes - b.xs - b.lengths - b.targets - b.ys + ks.length * ownBytes - b.steps - b.weights;
      if (gradients) total -= b.states;
    }
    return total <= ctx.budgetBytes;
  };
  if (!fits(1))
    throw new GpuError(
      `one sequence of ${T} steps of this ${NL}-layer${D === 2 ? ' bidirectional' : ''} network needs more GPU memory than the budget of ${ctx.budgetBytes} bytes or the device's buffer limit of ${ctx.maxBindingBytes} bytes allow`,
    );
  const cap = evenCapacity(N, fitCapacity(N, fits));
  const { chunks, parts: totalParts } = splitChunks(batch.lengths, cap, reduce.span);

  // The layer buffers: the inputs (and reversed), the layer outputs, the readout's, BPTT's.
  const xs = pool.get('gemm layered xs', cap * T * I * 4, STORAGE | COPY_DST);
  const xsRev = D === 2 ? pool.get('gemm layered reversed xs', cap * T * I * 4, STORAGE) : xs;
  const outs = Array.from({ length: sets }, (_, i) => pool.get(`gemm layer outputs ${i}`, cap * T * DH * 4, STORAGE));
  const outRevs = Array.from({ length: sets }, (_, i) =>
    pool.get(`gemm layer outputs reversed ${i}`, cap * T * DH * 4, STORAGE),
  );
  const lengths = pool.get('gemm layered lengths', cap * 4, STORAGE | COPY_DST);
  const targets = pool.get('gemm layered targets', hasTargets ? cap * outPerSeq * 4 : 4, STORAGE | COPY_DST);
  const ys = pool.get('gemm layered ys', outputs ? cap * outPerSeq * 4 : 4, STORAGE | COPY_SRC);
  const rows = pool.get('gemm layered rows', R * cap * 4, STORAGE);
  const ovf = pool.get('gemm layered overflow flags', K * cap * 4, STORAGE);
  const parts = pool.get('gemm layered partials', R * totalParts * 4, STORAGE | COPY_SRC | COPY_DST);
  const weights = pool.get('gemm layered weights', layout.count * 4, STORAGE | COPY_DST);
  device.queue.writeBuffer(weights, 0, Float32Array.from(model.params));
  const dhTop = pool.get('gemm layered dh top', gradients ? cap * T * DH * 4 : 4, STORAGE);
  const layerTargets = pool.get('gemm layered layer targets', gradients ? cap * T * H * 4 : 4, STORAGE);
  const dxs = [0, 1].map((i) =>
    pool.get(`gemm layered input gradients ${i}`, gradients && NL > 1 ? cap * T * DH * 4 : 4, STORAGE),
  );
  const unused = pool.get('gemm layered unused', 4, STORAGE);
  const readoutParams = pool.get('gemm layered readout params', 32, UNIFORM | COPY_DST);
  const reduceParams = pool.get('gemm layered reduce params', 16, UNIFORM | COPY_DST);

  const inputOf = (k: number): GPUBuffer => {
    const l = Math.floor(k / D);
    const reversed = k % D === 1;
    if (l === 0) return reversed ? xsRev : xs;
    return reversed ? outRevs[setOf(l - 1)] : outs[setOf(l - 1)];
  };
  /** dSSR/dx_t that layer l > 0 writes for the layer below (two buffers in turn). */
  const dxOf = (l: number): GPUBuffer => dxs[l % 2];
  const progs: GemmProgram[] = [];
  for (let k = 0; k < K; k++) {
    const l = Math.floor(k / D);
    const inputs = gradients
      ? { xs: inputOf(k), lengths, targets: layerTargets, ys: l > 0 ? dxOf(l) : unused }
      : { xs: inputOf(k), lengths };
    progs.push(await GemmProgram.load(ctx, specOf(k, cap, inputs)));
  }
  const gradAt: number[] = [];
  let gradFloats = 0;
  for (const [k, p] of progs.entries()) {
    if (p.plan.capacity < cap) throw new GpuError(`layer ${k}: its plan holds ${p.plan.capacity} of ${cap} sequences`);
    device.queue.writeBuffer(p.buffers.weights, 0, GemmProgram.weightsImage(subs[k], p.plan.bytes.weights));
    gradAt.push(gradFloats);
    gradFloats += Math.ceil(subs[k].params.length / 64) * 64;
  }
  const grads = pool.get('gemm layered gradients', gradients ? gradFloats * 4 : 4, STORAGE | COPY_SRC | COPY_DST);
  const segmentsPer = Math.ceil(T / progs[0].plan.segment);
  const emitRecords = pool.get('gemm layered emit records', K * segmentsPer * EMIT_RECORD_BYTES, UNIFORM | COPY_DST);
  const stateIn = pool.get('gemm layered initial states', carriedIn ? K * SR * cap * 4 : 4, STORAGE | COPY_DST);
  const stateOut = pool.get('gemm layered final states', wantFinal ? K * SR * cap * 4 : 4, STORAGE | COPY_SRC);
  const carryRecords = pool.get(
    'gemm layered carry records',
    K * (1 + segmentsPer) * CARRY_RECORD_BYTES,
    UNIFORM | COPY_DST,
  );
  const carryRec = carry ? { buffer: carryRecords, offset: 0, size: carry.loader.reflection.uniforms.rec.size } : null;
  // Both entry points bind the same five buffers (the reflection is the module's).
  const carryBinds = carry
    ? progs.map((p, k) =>
        carry.loader.bind(`layer ${k}`, { rec: carryRec!, lengths, states: p.buffers.states, stateIn, stateOut }),
      )
    : [];
  const emitBinds = progs.map((p, k) =>
    emit.kernel.bind(`layer ${k}`, {
      rec: { buffer: emitRecords, offset: 0, size: emit.kernel.reflection.uniforms.rec.size },
      lengths,
      states: p.buffers.states,
      flags: p.buffers.flags,
      out: outs[setOf(Math.floor(k / D))],
      outRev: outRevs[setOf(Math.floor(k / D))],
      ovf,
    }),
  );
  // The step copies of a chunk: the reversed inputs, then each layer-direction's targets for BPTT (slot 1 + k).
  const copyParams = pool.get('gemm layered copy params', (1 + K) * 256, UNIFORM | COPY_DST);
  const copyBind = (slot: number, src: GPUBuffer, dst: GPUBuffer): GPUBindGroup =>
    copy.kernel.bind(`copy ${slot}`, {
      cp: { buffer: copyParams, offset: slot * 256, size: copy.kernel.reflection.uniforms.cp.size },
      lengths,
      src,
      dst,
    });
  const reverseBind = D === 2 ? copyBind(0, xs, xsRev) : null;
  const targetBinds = gradients
    ? progs.map((_, k) => {
        const l = Math.floor(k / D);
        return copyBind(1 + k, l === NL - 1 ? dhTop : dxOf(l + 1), layerTargets);
      })
    : [];
  const readoutBind = readout.kernel.bind('gemm layers', {
    params: readoutParams,
    weights,
    lengths,
    top: outs[setOf(NL - 1)],
    targets,
    ys,
    states: ovf,
    rows,
    dgrad: gradients ? dhTop : unused,
  });
  const reduceBind = reduce.kernel.bind('gemm layered partials', { params: reduceParams, src: rows, dst: parts });

  const io = new LayeredChunks(device, pool, model, batch, cap, T, { outputs, hasTargets, finalStates: wantFinal });
  const data = { xs, lengths, targets, ys };
  const recHost = new Uint8Array(K * segmentsPer * EMIT_RECORD_BYTES);
  const copyHost = new Uint8Array((1 + K) * 256);
  const carryHost = new Uint8Array(K * (1 + segmentsPer) * CARRY_RECORD_BYTES);

  let done = 0;
  for (const [ci, c] of chunks.entries()) {
    const n = c.count;
    /** The mask of layer l's inputs for this chunk (none for the first layer, past the top or without dropout). */
    const maskOf = (l: number): MaskFields =>
      drop && l > 0 && l < NL
        ? {
            drop: 1,
            layer: l,
            seqBase: c.start,
            dropSeed: drop.seed >>> 0,
            dropThreshold: dropThreshold(drop.p),
            dropScale: 1 / (1 - drop.p),
          }
        : NO_MASK;
    io.upload(c, data);
    // Each program's records: the forward pass, dispatches [0, forwardEnd), then (BPTT) the rest.
    const recs = progs.map((p) => p.records(c, batch.lengths, req.truncation));
    const emits: EmitRecord[][] = [];
    const loads: CarryRecord[] = [];
    const stores: CarryRecord[][] = [];
    if (carriedIn) io.uploadStates(c, stateIn);
    const copies: StepCopy[] = [];
    const ld = rowStride(n);
    for (const [k, p] of progs.entries()) {
      device.queue.writeBuffer(p.buffers.steps, 0, recs[k].words);
      p.writeChunkUniforms(c);
      const S = p.plan.slots;
      const segs = recs[k].segments;
      emits.push(
        segs.map((s, i) => {
          const r: EmitRecord = {
            n,
            ld,
            t0: s.t0,
            count: s.count,
            slot0: p.plan.checkpointSlots * S.state * ld,
            slotStride: S.slot * ld,
            reverse: k % D,
            dh: DH,
            hOff: (k % D) * H,
            h: H,
            ovfRow: k * n,
            last: i === segs.length - 1 ? 1 : 0,
            ...maskOf(Math.floor(k / D) + 1),
          };
          recHost.set(new Uint8Array(emit.record(r)), (k * segmentsPer + i) * EMIT_RECORD_BYTES);
          return r;
        }),
      );
      if (carry) {
        // Record k: the load of layer-direction k's slot 0; records K + k·segmentsPer + i: the stores after its segments.
        const base = { n, ld, rows: SR, k, slot0: 0, slotStride: 0, t0: 0, count: 0 };
        loads.push(base);
        carryHost.set(new Uint8Array(carry.record(base)), k * CARRY_RECORD_BYTES);
        stores.push(
          emits[k].map((e, i) => {
            const r: CarryRecord = { ...base, slot0: e.slot0, slotStride: e.slotStride, t0: e.t0, count: e.count };
            carryHost.set(new Uint8Array(carry.record(r)), (K + k * segmentsPer + i) * CARRY_RECORD_BYTES);
            return r;
          }),
        );
      }
    }
    device.queue.writeBuffer(emitRecords, 0, recHost);
    if (carry) device.queue.writeBuffer(carryRecords, 0, carryHost);
    const onStart = (k: number) =>
      carry && carriedIn
        ? (pass: GPUComputePassEncoder) => carry.encode(pass, false, carryBinds[k], k, loads[k])
        : undefined;
    const rev: StepCopy = { n, steps: c.steps, width: I, stride: I, offset: 0, reverse: 1, scale: 1, ...NO_MASK };
    copyHost.set(new Uint8Array(copy.params(rev)), 0);
    for (let k = 0; k < K && gradients; k++) {
      // Layer l's dSSR/dh_t: the readout's, or dSSR/dx_t of layer l + 1 through that layer's dropout mask.
      copies[k] = {
        n,
        steps: c.steps,
        width: H,
        stride: DH,
        offset: (k % D) * H,
        reverse: k % D,
        scale: -0.5,
        ...maskOf(Math.floor(k / D) + 1),
      };
      copyHost.set(new Uint8Array(copy.params(copies[k])), (1 + k) * 256);
    }
    device.queue.writeBuffer(copyParams, 0, copyHost);
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
        gradAt: 0,
      }),
    );
    device.queue.writeBuffer(reduceParams, 0, reduce.params(n, n, totalParts, c.partOffset));

    const enc = device.createCommandEncoder({ label: `webgpu-rnn gemm layers chunk ${c.start}+${n}` });
    if (reverseBind) {
      const pass = enc.beginComputePass({ label: 'webgpu-rnn gemm reversed inputs', ...ctx.timer?.pass() });
      copy.encode(pass, reverseBind, rev);
      pass.end();
    }
    for (const [k, p] of progs.entries())
      p.encodeChunk(enc, c, false, recs[k].dispatches.slice(0, recs[k].forwardEnd), 0, 0, {
        segments: recs[k].segments,
        onStart: onStart(k),
        onSegment: (pass, _s, i) => {
          emit.encode(pass, emitBinds[k], k * segmentsPer + i, emits[k][i]);
          if (carry && wantFinal) carry.encode(pass, true, carryBinds[k], K + k * segmentsPer + i, stores[k][i]);
        },
      });
    const pass = enc.beginComputePass({ label: 'webgpu-rnn gemm layers readout + partial sums', ...ctx.timer?.pass() });
    readout.encode(pass, readoutBind, n);
    reduce.encode(pass, reduceBind, n, R);
    pass.end();
    // BPTT, top down; within a layer the forward direction first (the reverse one adds its dSSR/dx_t).
    for (let k = K - 1 - (D - 1); gradients && k >= 0; k -= D)
      for (let kk = k; kk < k + D; kk++) {
        const p = progs[kk];
        const P = subs[kk].params.length;
        const tp = enc.beginComputePass({ label: `webgpu-rnn gemm layer ${kk} dSSR/dh`, ...ctx.timer?.pass() });
        copy.encode(tp, targetBinds[kk], copies[kk]);
        tp.end();
        if (ci > 0) enc.copyBufferToBuffer(grads, gradAt[kk] * 4, p.buffers.work, 0, P * 4);
        // BPTT on the states the program's forward pass left in its slots (no recomputation of the last segment).
        p.encodeChunk(enc, c, ci === 0, recs[kk].dispatches.slice(recs[kk].forwardEnd));
        enc.copyBufferToBuffer(p.buffers.work, 0, grads, gradAt[kk] * 4, P * 4);
      }
    await io.finish(enc, c, data, { buffer: stateOut, at: 0 }, true);
    done += n;
    req.onProgress?.(done, batch.count);
  }

  // The row sums; with BPTT, every gradient gathered into the flat layout after the loss and overflow rows, its
  // global norm measured (and clipped to clipNorm) on the GPU, all read back in one mapping.
  const enc = device.createCommandEncoder({ label: 'webgpu-rnn gemm layers final sums' });
  const sums = encodeLevels(device, pool, enc, reduce, parts, R, totalParts, ctx.timer);
  if (!gradients || !clip) {
    const v = await readBack(device, pool, enc, [[sums, R * 4]], ctx.timer);
    const raw: RawResult = { loss: hasTargets ? v[0] : null, grads: null, outputs: io.outputs, overflowed: v[1] };
    if (io.finalStates) raw.finalStates = io.finalStates;
    return { raw, chunks: chunks.length, sequencesPerChunk: cap };
  }
  const P = layout.count;
  const flat = pool.get('gemm layered flat gradients', (2 + P) * 4, STORAGE | COPY_SRC | COPY_DST);
  enc.copyBufferToBuffer(sums, 0, flat, 0, 2 * 4);
  enc.copyBufferToBuffer(sums, 2 * 4, flat, (2 + layout.blocks.Wy.offset) * 4, (O * DH + O) * 4);
  for (const [k, l] of layers.entries())
    enc.copyBufferToBuffer(grads, gradAt[k] * 4, flat, (2 + l.offset) * 4, l.size * 4);
  const stats = pool.get('clip stats', CLIP_STATS_BYTES, STORAGE | COPY_SRC);
  const u = pool.get('clip params', 16, UNIFORM | COPY_DST);
  device.queue.writeBuffer(u, 0, clip.params(2, P, req.clipNorm));
  const cp = enc.beginComputePass({ label: 'webgpu-rnn gradient norm and clipping', ...ctx.timer?.pass() });
  clip.encode(cp, clip.bind('gemm layers', { params: u, grads: flat, stats }));
  cp.end();
  const v = await readBack(
    device,
    pool,
    enc,
    [
      [flat, (2 + P) * 4],
      [stats, CLIP_STATS_BYTES],
    ],
    ctx.timer,
  );
  const raw: RawResult = {
    loss: hasTargets ? v[0] : null,
    grads: Float64Array.from(v.subarray(2, 2 + P)),
    outputs: io.outputs,
    overflowed: v[1],
    gradNorm: v[2 + P],
    clipped: v[3 + P] !== 1,
  };
  if (io.finalStates) raw.finalStates = io.finalStates;
  return {
    raw,
    chunks: chunks.length,
    sequencesPerChunk: cap,
    checkpointEvery: progs[0].plan.segment,
  };
}
