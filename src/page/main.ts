// The experiments page: starts one engine (WebGPU when the browser has an adapter, else the CPU reference, with a
// visible notice), shows which backend and adapter run, wires the panels, and offers the CPU after a GPU error
// without reloading. Every panel calls the same library code as Node.

import { initLandscape } from './panels/landscape.ts';
import { initPlayground } from './panels/playground.ts';
import { initPopulation } from './panels/population.ts';
import { initPopulationPlayground } from './panels/population-playground.ts';
import { initSeed } from './panels/seed.ts';
import { initThroughput } from './panels/throughput.ts';
import { initTrain } from './panels/train.ts';
import { initUnroll } from './panels/unroll.ts';
import { initCellStudy } from './panels/cell-study.ts';
import { initVerify } from './panels/verify.ts';
import { initModelFile } from './panels/model-file.ts';
import { Session } from './session.ts';
import { seedData } from '../data/index.ts';
import { randomModel } from '../random.ts';
import { randomPopulation } from '../train/index.ts';
import { pipelineStats } from '../gpu/kernel.ts';
import { modelFromJSON } from '../model.ts';
import { cpuRun, landscapeOn, populationOn, startGpuWorker, trainOn } from './engine-client.ts';
import { charts, chartSpecs, type LineChartSpec } from './chart.ts';
import { initPresets } from './presets.ts';
import { $, softwareAdapter, withValues } from './ui.ts';
import { syncUrl } from './url-state.ts';

declare global {
  interface Window {
    /** The page's engines and the last result of each panel, for tests and the console. */
    webgpuRnn?: {
      session: Session;
      results: Record<string, unknown>;
      runs: Record<string, () => Promise<void>>;
      /** The data each chart draws, by container id. */
      chartData: (id: string) => (number | null)[][] | null;
      /** The ranges of a chart's x and y scales. */
      chartScales: (id: string) => { x: [number, number]; y: [number, number] } | null;
      /** The spec a chart was drawn with (axis labels, series: colours, lines or points only). */
      chartSpec: (id: string) => LineChartSpec | null;
      /** The tick labels a chart's x and y axes drew (on the canvas, not in the DOM). */
      chartTicks: (id: string) => { x: string[]; y: string[] } | null;
    };
  }
}

function showBackend(session: Session): void {
  const line = $('backend-line');
  const fallback = $('fallback');
  const e = session.engine;
  line.dataset.backend = e.backend;
  line.dataset.adapter = e.adapter;
  if (e.backend === 'webgpu') {
    const soft = softwareAdapter(e.adapter);
    line.textContent = `Backend: WebGPU — ${e.adapter}${soft ? ` (${soft}, not a GPU)` : ''}`;
    fallback.hidden = true;
  } else {
    // One notice says why (the backend line only names the backend), without advice meant for other contexts
    // ("use the CPU backend": the page already does).
    line.textContent = 'Backend: CPU reference (float64 JavaScript)';
    fallback.hidden = false;
    const why = (e.fallbackReason ?? session.cpuReason ?? '')
      .replace(/\s*(,|\.)?\s*or use the CPU backend\.?/i, '')
      .trim();
    const said = why ? ` Reason: ${why.replace(/\.$/, '')}.` : '';
    fallback.textContent = e.fallbackReason
      ? `WebGPU is not available here, so every panel runs on the CPU reference.${said}`
      : `The page left WebGPU after an error and runs every panel on the CPU reference.${said}`;
  }
}

/**
 * Draws once on a small canvas in the page: the first 2D canvas drawn sets up the renderer's GPU context for
 * canvases (about 30 ms of the main thread on a software GPU, in the page's traces), which would otherwise fall in the
 * first run that draws a chart.
 */
function warmCanvas(): void {
  const canvas = document.createElement('canvas');
  canvas.width = 16;
  canvas.height = 16;
  canvas.setAttribute('aria-hidden', 'true');
  Object.assign(canvas.style, { position: 'absolute', left: '-100px', top: '0', width: '16px', height: '16px' });
  document.body.appendChild(canvas);
  canvas.getContext('2d')?.fillRect(0, 0, 16, 16);
  requestAnimationFrame(() => requestAnimationFrame(() => canvas.remove()));
}

