// The unroll study's options, validation and result rows (src/study/unroll.ts describes the study), shared by its
// CPU and closed-form paths (unroll.ts) and its GPU path (unroll-gpu.ts), which both import this module and not
// each other. Every input is rounded to float32 here, so the three paths see the same numbers.

import type { BackendName } from '../backend.ts';
import { InputError, NonFiniteError } from '../errors.ts';
import { ACTIVATIONS, type Activation } from '../model.ts';
import { statquestWeights } from '../statquest.ts';

/** The fixed weights of the study (w2 varies). */
export interface StudyWeights {
  w1: number;
  b1: number;
  w3: number;
  b2: number;
}

export interface UnrollStudyOptions {
  /** x_1 .. x_T, oldest first. */
  inputs: ArrayLike<number>;
  /** The w2 values to study. */
  w2: ArrayLike<number>;
  /** Default `identity` (the closed form's). */
  activation?: Activation;
  /** Default: the seed notes' w1 = 1.8, b1 = 0, w3 = 1.1, b2 = 0. */
  weights?: StudyWeights;
  /** The observed value. Default 1 ("high"). */
  target?: number;
}

/** The options after validation, every number rounded to float32. */
export interface StudySetup {
  inputs: Float64Array;
  w2: Float64Array;
  activation: Activation;
  weights: StudyWeights;
  target: number;
}

export interface UnrollRow {
  w2: number;
  predicted: number;
  /** 2·(predicted − target). */
  dSSRdPredicted: number;
  /** dPredicted/dw1 term of the input k steps back, k = 0..T−1 (identity: w3·w2^k·x_{T−k}). */
  dPredicted: Float64Array;
  /** dSSR/dw1 term of the input k steps back: dSSRdPredicted · dPredicted[k]. */
  contributions: Float64Array;
  /** Σ_k contributions[k] = dSSR/dw1. */
  dSSRdw1: number;
}

export interface UnrollStudy extends StudySetup {
  /** `webgpu` or `cpu` (BPTT), or `closed-form`. */
  method: BackendName | 'closed-form';
  adapter: string;
  /** T. */
  length: number;
  rows: UnrollRow[];
}

/** The most w2 values × steps one study takes (each of the GPU's three arrays holds this many floats). */
export const MAX_STUDY_VALUES = 1 << 24;

/** Validates the options and rounds every number to float32. */
export function studySetup(opts: UnrollStudyOptions): StudySetup {
  const T = opts.inputs.length;
  if (T < 1) throw new InputError('length', 'the sequence needs at least one step');
  if (opts.w2.length < 1) throw new InputError('w2', 'give at least one w2 value');
  if (T * opts.w2.length > MAX_STUDY_VALUES) {
    throw new InputError(
      'length',
      `${opts.w2.length} w2 values × ${T} steps = ${T * opts.w2.length} terms exceed the limit of ${MAX_STUDY_VALUES}`,
    );
  }
  const activation = opts.activation ?? 'identity';
  if (!ACTIVATIONS.includes(activation))
    throw new InputError('activation', `must be one of ${ACTIVATIONS.join(', ')}, got "${String(activation)}"`);
  const f32 = (v: number, field: string): number => {
    const r = Math.fround(v);
    if (!Number.isFinite(v) || !Number.isFinite(r))
      throw new InputError(field, `must be a finite float32 number, got ${v}`);
    return r;
  };
  const sw = statquestWeights();
  const w = opts.weights ?? { w1: sw.w1, b1: sw.b1, w3: sw.w3, b2: sw.b2 };
  return {
    inputs: Float64Array.from(opts.inputs, (v, t) => f32(v, `inputs[${t}]`)),
    w2: Float64Array.from(opts.w2, (v, j) => f32(v, `w2[${j}]`)),
    activation,
    weights: { w1: f32(w.w1, 'w1'), b1: f32(w.b1, 'b1'), w3: f32(w.w3, 'w3'), b2: f32(w.b2, 'b2') },
    target: f32(opts.target ?? 1, 'target'),
  };
}

/** A row from per-k dPredicted terms; throws NonFiniteError when something overflowed. */
export function studyRow(
  method: string,
  w2: number,
  predicted: number,
  dy: number,
  g: Float64Array,
  contributions: Float64Array,
): UnrollRow {
  let sum = 0;
  for (let k = 0; k < contributions.length; k++) sum += contributions[k];
  if (!Number.isFinite(predicted)) throw new NonFiniteError(method, `the prediction at w2 = ${w2}`, predicted);
  for (let k = 0; k < g.length; k++) {
    if (!Number.isFinite(g[k]) || !Number.isFinite(contributions[k])) {
      throw new NonFiniteError(
        method,
        `the term ${k} steps back at w2 = ${w2}`,
        Number.isFinite(g[k]) ? contributions[k] : g[k],
      );
    }
  }
  if (!Number.isFinite(sum)) throw new NonFiniteError(method, `dSSR/dw1 at w2 = ${w2}`, sum);
  return { w2, predicted, dSSRdPredicted: dy, dPredicted: g, contributions, dSSRdw1: sum };
}
