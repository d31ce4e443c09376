// Strategy `per-sequence`: one invocation per sequence (the driver shaders/per_sequence/bptt.wgsl, which training
// shares, through its `run` interface: src/gpu/per-sequence/rnn.ts), weights copied into private arrays and
// the loops over H, I and O unrolled. Best for small networks: every value stays in registers. Each chunk records
// the RNN kernel and the first reduction level into one command encoder; the partials are summed at the end.
// Stacked and bidirectional networks and runs with carried states go to its layered kernels
// (per-sequence-layers.ts).

import { outputCount } from '../../batch.ts';
import { initialState } from '../../model.ts';
import { cellOf, cellSizes, isGated, type CellName } from '../../cells/index.ts';
import { ReduceKernel } from '../reduce/reduce.ts';
import { RnnKernel } from './rnn.ts';
import { packInputs, packTargets, unpackOutputs } from '../packing.ts';
import { planChunks } from '../plan.ts';
import { BufferUsage } from '../pool.ts';
import { readBuffers } from '../runtime.ts';
import type { Kernel } from '../kernel.ts';
import type { Strategy, StrategyContext, StrategyRequest, StrategyResult, StrategyShape } from '../strategy.ts';
import { runResult } from '../reduce/sums.ts';
import { needsLayeredRun, runLayered } from './layers.ts';
import { truncationUniform } from '../truncation.ts';

const { STORAGE, COPY_DST, COPY_SRC, UNIFORM } = BufferUsage;

/**
 * The largest sizes this kernel takes: it holds every weight, the hidden state and (BPTT) every gradient in private
 * arrays of one invocation, with the loops unrolled, so code size and registers grow with H² + H·(I + O). A layer
 * above the first of a bidirectional network reads D·H = 2H values per step (at most 32), and the layered readout
 * O × D·H weights.
 */
export const PER_SEQUENCE_LIMITS = { maxInputSize: 16, maxHiddenSize: 16, maxOutputSize: 16 } as const;

/**
 * The largest hidden size per cell. The gated cells hold gates·H rows of Wx and Wh (LSTM 4, GRU 3), so their
 * private arrays grow about that many times faster with H. At H = 8 the largest shape (I = O = 16) keeps them near
 * Elman's at its limit (weights: Elman 816 floats at H = 16, LSTM 992, GRU 776) and well inside WGSL's portable
 * 8 KiB, and its first run compiles within about twice Elman's worst case on lavapipe (at H = 16 about 8 times;
 * docs/cells.md has the measurements).
 */
export const PER_SEQUENCE_MAX_HIDDEN: Readonly<Record<CellName, number>> = { elman: 16, lstm: 8, gru: 8 };

/** The per-sequence kernels' size limits for a model's cell (`cell` absent: elman). */
export function perSequenceLimits(shape: { cell?: CellName }): {
  maxInputSize: number;
  maxHiddenSize: number;
  maxOutputSize: number;
} {
  return { ...PER_SEQUENCE_LIMITS, maxHiddenSize: PER_SEQUENCE_MAX_HIDDEN[shape.cell ?? 'elman'] };
}

export const perSequence: Strategy = {
  name: 'per-sequence',

  supports(s: StrategyShape): string | null {
    const L = perSequenceLimits(s);
    if (s.hiddenSize > L.maxHiddenSize) {
      const cell = cellOf(s);
      const of = isGated(cell) ? ` for the ${cell.name} cell (its ${cell.gates}H×(I + H) gate weights)` : '';
      return `it keeps the weights in private arrays and takes hiddenSize ≤ ${L.maxHiddenSize}${of}, got ${s.hiddenSize}`;
    }
    if (s.inputSize > L.maxInputSize)
      return `it keeps the weights in private arrays and takes inputSize ≤ ${L.maxInputSize}, got ${s.inputSize}`;
    if (s.outputSize > L.maxOutputSize)
      return `it keeps the weights in private arrays and takes outputSize ≤ ${L.maxOutputSize}, got ${s.outputSize}`;
    return null;
  },

  async run(ctx: StrategyContext, req: StrategyRequest): Promise<StrategyResult> {
    if (needsLayeredRun(req.model, req.batch, req.finalStates)) return runLayered(ctx, req);
    const { device } = ctx;
    const { model, gradients, outputs, hasTargets } = req;
    const O = model.outputSize;
    const outAll = model.output === 'all';

    const rnn = await RnnKernel.load(device, {
      cell: model.cell,
      inputSize: model.inputSize,
      hiddenSize: model.hiddenSize,
      outputSize: O,
      mode: gradients ? 'bptt' : 'forward',
      activation: model.activation,
      outAll,
      writeY: outputs,
      hasTargets,
      workgroupSize: ctx.opts.workgroupSize ?? 64,
      unroll: ctx.opts.unroll,
    });
    return runRowKernel(ctx, req, rnn);
  },
};

/**
 * A kernel with the driver's `run` bindings and row layout (per-sequence, rtrl): one dispatch per chunk. A kernel
 * that declares `hs` stores every hidden state there when it computes gradients (BPTT); rtrl declares none.
 */
