// The gemm strategy's program: one shape's kernels (src/gpu/gemm/kernels.ts), memory plan (src/gpu/gemm/plan.ts) and
// buffers, and the step records of a chunk (recordChunk), recording whole chunks into a caller's encoder. Its
// drivers: the engine's strategy (src/gpu/gemm/strategy.ts: one chunk per submit, data packed on the host), the
// layered networks' forward pass (src/gpu/gemm/layers.ts: one program per layer-direction) and fused training
// (src/train/gpu-gemm.ts: many chunks and steps per submit, data gathered on the GPU, weights updated in place).

import { tuningFor } from '../tuning.ts';
import { initialState, paramLayout, type Model } from '../../model.ts';
import { cellOf } from '../../cells/index.ts';
import { planGemm, rowStride, splitParts, type GemmPlan } from './plan.ts';
import { GemmKernels, gemmKinds, type GemmKind, type StepFlags } from './kernels.ts';
import { ReduceKernel } from '../reduce/reduce.ts';
import type { Chunk } from '../plan.ts';
import { BufferUsage } from '../pool.ts';
import type { StrategyContext } from '../strategy.ts';
import { encodeLevels } from '../reduce/sums.ts';

const { STORAGE, COPY_DST, COPY_SRC, UNIFORM } = BufferUsage;

/** A step record's members as gemm.wgsl's `Step` names them (the rest take their defaults, Recorder.pack). */
interface Record {
  t: number;
  count?: number;
  cur: number;
  prev?: number;
  also?: number;
  dzCur?: number;
  dzNext?: number;
  flags?: number;
  dy?: number;
}

export interface Dispatch {
  kind: GemmKind;
  record: number;
  batches: number;
}

/** A segment of a chunk's first forward pass: its steps [t0, t0 + count) are done before dispatch `after`. */
export interface ForwardSegment {
  t0: number;
  count: number;
  after: number;
}

/** The step records and dispatches of one chunk, in the order they run. */
class Recorder {
  constructor(readonly flags: StepFlags) {}
  readonly records: Record[] = [];
  readonly dispatches: Dispatch[] = [];
  /** The first forward pass's segments: steps [t0, t0 + count) end before dispatch `after`. */
  readonly segments: ForwardSegment[] = [];
  /** Dispatches [0, forwardEnd) are the first forward pass, the rest BPTT. */
  forwardEnd = 0;
  add(kind: GemmKind, r: Record, batches = 1): void {
    this.dispatches.push({ kind, record: this.records.length, batches });
    this.records.push(r);
  }
  /** A dispatch of `kind` with the last record added. */
  again(kind: GemmKind, batches = 1): void {
    this.dispatches.push({ kind, record: this.records.length - 1, batches });
  }
  /** The records packed by member name (GemmKernels.packSteps), with the defaults for what a kind does not use. */
  pack(kernels: GemmKernels): Uint32Array<ArrayBuffer> {
    const none = this.flags.NONE;
    return kernels.packSteps(
      this.records.map((r) => ({
        t: r.t,
        count: r.count ?? 1,
        cur: r.cur,
        prev: r.prev ?? 0,
        also: r.also ?? none,
        dzCur: r.dzCur ?? 0,
        dzNext: r.dzNext ?? 0,
        flags: r.flags ?? 0,
        dy: r.dy ?? 0,
      })),
    );
  }
}

/**
 * The dispatches of one chunk. States live in slots of rows×n floats: checkpoint slots first (the state alone; slot
 * 0 is h0 (c0); in a forward pass it carries the last state of the previous segment), then one slot per step of the
 * current segment (the state, and for gated cells the cell's record of the step).
 */
