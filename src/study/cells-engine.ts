// The cells' unroll study through an engine (WebGPU or the CPU reference): the gradient reaching the input k steps
// back, for every k, from plain engine.run calls. The engine returns parameter gradients only, so each run gives
// the model extra input columns: column j is 1 at step T−k_j and 0 elsewhere, and its Wx weights are 0, which
// leaves the forward pass unchanged; then dSSR/dWx[q][I + j] = Σ_t ∂SSR/∂u_t[q]·x_t[I + j] = ∂SSR/∂u_{T−k_j}[q],
// the gradient reaching the input projection u = Wx·x k_j steps back. From it, ∂SSR/∂x_{T−k} = Wxᵀ·∂SSR/∂u_{T−k}
// and step T−k's term of dSSR/dWx, ∂SSR/∂u_{T−k} ⊗ x_{T−k}. One run covers up to LIMITS.maxInputSize − I steps.
// The state gradient has no such handle (nothing but the state carries it), so it stays on the CPU (cells.ts).

import type { Engine } from '../engine.ts';
import { batchFromArrays } from '../batch.ts';
import { InputError } from '../errors.ts';
import { LIMITS, modelFromJSON, modelToJSON, paramLayout, type Model } from '../model.ts';
import { studyInputs, type CellStudyOptions } from './cells.ts';

export interface CellEngineRow {
  label: string;
  cell: string;
  /** y_T per output and the SSR, from the engine. */
  predicted: Float64Array;
  loss: number;
  /** ∂SSR/∂u_{T−k} (the rows of Wx: gates·H values), k = 0..T−1. */
  dU: Float64Array[];
  /** ∂SSR/∂x_{T−k}, k = 0..T−1. */
  dInput: Float64Array[];
  /** ‖∂SSR/∂x_{T−k}‖₂. */
  input: Float64Array;
  /** ‖step T−k's term of dSSR/dWx‖ = ‖∂SSR/∂u_{T−k}‖·‖x_{T−k}‖. */
  wx: Float64Array;
  /** engine.run calls this model took. */
  runs: number;
}

export interface CellEngineStudy {
  backend: string;
  adapter: string;
  length: number;
  target: number;
  rows: CellEngineRow[];
}

const norm = (v: ArrayLike<number>): number => {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k] * v[k];
  return Math.sqrt(s);
};

/** The model with `extra` more input columns whose Wx weights are 0. */
function widen(model: Model, extra: number): Model {
  const json = modelToJSON(model);
  json.inputSize = model.inputSize + extra;
  json.weights.Wx = json.weights.Wx.map((row) => [...row, ...new Array<number>(extra).fill(0)]);
  return modelFromJSON(json);
}

/** One model's row on `engine`: T steps of `xs` (row-major T × I), every output's target `target`. */
async function engineRow(
  engine: Engine,
  label: string,
  model: Model,
  T: number,
  xs: Float64Array,
  target: number,
): Promise<CellEngineRow> {
  if (model.output !== 'last')
    throw new InputError(`${label}: output`, 'the study predicts at the last step only: the model needs output "last"');
  const I = model.inputSize;
  const per = LIMITS.maxInputSize - I;
  if (per < 1)
    throw new InputError(
      `${label}: inputSize`,
      `the engine's study needs a spare input column: at most ${LIMITS.maxInputSize - 1} inputs, got ${I}`,
    );
  const L = paramLayout(model).blocks;
  const G = L.Wx.rows;
  const dU = new Array<Float64Array>(T);
  let predicted = new Float64Array(model.outputSize);
  let loss = NaN;
  let runs = 0;
  for (let k0 = 0; k0 < T; k0 += per) {
    const J = Math.min(per, T - k0);
    const wide = widen(model, J);
    const steps = Array.from({ length: T }, (_, t) => {
      const row = new Array<number>(I + J).fill(0);
      for (let i = 0; i < I; i++) row[i] = xs[t * I + i];
      const j = T - 1 - t - k0; // this step is k = T−1−t steps back: column j when k0 ≤ k < k0 + J
      if (j >= 0 && j < J) row[I + j] = 1;
      return row;
    });
    const batch = batchFromArrays(
      [steps],
      [new Array<number>(model.outputSize).fill(target)],
      'last',
      model.outputSize,
    );
    const r = await engine.run(wide, batch, { gradients: true, outputs: true });
    runs++;
    const g = r.gradsFlat!;
    const W = paramLayout(wide).blocks.Wx;
    for (let j = 0; j < J; j++)
      dU[k0 + j] = Float64Array.from({ length: G }, (_, q) => g[W.offset + q * (I + J) + I + j]);
    if (k0 === 0) {
      predicted = Float64Array.from(r.outputs!);
      loss = r.loss!;
    }
  }
  const dInput = dU.map((du) => {
    const dx = new Float64Array(I);
    for (let q = 0; q < G; q++) for (let i = 0; i < I; i++) dx[i] += model.params[L.Wx.offset + q * I + i] * du[q];
    return dx;
  });
  const input = Float64Array.from(dInput, norm);
  const wx = Float64Array.from(dU, (du, k) => norm(du) * norm(xs.subarray((T - 1 - k) * I, (T - k) * I)));
  return { label, cell: model.cell ?? 'elman', predicted, loss, dU, dInput, input, wx, runs };
}

/**
 * The input side of the cells' study (∂SSR/∂x_{T−k} and the step terms of dSSR/dWx) on the engine's backend, with
 * the same models, inputs and target as `cellStudy` (which also gives the state gradient, on the CPU).
 */
export async function cellStudyOnEngine(engine: Engine, opts: CellStudyOptions): Promise<CellEngineStudy> {
  if (!opts.models.length) throw new InputError('models', 'give at least one model');
  const T = opts.length;
  if (!Number.isInteger(T) || T < 1 || T > LIMITS.maxSteps)
    throw new InputError(
      'length',
      `must be an integer from 1 to ${LIMITS.maxSteps} (the engine's step limit), got ${T}`,
    );
  const target = opts.target ?? 1;
  const rows: CellEngineRow[] = [];
  for (const e of opts.models)
    rows.push(await engineRow(engine, e.label, e.model, T, studyInputs(opts, T, e.model.inputSize), target));
  return { backend: engine.backend, adapter: engine.adapter, length: T, target, rows };
}
