// The training API's types: optimizers, learning-rate schedules, options and reports for `train`,
// `trainPopulation` and `lossLandscape` (src/train/index.ts). Both backends implement exactly these semantics.

import type { BackendName } from '../backend.ts';
import type { Batch } from '../batch.ts';
import type { Model } from '../model.ts';

/**
 * The optimizer, in PyTorch's conventions, applied to g = dSSR/dθ of the step's batch (after clipping):
 * - `sgd`: v ← momentum·v + g; θ ← θ − lr_k·v (v starts at 0; momentum 0, the default, is plain SGD).
 * - `adam`: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; θ ← θ − lr_k·(m/(1−β1^(k+1))) / (√(v/(1−β2^(k+1))) + eps),
 *   with k the 0-based step. Defaults β1 = 0.9, β2 = 0.999, eps = 1e-8.
 * `lr` must be finite and > 0.
 */
export type OptimizerConfig =
  | { kind: 'sgd'; lr: number; momentum?: number }
  | { kind: 'adam'; lr: number; beta1?: number; beta2?: number; eps?: number };

/**
 * The learning rate at 0-based step k (of `steps`), from the optimizer's (or the model's, in a population) `lr`:
 * - `constant` (default): lr;
 * - `step`: lr·gamma^⌊k/every⌋;
 * - `cosine`: minLr + (lr − minLr)·(1 + cos(π·k/steps))/2 (minLr defaults to 0).
 */
export type Schedule =
  { kind: 'constant' } | { kind: 'step'; every: number; gamma: number } | { kind: 'cosine'; minLr?: number };

/** A loss value recorded at a step: the SSR of that step's batch at the weights *before* that step's update. */
export interface HistoryPoint {
  step: number;
  loss: number;
}

/**
 * Options of `train` (and, through PopulationOptions, of `trainPopulation`).
 *
 * The loss is the SSR of the step's batch (a sum over sequences, not a mean, as everywhere in this project), and a
 * step is: forward + BPTT on the step's batch at θ_k, then (unless the model stops) clip, then the optimizer update
 * to θ_{k+1}. A step whose loss is ≤ `lossThreshold` stops training *before* its update (early stopping, exact to
 * the step on both backends); a step whose loss, overflow flag, gradient or updated weights are not finite stops
 * training with the weights of that step (the last finite ones) and marks the model diverged.
 */
export interface TrainOptions {
  optimizer: OptimizerConfig;
  /** Number of optimizer steps (integer ≥ 1). */
  steps: number;
  /** Learning-rate schedule (default constant). */
  schedule?: Schedule;
  /**
   * Sequences per mini-batch (integer from 1 to the data set's count). Default: the whole data set every step (full
   * batch, in the data's order). With a batch size, the order of the data is an endless chain of seeded random
   * permutations of the data set (one per epoch; see `minibatchOrder`), cut into consecutive mini-batches of exactly
   * `batchSize` sequences, so a mini-batch may straddle two epochs. Both backends use the same order.
   */
  batchSize?: number;
  /** Seed of the mini-batch shuffle (default 0). */
  seed?: number;
  /**
   * Early stopping: stop at the first step whose loss is ≤ this (the step's batch loss: the full data set's SSR
   * without `batchSize`, else the mini-batch's SSR). The weights are those that reached it.
   */
  lossThreshold?: number;
  /** Global-norm gradient clipping: g ← g·min(1, clipNorm/‖g‖₂) over all parameters of the model. Must be > 0. */
  clipNorm?: number;
  /**
   * Inter-layer dropout of a stacked model (PyTorch's `dropout`): probability in [0, 1) of zeroing each input of a
   * layer above the first at each training step (RunOptions.dropout, with a mask seeded from `seed`, the step and
   * the model). Default 0; it has no effect on one layer, nor on loss evaluation.
   */
  dropout?: number;
  /** Record the loss every this many steps (steps 0, n, 2n, …; default: about 200 points over the run). */
  historyEvery?: number;
  /**
   * On WebGPU, steps per submit: the loss history stays in a GPU buffer and is read back, with progress and the
   * stop check of `signal`, after every this many steps (default 200; at most 1024, and fewer for very large
   * mini-batches). It does not change results. On the CPU, progress and the stop check come this often.
   */
  readbackEvery?: number;
  /** A validation set: its SSR at the final weights is reported as `validationLoss`. */
  validation?: Batch;
  /**
   * Called at every read-back point (WebGPU) or every `readbackEvery` steps (CPU), and once at the end. `loss` is
   * the latest batch loss of the first model. A WebGPU population too large for one chunk of buffers trains chunk
   * by chunk, and `step` then starts again from 0 for each chunk.
   */
  onProgress?: (p: { step: number; steps: number; loss: number; stepsPerSecond: number }) => void;
  /** Aborting stops training at the next read-back point; the report then has the steps done so far. */
  signal?: AbortSignal;
  /**
   * The loss the optimizer minimises and every reported loss is in: `ssr` (default, the notes' sum of squared
   * residuals) or `mean` (the SSR divided by the number of target values of a full-size step: batchSize·O for output
   * `last`, batchSize·(mean length)·O for `all`; final and validation losses are divided by their set's own count).
   * `lossThreshold` is compared with this loss.
   */
  loss?: LossKind;
  /**
   * Weight decay λ ≥ 0 (default 0), as an L2 penalty added to the gradient after clipping: g ← g + λ·θ for every
   * trainable parameter (PyTorch's `weight_decay` of SGD and Adam; not AdamW's decoupled decay).
   */
  weightDecay?: number;
  /**
   * Continue a run: its global step count and optimizer state (`TrainReport.optimizerState`). Step k of this call
   * is global step `resume.step + k`: the learning-rate schedule, Adam's bias correction and the mini-batch order
   * go on from there, so N steps then M resumed steps give the bits of N + M uninterrupted steps on the same backend
   * (a `cosine` schedule over `scheduleSteps`, which then must be the whole run's length).
   */
  resume?: OptimizerState;
  /** Steps the `cosine` schedule spans (default: `resume.step` + `steps`). */
  scheduleSteps?: number;
  /**
   * Early stopping on `validation`: evaluate its loss every `validateEvery` steps (training runs in rounds of that
   * many steps) and stop after `patience` evaluations without improvement (default: never stop); the report then
   * holds the best weights seen (lowest validation loss, the earliest on ties), not the last.
   */
  validateEvery?: number;
  patience?: number;
}

