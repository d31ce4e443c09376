// Panel "Population": thousands of copies of the notes' network from random initial weights (randomPopulation),
// trained at once on the notes' data by src/train (`trainPopulation`); a histogram of final losses, a sample of
// loss curves with the median, and how many reached the notes' solution.

import type { CellName } from '../../cells/index.ts';
import { seedData } from '../../data/index.ts';
import type { Activation, ModelJSON } from '../../model.ts';
import { movedToCpu, populationViewOn } from '../engine-client.ts';
import { readStack, showFallback, stackedModel, type Stack } from '../layers.ts';
import { forLog, lineChart } from '../chart.ts';
import type { Session } from '../session.ts';
import {
  $,
  breathe,
  bindCellSelect,
  clearMarksOnEdit,
  fillTable,
  num,
  rate,
  readNumber,
  StatusLine,
  timeLeftText,
} from '../ui.ts';
import { readOptimizer } from './train.ts';
import type { Bin, PopulationView } from '../population-stats.ts';

export interface PopulationResult {
  backend: string;
  adapter: string;
  count: number;
  steps: number;
  threshold: number;
  reached: number;
  status: { ok: number; converged: number; diverged: number };
  finalLoss: number[];
  /** Median final SSR. */
  median: number;
  histogram: Bin[];
  /** Why it ran on the CPU although the page runs on WebGPU (stacked or bidirectional models), or null. */
  fallbackReason: string | null;
  /** The models' parameter count (every layer's blocks and the readout). */
  paramCount: number;
}

/**
 * The population's shape (the notes' 1 input and 1 output, output `last`, H hidden units, the panel's cell and
 * stacking) with the page's fixed draw (seed 0, scale 0.5); randomPopulation then draws every model's weights.
 */
export function populationBase(p: { hidden: number; activation: Activation; cell: CellName; stack: Stack }): ModelJSON {
  return stackedModel(
    { inputSize: 1, hiddenSize: p.hidden, outputSize: 1 },
    p.activation,
    'last',
    0,
    0.5,
    p.cell,
    p.stack,
  );
}