function recordChunk(
  flags: StepFlags,
  plan: GemmPlan,
  c: Chunk,
  parts: number,
  O: number,
  gradients: boolean,
  outAll: boolean,
  lengths: Uint32Array,
  truncation: number | undefined,
  layer: LayerRole = {},
): Recorder {
  const readout = layer.rowSums !== false;
  const rec = new Recorder(flags);
  const { NONE, HAS_DY, FLOW, LOSS, DX_ADD, DX_REVERSE } = flags;
  const dxFlags = layer.inputGrad ? (layer.inputGrad.add ? DX_ADD : 0) | (layer.inputGrad.reverse ? DX_REVERSE : 0) : 0;
  const R = plan.slots;
  const n = c.count;
  const ld = rowStride(n);
  const dySlot = (j: number): number => plan.work.dy + j * O * ld;
  const dzSlot = (j: number): number => plan.work.dz + j * R.grad * ld;
  const k = plan.segment;
  const ckpt = (s: number): number => (gradients ? s : 0) * R.state * ld;
  const seg = (tt: number): number => plan.checkpointSlots * R.state * ld + tt * R.slot * ld;
  const S = Math.ceil(c.steps / k);
  // Steps at which some sequence has a prediction.
  const predicts = new Uint8Array(c.steps);
  if (outAll) predicts.fill(1);
  else for (let j = c.start; j < c.start + n; j++) predicts[lengths[j] - 1] = 1;

  const forwardSegment = (s: number, keep: boolean, loss: boolean): void => {
    const t0 = s * k;
    const len = Math.min(k, c.steps - t0);
    rec.add('proj', { t: t0, count: len, cur: seg(0) }, len);
    for (let tt = 0; tt < len; tt++) {
      const t = t0 + tt;
      const also = keep && tt === len - 1 && s + 1 < S ? ckpt(s + 1) : NONE;
      rec.add('step', { t, cur: seg(tt), prev: tt === 0 ? ckpt(s) : seg(tt - 1), also });
      if (R.gated) rec.again('gate');
      if (loss && readout && predicts[t]) rec.add('out', { t, cur: seg(tt), flags: LOSS, dy: dySlot(0) });
    }
    if (keep) rec.segments.push({ t0, count: len, after: rec.dispatches.length });
  };

  if (!layer.carriedIn) rec.add('init', { t: 0, cur: 0 });
  for (let s = 0; s < S; s++) forwardSegment(s, true, true);
  rec.forwardEnd = rec.dispatches.length;
  if (!gradients) return rec;

  // Backwards through each segment in blocks of up to plan.block steps: dz (and dy) of a block's steps go to its
  // slots, the first step's dz also to a carry slot that the next block back reads as dz_{t+1} (two carry slots
  // in turn, so that a one-step block never reads the slot it writes); then the block's weight gradients, one
  // product per kind over all its (sequence, step) pairs.
  const G = plan.block;
  const carrySlot = (b: number): number => dzSlot(G + (b % 2));
  let blockIndex = 0;
  for (let s = S - 1; s >= 0; s--) {
    const t0 = s * k;
    const len = Math.min(k, c.steps - t0);
    if (s !== S - 1) forwardSegment(s, false, false); // recompute this segment's states from its checkpoint
    for (let b1 = len; b1 > 0; b1 -= G) {
      const b0 = Math.max(0, b1 - G);
      let mask = 0;
      for (let tt = b1 - 1; tt >= b0; tt--) {
        const t = t0 + tt;
        const j = tt - b0;
        const cur = seg(tt);
        const hasDy = predicts[t] === 1;
        const cut = truncation !== undefined && (t + 1) % truncation === 0;
        const flow = t + 1 < c.steps && !cut;
        if (hasDy) {
          rec.add('out', { t, cur, dy: dySlot(j) });
          mask |= 1 << j;
        }
        const dzNext = tt === b1 - 1 ? carrySlot(blockIndex + 1) : dzSlot(j + 1);
        const prev = tt === 0 ? ckpt(s) : seg(tt - 1);
        rec.add('dz', {
          t,
          cur,
          prev,
          dzCur: dzSlot(j),
          dzNext,
          also: tt === b0 ? carrySlot(blockIndex) : NONE,
          dy: dySlot(j),
          flags: (hasDy ? HAS_DY : 0) | (flow ? FLOW : 0),
        });
        if (R.gated) rec.again('gateBack');
      }
      blockIndex++;
      const block = {
        t: t0 + b0,
        count: b1 - b0,
        cur: seg(b0),
        prev: b0 === 0 ? ckpt(s) : seg(b0 - 1),
        dzCur: dzSlot(0),
        dy: dySlot(0),
      };
      rec.add('wgradH', block, parts);
      if (R.gated) rec.again('wgradX', parts);
      if (mask && !layer.externalDy) rec.add('wgradY', { ...block, flags: mask >>> 0 }, parts);
      if (layer.inputGrad) rec.add('dx', { ...block, flags: dxFlags }, b1 - b0);
    }
  }
  rec.add('wsum', { t: 0, cur: 0 });
  return rec;
}

