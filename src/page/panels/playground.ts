// The Train panel's playground: Play, Pause, Step, Reset and a speed (steps per frame) over the panel's settings.
// Play runs until paused. Each frame is one short `train` call (src/train) that resumes the previous one (the
// optimizer's state, the step count and the mini-batch order go on: N steps of Play are one Train run of N
// steps); a new learning rate applies from the next frame, a new data set starts again from the initial weights
// at once. After each frame, a forward pass on held-out
// sequences (the validation split, else the first training sequences) for the predictions; the loss chart (mean
// squared error per target, training and validation), the weights and the predictions against the targets update
// after every frame. Frames run through the session's queue and yield to the browser between them.

import type { Batch } from '../../batch.ts';
import { modelFromJSON, modelToJSON, paramNames, type Model } from '../../model.ts';
import { runOn, trainOn } from '../engine-client.ts';
import { forLog, lineChart } from '../chart.ts';
import { fallbackLine, stackText } from '../layers.ts';
import { bindPlayControls } from '../play-controls.ts';
import type { Session } from '../session.ts';
import { $, breathe, fillTable, num, readNumber, StatusLine } from '../ui.ts';
import type { OptimizerState } from '../../train/index.ts';
import type { TrainSetup } from './train.ts';

export interface PlaygroundState {
  /** Optimizer steps applied so far. */
  step: number;
  /** Training and validation mean squared error per target after each frame (validation null without a split). */
  frames: { step: number; train: number; validation: number | null }[];
  /** The recorded batch losses (SSR) of every step, as `train` reports them. */
  history: { step: number; loss: number }[];
  model: ReturnType<typeof modelToJSON>;
  /** Held-out predictions and targets drawn (output 0). */
  predicted: number[];
  target: number[];
  backend: string;
}

const MAX_POINTS = 64;

/** Number of target values in a batch (one per sequence, or one per step, times the outputs). */
function targetCount(b: Batch): number {
  return (b.output === 'last' ? b.count : b.offsets[b.count]) * b.outputSize;
}

/** The first `n` sequences of a batch (a view: no copies beyond the arrays' subarrays). */
function head(b: Batch, n: number): Batch {
  const k = Math.min(n, b.count);
  const steps = b.offsets[k];
  return {
    ...b,
    count: k,
    lengths: b.lengths.subarray(0, k),
    offsets: b.offsets.subarray(0, k + 1),
    inputs: b.inputs.subarray(0, steps * b.inputSize),
    targets: b.targets ? b.targets.subarray(0, (b.output === 'last' ? k : steps) * b.outputSize) : null,
  };
}