export interface RowKernel {
  readonly kernel: Kernel;
  /** Rows per sequence: SSR, overflow flag, then (BPTT) every parameter's gradient. */
  readonly rows: number;
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, n: number): void;
}

/** Plans chunks, packs each one time-major, runs `rnn` and the first reduction level per chunk, then the final sums. */
export async function runRowKernel(
  ctx: StrategyContext,
  req: StrategyRequest,
  rnn: RowKernel,
): Promise<StrategyResult> {
  const { device, pool } = ctx;
  const { model, batch, gradients, outputs, hasTargets } = req;
  const O = model.outputSize;
  const outAll = model.output === 'all';
  const reduce = await ReduceKernel.load(device, ctx.opts.reduceWorkgroupSize, ctx.opts.reducePerThread);
  const R = rnn.rows;
  const declaresStates = rnn.kernel.reflection.bindings.some((b) => b.name === 'hs');
  const storeStates = gradients && declaresStates;
  const sizes = cellSizes(cellOf(model), model);
  const plan = planChunks({
    lengths: batch.lengths,
    inputSize: model.inputSize,
    hiddenSize: model.hiddenSize,
    stateSize: sizes.NSTATE,
    outputSize: O,
    storeStates,
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

  // Buffers (pooled by role).
  // The cell's parameters, then its initial state (h0; any further state vectors start at 0).
  const P = model.params.length;
  const weights = pool.get('weights', sizes.NWEIGHTS * 4, STORAGE | COPY_DST);
  const w32 = new Float32Array(sizes.NWEIGHTS);
  w32.set(model.params);
  w32.set(initialState(model), P);
  device.queue.writeBuffer(weights, 0, w32);
  const xs = pool.get('xs', cap * T * I * 4, STORAGE | COPY_DST);
  const lengths = pool.get('lengths', cap * 4, STORAGE | COPY_DST);
  const targets = pool.get('targets', hasTargets ? cap * outPerSeq * 4 : 4, STORAGE | COPY_DST);
  const ys = pool.get('ys', outputs ? cap * outPerSeq * 4 : 4, STORAGE | COPY_SRC);
  const rows = pool.get('rows', cap * R * 4, STORAGE | COPY_SRC);
  // The driver's forward variant never touches `hs`, but declares it: bind a placeholder.
  const hs = declaresStates ? pool.get('hs', storeStates ? cap * T * sizes.NSTATE * 4 : 4, STORAGE) : null;
  const rnnParams = pool.get('rnn params', 16, UNIFORM | COPY_DST);
  const reduceParams = pool.get('reduce params', 16, UNIFORM | COPY_DST);
  const parts = pool.get('partials', R * plan.totalParts * 4, STORAGE | COPY_SRC | COPY_DST);

  const xsHost = new Float32Array(cap * T * I);
  const lenHost = new Uint32Array(cap);
  const tgHost = hasTargets ? new Float32Array(cap * outPerSeq) : null;
  const outHost = outputs ? new Float64Array(outputCount({ ...batch, outputSize: O }, model.output)) : null;

  const rnnBind = rnn.kernel.bind('chunk', {
    params: rnnParams,
    weights,
    lengths,
    xs,
    targets,
    ys,
    rows,
    ...(hs ? { hs } : {}),
  });
  const reduceBind = reduce.kernel.bind('chunk partials', { params: reduceParams, src: rows, dst: parts });

  let done = 0;
  for (const c of plan.chunks) {
    packInputs(batch, c, xsHost, lenHost);
    device.queue.writeBuffer(xs, 0, xsHost, 0, c.steps * I * c.count);
    device.queue.writeBuffer(lengths, 0, lenHost, 0, c.count);
    if (tgHost) {
      packTargets(batch, c, O, tgHost);
      device.queue.writeBuffer(targets, 0, tgHost, 0, (outAll ? c.steps : 1) * O * c.count);
    }
    device.queue.writeBuffer(
      rnnParams,
      0,
      rnn.kernel.uniform('params', { n: c.count, truncation: truncationUniform(req.truncation) }),
    );
    device.queue.writeBuffer(reduceParams, 0, reduce.params(c.count, c.count, plan.totalParts, c.partOffset));

    const enc = device.createCommandEncoder({ label: `webgpu-rnn chunk ${c.start}+${c.count}` });
    const pass = enc.beginComputePass({
      label: `webgpu-rnn ${rnn.kernel.spec.label} + partial sums`,
      ...ctx.timer?.pass(),
    });
    rnn.encode(pass, rnnBind, c.count);
    reduce.encode(pass, reduceBind, c.count, R);
    pass.end();
    const ysBytes = (outAll ? c.steps : 1) * O * c.count * 4;
    if (outHost) {
      const got = await readBuffers(device, pool, enc, [[ys, ysBytes]]);
      unpackOutputs(batch, c, O, outAll, new Float32Array(got), outHost);
    } else {
      device.queue.submit([enc.finish()]);
    }
    done += c.count;
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
    outHost,
  );
  return { raw, chunks: plan.chunks.length, sequencesPerChunk: cap, checkpointEvery: storeStates ? T : undefined };
}
