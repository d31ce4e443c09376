// The CPU training backend: populations (a single model is a population of one) and loss evaluation, in float64
// with the CPU reference (src/cpu/reference.ts) for forward + BPTT and src/train/optimizer.ts for the update.
// Same steps, same mini-batch order and same stop rules as the WebGPU backend (src/train/gpu.ts).

import { offsetsFromLengths, type Batch } from '../batch.ts';
import { cpuRun } from '../cpu/reference.ts';
import { stepSeed, type Dropout } from '../dropout.ts';
import type { Model } from '../model.ts';
import { minibatchOrder, stepFactors, type ResolvedOptions } from './options.ts';
import { optimizerStep, STATUS_OK, STATUS_CONVERGED, STATUS_DIVERGED } from './optimizer.ts';

/** What a training backend returns for a population (src/train/index.ts turns it into the public reports). */
export interface CoreResult {
  /** Final weights, model-major (M × P). */
  params: Float64Array;
  /**
   * Recorded losses, model-major (M × slots), NaN after a model stopped: float64 (the CPU's own; WebGPU's are its
   * float32 values), so a finite loss above float32's range (3.4e38) stays finite.
   */
  curves: Float64Array;
  curveSteps: number[];
  /** Per model: STATUS_OK, STATUS_CONVERGED or STATUS_DIVERGED. */
  status: Uint8Array;
  stepsDone: Int32Array;
  divergedAt: Int32Array;
  /** The loss of the last step each model computed (the one that stopped it, or the last step). */
  lastLoss: Float64Array;
  /**
   * With CoreExtras.moments: the optimizer state at the final weights, model-major (first moments at m·2P, second
   * at m·2P + P); else empty.
   */
  moments: Float64Array;
  /** With `trajectory`: the weights at every recorded step, (slot × M + m) × P + p; NaN after a model stopped. */
  trajectory: Float64Array | null;
  aborted: boolean;
}

/** The backend-specific part of training: train a population, and evaluate the SSR of many weight sets. */
export interface TrainBackend {
  population(models: Model[], sets: Batch[], shared: boolean, o: ResolvedOptions, x: CoreExtras): Promise<CoreResult>;
  /**
   * SSR per model (params model-major, h0 per model or the base's, and an LSTM's c0 per model or the base's) on its
   * data set (one shared set, or one per model); NaN where not finite.
   */
  losses(
    base: Model,
    params: Float64Array,
    sets: Batch[],
    h0s: Float64Array[] | null,
    c0s?: (Float64Array | undefined)[] | null,
  ): Promise<Float64Array>;
}

/** Options beyond the public ones, for the landscape's path. */
export interface CoreExtras {
  /** 1 = trainable, 0 = fixed (per parameter); null = all trainable. */
  mask: Uint8Array | null;
  /** Record the weights at every recorded step too. */
  trajectory: boolean;
  /** Return the optimizer state (CoreResult.moments), to continue the run (`train`). */
  moments?: boolean;
  onProgress?: (step: number, loss: number) => void;
  signal?: AbortSignal;
}

/** The sequences `idx` of `b`, in that order, as a new batch. */
export function subsetBatch(b: Batch, idx: Uint32Array): Batch {
  const I = b.inputSize;
  const O = b.outputSize;
  const lengths = Uint32Array.from(idx, (n) => b.lengths[n]);
  const offsets = offsetsFromLengths(lengths);
  const inputs = new Float64Array(offsets[idx.length] * I);
  const perStep = b.output === 'all';
  const targets = b.targets ? new Float64Array((perStep ? offsets[idx.length] : idx.length) * O) : null;
  idx.forEach((n, k) => {
    inputs.set(b.inputs.subarray(b.offsets[n] * I, b.offsets[n + 1] * I), offsets[k] * I);
    if (targets && b.targets) {
      if (perStep) targets.set(b.targets.subarray(b.offsets[n] * O, b.offsets[n + 1] * O), offsets[k] * O);
      else targets.set(b.targets.subarray(n * O, n * O + O), k * O);
    }
  });
  return { count: idx.length, inputSize: I, outputSize: O, output: b.output, lengths, offsets, inputs, targets };
}

/**
 * A population's result before training: every model at its initial weights (models an abort leaves untrained
 * keep them), no curve points, no steps done, nothing stopped.
 */
export function initialResult(models: Model[], o: ResolvedOptions, trajectory: boolean, moments = false): CoreResult {
  const M = models.length;
  const P = models[0].params.length;
  const curveSteps = recordSlots(o.startStep, o.steps, o.recordEvery);
  const slots = curveSteps.length;
  const params = new Float64Array(M * P);
  models.forEach((m, i) => params.set(m.params, i * P));
  return {
    params,
    curves: new Float64Array(M * slots).fill(NaN),
    curveSteps,
    status: new Uint8Array(M),
    stepsDone: new Int32Array(M).fill(o.startStep),
    divergedAt: new Int32Array(M).fill(-1),
    lastLoss: new Float64Array(M).fill(NaN),
    moments: !moments ? new Float64Array(0) : o.moments ? o.moments.slice() : new Float64Array(M * 2 * P),
    trajectory: trajectory ? new Float64Array(slots * M * P).fill(NaN) : null,
    aborted: false,
  };
}

/** The global steps recorded in a run of `steps` steps from `start`: the multiples of `every` among them. */
export function recordSlots(start: number, steps: number, every: number): number[] {
  const out: number[] = [];
  for (let k = Math.ceil(start / every) * every; k < start + steps; k += every) out.push(k);
  return out;
}

