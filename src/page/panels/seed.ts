// Panel "The seed notes, live": the notes' 1-1-1 network with w1, b1, w2, w3, b2 on sliders and editable input
// sequences. Each change runs the engine (hidden values, predictions, SSR, the five BPTT gradients) and shows the
// notes' closed-form dSSR/dw1 (src/statquest.ts) beside BPTT's value on the same weights.

import { batchFromArrays } from '../../batch.ts';
import type { Activation } from '../../model.ts';
import {
  closedFormDssrDw1,
  scalarModel,
  statquestWeights,
  STATQUEST_SEQUENCES,
  type ScalarData,
  type ScalarWeights,
} from '../../statquest.ts';
import type { Session } from '../session.ts';
import { $, FieldError, fillTable, num, parseNumber, readNumber, StatusLine } from '../ui.ts';
import { drawNetwork } from './seed-network.ts';
import { backwardChain, walkStage, walkStages } from './seed-walk.ts';

export interface SeedResult {
  backend: string;
  adapter: string;
  weights: ScalarWeights;
  activation: Activation;
  inputs: number[][];
  observed: number[];
  /** hidden[n][t], from an engine run. */
  hidden: number[][];
  predicted: number[];
  ssr: number;
  grads: ScalarWeights;
  /** dSSR/dw1 from the notes' closed form (identity activation). */
  closedForm: number;
  /** dSSR/dw1 from BPTT on the same weights with the identity activation. */
  bpttIdentity: number;
  /** The walk's per-day terms of dSSR/dw1 (terms[n][t]), from the engine's hidden values; they sum to grads.w1. */
  chainTerms: number[][];
}

const WEIGHTS: { key: keyof ScalarWeights; role: string }[] = [
  { key: 'w1', role: 'input → hidden' },
  { key: 'b1', role: 'hidden bias' },
  { key: 'w2', role: 'hidden → hidden' },
  { key: 'w3', role: 'hidden → output' },
  { key: 'b2', role: 'output bias' },
];
const WEIGHT_RANGE = { min: -100, max: 100 };
const VALUE_RANGE = { min: -1000, max: 1000 };
const MAX_SEQS = 16;
const MAX_DAYS = 32;

const toSteps = (seqs: number[][]): number[][][] => seqs.map((s) => s.map((v) => [v]));

