// What only the CPU backend runs for now: training stacked or bidirectional models (the WebGPU trainers serve one
// layer in one direction), and engine runs of such models or with carried states whose shape the per-sequence
// strategy's layered kernels do not take. The engine refuses such a run on `backend: 'webgpu'` and runs it on the
// CPU under `auto`; the trainers (train, populations, landscapes) do the same. The reasons, one line each, come
// from here.

import type { RunOptions } from './backend.ts';
import type { Batch } from './batch.ts';
import { InputError } from './errors.ts';
import type { CellName } from './cells/index.ts';
import { perSequence } from './gpu/strategies/per-sequence.ts';
import { isLayered, type LayerShape, type Shape } from './model.ts';

/** Why a run needs the CPU backend: the field at fault and what the WebGPU kernels lack. */
export interface CpuOnly {
  /** `model.numLayers`, `model.bidirectional`, `initialStates` or `finalStates`. */
  field: string;
  /** Where the field is: the model, the data or the run options. */
  source?: string;
  /** What WebGPU does not serve, e.g. `the WebGPU kernels serve one layer in one direction, and this model has numLayers 2`. */
  what: string;
}

/** The reason training a model needs the CPU backend (numLayers > 1 or bidirectional), or null. */
export function cpuOnlyModel(model: LayerShape): CpuOnly | null {
  if (!isLayered(model)) return null;
  if ((model.numLayers ?? 1) > 1)
    return {
      field: 'model.numLayers',
      what: `WebGPU training serves one layer in one direction, and this model has numLayers ${model.numLayers}`,
    };
  return {
    field: 'model.bidirectional',
    what: 'WebGPU training serves one direction, and this model is bidirectional',
  };
}

/**
 * The reason a run needs the CPU backend, or null. On WebGPU, stacked and bidirectional models and carried states
 * (in or out) run on the per-sequence strategy's layered kernels, which keep a layer's weights in private arrays:
 * a run of that kind whose shape they do not take (hiddenSize above 16, or 8 for the gated cells; D·H above 32, …)
 * runs on the CPU only.
 */
export function cpuOnlyRun(
  model: Shape & { cell?: CellName } & LayerShape,
  batch: Batch,
  opts: RunOptions,
): CpuOnly | null {
  const layered = isLayered(model);
  const carried = batch.initialStates !== undefined || opts.finalStates === true;
  if (!layered && !carried) return null;
  const why = perSequence.supports(
    {
      cell: model.cell,
      inputSize: model.inputSize,
      hiddenSize: model.hiddenSize,
      outputSize: model.outputSize,
      maxSteps: 1,
      count: batch.count,
      gradients: false,
      numLayers: model.numLayers,
      bidirectional: model.bidirectional,
      carriedStates: carried,
    },
    {} as GPUSupportedLimits,
  );
  if (!why) return null;
  const what = (thing: string): string => `on WebGPU, ${thing} run on the per-sequence strategy, and ${why}`;
  if ((model.numLayers ?? 1) > 1) return { field: 'model.numLayers', what: what('stacked models') };
  if (model.bidirectional) return { field: 'model.bidirectional', what: what('bidirectional models') };
  if (batch.initialStates !== undefined)
    return { field: 'initialStates', source: 'data', what: what('runs with carried initial states') };
  return { field: 'finalStates', source: 'options', what: what('runs that return final states') };
}

/** The InputError of `backend: 'webgpu'` for a run only the CPU serves. */
export function cpuOnlyError(c: CpuOnly): InputError {
  return new InputError(c.field, `${c.what}: it runs on the CPU backend (backend "cpu", --backend cpu)`, c.source);
}

/** The fallback reason of `auto` for a run only the CPU serves, e.g. `model.numLayers: the WebGPU kernels …`. */
export function cpuOnlyFallback(c: CpuOnly): string {
  return `${c.field}: ${c.what}`;
}
