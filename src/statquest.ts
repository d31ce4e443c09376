// The seed notes' worked example (the project's seed lecture notes), computed by our software: the two forward passes,
// the SSR and its five gradients, the notes' closed-form dSSR/dw1 for 1, 2 and 3 unrolled days beside BPTT,
// and the lesson that an input k steps back is multiplied by w2^k.
//
// Every number in the report that is not a closed form comes from `engine.run(...)`, so running it with the
// webgpu backend shows the GPU computing the notes' numbers. The closed forms are pure functions, exported for
// the tests and the browser page.
//
// The notes' network has one input, one hidden unit and one output:
//   hidden_t = act(w1·input_t + b1 + w2·hidden_{t−1}), hidden_0 = 0;   predicted = w3·hidden_T + b2
// In the model's names: w1 = Wx, b1 = bh, w2 = Wh, w3 = Wy, b2 = by.

import type { BackendName } from './backend.ts';
import { batchFromArrays } from './batch.ts';
import type { Engine } from './engine.ts';
import { STATQUEST_JSON, type Activation, type ModelJSON, type OutputMode } from './model.ts';

/** The notes' five scalar weights. */
export interface ScalarWeights {
  w1: number;
  b1: number;
  w2: number;
  w3: number;
  b2: number;
}

/** Scalar-input sequences (one value per day, oldest first) with one observed value (tomorrow) each. */
export interface ScalarData {
  inputs: number[][];
  observed: number[];
}

/** The notes' weights, read from the `statquest` preset: w1 = 1.8, b1 = 0, w2 = −0.5, w3 = 1.1, b2 = 0. */
export function statquestWeights(): ScalarWeights {
  const w = STATQUEST_JSON.weights;
  return { w1: w.Wx[0][0], b1: w.bh[0], w2: w.Wh[0][0], w3: w.Wy[0][0], b2: w.by[0] };
}