export function initPlayground(
  session: Session,
  readSetup: () => TrainSetup,
  publish: (s: PlaygroundState) => void,
): void {
  const section = $('train');
  const status = new StatusLine($('pg-status'));

  let setup: TrainSetup | null = null;
  let model: Model | null = null;
  let state: PlaygroundState | null = null;
  /** The optimizer's state after the last frame (Adam's moments, the momentum, the global step). */
  let resume: OptimizerState | null = null;

  function begin(): void {
    resume = null;
    setup = readSetup();
    model = modelFromJSON(setup.model);
    state = {
      step: 0,
      frames: [],
      history: [],
      model: modelToJSON(model),
      predicted: [],
      target: [],
      backend: session.engine.backend,
    };
  }

  /** One frame: `n` optimizer steps from the weights reached, then the losses and predictions at the new weights. */
  async function frame(n: number): Promise<boolean> {
    if (!setup || !model || !state) begin();
    const p = setup!;
    const s = state!;
    const count = n;
    // The learning rate as the field has it now (an unreadable value keeps the last one).
    let lr = p.optimizer.lr;
    try {
      lr = readNumber($<HTMLInputElement>('tr-lr'), { min: 1e-9, max: 100 });
    } catch {
      // keep the learning rate of the last frame
    }
    const optimizer = { ...p.optimizer, lr };
    p.optimizer = optimizer;
    const heldOut = head(p.validation ?? p.trainBatch, MAX_POINTS);
    const out = await session.exclusive(
      async () => {
        const engine = session.engine;
        const r = await trainOn(engine, model!, p.trainBatch, {
          optimizer,
          steps: count,
          batchSize: p.batchSize,
          seed: p.seed, // with resume, the mini-batch order goes on as in one long run
          historyEvery: 1,
          validation: p.validation,
          ...(resume ? { resume } : {}),
        });
        const pred = await runOn(engine, r.model, heldOut, { outputs: true, gradients: false }).catch(() => null);
        return { r, pred, backend: r.backend };
      },
      { status, panel: 'Train playground' },
      'long',
    );
    const { r, pred } = out;
    // Reset (which also stopped playing) or a new data set while this frame ran: drop it; a playing loop goes on.
    if (state !== s) return true;
    // Steps are global (the resumed run counts on from the last frame).
    for (const h of r.history) s.history.push({ step: h.step, loss: h.loss });
    s.step = r.steps;
    resume = r.optimizerState;
    model = r.model;
    s.model = modelToJSON(model);
    s.backend = out.backend;
    const trainMse = r.finalLoss / targetCount(p.trainBatch);
    const valMse = r.validationLoss === null || !p.validation ? null : r.validationLoss / targetCount(p.validation);
    s.frames.push({ step: s.step, train: trainMse, validation: valMse });
    // Predictions against targets on the held-out sequences, output 0.
    const O = heldOut.outputSize;
    const T = heldOut.targets!;
    const K = Math.min(MAX_POINTS, targetCount(heldOut) / O);
    s.target = Array.from({ length: K }, (_, k) => T[k * O]);
    s.predicted = pred?.outputs ? Array.from({ length: K }, (_, k) => pred.outputs![k * O]) : [];
    if (!(await draw(p, s))) return true;
    publish(structuredClone(s));
    if (r.diverged) {
      status.error(
        `Diverged at step ${s.step}: the loss or a weight became non-finite. Reset, and try a smaller learning rate.`,
      );
      return false;
    }
    status.info(
      `Step ${s.step} on ${out.backend === 'webgpu' ? 'WebGPU' : 'the CPU'} (${p.optimizer.kind}, learning rate ${p.optimizer.lr}): training SSR ${num(r.finalLoss)}${valMse !== null ? `, validation SSR ${num(r.validationLoss!)}` : ''}.${r.fallbackReason ? ` ${fallbackLine(r.fallbackReason)}` : ''}`,
    );
    return true;
  }

  /** Draws the frame in parts (a chart, then the other, then the table); false when Reset came in between. */
  async function draw(p: TrainSetup, s: PlaygroundState): Promise<boolean> {
    const xs = s.frames.map((f) => f.step);
    const series = [{ label: 'training, mean per target' }];
    const data: (number | null)[][] = [xs, s.frames.map((f) => forLog(f.train))];
    if (p.validation) {
      series.push({ label: 'validation, mean per target' });
      data.push(s.frames.map((f) => (f.validation === null ? null : forLog(f.validation))));
    }
    lineChart($('pg-loss'), { xLabel: 'step', yLabel: 'squared error (log)', logY: true, series }, data as never);
    const last = s.frames.at(-1)!;
    $('pg-loss-cap').textContent =
      `Mean squared error per target (SSR divided by the number of targets, so sets of different sizes compare) after each frame: training ${num(last.train)}` +
      (last.validation !== null
        ? `, validation ${num(last.validation)}`
        : ' (no validation split: set a validation fraction to see it)') +
      ` at step ${last.step}.`;
    await breathe();
    if (state !== s) return false;
    // One value per sequence (output `last`; per step for output `all`), numbered from 1. Only windows of one series
    // in time order (a CSV) follow each other, so only they are joined by a line; other sequences are unrelated.
    const ks = s.target.map((_, k) => k + 1);
    const byStep = p.trainBatch.output === 'all';
    const joined = p.set.timeOrdered === true && !byStep;
    const which = p.validation ? 'validation' : 'training';
    const unit = byStep
      ? `step of the ${which} sequences`
      : `${which} ${joined ? 'window, in time order' : 'sequence'}`;
    lineChart(
      $('pg-pred'),
      {
        xLabel: unit,
        yLabel: 'value',
        integerX: true,
        series: [
          { label: 'target', points: true, width: 1, line: joined },
          { label: 'predicted', points: true, width: 2, line: joined },
        ],
      },
      [ks, s.target, s.predicted] as never,
    );
    let worst = 0;
    s.target.forEach((t, k) => (worst = Math.max(worst, Math.abs((s.predicted[k] ?? NaN) - t))));
    $('pg-pred-cap').textContent =
      `Predictions against targets on ${p.validation ? 'the validation sequences' : 'the first training sequences (no validation split)'}, output 1, ${s.target.length} ${byStep ? 'steps' : 'sequences'}` +
      `${joined ? ' (windows of the series in time order, joined)' : ' (each point its own sequence, so they are not joined)'}; ` +
      `the largest difference is ${num(worst)}.`;
    await breathe();
    if (state !== s) return false;
    const w = s.model.weights;
    if (
      s.model.inputSize === 1 &&
      s.model.hiddenSize === 1 &&
      s.model.outputSize === 1 &&
      (s.model.cell ?? 'elman') === 'elman' &&
      !(s.model.numLayers && s.model.numLayers > 1) &&
      !s.model.bidirectional
    ) {
      fillTable(
        $<HTMLTableElement>('pg-weights'),
        ['weight', 'w1', 'b1', 'w2', 'w3', 'b2'],
        [['value', num(w.Wx[0][0]), num(w.bh[0]), num(w.Wh[0][0]), num(w.Wy[0][0]), num(w.by[0])]],
        `Weights at step ${s.step}`,
      );
    } else {
      const rms = (xs: number[]): string =>
        num(Math.sqrt(xs.reduce((a, v) => a + v * v, 0) / Math.max(1, xs.length)), 3);
      // Every block of the model's cell (LSTM and GRU have bx too); a stacked or bidirectional model's per layer and
      // direction (PyTorch's l0, l0_reverse, l1, …), one row each.
      const names = paramNames(s.model);
      const caption = `Weights at step ${s.step}: root mean square of each block (${s.model.cell && s.model.cell !== 'elman' ? `${s.model.cell.toUpperCase()}, ` : ''}I ${s.model.inputSize}, H ${s.model.hiddenSize}, O ${s.model.outputSize}${stackText(s.model)})`;
      const layers = (w as { layers?: Record<string, (number | number[])[]>[] }).layers;
      if (layers) {
        const D = s.model.bidirectional ? 2 : 1;
        const rows: string[][] = [];
        layers.forEach((layer, k) => {
          for (const n of names)
            if (layer[n]) rows.push([`${n} l${Math.floor(k / D)}${k % D ? '_reverse' : ''}`, rms(layer[n].flat())]);
        });
        rows.push(['Wy', rms(w.Wy.flat())], ['by', rms(w.by)]);
        fillTable($<HTMLTableElement>('pg-weights'), ['block', 'root mean square'], rows, caption);
      } else
        fillTable(
          $<HTMLTableElement>('pg-weights'),
          ['block', ...names],
          [['root mean square', ...names.map((n) => rms((w[n] as (number | number[])[]).flat()))]],
          caption,
        );
    }
    return true;
  }

  // A new data set while it plays: the next frame starts from the initial weights with the new settings.
  $<HTMLSelectElement>('tr-data').addEventListener('change', () => {
    if (!state) return;
    setup = null;
    model = null;
    state = null;
    resume = null;
  });

  bindPlayControls({
    session,
    status,
    section,
    play: $<HTMLButtonElement>('pg-play'),
    step: $<HTMLButtonElement>('pg-step'),
    reset: $<HTMLButtonElement>('pg-reset'),
    speed: $<HTMLSelectElement>('pg-speed'),
    frame,
    onReset: () => {
      resume = null;
      setup = null;
      model = null;
      state = null;
      for (const id of ['pg-loss', 'pg-pred', 'pg-weights', 'pg-loss-cap', 'pg-pred-cap']) $(id).replaceChildren();
      status.info(
        'Reset: the next Play or Step starts from the initial weights (with the settings above as they are then).',
      );
    },
  });
}
