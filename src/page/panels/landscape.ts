// Panel "Loss landscape": the SSR of the notes' network on the notes' data over a grid of two of its parameters
// (src/train `lossLandscape`, on the engine's backend), drawn as a heatmap with the gradient-descent path that
// trains only those two parameters from a chosen start.

import { seedData } from '../../data/index.ts';
import { modelFromJSON, modelToJSON, paramName, type Activation, type ModelJSON } from '../../model.ts';
import { scalarModel, statquestWeights, type ScalarWeights } from '../../statquest.ts';
import { axisValues } from '../../train/index.ts';
import { landscapeOn, movedToCpu } from '../engine-client.ts';
import { drawHeatmap } from '../heatmap.ts';
import { isStacked, readStack, showFallback, stackedModel, stackText, type Stack } from '../layers.ts';
import type { Session } from '../session.ts';
import { $, breathe, clearMarksOnEdit, FieldError, num, readNumber, StatusLine, timeLeftText } from '../ui.ts';
import { readOptimizer } from './train.ts';

export interface LandscapeView {
  backend: string;
  adapter: string;
  xName: string;
  yName: string;
  steps: number;
  x: number[];
  y: number[];
  losses: number[];
  path: { step: number; x: number; y: number; loss: number }[] | null;
  seconds: number;
  /** The run was stopped before the grid was complete (the rest of the grid is NaN). */
  aborted: boolean;
  /** The start point lies outside the grid. */
  startOutside: boolean;
  /** Why it ran on the CPU although the page runs on WebGPU (a stacked or bidirectional model), or null. */
  fallbackReason: string | null;
  /** The model's stacking. */
  numLayers: number;
  bidirectional: boolean;
}

const PARAMS: (keyof ScalarWeights)[] = ['w1', 'b1', 'w2', 'w3', 'b2'];

/** Where the notes' weights sit in a stacked or bidirectional model: the first layer's forward unit and the readout's first weight. */
const STACKED_NAMES: Record<keyof ScalarWeights, string> = {
  w1: 'layers[0].Wx[0][0]',
  b1: 'layers[0].bh[0]',
  w2: 'layers[0].Wh[0][0]',
  w3: 'Wy[0][0]',
  b2: 'by[0]',
};

/**
 * The landscape's model: the notes' network, or, stacked or bidirectional, a 1-unit Elman model of that stacking
 * with the notes' weights in the first layer's forward unit and the readout's first weight, and every other weight
 * (later layers, the reverse direction, the readout of the reverse state) drawn uniformly from ±0.5 with seed 0.
 * Returns the model and the library's names of the two parameters.
 */
export function landscapeModel(
  w: ScalarWeights,
  activation: Activation,
  stack: Stack,
  xp: keyof ScalarWeights,
  yp: keyof ScalarWeights,
): { model: ModelJSON; x: string; y: string } {
  if (!isStacked(stack)) return { model: scalarModel(w, activation), x: xp, y: yp };
  const m = modelFromJSON(
    stackedModel({ inputSize: 1, hiddenSize: 1, outputSize: 1 }, activation, 'last', 0, 0.5, 'elman', stack),
  );
  const index = new Map(Array.from({ length: m.params.length }, (_, p) => [paramName(m, p), p]));
  for (const k of PARAMS) m.params[index.get(STACKED_NAMES[k])!] = w[k];
  return { model: modelToJSON(m), x: STACKED_NAMES[xp], y: STACKED_NAMES[yp] };
}

