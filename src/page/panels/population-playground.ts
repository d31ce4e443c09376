// The Population panel's playground: Play, Pause, Step, Reset and a speed (steps per frame) over the panel's
// settings. Each frame is one short `trainPopulation` call (in the page's worker) from the weights every model
// reached and every model's optimizer state (`resume`), so N steps of Play are one N-step run; after it the page redraws the histogram of the models' current SSR and the share
// of models at or below the threshold, frame by frame. Frames run through the session's queue.

import { seedData } from '../../data/index.ts';
import type { Model } from '../../model.ts';
import type { OptimizerState } from '../../train/types.ts';
import { randomPopulation } from '../../train/index.ts';
import { lineChart } from '../chart.ts';
import { populationOn } from '../engine-client.ts';
import { bindPlayControls } from '../play-controls.ts';
import type { Session } from '../session.ts';
import { $, breathe, median, num, StatusLine } from '../ui.ts';
import { fallbackLine } from '../layers.ts';
import { populationBase } from './population.ts';
import { histogram } from '../population-stats.ts';

type PopulationSetup = ReturnType<ReturnType<typeof import('./population.ts').initPopulation>['read']>;

export interface PopulationPlaygroundState {
  step: number;
  count: number;
  /** After each frame: the step, the share of models with SSR ≤ threshold, and the median SSR. */
  frames: { step: number; reached: number; median: number }[];
  /** Every model's SSR at its current weights. */
  losses: number[];
  /** The current weights, model-major (P values per model). */
  params: number[];
  backend: string;
}

export function initPopulationPlayground(
  session: Session,
  readSetup: () => PopulationSetup,
  publish: (s: PopulationPlaygroundState) => void,
): void {
  const section = $('population');
  const status = new StatusLine($('pp-status'));
  let setup: PopulationSetup | null = null;
  let models: Model[] | null = null;
  let state: PopulationPlaygroundState | null = null;
  /** Every model's optimizer state after the last frame (null: the next frame starts the optimizer afresh). */
  let resume: OptimizerState | null = null;

  function begin(): void {
    resume = null;
    setup = readSetup();
    const base = populationBase(setup);
    models = randomPopulation(base, setup.count, setup.seed, setup.scale);
    state = { step: 0, count: setup.count, frames: [], losses: [], params: [], backend: session.engine.backend };
  }

  async function frame(n: number): Promise<boolean> {
    if (!setup || !models || !state) begin();
    const p = setup!;
    const s = state!;
    const left = p.steps - s.step;
    if (left <= 0) {
      status.done(`Reached the ${p.steps} steps set above; Reset to start again, or raise Steps.`);
      return false;
    }
    const k = Math.min(n, left);
    const r = await session.exclusive(
      () =>
        populationOn(session.engine, models!, seedData(2).batch, {
          optimizer: p.optimizer,
          steps: k,
          lossThreshold: p.threshold,
          returnOptimizerState: true,
          ...(resume ? { resume } : {}),
        }),
      {
        status,
        panel: 'Population playground',
      },
      'long',
    );
    if (state !== s) return false; // Reset while this frame ran
    // Steps are global (a resumed frame counts on from the last one).
    const moved = r.optimizerState!.step - s.step;
    if (moved === 0) {
      status.done(`Every model has stopped (reached SSR ≤ ${p.threshold}, or diverged); Reset to start again.`);
      return false;
    }
    const P = r.paramCount;
    models = models!.map((m, i) => ({ ...m, params: r.params.slice(i * P, (i + 1) * P) }));
    resume = r.optimizerState!;
    s.step += moved;
    s.losses = Array.from(r.finalLoss);
    s.params = Array.from(r.params);
    s.backend = r.backend;
    const reached = s.losses.filter((v) => v <= p.threshold).length / s.count;
    const med = median(s.losses); // of the finite values
    s.frames.push({ step: s.step, reached, median: med });
    const hist = histogram(r.finalLoss);
    lineChart(
      $('pp-hist'),
      {
        xLabel: 'log10 SSR now',
        yLabel: 'models',
        series: [{ label: 'models', color: '#1f4e9c' }],
        bars: true,
        legend: false,
      },
      [hist.map((b) => (b.lo + b.hi) / 2), hist.map((b) => b.count)],
    );
    await breathe();
    if (state !== s) return false;
    lineChart(
      $('pp-share'),
      {
        xLabel: 'step',
        yLabel: `share with SSR ≤ ${p.threshold}`,
        series: [{ label: 'share of models', points: s.frames.length < 40 }],
        legend: false,
        yRange: [0, 1],
      },
      [s.frames.map((f) => f.step), s.frames.map((f) => f.reached)],
    );
    $('pp-cap').textContent =
      `After ${s.step} steps, ${(100 * reached).toFixed(1)}% of the ${s.count} models have an SSR of at most ${p.threshold}; the median SSR is ${num(med)}. ` +
      'Left: how many models have each log10 SSR now (below 1e-12 counted at −12); right: the share at or below the threshold after each frame.';
    publish(structuredClone(s));
    status.info(
      `Step ${s.step} of ${p.steps} on ${r.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}: ${(100 * reached).toFixed(1)}% of the models reached SSR ≤ ${p.threshold}.${r.fallbackReason ? ` ${fallbackLine(r.fallbackReason)}` : ''}`,
    );
    return true;
  }

  bindPlayControls({
    session,
    status,
    section,
    play: $<HTMLButtonElement>('pp-play'),
    step: $<HTMLButtonElement>('pp-step'),
    reset: $<HTMLButtonElement>('pp-reset'),
    speed: $<HTMLSelectElement>('pp-speed'),
    frame,
    onReset: () => {
      setup = null;
      models = null;
      state = null;
      for (const id of ['pp-hist', 'pp-share', 'pp-cap']) $(id).replaceChildren();
      status.info(
        'Reset: the next Play or Step draws the initial weights again (with the settings above as they are then).',
      );
    },
  });
}
