// What only the CPU backend runs for now: stacked or bidirectional models and runs with carried states (the WebGPU
// kernels serve one layer in one direction, starting from the model's h0). The engine refuses such a run on
// `backend: 'webgpu'` and runs it on the CPU under `auto`; the trainers (train, populations, landscapes) do the same
// for stacked and bidirectional models. The reasons, one line each, come from here.

import type { RunOptions } from './backend.ts';
import type { Batch } from './batch.ts';
import { InputError } from './errors.ts';
import { isLayered, type LayerShape } from './model.ts';

/** Why a run needs the CPU backend: the field at fault and what the WebGPU kernels lack. */
export interface CpuOnly {
  /** `model.numLayers`, `model.bidirectional`, `initialStates` or `finalStates`. */
  field: string;
  /** Where the field is: the model, the data or the run options. */
  source?: string;
  /** What WebGPU does not serve, e.g. `the WebGPU kernels serve one layer in one direction, and this model has numLayers 2`. */
  what: string;
}

/** The reason a model alone needs the CPU backend (numLayers > 1 or bidirectional), or null. */
export function cpuOnlyModel(model: LayerShape): CpuOnly | null {
  if (!isLayered(model)) return null;
  if ((model.numLayers ?? 1) > 1)
    return {
      field: 'model.numLayers',
      what: `the WebGPU kernels serve one layer in one direction, and this model has numLayers ${model.numLayers}`,
    };
  return {
    field: 'model.bidirectional',
    what: 'the WebGPU kernels serve one direction, and this model is bidirectional',
  };
}

/** The reason a run needs the CPU backend (a layered model, or carried states in or out), or null. */
export function cpuOnlyRun(model: LayerShape, batch: Batch, opts: RunOptions): CpuOnly | null {
  const m = cpuOnlyModel(model);
  if (m) return m;
  if (batch.initialStates !== undefined)
    return {
      field: 'initialStates',
      source: 'data',
      what: 'the WebGPU kernels do not take carried initial states yet',
    };
  if (opts.finalStates)
    return { field: 'finalStates', source: 'options', what: 'the WebGPU kernels do not return final states yet' };
  return null;
}

/** The InputError of `backend: 'webgpu'` for a run only the CPU serves. */
export function cpuOnlyError(c: CpuOnly): InputError {
  return new InputError(c.field, `${c.what}: it runs on the CPU backend (backend "cpu", --backend cpu)`, c.source);
}

/** The fallback reason of `auto` for a run only the CPU serves, e.g. `model.numLayers: the WebGPU kernels …`. */
export function cpuOnlyFallback(c: CpuOnly): string {
  return `${c.field}: ${c.what}`;
}