/**
 * A program that runs one layer-direction of a stacked or bidirectional network (src/gpu/gemm/layers.ts) rather
 * than a whole model: without the loss rows, taking dSSR/dh_t from outside, giving dSSR/dx_t to the layer below.
 */
export interface LayerRole {
  /** false: no loss rows and no output product in the forward pass (the readout is the network's). */
  rowSums?: boolean;
  /**
   * BPTT takes dSSR/dh_t from `targets` (gemm.wgsl's EXT_DY): the output product is skipped and with by = 0 gives
   * dy = 2·(0 − target), so the caller stores −½·dSSR/dh_t there, and DZ adds dy itself; the readout's own weight
   * gradients (WGRAD_Y) are not computed.
   */
  externalDy?: boolean;
  /** BPTT writes dSSR/dx_t to `ys` (KIND DX), at the time of a reversed direction's steps, or adding to it. */
  inputGrad?: { reverse: boolean; add: boolean };
  /**
   * The caller loads slot 0 (each sequence's initial state, carried from an earlier run) in encodeChunk's onStart,
   * in place of INIT.
   */
  carriedIn?: boolean;
}

/** What a GemmProgram is built for: the model's shape and the kind of run. */
export interface GemmProgramSpec {
  model: Model;
  /** Sequence lengths the memory plan is made for (the longest sets the time extent). */
  lengths: Uint32Array;
  gradients: boolean;
  outputs: boolean;
  hasTargets: boolean;
  /** Bytes of the budget the caller keeps for its own buffers when the plan has `chunks` chunks (training's data, moments, records and per-chunk uniforms). */
  reserveBytes?: (chunks: number) => number;
  /** At most this many sequences per chunk (a caller that plans its own chunks across several programs). */
  maxCapacity?: number;
  /** The pool role of each buffer (default: the role itself), for several programs alive at once. */
  role?: (role: string) => string;
  /** Buffers the caller owns, bound in place of the program's own: inputs, lengths, targets, ys. */
  inputs?: { xs?: GPUBuffer; lengths?: GPUBuffer; targets?: GPUBuffer; ys?: GPUBuffer };
  /** One layer-direction of a network (absent: a whole one-layer model). */
  layer?: LayerRole;
}

/** The kinds a layer-direction's program records (without the forward output product, with DX). */
function layerKinds(kinds: GemmKind[], gradients: boolean, layer: LayerRole | undefined): GemmKind[] {
  if (!layer) return kinds;
  const out = kinds.filter((k) => k !== 'out' || (gradients && layer.externalDy) || layer.rowSums !== false);
  const kept = out.filter((k) => k !== 'wgradY' || !layer.externalDy);
  return layer.inputGrad && gradients ? [...kept, 'dx'] : kept;
}

/** Bytes between per-chunk uniform slots (minUniformBufferOffsetAlignment is at most 256). */
const SLOT_BYTES = 256;

/**
 * One shape's gemm kernels, memory plan and buffers, recording whole chunks into a caller's encoder: the engine's
 * strategy (one chunk per submit, data packed on the host) and fused training (many chunks and steps per submit,
 * data gathered on the GPU, weights updated in place by the optimizer) both drive it.
 */
export class GemmProgram {
  readonly buffers: {
    weights: GPUBuffer;
    xs: GPUBuffer;
    lengths: GPUBuffer;
    targets: GPUBuffer;
    ys: GPUBuffer;
    states: GPUBuffer;
    work: GPUBuffer;
    flags: GPUBuffer;
    steps: GPUBuffer;
    dims: GPUBuffer;
    parts: GPUBuffer;
    reduceParams: GPUBuffer;
  };
  private readonly binds = new Map<string, GPUBindGroup>();
  private readonly reduceBinds = new Map<number, GPUBindGroup>();

