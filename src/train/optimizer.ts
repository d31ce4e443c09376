// One optimizer step in float64, the reference for shaders/optimizer/optimizer.wgsl: stop checks (non-finite → diverged,
// loss ≤ threshold → converged), trainable mask, global-norm clipping, L2 weight decay, SGD with momentum or Adam.

import type { ResolvedOptimizer } from './options.ts';

export const STATUS_OK = 0;
export const STATUS_CONVERGED = 1;
export const STATUS_DIVERGED = 2;

/** Per-model optimizer state: SGD uses `m` as the velocity; Adam uses both moments. */
export interface OptimizerState {
  m: Float64Array;
  v: Float64Array;
}

export interface StepInput {
  loss: number;
  /** Sequences whose hidden state overflowed. */
  overflowed: number;
  grads: Float64Array;
  /** Learning rate of this step (schedule applied). */
  lr: number;
  /** Adam bias corrections 1 − β1^(k+1) and 1 − β2^(k+1). */
  c1: number;
  c2: number;
  lossThreshold: number;
  /** 0 = no clipping. */
  clipNorm: number;
  /** 1 for trainable parameters, 0 for fixed ones; null = all trainable. */
  mask: Uint8Array | null;
  /** L2 weight decay λ: g ← g + λ·θ after clipping (trainable parameters only). */
  weightDecay: number;
  /** Applied to the loss and the gradient first: 1 for the SSR, 1/(values per step) for the mean. */
  lossScale: number;
}

const finite = Number.isFinite;

/**
 * Applies one step to `params` in place and returns the status: STATUS_DIVERGED (params unchanged) when the loss,
 * the overflow flag, a gradient or an updated weight is not finite; STATUS_CONVERGED (params unchanged) when
 * loss ≤ lossThreshold; else STATUS_OK after the update.
 */
export function optimizerStep(o: ResolvedOptimizer, params: Float64Array, state: OptimizerState, s: StepInput): number {
  const P = params.length;
  const loss = s.loss * s.lossScale;
  if (s.overflowed > 0 || !finite(loss)) return STATUS_DIVERGED;
  for (let p = 0; p < P; p++) if (!finite(s.grads[p] * s.lossScale)) return STATUS_DIVERGED;
  if (loss <= s.lossThreshold) return STATUS_CONVERGED;
  const g = new Float64Array(P);
  for (let p = 0; p < P; p++) g[p] = s.mask && !s.mask[p] ? 0 : s.grads[p] * s.lossScale;
  if (s.clipNorm > 0) {
    let sq = 0;
    for (let p = 0; p < P; p++) sq += g[p] * g[p];
    const norm = Math.sqrt(sq);
    if (!finite(norm)) return STATUS_DIVERGED;
    if (norm > s.clipNorm) {
      const scale = s.clipNorm / norm;
      for (let p = 0; p < P; p++) g[p] *= scale;
    }
  }
  if (s.weightDecay > 0) for (let p = 0; p < P; p++) if (!s.mask || s.mask[p]) g[p] += s.weightDecay * params[p];
  const next = new Float64Array(P);
  const m = new Float64Array(P);
  const v = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    if (o.kind === 'sgd') {
      m[p] = o.momentum * state.m[p] + g[p];
      next[p] = params[p] - s.lr * m[p];
    } else {
      m[p] = o.beta1 * state.m[p] + (1 - o.beta1) * g[p];
      v[p] = o.beta2 * state.v[p] + (1 - o.beta2) * g[p] * g[p];
      const mHat = m[p] / s.c1;
      const vHat = v[p] / s.c2;
      next[p] = params[p] - (s.lr * mHat) / (Math.sqrt(vHat) + o.eps);
    }
    if (!finite(next[p]) || !finite(m[p]) || !finite(v[p])) return STATUS_DIVERGED;
  }
  params.set(next);
  state.m.set(m);
  state.v.set(v);
  return STATUS_OK;
}