export function initLandscape(session: Session, publish: (r: LandscapeView) => void): { run: () => Promise<void> } {
  const section = $('landscape');
  const status = new StatusLine($('ls-status'));
  const button = $<HTMLButtonElement>('ls-run');

  function read() {
    const xField = $<HTMLSelectElement>('ls-x');
    const yField = $<HTMLSelectElement>('ls-y');
    const xp = xField.value as keyof ScalarWeights;
    const yp = yField.value as keyof ScalarWeights;
    if (!PARAMS.includes(xp) || !PARAMS.includes(yp))
      throw new FieldError(xField, 'Parameters: choose two of w1, b1, w2, w3, b2');
    if (xp === yp) throw new FieldError(yField, `Vertical parameter: choose a parameter other than ${xp}`);
    const range = { min: -100, max: 100 };
    const xmin = readNumber($<HTMLInputElement>('ls-xmin'), range);
    const xmaxField = $<HTMLInputElement>('ls-xmax');
    const xmax = readNumber(xmaxField, range);
    if (!(xmax > xmin)) throw new FieldError(xmaxField, `Horizontal to: ${xmax} must be greater than ${xmin}`);
    const ymin = readNumber($<HTMLInputElement>('ls-ymin'), range);
    const ymaxField = $<HTMLInputElement>('ls-ymax');
    const ymax = readNumber(ymaxField, range);
    if (!(ymax > ymin)) throw new FieldError(ymaxField, `Vertical to: ${ymax} must be greater than ${ymin}`);
    const steps = readNumber($<HTMLInputElement>('ls-grid'), { min: 2, max: 512, integer: true });
    const withPath = $<HTMLInputElement>('ls-path').checked;
    const startX = readNumber($<HTMLInputElement>('ls-sx'), range);
    const startY = readNumber($<HTMLInputElement>('ls-sy'), range);
    const pathSteps = readNumber($<HTMLInputElement>('ls-steps'), { min: 1, max: 100_000, integer: true });
    return {
      xp,
      yp,
      xmin,
      xmax,
      ymin,
      ymax,
      steps,
      withPath,
      startX,
      startY,
      pathSteps,
      optimizer: readOptimizer('ls'),
      activation: $<HTMLSelectElement>('ls-act').value as Activation,
      stack: readStack('ls'),
    };
  }

  const stopButton = $<HTMLButtonElement>('ls-stop');
  const progress = $<HTMLProgressElement>('ls-progress');
  const progressText = $('ls-progress-text');
  let controller: AbortController | null = null;

  /** A click on the heatmap moves the start point there and computes again. */
  function pick(x: number, y: number): void {
    $<HTMLInputElement>('ls-sx').value = String(x);
    $<HTMLInputElement>('ls-sy').value = String(y);
    $<HTMLInputElement>('ls-path').checked = true;
    void run();
  }

  async function run(): Promise<void> {
    if (controller) return;
    button.disabled = true;
    try {
      await session.guard(status, section, async () => {
        const p = read();
        controller = new AbortController();
        const signal = controller.signal;
        stopButton.disabled = false;
        progress.value = 0;
        progressText.textContent = '';
        status.info(`Computing ${p.steps} × ${p.steps} SSR values…`);
        const w: ScalarWeights = { ...statquestWeights(), [p.xp]: p.startX, [p.yp]: p.startY };
        const built = landscapeModel(w, p.activation, p.stack, p.xp, p.yp);
        const model = built.model;
        showFallback('ls', movedToCpu(session.engine, model));
        const data = seedData(2).batch;
        const xAxis = { param: built.x, min: p.xmin, max: p.xmax, steps: p.steps };
        const xs = axisValues(xAxis);
        const ys = axisValues({ param: p.yp, min: p.ymin, max: p.ymax, steps: p.steps });
        const losses = new Float64Array(p.steps * p.steps).fill(NaN);
        const r = await session.exclusive(
          async () => {
            const engine = session.engine;
            const t0 = performance.now();
            // The grid in bands of rows (each band one lossLandscape call over its rows, in the CPU worker on the CPU
            // backend), so the page can show progress, estimate the time left and stop between bands.
            const perBand = engine.backend === 'webgpu' && !movedToCpu(engine, model) ? 1 << 16 : 4096;
            const rows = Math.max(2, Math.floor(perBand / p.steps));
            let aborted = false;
            let meta = {
              backend: engine.backend as string,
              adapter: engine.adapter,
              xName: p.xp as string,
              yName: p.yp as string,
            };
            for (let iy0 = 0; iy0 < p.steps;) {
              const iy1 = Math.min(p.steps - 1, iy0 + rows - 1);
              const from = iy1 > iy0 ? iy0 : iy1 - 1; // a band needs two rows: a lone last row recomputes the one before
              const band = await landscapeOn(engine, model, data, xAxis, {
                param: built.y,
                min: ys[from],
                max: ys[iy1],
                steps: iy1 - from + 1,
              });
              losses.set(band.losses, from * p.steps);
              meta = { backend: band.backend, adapter: band.adapter, xName: band.xName, yName: band.yName };
              iy0 = iy1 + 1;
              progress.value = iy0 / p.steps;
              progressText.textContent = `${iy0} of ${p.steps} rows, ${iy0 < p.steps ? timeLeftText(iy0, p.steps, (performance.now() - t0) / 1000) : 'grid done'}`;
              if (signal.aborted) {
                aborted = iy0 < p.steps;
                break;
              }
              await new Promise((res) => setTimeout(res, 0));
            }
            let path: LandscapeView['path'] = null;
            if (p.withPath && !signal.aborted) {
              // The descent path alone (the grid of this call is the smallest there is).
              const only = await landscapeOn(
                engine,
                model,
                data,
                { ...xAxis, steps: 2 },
                { param: built.y, min: p.ymin, max: p.ymax, steps: 2 },
                { path: { optimizer: p.optimizer, steps: p.pathSteps, signal } },
              );
              path = only.path;
            }
            // Stopped: rows missing, or a descent path cut short (a Stop after the last row of a run without a path changes nothing).
            return {
              ...meta,
              path,
              aborted: aborted || (p.withPath && signal.aborted),
              seconds: (performance.now() - t0) / 1000,
            };
          },
          { status, panel: 'Loss landscape' },
        );
        const path = r.path?.map((q) => ({ x: q.x, y: q.y })) ?? null;
        await breathe();
        const { lo, hi } = drawHeatmap($('ls-heat'), {
          values: losses,
          x: xs,
          y: ys,
          xLabel: `${p.xp} (${r.xName})`,
          yLabel: `${p.yp} (${r.yName})`,
          path,
          valueLabel: 'SSR (log scale)',
          onPick: pick,
        });
        let best = -1;
        for (let k = 0; k < losses.length; k++)
          if (Number.isFinite(losses[k]) && (best < 0 || losses[k] < losses[best])) best = k;
        const bx = best >= 0 ? xs[best % xs.length] : NaN;
        const by = best >= 0 ? ys[Math.floor(best / xs.length)] : NaN;
        const end = r.path?.at(-1);
        const inside = (x: number, y: number): boolean => x >= p.xmin && x <= p.xmax && y >= p.ymin && y <= p.ymax;
        const startOutside = p.withPath && !inside(p.startX, p.startY);
        const leaves = !!r.path && r.path.some((q) => !inside(q.x, q.y));
        $('ls-summary').textContent =
          `SSR of the notes' network (${p.activation}${isStacked(p.stack) ? `${stackText(p.stack)}: the notes' weights in the first layer's forward unit and the readout, the other weights uniform in ±0.5, seed 0` : ''}) on the notes' data over ${p.xp} from ${p.xmin} to ${p.xmax} (across) and ${p.yp} from ${p.ymin} to ${p.ymax} (up), ` +
          `other weights as in the notes; colours are log10 SSR from ${lo.toFixed(1)} to ${hi.toFixed(1)}. The lowest grid value is ${num(losses[best] ?? NaN)} at ${p.xp} = ${num(bx)}, ${p.yp} = ${num(by)}.` +
          (end && r.path
            ? ` The descent path (red, ${r.path.length - 1} steps, open circle at the start) goes from (${num(r.path[0].x)}, ${num(r.path[0].y)}) with SSR ${num(r.path[0].loss)} to (${num(end.x)}, ${num(end.y)}) with SSR ${num(end.loss)}.`
            : '');
        publish({
          backend: r.backend,
          adapter: r.adapter,
          xName: r.xName,
          yName: r.yName,
          steps: p.steps,
          x: Array.from(xs),
          y: Array.from(ys),
          losses: Array.from(losses),
          path: r.path,
          seconds: r.seconds,
          aborted: r.aborted,
          startOutside,
          fallbackReason: movedToCpu(session.engine, model),
          numLayers: p.stack.numLayers,
          bidirectional: p.stack.bidirectional,
        });
        const what = `${r.aborted ? `Stopped: ${Math.round(progress.value * p.steps)} of ${p.steps} rows` : `${p.steps * p.steps} SSR values`} on ${r.backend} (${r.adapter}) in ${r.seconds.toFixed(2)} s.`;
        if (startOutside) {
          status.warn(
            `${what} The start point (${p.xp} = ${p.startX}, ${p.yp} = ${p.startY}) lies outside the grid, so the path ${leaves && r.path?.some((q) => inside(q.x, q.y)) ? 'is drawn only where it crosses the grid' : 'does not appear on it'}: widen the ranges or pick a start inside (click on the map).`,
          );
        } else if (leaves) {
          status.warn(`${what} The descent path leaves the grid; only the part inside is drawn.`);
        } else status.done(what);
      });
    } finally {
      controller = null;
      button.disabled = false;
      stopButton.disabled = true;
    }
  }

  clearMarksOnEdit(section);
  stopButton.addEventListener('click', () => controller?.abort());
  $<HTMLFormElement>('ls-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  return { run };
}