  private constructor(
    readonly ctx: StrategyContext,
    readonly spec: GemmProgramSpec,
    readonly kernels: GemmKernels,
    readonly reduce: ReduceKernel,
    readonly plan: GemmPlan,
    readonly wgradGroups: number,
  ) {
    const b = plan.bytes;
    const get = (role: string, bytes: number, usage: number): GPUBuffer => this.buffer(role, bytes, usage);
    const given = spec.inputs ?? {};
    this.buffers = {
      weights: get('weights', b.weights, STORAGE | COPY_DST | COPY_SRC),
      xs: given.xs ?? get('xs', b.xs, STORAGE | COPY_DST),
      lengths: given.lengths ?? get('lengths', b.lengths, STORAGE | COPY_DST),
      targets: given.targets ?? get('targets', b.targets, STORAGE | COPY_DST),
      ys: given.ys ?? get('ys', b.ys, STORAGE | COPY_SRC),
      states: get('states', b.states, STORAGE),
      work: get('work', b.work, STORAGE | COPY_SRC | COPY_DST),
      flags: get('flags', b.flags, STORAGE | COPY_DST),
      steps: get('steps', b.steps, UNIFORM | COPY_DST),
      dims: get('gemm dims', SLOT_BYTES, UNIFORM | COPY_DST),
      parts: get('partials', b.partials, STORAGE | COPY_SRC | COPY_DST),
      reduceParams: get('reduce params', SLOT_BYTES, UNIFORM | COPY_DST),
    };
  }

  /** The pool's buffer of `role` under this program's name for it (GemmProgramSpec.role). */
  private buffer(role: string, bytes: number, usage: number): GPUBuffer {
    return this.ctx.pool.get(this.spec.role ? this.spec.role(role) : role, bytes, usage);
  }

  /**
   * Room for `sets` sets of step records (plan.bytes.steps each) and for the uniforms of `slots` chunks, for
   * callers that record several chunks and steps into one submit (training). By default there is one of each,
   * rewritten before every chunk's submit.
   */
  reserveUniforms(sets: number, slots: number): void {
    this.buffers.steps = this.buffer('steps', this.plan.bytes.steps * Math.max(1, sets), UNIFORM | COPY_DST);
    this.buffers.dims = this.buffer('gemm dims', SLOT_BYTES * Math.max(1, slots), UNIFORM | COPY_DST);
    this.buffers.reduceParams = this.buffer('reduce params', SLOT_BYTES * Math.max(1, slots), UNIFORM | COPY_DST);
    this.binds.clear();
    this.reduceBinds.clear();
  }

  /** Kernels (loaded in parallel, cached per device), the memory plan and the buffers for `spec`. */
  static async load(ctx: StrategyContext, spec: GemmProgramSpec): Promise<GemmProgram> {
    const { device } = ctx;
    const { model, gradients, outputs, hasTargets } = spec;
    const { inputSize: I, hiddenSize: H, outputSize: O } = model;
    const outAll = model.output === 'all';
    const tuning = tuningFor(device);
    const variant = {
      cell: model.cell,
      inputSize: I,
      hiddenSize: H,
      outputSize: O,
      activation: model.activation,
      outAll,
      writeY: outputs,
      hasTargets,
      tile: ctx.opts.gemmTile,
      shared: ctx.opts.gemmShared ?? tuning.gemmShared,
      externalDy: gradients && spec.layer?.externalDy === true,
    };
    const [kernels, reduce] = await Promise.all([
      GemmKernels.load(device, variant, layerKinds(gemmKinds(cellOf(model), gradients), gradients, spec.layer)),
      ReduceKernel.load(device, ctx.opts.reduceWorkgroupSize, ctx.opts.reducePerThread),
    ]);
    const planFor = (reserve: number): GemmPlan => GemmProgram.plan(ctx, spec, reduce.span, ctx.budgetBytes - reserve);
    // The caller's reserve may grow with the chunks: plan again until the chunk count settles.
    const reserveFor = spec.reserveBytes;
    let plan = planFor(reserveFor ? reserveFor(1) : 0);
    for (let i = 0; reserveFor && i < 4; i++) {
      const chunks = plan.chunks.length;
      plan = planFor(reserveFor(chunks));
      if (plan.chunks.length === chunks) break;
    }
    return new GemmProgram(ctx, spec, kernels, reduce, plan, tuning.wgradGroups);
  }