async function start(): Promise<void> {
  let session: Session;
  try {
    session = await Session.create();
  } catch (e) {
    $('backend-line').textContent = `The engine could not start: ${(e as Error).message}`;
    $('backend-line').className = 'backend error';
    return;
  }
  showBackend(session);
  warmCanvas();
  session.onChange(() => showBackend(session));

  const box = $('gpu-error');
  let retry: (() => void) | null = null;
  session.onGpuError = (message, again) => {
    const m = message.trim();
    $('gpu-error-text').textContent =
      `WebGPU failed: ${m}${/[.!?)]$/.test(m) ? '' : '.'} You can go on with the CPU reference without reloading.`;
    box.hidden = false;
    retry = again;
    $('gpu-error-cpu').focus();
  };
  $('gpu-error-cpu').addEventListener('click', () => {
    session.switchToCpu('the WebGPU device failed and the page switched to the CPU');
    box.hidden = true;
    const again = retry;
    retry = null;
    again?.();
  });

  const results: Record<string, unknown> = {};
  const publish =
    (name: string) =>
    (r: unknown): void => {
      results[name] = r;
      document.body.dataset[`${name}Runs`] = String(Number(document.body.dataset[`${name}Runs`] ?? 0) + 1);
    };
  const runs: Record<string, () => Promise<void>> = {};
  runs.seed = initSeed(session, publish('seed')).run;
  const trainPanel = initTrain(session, publish('train'));
  runs.train = trainPanel.run;
  initPlayground(session, trainPanel.read, publish('playground'));
  const populationPanel = initPopulation(session, publish('population'));
  runs.population = populationPanel.run;
  initPopulationPlayground(session, populationPanel.read, publish('populationPlayground'));
  runs.landscape = initLandscape(session, publish('landscape')).run;
  runs.unroll = initUnroll(session, publish('unroll')).run;
  runs.cells = initCellStudy(session, publish('cells')).run;
  runs.throughput = initThroughput(session, publish('throughput')).run;
  runs.verify = initVerify(session, publish('verify')).run;
  initModelFile(session, publish('modelFile'));
  const chartData = (id: string): (number | null)[][] | null => {
    const u = charts.get(id);
    return u?.data ? u.data.map((s) => Array.from(s as ArrayLike<number | null>)) : null;
  };
  const chartScales = (id: string): { x: [number, number]; y: [number, number] } | null => {
    const u = charts.get(id);
    return u ? { x: [u.scales.x.min!, u.scales.x.max!], y: [u.scales.y.min!, u.scales.y.max!] } : null;
  };
  const chartTicks = (id: string): { x: string[]; y: string[] } | null => {
    const u = charts.get(id);
    if (!u) return null;
    // The labels uPlot drew last (it keeps them on the axis; none when it found no tick spacing).
    const drawn = (k: number): string[] =>
      ((u.axes[k] as unknown as { _values: (string | null)[] | null })._values ?? []).map((v) => v ?? '');
    return { x: drawn(0), y: drawn(1) };
  };
  const chartSpec = (id: string): LineChartSpec | null => chartSpecs.get(id) ?? null;
  window.webgpuRnn = { session, results, runs, chartData, chartScales, chartTicks, chartSpec };
  initPresets(() => void runs.cells());
  // The page's own defaults, before the URL's settings apply: the runs on open shrink only fields left at them.
  const defaults = new Map(
    Array.from(document.querySelectorAll<HTMLInputElement | HTMLSelectElement>('main section [id]'))
      .filter((el) => el instanceof HTMLInputElement || el instanceof HTMLSelectElement)
      .map((el) => [el.id, el.value]),
  );
  // Read before the fields' edits rewrite the query string (which keeps only the fields).
  const runOnOpen = new URLSearchParams(location.search).get('run') !== '0';
  const fromUrl = syncUrl();
  document.body.dataset.ready = 'true';
  await runs.seed();
  await warmUp(session);
  if (runOnOpen) await openRuns(runs, defaults, fromUrl);
}

/**
 * Smaller values for the runs on open, each used only where the field still has the page's default (a value from
 * the URL or typed by hand is run as it is): a population of 200 models × 200 steps, a 32 × 32 landscape, Verify
 * on 100 sequences.
 */
const SMALL: Record<string, Record<string, string>> = {
  population: { 'pop-count': '200', 'pop-steps': '200' },
  landscape: { 'ls-grid': '32' },
  verify: { 'vf-n': '100' },
};

/** The playground's data on open, where the Train settings are the page's: a noisy sine for a tanh network. */
const OPEN_PLAY: Record<string, string> = {
  'tr-data': 'sine',
  'tr-count': '64',
  'tr-hidden': '8',
  'tr-act': 'tanh',
  'tr-lr': '0.01',
};

const labelText = (id: string): string => document.querySelector(`label[for="${id}"]`)?.textContent?.trim() ?? id;

/**
 * Opens running: after the warm-up, Train runs its settings, its playground starts playing (on a noisy sine unless
 * the URL or the user chose the Train data), and Population, the loss landscape, the unroll study, the cells study
 * and Verify run theirs, at a small size where their fields are at the page's defaults (a panel's status says so).
 * Throughput measures only on request: its timings need the page otherwise idle. A settings URL's values are run as
 * they are, so the link reproduces its runs.
 */
