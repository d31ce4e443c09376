// The Population playground's models and their optimizer state, kept where they train between frames (the page's
// worker, or the page where workers are unavailable): each frame is one `trainPopulation` call of a few steps that
// resumes every model from the weights and optimizer state it reached (`resume`), so N steps of frames are one
// N-step run. A frame returns only what the panel draws (the histogram, the share at the threshold, the median)
// and every model's SSR and weights as typed arrays (transferred from a worker, not copied), never the models as
// objects. Free of the DOM.

import type { Batch } from '../batch.ts';
import type { Engine } from '../engine.ts';
import { modelFromJSON, type Model, type ModelJSON } from '../model.ts';
import { median } from '../stats.ts';
import { randomPopulation, trainPopulation } from '../train/index.ts';
import type { OptimizerState, PopulationOptions } from '../train/types.ts';
import { histogram, type Bin } from './population-stats.ts';

/** A seeded population (randomPopulation(base, count, seed, scale)), drawn where it trains. */
export type PopulationRecipe = { base: Model | ModelJSON; count: number; seed: number; scale: number };

/** One frame's options: the optimizer, the steps of this frame and the loss threshold (no callbacks). */
export type PlayFrameOptions = Pick<PopulationOptions, 'optimizer' | 'steps' | 'lossThreshold'>;

/** What a frame sends back to the panel. */
export interface PlayFrame {
  backend: string;
  adapter: string;
  fallbackReason?: string;
  count: number;
  paramCount: number;
  /** The global step after this frame (the furthest any model went). */
  step: number;
  /** Models with an SSR at or below the threshold now, and the median SSR (of the finite values). */
  reached: number;
  median: number;
  histogram: Bin[];
  /** Per model: the SSR at its current weights. */
  finalLoss: Float64Array;
  /** The current weights, model-major (paramCount values per model). */
  params: Float64Array;
}

/** A population that trains a frame at a time, keeping its models and optimizer state between frames. */
export class PopulationPlay {
  private models: Model[];
  private resume: OptimizerState | null = null;

  constructor(recipe: PopulationRecipe) {
    const base = 'params' in recipe.base ? recipe.base : modelFromJSON(recipe.base);
    this.models = randomPopulation(base, recipe.count, recipe.seed, recipe.scale);
  }

  /** Trains every model `opts.steps` more steps on `engine`, from where the last frame left it. */
  async frame(engine: Engine, batch: Batch, opts: PlayFrameOptions, threshold: number): Promise<PlayFrame> {
    const r = await trainPopulation(engine, this.models, batch, {
      ...opts,
      returnOptimizerState: true,
      ...(this.resume ? { resume: this.resume } : {}),
    });
    const P = r.paramCount;
    this.models = this.models.map((m, i) => ({ ...m, params: r.params.slice(i * P, (i + 1) * P) }));
    this.resume = r.optimizerState!;
    let reached = 0;
    for (const v of r.finalLoss) if (v <= threshold) reached++;
    return {
      backend: r.backend,
      adapter: r.adapter,
      ...(r.fallbackReason !== undefined ? { fallbackReason: r.fallbackReason } : {}),
      count: r.count,
      paramCount: P,
      step: r.optimizerState!.step,
      reached,
      median: median(r.finalLoss),
      histogram: histogram(r.finalLoss),
      finalLoss: r.finalLoss,
      params: r.params,
    };
  }
}