export function initSeed(session: Session, publish: (r: SeedResult) => void): { run: () => Promise<void> } {
  const section = $('seed');
  const status = new StatusLine($('seed-status'));
  const weightBox = $('seed-weights');
  const act = $<HTMLSelectElement>('seed-act');
  const seqBody = $('seed-seqs');
  const show = $<HTMLSelectElement>('seed-show');
  let last: SeedResult | null = null;

  // Weights: a number input (labelled) and a slider (labelled) per weight, kept in step.
  const numbers = new Map<keyof ScalarWeights, HTMLInputElement>();
  for (const { key, role } of WEIGHTS) {
    const row = document.createElement('div');
    row.className = 'weight';
    row.innerHTML = `<label for="seed-${key}">${key} <span class="role">(${role})</span></label>
      <input id="seed-${key}-range" type="range" min="-3" max="3" step="0.01" aria-label="${key} slider" />
      <input id="seed-${key}" type="text" class="num" autocomplete="off" spellcheck="false" />`;
    weightBox.appendChild(row);
    const range = row.querySelector<HTMLInputElement>('input[type=range]')!;
    const box = row.querySelector<HTMLInputElement>('input.num')!;
    range.addEventListener('input', () => {
      box.value = range.value;
      schedule();
    });
    box.addEventListener('input', () => {
      const v = Number(box.value);
      if (box.value.trim() !== '' && Number.isFinite(v)) range.value = String(Math.max(-3, Math.min(3, v)));
      schedule();
    });
    numbers.set(key, box);
  }

  function setWeights(w: ScalarWeights): void {
    for (const { key } of WEIGHTS) {
      numbers.get(key)!.value = String(w[key]);
      $<HTMLInputElement>(`seed-${key}-range`).value = String(w[key]);
    }
  }

  // Sequences: one row per sequence, days as a list, the observed value, and a remove button.
  let rowId = 0;
  function addRow(days: number[], observed: number): void {
    const id = rowId++;
    const tr = document.createElement('tr');
    tr.innerHTML = `<th scope="row"></th>
      <td><input id="seed-days-${id}" type="text" class="days" size="14" autocomplete="off" spellcheck="false" /></td>
      <td><input id="seed-obs-${id}" type="text" class="short" autocomplete="off" spellcheck="false" /></td>
      <td><button type="button" class="remove">Remove</button></td>`;
    tr.querySelector<HTMLInputElement>('input.days')!.value = days.join(', ');
    tr.querySelector<HTMLInputElement>('input.short')!.value = String(observed);
    tr.querySelector('button')!.addEventListener('click', () => {
      if (seqBody.children.length <= 1) {
        status.error('Not run: keep at least one sequence');
        return;
      }
      tr.remove();
      renumber();
      schedule();
    });
    for (const input of Array.from(tr.querySelectorAll('input'))) input.addEventListener('input', schedule);
    seqBody.appendChild(tr);
    renumber();
  }

  function renumber(): void {
    Array.from(seqBody.children).forEach((tr, k) => {
      tr.querySelector('th')!.textContent = String(k + 1);
      tr.querySelector('input.days')!.setAttribute('aria-label', `Sequence ${k + 1}, days`);
      tr.querySelector('input.short')!.setAttribute('aria-label', `Sequence ${k + 1}, observed`);
      tr.querySelector('button')!.setAttribute('aria-label', `Remove sequence ${k + 1}`);
    });
    const keep = Number(show.value) || 0;
    show.replaceChildren(...Array.from(seqBody.children).map((_, k) => new Option(`sequence ${k + 1}`, String(k))));
    show.value = String(keep < seqBody.children.length ? keep : 0);
  }

  function readInputs(): { w: ScalarWeights; activation: Activation; data: ScalarData } {
    const w = {} as ScalarWeights;
    for (const { key } of WEIGHTS) w[key] = readNumber(numbers.get(key)!, WEIGHT_RANGE);
    const inputs: number[][] = [];
    const observed: number[] = [];
    Array.from(seqBody.children).forEach((tr, k) => {
      const daysField = tr.querySelector<HTMLInputElement>('input.days')!;
      const parts = daysField.value.split(/[\s,;]+/).filter((s) => s !== '');
      if (parts.length === 0) throw new FieldError(daysField, `Sequence ${k + 1}: give at least one day`);
      if (parts.length > MAX_DAYS)
        throw new FieldError(daysField, `Sequence ${k + 1}: at most ${MAX_DAYS} days, got ${parts.length}`);
      inputs.push(parts.map((p, t) => parseNumber(p, `Sequence ${k + 1}, day ${t + 1}`, VALUE_RANGE, daysField)));
      observed.push(readNumber(tr.querySelector<HTMLInputElement>('input.short')!, VALUE_RANGE));
    });
    if (inputs.length > MAX_SEQS) throw new FieldError(null, `at most ${MAX_SEQS} sequences`);
    return { w, activation: act.value as Activation, data: { inputs, observed } };
  }

  /** Milliseconds of the last computation itself (no waiting, no drawing), and why it left WebGPU if it did. */
  let computeMs = 0;
  let movedBecause: string | null = null;

  async function compute(): Promise<SeedResult> {
    const { w, activation, data } = readInputs();
    // A short job never waits behind a long one: training (the long lane) runs on the WebGPU worker's own device, so
    // this panel runs on the page's engine beside it; while another short-lane panel holds the page's WebGPU engine,
    // or the page builds its GPU kernels after loading (which holds the GPU process), the few tiny runs of this
    // panel go to the CPU reference (float64, here) instead of waiting.
    const busy = session.gpu ? (session.busyWith('short') ?? session.warming) : null;
    movedBecause = busy;
    const lane = <T>(fn: () => Promise<T>, wait: { status: StatusLine; panel: string }): Promise<T> =>
      busy ? fn() : session.exclusive(fn, wait);
    return lane(
      async () => {
        const t0 = performance.now();
        const engine = busy ? session.cpu : session.engine;
        const steps = toSteps(data.inputs);
        const targets = data.observed.map((v) => [v]);
        // With w3 = 1 and b2 = 0, an `all`-output run predicts hidden_t itself at every step.
        const hiddenRun = await engine.run(
          scalarModel({ ...w, w3: 1, b2: 0 }, activation, 'all'),
          batchFromArrays(steps, null, 'all', 1),
          {
            outputs: true,
          },
        );
        const run = await engine.run(scalarModel(w, activation), batchFromArrays(steps, targets, 'last'), {
          outputs: true,
          gradients: true,
        });
        const idRun =
          activation === 'identity'
            ? run
            : await engine.run(scalarModel(w, 'identity'), batchFromArrays(steps, targets, 'last'), {
                gradients: true,
              });
        const hidden: number[][] = [];
        let at = 0;
        for (const s of data.inputs) {
          hidden.push(Array.from(hiddenRun.outputs!.subarray(at, at + s.length)));
          at += s.length;
        }
        const g = run.grads!;
        computeMs = performance.now() - t0;
        return {
          backend: engine.backend,
          adapter: engine.adapter,
          weights: w,
          activation,
          inputs: data.inputs,
          observed: data.observed,
          hidden,
          predicted: Array.from(run.outputs!),
          ssr: run.loss!,
          grads: { w1: g.Wx[0][0], b1: g.bh[0], w2: g.Wh[0][0], w3: g.Wy[0][0], b2: g.by[0] },
          closedForm: closedFormDssrDw1(data, w),
          bpttIdentity: idRun.grads!.Wx[0][0],
          chainTerms: data.inputs.map(
            (xs, n) =>
              backwardChain({
                weights: w,
                activation,
                inputs: xs,
                hidden: hidden[n],
                predicted: run.outputs![n],
                observed: data.observed[n],
              }).terms,
          ),
        };
      },
      { status, panel: 'Seed notes' },
    );
  }

  function render(r: SeedResult): void {
    fillTable(
      $<HTMLTableElement>('seed-forward'),
      ['#', 'days', 'hidden after each day', 'predicted', 'observed', '(observed − predicted)²'],
      r.inputs.map((s, n) => [
        n + 1,
        s.map((v) => num(v)).join(', '),
        r.hidden[n].map((v) => num(v)).join(' → '),
        num(r.predicted[n]),
        num(r.observed[n]),
        num((r.observed[n] - r.predicted[n]) ** 2),
      ]),
    );
    $('seed-ssr').textContent = `SSR = ${num(r.ssr, 6)}`;
    fillTable(
      $<HTMLTableElement>('seed-grads'),
      ['parameter', 'dSSR/dθ'],
      WEIGHTS.map(({ key }) => [key, num(r.grads[key], 6)]),
    );
    const rows: (string | number)[][] = [
      ['closed form: Σ −2(observed − predicted)·w3·Σₖ x₍T−k₎·w2ᵏ', num(r.closedForm, 7)],
      ['BPTT, same weights, identity activation', num(r.bpttIdentity, 7)],
      [
        'difference (BPTT − closed form)',
        r.bpttIdentity - r.closedForm === 0 ? '0' : (r.bpttIdentity - r.closedForm).toExponential(2),
      ],
    ];
    if (r.activation !== 'identity') rows.push([`BPTT, this network (${r.activation})`, num(r.grads.w1, 7)]);
    fillTable($<HTMLTableElement>('seed-closed'), ['dSSR/dw1', 'value'], rows);
    $('seed-closed-note').textContent =
      r.activation === 'identity'
        ? 'The network uses the identity activation, as the notes do when they derive the closed form, so its BPTT value is the one compared.'
        : r.activation === 'relu'
          ? 'The notes derive the closed form without an activation (identity). This network uses ReLU, which cuts gradients (ReLU′ = 0 where the pre-activation is ≤ 0), so its own dSSR/dw1 is listed separately.'
          : 'The notes derive the closed form without an activation (identity). This network uses tanh, which shrinks every gradient factor (tanh′ = 1 − hidden² ≤ 1, small where |hidden| is near 1), so its own dSSR/dw1 is listed separately.';
    drawSelected();
  }

  function drawSelected(): void {
    if (!last) return;
    const k = Math.min(Number(show.value) || 0, last.inputs.length - 1);
    drawNetwork($('seed-net'), $('seed-net-caption'), {
      weights: last.weights,
      activation: last.activation,
      inputs: last.inputs[k],
      hidden: last.hidden[k],
      predicted: last.predicted[k],
      observed: last.observed[k],
      index: k,
    });
    showStage();
  }

  // The walk through the selected sequence: forward day by day, then the gradient back (seed-walk.ts).
  const walkText = $('seed-walk');
  const walkPlay = $<HTMLButtonElement>('seed-walk-play');
  let stage = -1;
  let walkTimer = 0;
  const walkInput = () => {
    const k = Math.min(Number(show.value) || 0, last!.inputs.length - 1);
    return {
      weights: last!.weights,
      activation: last!.activation,
      inputs: last!.inputs[k],
      hidden: last!.hidden[k],
      predicted: last!.predicted[k],
      observed: last!.observed[k],
    };
  };
  function showStage(): void {
    const svg = $('seed-net').querySelector('svg');
    svg?.querySelectorAll('.lit').forEach((el) => el.classList.remove('lit'));
    if (!last || stage < 0) return;
    const v = walkInput();
    stage = Math.min(stage, walkStages(v.inputs.length) - 1);
    const { text, lit } = walkStage(v, stage);
    walkText.textContent = `Stage ${stage + 1} of ${walkStages(v.inputs.length)}. ${text}`;
    for (const sel of lit) svg?.querySelectorAll(sel).forEach((el) => el.classList.add('lit'));
  }
  function nextStage(): boolean {
    if (!last) return false;
    const n = walkStages(walkInput().inputs.length);
    if (stage >= n - 1) return false;
    stage++;
    showStage();
    return true;
  }
  function stopWalk(): void {
    clearInterval(walkTimer);
    walkTimer = 0;
    walkPlay.textContent = 'Animate';
    walkPlay.setAttribute('aria-pressed', 'false');
  }
  walkPlay.addEventListener('click', () => {
    if (walkTimer) return stopWalk();
    if (last && stage >= walkStages(walkInput().inputs.length) - 1) stage = -1;
    walkPlay.textContent = 'Pause';
    walkPlay.setAttribute('aria-pressed', 'true');
    nextStage();
    walkTimer = window.setInterval(() => {
      if (!nextStage()) stopWalk();
    }, 1400);
  });
  $('seed-walk-next').addEventListener('click', () => {
    stopWalk();
    nextStage();
  });
  $('seed-walk-reset').addEventListener('click', () => {
    stopWalk();
    stage = -1;
    showStage();
    walkText.textContent =
      'Animate (or press Next stage) to follow the forward pass day by day, then the gradient of w1 flowing back, one factor of w2 per day.';
  });

  // Coalesce changes: at most one computation in flight, and the latest inputs always win.
  let running = false;
  let again = false;
  async function run(): Promise<void> {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await session.guard(status, section, async () => {
          const r = await compute();
          last = r;
          render(r);
          publish(r);
          // The time of the computation itself (not of waiting for the engine or of drawing).
          status.done(
            `Computed on ${r.backend === 'webgpu' ? 'WebGPU' : 'the CPU'} (${r.adapter}) in ${computeMs.toFixed(1)} ms.` +
              (movedBecause
                ? ` WebGPU is busy (${movedBecause}), so this panel computed on the CPU reference instead of waiting.`
                : ''),
          );
        });
      } while (again);
    } finally {
      running = false;
    }
  }
  function schedule(): void {
    void run();
  }

  act.addEventListener('change', schedule);
  show.addEventListener('change', drawSelected);
  $('seed-add').addEventListener('click', () => {
    if (seqBody.children.length >= MAX_SEQS) {
      status.error(`Not run: at most ${MAX_SEQS} sequences`);
      return;
    }
    addRow([0.5, 0.5], 0.5);
    schedule();
  });
  $('seed-reset').addEventListener('click', () => {
    setWeights(statquestWeights());
    act.value = 'relu';
    schedule();
  });

  setWeights(statquestWeights());
  STATQUEST_SEQUENCES.inputs.forEach((s, k) => addRow(s, STATQUEST_SEQUENCES.observed[k]));
  return { run };
}