/** A 1-1-1 model JSON from the notes' scalar weights. */
export function scalarModel(w: ScalarWeights, activation: Activation, output: OutputMode = 'last'): ModelJSON {
  return {
    inputSize: 1,
    hiddenSize: 1,
    outputSize: 1,
    activation,
    output,
    weights: { Wx: [[w.w1]], Wh: [[w.w2]], bh: [w.b1], Wy: [[w.w3]], by: [w.b2] },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Closed forms for the identity activation (the notes derive with identity), hidden_0 = 0. Days are oldest first:
// days = [x_1, …, x_T]; k counts steps back from today (k = 0 is x_T).
//   Predicted      = w3·(Σ_k x_{T−k}·w1·w2^k + b1·Σ_k w2^k) + b2
//   dPredicted/dw1 = w3·Σ_k x_{T−k}·w2^k
//   dSSR/dw1       = Σ_i −2(observed_i − predicted_i)·dPredicted_i/dw1
// With w3 = 1 and b1 = b2 = 0 these are the notes' formulas: 1 day: Today·w1 and Today; 2 days: Yesterday·w1·w2 +
// Today·w1 and Yesterday·w2 + Today; 3 days: DayBefore·w1·w2² + Yesterday·w1·w2 + Today·w1 and
// DayBefore·w2² + Yesterday·w2 + Today.
// ---------------------------------------------------------------------------------------------------------------

/** Predicted = w3·(Σ_k x_{T−k}·w1·w2^k + b1·Σ_k w2^k) + b2 (identity activation, hidden_0 = 0). */
export function closedFormPredicted(days: number[], w: ScalarWeights): number {
  const T = days.length;
  let sx = 0;
  let sp = 0;
  let p = 1; // w2^k
  for (let k = 0; k < T; k++) {
    sx += days[T - 1 - k] * w.w1 * p;
    sp += p;
    p *= w.w2;
  }
  return w.w3 * (sx + w.b1 * sp) + w.b2;
}

/** dPredicted/dw1 = w3·Σ_k x_{T−k}·w2^k (identity activation). */
export function closedFormDPredictedDw1(days: number[], w: ScalarWeights): number {
  const T = days.length;
  let s = 0;
  let p = 1;
  for (let k = 0; k < T; k++) {
    s += days[T - 1 - k] * p;
    p *= w.w2;
  }
  return w.w3 * s;
}

/** SSR = Σ_i (observed_i − predicted_i)² with the closed-form predictions. */
export function closedFormSSR(data: ScalarData, w: ScalarWeights): number {
  let s = 0;
  data.inputs.forEach((days, i) => {
    const d = data.observed[i] - closedFormPredicted(days, w);
    s += d * d;
  });
  return s;
}

/** dSSR/dw1 = Σ_i −2(observed_i − predicted_i)·dPredicted_i/dw1 (identity activation). */
export function closedFormDssrDw1(data: ScalarData, w: ScalarWeights): number {
  let s = 0;
  data.inputs.forEach((days, i) => {
    s += -2 * (data.observed[i] - closedFormPredicted(days, w)) * closedFormDPredictedDw1(days, w);
  });
  return s;
}

/** The last `days` days of every sequence. */
export function lastDays(data: ScalarData, days: number): ScalarData {
  return { inputs: data.inputs.map((s) => s.slice(s.length - days)), observed: data.observed.slice() };
}

// ---------------------------------------------------------------------------------------------------------------
// The report.
// ---------------------------------------------------------------------------------------------------------------

export interface ForwardPass {
  /** The days read, oldest first (yesterday, today). */
  inputs: number[];
  /** hidden_t after each day, from an engine run. */
  hidden: number[];
  /** The prediction for tomorrow, from an engine run. */
  predicted: number;
}

export interface ScalarGrads {
  w1: number;
  b1: number;
  w2: number;
  w3: number;
  b2: number;
}

export interface ClosedFormRow {
  /** Days unrolled (1, 2 or 3). */
  days: number;
  /** The last `days` days of each sequence. */
  inputs: number[][];
  observed: number[];
  /** Predictions from the engine. */
  predicted: number[];
  /** Predictions from the closed form. */
  closedFormPredicted: number[];
  /** dPredicted_i/dw1 from the closed form (the notes' bracket). */
  closedFormDPredictedDw1: number[];
  /** SSR from the engine. */
  ssr: number;
  /** dSSR/dw1 from the closed form. */
  closedForm: number;
  /** dSSR/dw1 from the engine's backpropagation through time. */
  bptt: number;
  /** bptt − closedForm. */
  difference: number;
}

export interface ClosedFormSection {
  /** `notes` is the notes' exact form (w3 = 1, b1 = b2 = 0); `full` is the whole network (w3 = 1.1). */
  form: 'notes' | 'full';
  weights: ScalarWeights;
  rows: ClosedFormRow[];
}

export interface LessonRow {
  w2: number;
  /** Steps back: 0, 1, 2, 3. */
  k: number[];
  /** w2^k computed directly. */
  closedForm: number[];
  /**
   * w2^k as the engine computes it: for an identity network with w1 = w3 = 1, b1 = b2 = 0 and an input that is 1
   * exactly k steps back and 0 elsewhere, the prediction and dPredicted/dw1 are both w2^k. This is
   * dPredicted/dw1 from BPTT (dSSR/dw1 ÷ dSSR/db2, since dSSR/db2 = −2(observed − predicted)).
   */
  bptt: number[];
  /** The engine's prediction for the same inputs. */
  predicted: number[];
}

/** The whole report; JSON-serialisable, full precision. */
export interface StatquestReport {
  backend: BackendName;
  adapter: string;
  activation: Activation;
  weights: ScalarWeights;
  /** The notes' two forward passes: [1, 0.5] and [0, 0.5]. */
  forward: ForwardPass[];
  /** SSR and all five gradients over those two sequences with observed tomorrow values [0, 1]. */
  ssr: {
    inputs: number[][];
    observed: number[];
    predicted: number[];
    ssr: number;
    grads: ScalarGrads;
  };
  /** The notes' closed-form dSSR/dw1 for 1, 2 and 3 unrolled days beside BPTT, identity activation. */
  closedForm: {
    data: ScalarData;
    sections: ClosedFormSection[];
  };
  /** The input k steps back is multiplied by w2^k: vanishing (|w2| < 1) and exploding (|w2| > 1). */
  lesson: LessonRow[];
}

/** The notes' two forward-pass sequences (yesterday, today) and what tomorrow should be (low 0, high 1). */
export const STATQUEST_SEQUENCES: ScalarData = {
  inputs: [
    [1, 0.5],
    [0, 0.5],
  ],
  observed: [0, 1],
};

/** A 3-day data set from the toy stock values (0, 0.5, 1) for the closed-form comparison. */
export const STATQUEST_3DAY: ScalarData = {
  inputs: [
    [1, 1, 0.5],
    [0.5, 0, 0.5],
  ],
  observed: [0, 1],
};

const toSteps = (seqs: number[][]): number[][][] => seqs.map((s) => s.map((v) => [v]));

/** Runs the notes' worked example through `engine` (webgpu or cpu) and collects every number. */
export async function statquestReport(engine: Engine): Promise<StatquestReport> {
  const w = statquestWeights();
  const act = STATQUEST_JSON.activation;

  // Hidden values: with w3 = 1 and b2 = 0 the prediction at each step is the hidden value itself, so an
  // `all`-output run of that model returns hidden_1, hidden_2 for every sequence.
  const seqs = STATQUEST_SEQUENCES;
  const hiddenRun = await engine.run(
    scalarModel({ ...w, w3: 1, b2: 0 }, act, 'all'),
    batchFromArrays(toSteps(seqs.inputs), null, 'all', 1),
    {
      outputs: true,
    },
  );
  // Predictions, SSR and gradients: the preset itself with the observed values as targets.
  const ssrRun = await engine.run(
    STATQUEST_JSON,
    batchFromArrays(
      toSteps(seqs.inputs),
      seqs.observed.map((v) => [v]),
      'last',
    ),
    { outputs: true, gradients: true },
  );
  const hOut = hiddenRun.outputs!;
  const pOut = ssrRun.outputs!;
  const forward: ForwardPass[] = [];
  let step = 0;
  seqs.inputs.forEach((s, n) => {
    forward.push({ inputs: s.slice(), hidden: Array.from(hOut.subarray(step, step + s.length)), predicted: pOut[n] });
    step += s.length;
  });
  const g = ssrRun.grads!;
  const ssr = {
    inputs: seqs.inputs.map((s) => s.slice()),
    observed: seqs.observed.slice(),
    predicted: Array.from(pOut),
    ssr: ssrRun.loss!,
    grads: { w1: g.Wx[0][0], b1: g.bh[0], w2: g.Wh[0][0], w3: g.Wy[0][0], b2: g.by[0] },
  };

  // Closed form vs BPTT, identity activation, for the notes' exact form and for the full network.
  const sections: ClosedFormSection[] = [];
  for (const form of ['notes', 'full'] as const) {
    const cw: ScalarWeights = form === 'notes' ? { w1: w.w1, b1: 0, w2: w.w2, w3: 1, b2: 0 } : { ...w };
    const rows: ClosedFormRow[] = [];
    for (let days = 1; days <= 3; days++) {
      const data = lastDays(STATQUEST_3DAY, days);
      const run = await engine.run(
        scalarModel(cw, 'identity'),
        batchFromArrays(
          toSteps(data.inputs),
          data.observed.map((v) => [v]),
          'last',
        ),
        { outputs: true, gradients: true },
      );
      const closedForm = closedFormDssrDw1(data, cw);
      const bptt = run.grads!.Wx[0][0];
      rows.push({
        days,
        inputs: data.inputs,
        observed: data.observed,
        predicted: Array.from(run.outputs!),
        closedFormPredicted: data.inputs.map((s) => closedFormPredicted(s, cw)),
        closedFormDPredictedDw1: data.inputs.map((s) => closedFormDPredictedDw1(s, cw)),
        ssr: run.loss!,
        closedForm,
        bptt,
        difference: bptt - closedForm,
      });
    }
    sections.push({ form, weights: cw, rows });
  }

  // The lesson: one-hot inputs k steps back through an identity network with w1 = w3 = 1, b = 0.
  const lesson: LessonRow[] = [];
  const K = 3;
  for (const w2 of [w.w2, 2]) {
    const lw: ScalarWeights = { w1: 1, b1: 0, w2, w3: 1, b2: 0 };
    const row: LessonRow = { w2, k: [], closedForm: [], bptt: [], predicted: [] };
    for (let k = 0; k <= K; k++) {
      const days = Array.from({ length: K + 1 }, (_, t) => (t === K - k ? 1 : 0));
      // Target 0: dSSR/db2 = 2·predicted ≠ 0, so dPredicted/dw1 = dSSR/dw1 ÷ dSSR/db2.
      const run = await engine.run(scalarModel(lw, 'identity'), batchFromArrays(toSteps([days]), [[0]], 'last'), {
        outputs: true,
        gradients: true,
      });
      row.k.push(k);
      row.closedForm.push(w2 ** k);
      row.bptt.push(run.grads!.Wx[0][0] / run.grads!.by[0]);
      row.predicted.push(run.outputs![0]);
    }
    lesson.push(row);
  }

  return {
    backend: engine.backend,
    adapter: engine.adapter,
    activation: act,
    weights: w,
    forward,
    ssr,
    closedForm: {
      data: { inputs: STATQUEST_3DAY.inputs.map((s) => s.slice()), observed: STATQUEST_3DAY.observed.slice() },
      sections,
    },
    lesson,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Text.
// ---------------------------------------------------------------------------------------------------------------

/** A number as the notes write it: `digits` significant digits, no trailing zeros, no "-0" (0.99, 1.8, 0.9, 0). */
export function fmt(x: number, digits = 6): string {
  if (!Number.isFinite(x)) return String(x);
  const v = Number(x.toPrecision(digits));
  return Object.is(v, -0) ? '0' : String(v);
}

/** A difference of two values: exactly 0, or in exponent form (e.g. 1.38778e-17). */
function fmtDiff(x: number): string {
  if (x === 0) return '0';
  return Number.isFinite(x) ? x.toExponential(2) : String(x);
}

const LEVELS: Record<string, string> = { '0': 'low', '0.5': 'medium', '1': 'high' };

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export interface FormatOptions {
  /** Significant digits. Default 6 for the float64 CPU reference, 5 for float32 results (GPU or f32 CPU). */
  digits?: number;
}

export function formatStatquest(r: StatquestReport, opts: FormatOptions = {}): string {
  const float64 = r.backend === 'cpu' && !/float32/.test(r.adapter);
  const digits = opts.digits ?? (float64 ? 6 : 5);
  const n = (x: number): string => fmt(x, digits);
  const level = (v: number): string => LEVELS[fmt(v)] ?? n(v);
  const list = (xs: number[]): string => xs.map(n).join(', ');
  const seqArrow = (s: number[], obs: number): string => `[${list(s)}]→${n(obs)}`;
  const w = r.weights;
  const L: string[] = [];
  L.push(`The seed notes' RNN, computed by the ${r.backend} backend (${r.adapter})`);
  if (!float64)
    L.push(`float32 arithmetic: values are shown to ${digits} significant digits (the JSON report has them in full)`);
  L.push('');
  L.push(
    `Network: w1 = ${n(w.w1)}, b1 = ${n(w.b1)}, w2 = ${n(w.w2)}, w3 = ${n(w.w3)}, b2 = ${n(w.b2)}, activation ${r.activation}`,
  );
  L.push(
    `  hidden_t = ${r.activation}(w1·input_t + b1 + w2·hidden_(t-1)), hidden_0 = 0;  predicted = w3·hidden_T + b2`,
  );
  L.push('');
  L.push('Forward passes (yesterday, today → tomorrow)');
  for (const f of r.forward) {
    const days = f.inputs
      .map(
        (v, t) =>
          `${t === f.inputs.length - 1 ? 'today' : t === f.inputs.length - 2 ? 'yesterday' : `day ${t + 1}`} = ${n(v)} (${level(v)})`,
      )
      .join(', ');
    L.push(`  ${days}:`);
    L.push(
      `    hidden ${f.hidden.map(n).join(' then ')};  predicted = ${n(w.w3)} × ${n(f.hidden[f.hidden.length - 1])} + ${n(w.b2)} = ${n(f.predicted)} (≈ ${level(Math.round(f.predicted * 2) / 2)})`,
    );
  }
  L.push('');
  const s = r.ssr;
  L.push(`SSR and its gradients over ${s.inputs.map((x, i) => seqArrow(x, s.observed[i])).join(' and ')}`);
  L.push(`  predicted: ${list(s.predicted)}`);
  L.push(`  SSR = ${s.observed.map((o, i) => `(${n(o)} − ${n(s.predicted[i])})²`).join(' + ')} = ${n(s.ssr)}`);
  L.push(
    `  dSSR/dw1 = ${n(s.grads.w1)}   dSSR/db1 = ${n(s.grads.b1)}   dSSR/dw2 = ${n(s.grads.w2)}   dSSR/dw3 = ${n(s.grads.w3)}   dSSR/db2 = ${n(s.grads.b2)}`,
  );
  L.push(`  (ReLU'(0) = 0, so where a pre-activation is exactly 0 no gradient flows through it)`);
  L.push('');
  L.push(
    `dSSR/dw1: the notes' closed form beside backpropagation through time (identity activation, as the notes derive)`,
  );
  L.push(
    `  data: ${r.closedForm.data.inputs.map((x, i) => seqArrow(x, r.closedForm.data.observed[i])).join(', ')}; the last 1, 2 and 3 days`,
  );
  const bracket = ['Today', 'Yesterday·w2 + Today', 'DayBefore·w2² + Yesterday·w2 + Today'];
  for (const sec of r.closedForm.sections) {
    const cw = sec.weights;
    L.push(
      sec.form === 'notes'
        ? `  The notes' exact form (w3 = ${n(cw.w3)}, b1 = b2 = 0): dSSR/dw1 = Σ −2(observed − predicted)·[dPredicted/dw1]`
        : `  The full network (w3 = ${n(cw.w3)}): dPredicted/dw1 = w3·[…]`,
    );
    const seqCol = (row: ClosedFormRow): string => row.inputs.map((x, i) => seqArrow(x, row.observed[i])).join(' ');
    const sw = Math.max(12, ...sec.rows.map((row) => seqCol(row).length)) + 3;
    L.push(
      `    ${pad('days', 6)}${pad('sequences', sw)}${pad('predicted', 16)}${pad('dPredicted/dw1', 18)}${pad('closed form', 14)}${pad('BPTT', 14)}difference`,
    );
    for (const row of sec.rows) {
      L.push(
        `    ${pad(String(row.days), 6)}${pad(seqCol(row), sw)}${pad(list(row.predicted), 16)}${pad(list(row.closedFormDPredictedDw1), 18)}${pad(n(row.closedForm), 14)}${pad(n(row.bptt), 14)}${fmtDiff(row.difference)}`,
      );
    }
    if (sec.form === 'notes') L.push(`    dPredicted/dw1 for 1, 2, 3 days: ${bracket.join(';  ')}`);
  }
  L.push('');
  L.push(`The lesson: in dSSR/dw1 the input k steps back is multiplied by w2 once per unrolled step, i.e. by w2^k.`);
  L.push(`  dPredicted/dw1 for an input of 1 placed k steps back (w1 = w3 = 1, b = 0), from BPTT, beside w2^k:`);
  for (const row of r.lesson) {
    const kind = Math.abs(row.w2) < 1 ? 'vanishes' : Math.abs(row.w2) > 1 ? 'explodes' : 'stays';
    L.push(
      `    w2 = ${pad(n(row.w2), 5)} k = ${row.k.join(', ')}:  BPTT ${pad(list(row.bptt), 24)} w2^k ${pad(list(row.closedForm), 24)} (the far past ${kind})`,
    );
  }
  return L.join('\n') + '\n';
}