export type LossKind = 'ssr' | 'mean';

/** The optimizer's state after a run, enough to continue it exactly (`TrainOptions.resume`). */
export interface OptimizerState {
  /** Global optimizer steps applied so far. */
  step: number;
  /** `sgd` velocity or Adam's first moment, and Adam's second moment (zeros for SGD), in the canonical order. */
  m: Float64Array | number[];
  v: Float64Array | number[];
}

export interface TrainReport {
  backend: BackendName;
  adapter: string;
  /**
   * Why this call trained on the CPU on an `auto` engine that runs WebGPU: a stacked or bidirectional model of a shape
   * the layered kernels do not take (as engine.run's fallbackReason); absent otherwise.
   */
  fallbackReason?: string;
  /** The trained model (the last finite weights if it diverged). */
  model: Model;
  /** Optimizer updates applied, counted globally (a resumed run includes the steps before it); the returned weights are those after `bestStep` steps when early stopping kept an earlier round's, and after `runaway.kept.step` steps when the loss ran away. */
  steps: number;
  /** True when early stopping on the validation loss (`patience`) ended training. */
  stoppedOnValidation: boolean;
  /** SSR of the whole training data set at the final weights (NaN if it is not finite there). */
  finalLoss: number;
  /** The recorded losses (see HistoryPoint): float64 on the CPU (a finite loss above float32's 3.4e38 stays finite), WebGPU's float32 values on WebGPU; the last step computed (the one that stopped training, or the last) is always included. */
  history: HistoryPoint[];
  /** SSR of `validation` at the final weights, or null without a validation set. */
  validationLoss: number | null;
  /** True when the loss threshold stopped training. */
  stoppedEarly: boolean;
  /** True when training stopped on a non-finite loss, gradient or weight. */
  diverged: boolean;
  /** True when `signal` aborted training. */
  aborted: boolean;
  /** Wall-clock seconds of the whole call. */
  seconds: number;
  /** The optimizer's state at the returned weights (pass it as `resume` to continue; its `step` is `bestStep` when early stopping kept earlier weights, `runaway.kept.step` when the loss ran away). */
  optimizerState: OptimizerState;
  /** With `validateEvery`: the validation loss at every evaluation, and the global step of the weights returned. */
  validationHistory: HistoryPoint[];
  bestStep: number | null;
  /**
   * Set when the loss ran away without overflowing (the last recorded loss more than RUNAWAY_FACTOR = 10⁶ times
   * the first, as Adam with lr 1e10 does): the first and last recorded points, and `kept`, the recorded point with
   * the lowest loss (the earliest on ties), whose weights `model` and `optimizerState` then hold instead of the last
   * ones (`steps` still counts every step run; `finalLoss` and `validationLoss` are at the kept weights). The kept
   * weights come from replaying the run to that step (training is deterministic on each backend, so they are the
   * bits the run had there; a run whose lowest loss is its first step keeps its initial weights). `kept` is null with
   * `validateEvery`, where the validation loss picks the weights (`bestStep`). Null when the loss did not run away.
   */
  runaway: { first: HistoryPoint; last: HistoryPoint; kept: HistoryPoint | null } | null;
}