async function openRuns(
  runs: Record<string, () => Promise<void>>,
  defaults: Map<string, string>,
  fromUrl: string[],
): Promise<void> {
  const atDefault = (id: string): boolean => {
    const el = document.getElementById(id) as HTMLInputElement | HTMLSelectElement | null;
    return !!el && el.value === defaults.get(id);
  };
  const small = (panel: string): Map<string, string> =>
    new Map(Object.entries(SMALL[panel] ?? {}).filter(([id]) => atDefault(id)));
  const note = (statusId: string, values: Map<string, string>, button: string): void => {
    if (values.size === 0) return;
    const el = document.getElementById(statusId);
    if (!el) return;
    const what = Array.from(values, ([id, v]) => `${labelText(id)} ${v}`).join(', ');
    el.textContent = `${el.textContent ?? ''} Run on open at a small size (${what}); press ${button} to run the settings above.`;
  };
  document.body.dataset.openRuns = 'running';
  try {
    await runs.train();
    // The playground plays on its own (each frame queues beside the other panels' runs).
    const trainAtDefaults = Object.keys(OPEN_PLAY).every(atDefault) && !fromUrl.some((id) => id.startsWith('tr-'));
    const play = new Map(trainAtDefaults ? Object.entries(OPEN_PLAY) : []);
    // Not if the playground was started (or stepped) by hand meanwhile: a click would pause it.
    const button = $<HTMLButtonElement>('pg-play');
    const untouched = !document.body.dataset.playgroundRuns && button.getAttribute('aria-pressed') !== 'true';
    if (untouched) withValues(play, () => button.click());
    $('pg-note').textContent = !untouched
      ? ''
      : trainAtDefaults
        ? 'Playing since the page opened, on a noisy sine (64 windows, 8 tanh units, Adam, learning rate 0.01). Pause, then Reset: the next Play uses the settings above.'
        : 'Playing since the page opened, with the settings above.';
    for (const [panel, statusId, button] of [
      ['population', 'pop-status', 'Train the population'],
      ['landscape', 'ls-status', 'Compute'],
      ['unroll', 'ur-status', 'Run the study'],
      ['cells', 'uc-status', 'Compare the cells'],
      ['verify', 'vf-status', 'Verify'],
    ] as const) {
      const values = small(panel);
      await withValues(values, () => runs[panel]());
      note(statusId, values, button);
    }
  } finally {
    document.body.dataset.openRuns = 'done';
  }
}

/**
 * Starts the CPU worker, and on WebGPU the WebGPU worker, and builds the kernels once while the page is idle after
 * loading: in the worker's engines (holding the long lane), a 20-step training of the notes' network, a population
 * of two and a 2 × 2 landscape; on the page's engine (holding the short lane), a forward pass (the seed panel,
 * Verify). Building a kernel the first time takes a few hundred ms on a software adapter, and this keeps that
 * out of the user's first runs.
 */
async function warmUp(session: Session): Promise<void> {
  const engine = session.gpu;
  await new Promise((r) =>
    'requestIdleCallback' in window ? requestIdleCallback(r, { timeout: 500 }) : setTimeout(r, 50),
  );
  // The CPU worker (every CPU panel, and Verify's reference on any backend) starts and loads the library now, not in
  // the first run that needs it.
  await cpuRun(
    modelFromJSON(randomModel({ inputSize: 1, hiddenSize: 1, outputSize: 1 }, 'relu', 'last', 0)),
    seedData(2).batch,
    { gradients: true },
  ).catch((e) => console.warn('warm-up', e));
  if (!engine) {
    document.body.dataset.warm = 'true';
    return;
  }
  const data = seedData(2).batch;
  const model = randomModel({ inputSize: 1, hiddenSize: 1, outputSize: 1 }, 'relu', 'last', 0);
  const busy = { panel: 'start-up', busy: 'the page is building its GPU kernels (once, after loading)' };
  const axis = (param: string) => ({ param, min: -1, max: 1, steps: 2 });
  session.warming = busy.busy;
  await Promise.all([
    // The page's engine (the short lane, briefly: the other short-lane panels need not wait for the worker).
    session.exclusive(() => engine.run(model, data, { gradients: false }), busy, 'short'),
    // The WebGPU worker's engines, holding the long lane: a Train or Population run waits for them rather than
    // training on the page. The panels' default calls, shortened (the same kernels and overrides).
    session.exclusive(
      async () => {
        await startGpuWorker();
        await Promise.all([
          (async () => {
            await trainOn(engine, model, data, {
              optimizer: { kind: 'adam', lr: 0.05 },
              steps: 20,
              historyEvery: 1,
              readbackEvery: 10,
            });
            await populationOn(engine, randomPopulation(model, 2, 0), data, {
              optimizer: { kind: 'adam', lr: 0.05 },
              steps: 20,
              lossThreshold: 0.001,
              readbackEvery: 20,
            });
          })(),
          landscapeOn(engine, model, data, axis('w1'), axis('w2')),
        ]);
      },
      busy,
      'long',
    ),
  ]).catch((e) => console.warn('warm-up', e)); // a real run reports any GPU error itself
  session.warming = null;
  document.body.dataset.warm = 'true';
  document.body.dataset.pipelines = String(pipelineStats(engine.device!).pipelines);
}

void start();
