// What only the CPU backend runs: stacked or bidirectional models, and runs with carried states, whose shape
// neither the per-sequence strategy's layered kernels nor the gemm strategy take (engine runs and training alike).
// The engine refuses such a run on `backend: 'webgpu'` and runs it on the CPU under `auto`; the trainers (train,
// populations, landscapes) do the same. The reasons, one line each, come from here.

import type { RunOptions } from './backend.ts';
import type { Batch } from './batch.ts';
import { InputError } from './errors.ts';
import type { CellName } from './cells/index.ts';
import { gemm } from './gpu/gemm/strategy.ts';
import { perSequence } from './gpu/per-sequence/strategy.ts';
import type { StrategyShape } from './gpu/strategy.ts';
import { isLayered, type LayerShape, type Shape } from './model.ts';

/** Why a run needs the CPU backend: the field at fault and what the WebGPU kernels lack. */
export interface CpuOnly {
  /** `model.numLayers`, `model.bidirectional`, `initialStates` or `finalStates`. */
  field: string;
  /** Where the field is: the model, the data or the run options. */
  source?: string;
  /** What WebGPU does not serve, e.g. `on WebGPU, stacked models run on the per-sequence strategy, and it … got 12`. */
  what: string;
}

type LayeredShape = Shape & { cell?: CellName } & LayerShape;

function shapeOf(model: LayeredShape, carried: boolean, gradients: boolean): StrategyShape {
  return {
    cell: model.cell,
    inputSize: model.inputSize,
    hiddenSize: model.hiddenSize,
    outputSize: model.outputSize,
    maxSteps: 1,
    count: 1,
    gradients,
    numLayers: model.numLayers,
    bidirectional: model.bidirectional,
    carriedStates: carried,
  };
}

/** Why the per-sequence strategy's layered kernels cannot take a shape, or null. */
function layeredKernelsRefuse(model: LayeredShape, carried: boolean): string | null {
  return perSequence.supports(shapeOf(model, carried, false), {} as GPUSupportedLimits);
}

/** `on WebGPU, <thing> <verb> the per-sequence strategy, and <why>`: what a CpuOnly says. */
const onWebGpu = (thing: string, why: string, verb = 'run on'): string =>
  `on WebGPU, ${thing} ${verb} the per-sequence strategy, and ${why}`;

/** The CpuOnly of a layered model whose shape the layered kernels refuse (`why`), for runs or (`train`) training. */
function layeredModelReason(model: LayeredShape, why: string, train: boolean): CpuOnly {
  const verb = train ? 'train through' : 'run on';
  if ((model.numLayers ?? 1) > 1) return { field: 'model.numLayers', what: onWebGpu('stacked models', why, verb) };
  return { field: 'model.bidirectional', what: onWebGpu('bidirectional models', why, verb) };
}

/**
 * The reason training a model needs the CPU backend, or null. On WebGPU, stacked and bidirectional models train
 * step by step through engine.run (the per-sequence strategy's layered kernels, or beyond their sizes the gemm
 * strategy's, give the gradients, inter-layer dropout included; the optimizer runs on the host): one that neither
 * takes trains on the CPU only.
 */
export function cpuOnlyModel(model: LayeredShape): CpuOnly | null {
  if (!isLayered(model)) return null;
  const why = layeredKernelsRefuse(model, false);
  if (!why) return null;
  const gemmWhy = gemm.supports(shapeOf(model, false, true), {} as GPUSupportedLimits);
  if (gemmWhy === null) return null;
  return layeredModelReason(model, `${why}, and on the gemm strategy ${gemmWhy}`, true);
}

/**
 * The reason a run needs the CPU backend, or null. On WebGPU, stacked and bidirectional models and carried states
 * (in or out) run on the per-sequence strategy's layered kernels, which keep a layer's weights in private arrays,
 * and beyond their sizes on the gemm strategy: a run neither takes (a network beyond gemm's sizes) runs on the CPU
 * only.
 */
export function cpuOnlyRun(model: LayeredShape, batch: Batch, opts: RunOptions): CpuOnly | null {
  const layered = isLayered(model);
  const carried = batch.initialStates !== undefined || opts.finalStates === true;
  if (!layered && !carried) return null;
  const why = layeredKernelsRefuse(model, carried);
  if (!why) return null;
  const gradients = opts.gradients ?? batch.targets !== null;
  const gemmWhy = gemm.supports(shapeOf(model, carried, gradients), {} as GPUSupportedLimits);
  if (gemmWhy === null) return null;
  const both = `${why}, and on the gemm strategy ${gemmWhy}`;
  if (layered) return layeredModelReason(model, both, false);
  if (batch.initialStates !== undefined)
    return { field: 'initialStates', source: 'data', what: onWebGpu('runs with carried initial states', both) };
  return { field: 'finalStates', source: 'options', what: onWebGpu('runs that return final states', both) };
}

/** The InputError of `backend: 'webgpu'` for a run only the CPU serves. */
export function cpuOnlyError(c: CpuOnly): InputError {
  return new InputError(c.field, `${c.what}: it runs on the CPU backend (backend "cpu", --backend cpu)`, c.source);
}

/** The fallback reason of `auto` for a run only the CPU serves, e.g. `model.numLayers: on WebGPU, stacked …`. */
export function cpuOnlyFallback(c: CpuOnly): string {
  return `${c.field}: ${c.what}`;
}