/** Options of `trainPopulation`: TrainOptions, plus per-model learning rates and the loss-curve sampling. */
export interface PopulationOptions extends TrainOptions {
  /** Per-model learning rates (length = number of models, each finite and > 0); default: every model uses optimizer.lr. */
  lrs?: Float64Array | number[];
  /** Sample every model's loss every this many steps into `curves` (default: historyEvery's default). */
  curveEvery?: number;
  /**
   * Return every model's optimizer state (`PopulationReport.optimizerState`), to continue the population with
   * `resume` (which takes one model's state for all, or every model's, model-major). Default false.
   */
  returnOptimizerState?: boolean;
}

/** What happened to one model of a population. */
export type ModelStatus = 'ok' | 'converged' | 'diverged';

export interface PopulationReport {
  backend: BackendName;
  adapter: string;
  /**
   * Why this call trained on the CPU on an `auto` engine that runs WebGPU: a stacked or bidirectional model of a shape
   * the layered kernels do not take (as engine.run's fallbackReason); absent otherwise.
   */
  fallbackReason?: string;
  count: number;
  /** Parameters per model (P). */
  paramCount: number;
  /** Per model: the SSR of its whole training data set at its final weights (NaN where not finite). */
  finalLoss: Float64Array;
  /** Final weights, model-major: model m's parameters in canonical order (paramLayout) at m·P … m·P+P−1. */
  params: Float64Array;
  /**
   * Loss curves, model-major: count × curveSteps.length. Entry (m, j) is model m's batch loss at step curveSteps[j],
   * NaN for steps after the model stopped (converged or diverged).
   */
  curves: Float64Array;
  curveSteps: number[];
  /** `ok`: trained all steps; `converged`: stopped by lossThreshold; `diverged`: stopped on a non-finite value. */
  status: ModelStatus[];
  /** Per model: optimizer updates applied. */
  stepsDone: Int32Array;
  /** Per model: the step at which it diverged, or −1. */
  divergedAtStep: Int32Array;
  /**
   * With `returnOptimizerState`: the run's global step count (the furthest any model went) and every model's moments
   * at its final weights, model-major (model m's at m·P … m·P+P−1); pass it as `resume` to continue the population
   * as one longer run would.
   */
  optimizerState?: OptimizerState;
  /** Per model: SSR of `validation` at the final weights, or null without a validation set. */
  validationLoss: Float64Array | null;
  /** True when `signal` aborted training. */
  aborted: boolean;
  seconds: number;
}

/**
 * One axis of a loss landscape: the parameter to vary and `steps` evenly spaced values from min to max (both
 * included). `param` is a name such as `Wx[0][0]`, `Wh[1][2]`, `bh[0]`; for a 1-1-1 model also the notes' names
 * w1 (Wx), b1 (bh), w2 (Wh), w3 (Wy), b2 (by); or a flat parameter index.
 */
export interface LandscapeAxis {
  param: string | number;
  min: number;
  max: number;
  /** Grid points (integer ≥ 2). */
  steps: number;
}

export interface LandscapeOptions {
  /**
   * Overlay a gradient-descent path: train only the two grid parameters (all others fixed, so the path lies on
   * the landscape) from the model's values with these options, and report the visited points.
   */
  path?: TrainOptions;
}

export interface LandscapeResult {
  backend: BackendName;
  adapter: string;
  /**
   * Why this call trained on the CPU on an `auto` engine that runs WebGPU: a stacked or bidirectional model of a shape
   * the layered kernels do not take (as engine.run's fallbackReason); absent otherwise.
   */
  fallbackReason?: string;
  /** SSR at every grid point, row-major: losses[iy·x.steps + ix]; NaN where the forward pass is not finite. */
  losses: Float64Array;
  /** The x values (length x.steps) and y values (length y.steps). */
  x: Float64Array;
  y: Float64Array;
  /** Flat parameter indices of the two axes. */
  xIndex: number;
  yIndex: number;
  /** Canonical names of the two parameters, e.g. `Wx[0][0]`. */
  xName: string;
  yName: string;
  /** The gradient-descent path (with `opts.path`): the two parameters' values and the loss before each step, and the end point. */
  path: { step: number; x: number; y: number; loss: number }[] | null;
  seconds: number;
}