const yieldToEvents = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** Loss, overflow count and dSSR/dθ of one model on one batch. */
export type GradientFn = (
  model: Model,
  batch: Batch,
  dropout?: Dropout,
) =>
  | Promise<{ loss: number; overflowed: number; grads: Float64Array }>
  | { loss: number; overflowed: number; grads: Float64Array };

/** The float64 CPU reference as a GradientFn. */
export const cpuGradient: GradientFn = (model, batch, dropout) => {
  const r = cpuRun(model, batch, { gradients: true, ...(dropout ? { dropout } : {}) });
  return { loss: r.loss as number, overflowed: r.overflowed, grads: r.grads! };
};

/**
 * Trains a population step by step on the host: gradients from `gradient` (the CPU reference by default; engine.run
 * on WebGPU where an adapter's limits refuse fused training), the float64 optimizer of optimizer.ts.
 */
export async function cpuTrainPopulation(
  models: Model[],
  sets: Batch[],
  shared: boolean,
  o: ResolvedOptions,
  x: CoreExtras,
  gradient: GradientFn = cpuGradient,
): Promise<CoreResult> {
  const M = models.length;
  const P = models[0].params.length;
  const params = new Float64Array(M * P);
  models.forEach((m, i) => params.set(m.params, i * P));
  const start = o.startStep;
  const end = start + o.steps;
  const curveSteps = recordSlots(start, o.steps, o.recordEvery);
  const firstSlot = Math.ceil(start / o.recordEvery);
  const slots = curveSteps.length;
  const curves = new Float64Array(M * slots).fill(NaN);
  const trajectory = x.trajectory ? new Float64Array(slots * M * P).fill(NaN) : null;
  const status = new Uint8Array(M);
  const stepsDone = new Int32Array(M).fill(start);
  const divergedAt = new Int32Array(M).fill(-1);
  const lastLoss = new Float64Array(M).fill(NaN);
  const moments = o.moments ? o.moments.slice() : new Float64Array(M * 2 * P);
  const states = Array.from({ length: M }, (_, m) => ({
    m: moments.subarray(m * 2 * P, m * 2 * P + P),
    v: moments.subarray(m * 2 * P + P, (m + 1) * 2 * P),
  }));
  const order = o.minibatch ? minibatchOrder(sets[0].count, o.seed, start * o.batchSize) : null;
  const work: Model = { ...models[0], params: new Float64Array(P) };
  let aborted = false;

  for (let k = start; k < end; k++) {
    if (status.every((s) => s !== STATUS_OK)) break;
    const idx = order ? order.take(o.batchSize) : null;
    const sharedBatch = shared && idx ? subsetBatch(sets[0], idx) : shared ? sets[0] : null;
    const f = stepFactors(o, k);
    const slot = k % o.recordEvery === 0 ? k / o.recordEvery - firstSlot : -1;
    for (let m = 0; m < M; m++) {
      if (status[m] !== STATUS_OK) continue;
      const theta = params.subarray(m * P, (m + 1) * P);
      work.params = theta;
      work.h0 = models[m].h0;
      work.c0 = models[m].c0;
      const batch = sharedBatch ?? (idx ? subsetBatch(sets[m], idx) : sets[m]);
      const r = await gradient(
        work,
        batch,
        o.dropout > 0 ? { p: o.dropout, seed: stepSeed(o.seed >>> 0, k, m) } : undefined,
      );
      const loss = r.loss * o.lossScale;
      lastLoss[m] = loss;
      if (slot >= 0) {
        curves[m * slots + slot] = loss;
        trajectory?.set(theta, (slot * M + m) * P);
      }
      const s = optimizerStep(o.optimizer, theta, states[m], {
        loss: r.loss,
        overflowed: r.overflowed,
        grads: r.grads,
        lr: o.lrs[m] * f.a + f.b,
        c1: f.c1,
        c2: f.c2,
        lossThreshold: o.lossThreshold,
        clipNorm: o.clipNorm,
        mask: x.mask,
        weightDecay: o.weightDecay,
        lossScale: o.lossScale,
      });
      if (s === STATUS_OK) stepsDone[m] = k + 1;
      else {
        status[m] = s;
        if (s === STATUS_DIVERGED) divergedAt[m] = k;
      }
    }
    if ((k + 1 - start) % o.readbackEvery === 0 && k + 1 < end) {
      x.onProgress?.(k + 1, lastLoss[0]);
      await yieldToEvents();
      if (x.signal?.aborted) {
        aborted = true;
        break;
      }
    }
  }
  return { params, curves, curveSteps, status, stepsDone, divergedAt, lastLoss, moments, trajectory, aborted };
}

/** SSR of each model (params model-major) on its data set (or the shared one); NaN where not finite. */
export function cpuLosses(
  base: Model,
  params: Float64Array,
  sets: Batch[],
  h0s: Float64Array[] | null,
  c0s?: (Float64Array | undefined)[] | null,
): Float64Array {
  const P = base.params.length;
  const M = params.length / P;
  const out = new Float64Array(M);
  const work: Model = { ...base };
  for (let m = 0; m < M; m++) {
    work.params = params.subarray(m * P, (m + 1) * P);
    if (h0s) work.h0 = h0s[m];
    if (c0s) work.c0 = c0s[m];
    const r = cpuRun(work, sets.length === 1 ? sets[0] : sets[m], { gradients: false });
    out[m] = r.overflowed > 0 || !Number.isFinite(r.loss) ? NaN : (r.loss as number);
  }
  return out;
}

export { STATUS_OK, STATUS_CONVERGED, STATUS_DIVERGED };
