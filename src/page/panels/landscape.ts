// Panel "Loss landscape": the SSR of the notes' network on the notes' data over a grid of two of its parameters
// (src/train `lossLandscape`, on the engine's backend), drawn as a heatmap with the gradient-descent path that
// trains only those two parameters from a chosen start.

import { seedData } from '../../data/index.ts';
import type { Activation } from '../../model.ts';
import { scalarModel, statquestWeights, type ScalarWeights } from '../../statquest.ts';
import { lossLandscape, type LandscapeResult } from '../../train/index.ts';
import { drawHeatmap } from '../heatmap.ts';
import type { Session } from '../session.ts';
import { $, FieldError, num, readNumber, StatusLine } from '../ui.ts';
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
}

const PARAMS: (keyof ScalarWeights)[] = ['w1', 'b1', 'w2', 'w3', 'b2'];

export function initLandscape(session: Session, publish: (r: LandscapeView) => void): { run: () => Promise<void> } {
  const section = $('landscape');
  const status = new StatusLine($('ls-status'));
  const button = $<HTMLButtonElement>('ls-run');

  function read() {
    const xField = $<HTMLSelectElement>('ls-x');
    const yField = $<HTMLSelectElement>('ls-y');
    const xp = xField.value as keyof ScalarWeights;
    const yp = yField.value as keyof ScalarWeights;
    if (!PARAMS.includes(xp) || !PARAMS.includes(yp)) throw new FieldError(xField, 'Parameters: choose two of w1, b1, w2, w3, b2');
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
    return { xp, yp, xmin, xmax, ymin, ymax, steps, withPath, startX, startY, pathSteps, optimizer: readOptimizer('ls'), activation: $<HTMLSelectElement>('ls-act').value as Activation };
  }

  async function run(): Promise<void> {
    button.disabled = true;
    try {
      await session.guard(status, section, async () => {
        const p = read();
        status.info(`Computing ${p.steps} × ${p.steps} SSR values…`);
        const w: ScalarWeights = { ...statquestWeights(), [p.xp]: p.startX, [p.yp]: p.startY };
        const r: LandscapeResult = await session.exclusive(() =>
          lossLandscape(
            session.engine,
            scalarModel(w, p.activation),
            seedData(2).batch,
            { param: p.xp, min: p.xmin, max: p.xmax, steps: p.steps },
            { param: p.yp, min: p.ymin, max: p.ymax, steps: p.steps },
            p.withPath ? { path: { optimizer: p.optimizer, steps: p.pathSteps } } : {},
          ),
        );
        const path = r.path?.map((q) => ({ x: q.x, y: q.y })) ?? null;
        const { lo, hi } = drawHeatmap($('ls-heat'), { values: r.losses, x: r.x, y: r.y, xLabel: `${p.xp} (${r.xName})`, yLabel: `${p.yp} (${r.yName})`, path });
        let best = 0;
        for (let k = 1; k < r.losses.length; k++) if (r.losses[k] < r.losses[best] || !Number.isFinite(r.losses[best])) best = k;
        const bx = r.x[best % r.x.length];
        const by = r.y[Math.floor(best / r.x.length)];
        const end = r.path?.at(-1);
        $('ls-summary').textContent =
          `SSR of the notes' network (${p.activation}) on the notes' data over ${p.xp} from ${p.xmin} to ${p.xmax} (across) and ${p.yp} from ${p.ymin} to ${p.ymax} (up), ` +
          `other weights as in the notes; colours are log10 SSR from ${lo.toFixed(1)} to ${hi.toFixed(1)}. The lowest grid value is ${num(r.losses[best])} at ${p.xp} = ${num(bx)}, ${p.yp} = ${num(by)}.` +
          (end && r.path
            ? ` The descent path (red, ${r.path.length - 1} steps, open circle at the start) goes from (${num(r.path[0].x)}, ${num(r.path[0].y)}) with SSR ${num(r.path[0].loss)} to (${num(end.x)}, ${num(end.y)}) with SSR ${num(end.loss)}.`
            : '');
        publish({
          backend: r.backend,
          adapter: r.adapter,
          xName: r.xName,
          yName: r.yName,
          steps: p.steps,
          x: Array.from(r.x),
          y: Array.from(r.y),
          losses: Array.from(r.losses),
          path: r.path,
          seconds: r.seconds,
        });
        status.done(`${p.steps * p.steps} SSR values on ${r.backend} (${r.adapter}) in ${r.seconds.toFixed(2)} s.`);
      });
    } finally {
      button.disabled = false;
    }
  }

  $<HTMLFormElement>('ls-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  return { run };
}
