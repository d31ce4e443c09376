// What the Population panel draws from a population's report, computed where it trained (the page's worker, or the
// page where workers are unavailable): the histogram of final SSRs, an even sample of loss curves and the median
// curve over all models, the count at or below the threshold and the models' statuses. A population of 100,000
// models has millions of curve values; only these summaries and the final losses cross back to the page
// (`populationView`). Free of the DOM.

import { median } from '../stats.ts';
import type { PopulationReport } from '../train/types.ts';

const BINS = 30;
const FLOOR = 1e-12;
/** How many loss curves the panel draws. */
export const SAMPLE_CURVES = 24;

export type Bin = { lo: number; hi: number; count: number };

/** Histogram of log10(max(loss, FLOOR)) over the finite losses. */
export function histogram(losses: ArrayLike<number>): Bin[] {
  let lo = Infinity;
  let hi = -Infinity;
  const logs: number[] = [];
  for (let k = 0; k < losses.length; k++) {
    const v = losses[k];
    if (!Number.isFinite(v)) continue;
    const l = Math.log10(Math.max(v, FLOOR));
    logs.push(l);
    if (l < lo) lo = l;
    if (l > hi) hi = l;
  }
  if (logs.length === 0) return [];
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / BINS;
  const bins = Array.from({ length: BINS }, (_, k) => ({ lo: lo + k * width, hi: lo + (k + 1) * width, count: 0 }));
  for (const v of logs) bins[Math.min(BINS - 1, Math.floor((v - lo) / width))].count++;
  return bins;
}

export interface PopulationSummary {
  histogram: Bin[];
  /** The sampled models (evenly spread over the population) and their loss curves (one row per model). */
  pick: number[];
  curves: Float64Array[];
  /** Per recorded step: the median batch loss over the models still training (NaN where none). */
  medianCurve: Float64Array;
  /** Models with a final SSR at or below the threshold, the median final SSR, and how many stopped how. */
  reached: number;
  median: number;
  status: { ok: number; converged: number; diverged: number };
  /** The most optimizer updates any model applied. */
  steps: number;
}

/** The summary of `r` for the panel (its curves read once here, so the page does not hold them all). */
export function summarize(r: PopulationReport, threshold: number): PopulationSummary {
  const S = r.curveSteps.length;
  const n = Math.min(SAMPLE_CURVES, r.count);
  const pick = Array.from({ length: n }, (_, k) => Math.floor((k * r.count) / n));
  const medianCurve = new Float64Array(S);
  const col = new Float64Array(r.count);
  for (let j = 0; j < S; j++) {
    for (let m = 0; m < r.count; m++) col[m] = r.curves[m * S + j];
    medianCurve[j] = median(col);
  }
  let reached = 0;
  for (const v of r.finalLoss) if (v <= threshold) reached++;
  const status = { ok: 0, converged: 0, diverged: 0 };
  for (const s of r.status) status[s]++;
  let steps = 0;
  for (const s of r.stepsDone) if (s > steps) steps = s;
  return {
    histogram: histogram(r.finalLoss),
    pick,
    curves: pick.map((m) => r.curves.slice(m * S, (m + 1) * S)),
    medianCurve,
    reached,
    median: median(r.finalLoss),
    status,
    steps,
  };
}

/**
 * What the Population panel receives: the report without its per-model arrays (weights, statuses, steps, curves),
 * with its summary instead; only the final losses stay per model.
 */
export type PopulationView = Omit<PopulationReport, 'params' | 'status' | 'stepsDone' | 'divergedAtStep' | 'curves'> & {
  summary: PopulationSummary;
};

/** `r` as the panel receives it (summarised at `threshold`). */
export function populationView(r: PopulationReport, threshold: number): PopulationView {
  const { params: _p, status: _s, stepsDone: _d, divergedAtStep: _a, curves: _c, ...rest } = r;
  return { ...rest, summary: summarize(r, threshold) };
}