export function initPopulation(session: Session, publish: (r: PopulationResult) => void) {
  const section = $('population');
  const status = new StatusLine($('pop-status'));
  const runButton = $<HTMLButtonElement>('pop-run');
  const stopButton = $<HTMLButtonElement>('pop-stop');
  const progress = $<HTMLProgressElement>('pop-progress');
  const progressText = $('pop-progress-text');
  let controller: AbortController | null = null;
  const cellSelect = bindCellSelect($<HTMLSelectElement>('pop-cell'), $<HTMLSelectElement>('pop-act'));

  function read() {
    return {
      ...cellSelect.read(),
      stack: readStack('pop'),
      count: readNumber($<HTMLInputElement>('pop-count'), { min: 1, max: 100_000, integer: true }),
      scale: readNumber($<HTMLInputElement>('pop-scale'), { min: 0.001, max: 100 }),
      hidden: readNumber($<HTMLInputElement>('pop-hidden'), { min: 1, max: 16, integer: true }),
      optimizer: readOptimizer('pop'),
      steps: readNumber($<HTMLInputElement>('pop-steps'), { min: 1, max: 100_000, integer: true }),
      threshold: readNumber($<HTMLInputElement>('pop-threshold'), { min: 0, max: 1e6 }),
      seed: readNumber($<HTMLInputElement>('pop-seed'), { min: 0, max: 4294967295, integer: true }),
    };
  }

  async function show(r: PopulationView, threshold: number): Promise<PopulationResult> {
    // Computed where the population trained (the worker).
    const sum = r.summary;
    const hist = sum.histogram;
    lineChart(
      $('pop-hist'),
      {
        xLabel: 'log10 final SSR',
        yLabel: 'models',
        series: [{ label: 'models', color: '#1f4e9c' }],
        bars: true,
        legend: false,
      },
      [hist.map((b) => (b.lo + b.hi) / 2), hist.map((b) => b.count)],
    );
    await breathe();
    // Loss curves: an even sample of models, and the median over all models at each recorded step.
    const pick = sum.pick;
    const med = Array.from(sum.medianCurve, (v) => (Number.isFinite(v) ? forLog(v) : null));
    const data = [r.curveSteps, ...sum.curves.map((c) => Array.from(c, forLog)), med];
    lineChart(
      $('pop-curves'),
      {
        xLabel: 'step',
        yLabel: 'SSR (log)',
        logY: true,
        legend: false,
        series: [
          ...pick.map((m) => ({ label: `model ${m}`, color: '#7a8fb8', width: 1 })),
          { label: 'median of all models', color: '#a63c00', width: 3 },
        ],
      },
      data as never,
    );
    await breathe();
    const reached = sum.reached;
    const counts = sum.status;
    const med0 = sum.median;
    fillTable(
      $<HTMLTableElement>('pop-table'),
      ['', 'result'],
      [
        ['models', r.count],
        ['ran on', `${r.backend} (${r.adapter})${r.fallbackReason ? `, moved from WebGPU: ${r.fallbackReason}` : ''}`],
        [`final SSR ≤ ${threshold}`, `${reached} of ${r.count} (${((100 * reached) / r.count).toFixed(1)}%)`],
        ['median final SSR', num(med0)],
        [
          'stopped early at the threshold / ran every step / diverged',
          `${counts.converged} / ${counts.ok} / ${counts.diverged}`,
        ],
        [
          'time',
          `${r.seconds.toFixed(2)} s (${rate((r.count * sum.steps) / Math.max(r.seconds, 1e-9))} model-steps/s)`,
        ],
      ],
    );
    $('pop-summary').textContent =
      `${reached} of ${r.count} models reached an SSR of at most ${threshold}; the median final SSR is ${num(med0)}. ` +
      `The histogram counts models by log10 of their final SSR (values below 1e-12 are counted at −12); the curves show ${pick.length} sampled models and, thick, the median over all ${r.count}.`;
    return {
      backend: r.backend,
      adapter: r.adapter,
      count: r.count,
      steps: sum.steps,
      threshold,
      reached,
      status: counts,
      finalLoss: Array.from(r.finalLoss),
      median: med0,
      histogram: hist,
      fallbackReason: r.fallbackReason ?? null,
      paramCount: r.paramCount,
    };
  }

  async function run(): Promise<void> {
    if (controller) return;
    await session.guard(status, section, async () => {
      const p = read();
      controller = new AbortController();
      const signal = controller.signal;
      runButton.disabled = true;
      stopButton.disabled = false;
      try {
        // The notes' shape (1 input, 1 output, output `last`) with H hidden units; randomPopulation draws every weight.
        const base = populationBase(p);
        // Drawn where it trains (a worker), so a large population does not cross from the page.
        const models = { base, count: p.count, seed: p.seed, scale: p.scale };
        showFallback('pop', movedToCpu(session.engine, base));
        status.info(`Training ${p.count} models…`);
        progress.value = 0;
        progressText.textContent = '';
        // On the CPU every model step runs on this thread: read back (and let the page breathe) every ~5000 model-steps.
        const cpuEvery = Math.max(1, Math.floor(5000 / p.count));
        const r = await session.exclusive(
          () => {
            const t0 = performance.now();
            const onWebGpu = session.engine.backend === 'webgpu' && !movedToCpu(session.engine, base);
            // On the CPU backend the population trains in the page's CPU worker.
            return populationViewOn(
              session.engine,
              models,
              seedData(2).batch,
              {
                optimizer: p.optimizer,
                steps: p.steps,
                lossThreshold: p.threshold,
                readbackEvery: onWebGpu ? Math.max(10, Math.min(200, Math.ceil(p.steps / 50))) : cpuEvery,
                signal,
                onProgress: ({ step, steps, stepsPerSecond }) => {
                  progress.value = step / steps;
                  progressText.textContent = `step ${step} of ${steps}, ${rate(stepsPerSecond * p.count)} model-steps/s, ${step < steps ? timeLeftText(step, steps, (performance.now() - t0) / 1000) : 'done'}`;
                  status.info(`Training ${p.count} models: step ${step} of ${steps}…`);
                },
              },
              p.threshold,
            );
          },
          { status, panel: 'Population' },
          'long',
        );
        const res = await show(r, p.threshold);
        publish(res);
        status.done(
          `${r.aborted ? 'Stopped' : 'Trained'} ${r.count} models: ${res.reached} reached SSR ≤ ${p.threshold} (${r.seconds.toFixed(2)} s).`,
        );
      } finally {
        controller = null;
        runButton.disabled = false;
        stopButton.disabled = true;
      }
    });
  }

  clearMarksOnEdit(section);
  $<HTMLFormElement>('pop-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  stopButton.addEventListener('click', () => controller?.abort());
  return { run, read };
}
