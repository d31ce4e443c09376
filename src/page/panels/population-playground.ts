// The Population panel's playground: Play, Pause, Step, Reset and a speed (steps per frame) over the panel's
// settings. The population and every model's optimizer state stay where they train (the page's worker,
// population-play.ts); each frame is one short `trainPopulation` call there from the weights every model reached
// (`resume`), so N steps of Play are one N-step run, and what comes back is what the page draws: the histogram of
// the models' current SSR, the share at or below the threshold and the median (with the per-model SSRs and weights
// as transferred typed arrays). Frames run through the session's queue.

import { seedData } from '../../data/index.ts';
import { lineChart } from '../chart.ts';
import { populationPlayOn, type PopulationPlayHandle } from '../engine-client.ts';
import type { PopulationRecipe } from '../population-play.ts';
import { bindPlayControls } from '../play-controls.ts';
import type { Session } from '../session.ts';
import { $, breathe, num, StatusLine } from '../ui.ts';
import { fallbackLine } from '../layers.ts';
import { populationBase } from './population.ts';

type PopulationSetup = ReturnType<ReturnType<typeof import('./population.ts').initPopulation>['read']>;

export interface PopulationPlaygroundState {
  step: number;
  count: number;
  /** After each frame: the step, the share of models with SSR ≤ threshold, and the median SSR. */
  frames: { step: number; reached: number; median: number }[];
  /** Every model's SSR at its current weights. */
  losses: Float64Array;
  /** The current weights, model-major (P values per model). */
  params: Float64Array;
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
  /** The population, with every model's weights and optimizer state, where it trains (the worker). */
  let play: PopulationPlayHandle | null = null;
  let state: PopulationPlaygroundState | null = null;

  /** The population's draw (randomPopulation of the panel's base model). */
  let recipe: PopulationRecipe | null = null;

  function begin(): void {
    play?.drop();
    play = null;
    setup = readSetup();
    recipe = { base: populationBase(setup), count: setup.count, seed: setup.seed, scale: setup.scale };
    state = {
      step: 0,
      count: setup.count,
      frames: [],
      losses: new Float64Array(0),
      params: new Float64Array(0),
      backend: session.engine.backend,
    };
  }

  async function frame(n: number): Promise<boolean> {
    if (!setup || !recipe || !state) begin();
    const p = setup!;
    const s = state!;
    const drawn = recipe!;
    const left = p.steps - s.step;
    if (left <= 0) {
      status.done(`Reached the ${p.steps} steps set above; Reset to start again, or raise Steps.`);
      return false;
    }
    const k = Math.min(n, left);
    const r = await session.exclusive(
      () => {
        // Drawn and kept where it trains (the worker of the lane, once the queue lets this frame run): between
        // frames only the frame's options cross to it.
        play ??= populationPlayOn(session.engine, drawn, seedData(2).batch);
        return play.frame(
          session.engine,
          { optimizer: p.optimizer, steps: k, lossThreshold: p.threshold },
          p.threshold,
        );
      },
      {
        status,
        panel: 'Population playground',
      },
      'long',
    );
    if (state !== s) return false; // Reset while this frame ran
    // Steps are global (a resumed frame counts on from the last one).
    const moved = r.step - s.step;
    if (moved === 0) {
      status.done(`Every model has stopped (reached SSR ≤ ${p.threshold}, or diverged); Reset to start again.`);
      return false;
    }
    s.step += moved;
    // Typed arrays that came from the worker as they were (transferred): the page reads no model one by one.
    s.losses = r.finalLoss;
    s.params = r.params;
    s.backend = r.backend;
    const reached = r.reached / s.count;
    const med = r.median; // of the finite values, computed where the population trains
    s.frames.push({ step: s.step, reached, median: med });
    const hist = r.histogram;
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
    // The per-model arrays are replaced by every frame, never changed in place, so the published copy shares them.
    publish({ ...s, frames: s.frames.slice() });
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
      play?.drop();
      setup = null;
      recipe = null;
      play = null;
      state = null;
      for (const id of ['pp-hist', 'pp-share', 'pp-cap']) $(id).replaceChildren();
      status.info(
        'Reset: the next Play or Step draws the initial weights again (with the settings above as they are then).',
      );
    },
  });
}