  /** The memory plan of `spec` within `budgetBytes` (reduceSpan: the columns one reduction workgroup sums). */
  static plan(ctx: StrategyContext, spec: GemmProgramSpec, reduceSpan: number, budgetBytes: number): GemmPlan {
    const { model } = spec;
    return planGemm({
      cell: cellOf(model),
      lengths: spec.lengths,
      inputSize: model.inputSize,
      hiddenSize: model.hiddenSize,
      outputSize: model.outputSize,
      params: model.params.length,
      gradients: spec.gradients,
      outAll: model.output === 'all',
      hasTargets: spec.hasTargets,
      outputs: spec.outputs,
      reduceSpan,
      maxBindingBytes: ctx.maxBindingBytes,
      budgetBytes,
      checkpointEvery: ctx.opts.checkpointEvery,
      wgradGroups: tuningFor(ctx.device).wgradGroups,
      maxCapacity: spec.maxCapacity,
    });
  }

  /** Per-sequence rows: squared errors per output unit, then the overflow flag. */
  get rows(): number {
    return this.spec.model.outputSize + 1;
  }

  /**
   * The weights buffer's contents: the parameters, the initial state (h0, c0), then Whᵀ (H × gates·H) and Wyᵀ (read
   * row by row by the DZ product).
   */
  static weightsImage(model: Model, bytes: number): Float32Array<ArrayBuffer> {
    const { hiddenSize: H, outputSize: O } = model;
    const P = model.params.length;
    const w32 = new Float32Array(bytes / 4);
    w32.set(model.params);
    const s0 = initialState(model);
    w32.set(s0, P);
    const { Wh, Wy } = paramLayout(model).blocks;
    const G = Wh.rows; // gates·H
    const whT = P + s0.length;
    for (let q = 0; q < G; q++) for (let k = 0; k < H; k++) w32[whT + k * G + q] = model.params[Wh.offset + q * H + k];
    for (let j = 0; j < H; j++)
      for (let o = 0; o < O; o++) w32[whT + H * G + j * O + o] = model.params[Wy.offset + o * H + j];
    return w32;
  }

  /** Split-K of a chunk of n sequences. */
  split(n: number): { parts: number; partLen: number } {
    const { inputSize, hiddenSize } = this.spec.model;
    return splitParts(n, {
      inputSize,
      hiddenSize,
      gates: this.plan.slots.gate / hiddenSize,
      wgradGroups: this.wgradGroups,
    });
  }

  /**
   * The packed step records of chunk `c` (`lengths` indexed by the batch's sequence numbers, as c.start + j). Of a
   * gradient program's records, dispatches [0, forwardEnd) are the first forward pass (its checkpoints kept) and the
   * rest BPTT, which a caller may record into separate passes, as long as the program's state slots stay untouched
   * in between.
   */
  records(
    c: Chunk,
    lengths: Uint32Array,
    truncation: number | undefined,
  ): { words: Uint32Array<ArrayBuffer>; dispatches: Dispatch[]; segments: ForwardSegment[]; forwardEnd: number } {
    const { outputSize: O } = this.spec.model;
    const rec = recordChunk(
      this.kernels.flags,
      this.plan,
      c,
      this.split(c.count).parts,
      O,
      this.spec.gradients,
      this.spec.model.output === 'all',
      lengths,
      truncation,
      this.spec.layer,
    );
    return {
      words: rec.pack(this.kernels),
      dispatches: rec.dispatches,
      segments: rec.segments,
      forwardEnd: rec.forwardEnd,
    };
  }

  /** Writes chunk `c`'s dims and reduction uniforms into `slot`. */
  writeChunkUniforms(c: Chunk, slot = 0): void {
    const { device } = this.ctx;
    const split = this.split(c.count);
    const w = this.plan.work;
    device.queue.writeBuffer(
      this.buffers.dims,
      slot * SLOT_BYTES,
      this.kernels.kernel('step').uniform('dims', {
        n: c.count,
        ld: rowStride(c.count),
        dy: w.dy,
        rows: w.rows,
        parts: split.parts,
        partLen: split.partLen,
        partials: w.partials,
        scratch: w.scratch,
      }),
    );
    device.queue.writeBuffer(
      this.buffers.reduceParams,
      slot * SLOT_BYTES,
      this.reduce.params(c.count, c.count, this.plan.totalParts, c.partOffset),
    );
  }

  private bindFor(kind: GemmKind, slot: number): GPUBindGroup {
    const key = `${kind} ${slot}`;
    let b = this.binds.get(key);
    if (!b) {
      const { dims, steps, ...rest } = this.buffers;
      const { weights, lengths, xs, targets, ys, states, work, flags } = rest;
      const kernel = this.kernels.kernel(kind);
      const all: { [name: string]: GPUBuffer | GPUBufferBinding } = {
        dims: { buffer: dims, offset: slot * SLOT_BYTES, size: this.kernels.uniformLayout('dims').size },
        step: { buffer: steps, offset: 0, size: this.kernels.uniformLayout('step').size },
        weights,
        lengths,
        xs,
        targets,
        ys,
        states,
        work,
        flags,
      };
      // The gate steps bind only what they use.
      const used = new Set(kernel.reflection.bindings.map((x) => x.name));
      b = kernel.bind(`chunk slot ${slot}`, Object.fromEntries(Object.entries(all).filter(([name]) => used.has(name))));
      this.binds.set(key, b);
    }
    return b;
  }

  /**
   * Records chunk `c` into `enc`: clears its rows (and, for the first chunk of a batch, the gradient accumulators;
   * with gradients, its partial sums), the chunk's products (dispatches of `records`, whose words start at record
   * `recordBase` of the steps buffer) and the first level of its row sums, in one compute pass. `onSegment`
   * records the caller's own dispatches into that pass after each segment of the first forward pass (`segments`
   * of `records`), while the segment's state slots still hold its steps; `onStart` records the caller's dispatches
   * at the start of the pass (the initial states of a program built with `carriedIn`).
   */
  encodeChunk(
    enc: GPUCommandEncoder,
    c: Chunk,
    first: boolean,
    dispatches: Dispatch[],
    recordBase = 0,
    slot = 0,
    hook?: {
      segments?: ForwardSegment[];
      onSegment?: (pass: GPUComputePassEncoder, s: ForwardSegment, i: number) => void;
      onStart?: (pass: GPUComputePassEncoder) => void;
    },
  ): void {
    const { plan } = this;
    const { work, flags, parts } = this.buffers;
    const R = this.rows;
    const P = this.spec.model.params.length;
    const rowsBytes = R * plan.capacity * 4;
    const rowSums = this.spec.layer?.rowSums !== false;
    if (first) enc.clearBuffer(work, 0, plan.work.dy * 4); // gradient accumulators (P floats, padded)
    if (rowSums) enc.clearBuffer(work, plan.work.rows * 4, rowsBytes);
    if (this.spec.gradients) enc.clearBuffer(work, plan.work.partials * 4, this.split(c.count).parts * P * 4);
    enc.clearBuffer(flags, 0, plan.bytes.flags);
    const pass = enc.beginComputePass({
      label: `webgpu-rnn gemm ${this.spec.gradients ? 'forward + BPTT' : 'forward'}${rowSums ? ' + partial sums' : ''}`,
      ...this.ctx.timer?.pass(),
    });
    hook?.onStart?.(pass);
    const segments = hook?.segments ?? [];
    const onSegment = hook?.onSegment ?? (() => {});
    let next = 0;
    for (const [i, d] of dispatches.entries()) {
      while (next < segments.length && segments[next].after === i) onSegment(pass, segments[next], next++);
      this.kernels.encode(pass, d.kind, this.bindFor(d.kind, slot), recordBase + d.record, c.count, d.batches);
    }
    while (next < segments.length) onSegment(pass, segments[next], next++);
    if (!rowSums) {
      pass.end();
      return;
    }
    let rb = this.reduceBinds.get(slot);
    if (!rb) {
      rb = this.reduce.kernel.bind(`chunk partials slot ${slot}`, {
        params: { buffer: this.buffers.reduceParams, offset: slot * SLOT_BYTES, size: 16 },
        src: { buffer: work, offset: plan.work.rows * 4, size: rowsBytes },
        dst: parts,
      });
      this.reduceBinds.set(slot, rb);
    }
    this.reduce.encode(pass, rb, c.count, R);
    pass.end();
  }

  /** Records the final levels of the row sums over every chunk's partials; returns the buffer holding row r at r. */
  encodeSums(enc: GPUCommandEncoder): GPUBuffer {
    return encodeLevels(
      this.ctx.device,
      this.ctx.pool,
      enc,
      this.reduce,
      this.buffers.parts,
      this.rows,
      this.plan.totalParts,
      this.ctx.timer,
    );
  }
}
