// The seed panel's walk through one sequence: the forward pass day by day (each hidden value from the engine's
// run, with the weighted sum it comes from), then the gradient of w1 flowing back as the notes derive it: the
// output's error times w3, then one factor act′·w2 per day back, and each day's term of dSSR/dw1. The drawing's
// nodes and arrows of the current stage are highlighted. The terms of all sequences add up to the engine's BPTT
// dSSR/dw1 (the tests check it).

import type { Activation } from '../../model.ts';
import type { ScalarWeights } from '../../statquest.ts';
import { num } from '../ui.ts';

export interface WalkInput {
  weights: ScalarWeights;
  activation: Activation;
  inputs: number[];
  /** The engine's hidden values h_1 … h_T. */
  hidden: number[];
  predicted: number;
  observed: number;
}

/** act′ at the pre-activation that gave hidden value h (ReLU: 1 where h > 0; tanh: 1 − h²; identity: 1). */
export function actDerivative(activation: Activation, h: number): number {
  return activation === 'relu' ? (h > 0 ? 1 : 0) : activation === 'tanh' ? 1 - h * h : 1;
}

/** The backward chain of one sequence: δ_t = dSSR/dh_t and the term δ_t·act′_t·x_t of each day t (0-based). */
export function backwardChain(v: WalkInput): { delta: number[]; terms: number[] } {
  const T = v.inputs.length;
  const delta = new Array<number>(T).fill(0);
  const terms = new Array<number>(T).fill(0);
  // SSR = (observed − predicted)², predicted = w3·h_T + b2: dSSR/dh_T = 2(predicted − observed)·w3.
  delta[T - 1] = 2 * (v.predicted - v.observed) * v.weights.w3;
  for (let t = T - 1; t >= 0; t--) {
    const d = actDerivative(v.activation, v.hidden[t]);
    terms[t] = delta[t] * d * v.inputs[t];
    if (t > 0) delta[t - 1] = delta[t] * d * v.weights.w2;
  }
  return { delta, terms };
}

/** The stages of the walk: T forward, one at the output, T backward. Returns the text and what to highlight. */
export function walkStage(v: WalkInput, stage: number): { text: string; lit: string[] } {
  const T = v.inputs.length;
  const w = v.weights;
  const act = v.activation === 'identity' ? '' : v.activation === 'relu' ? 'ReLU' : 'tanh';
  const wrap = (s: string): string => (act ? `${act}(${s})` : s);
  if (stage < T) {
    const t = stage;
    const prev = t === 0 ? 0 : v.hidden[t - 1];
    return {
      text: `Forward, day ${t + 1} of ${T}: h${t + 1} = ${wrap(`w1·x${t + 1} + b1 + w2·h${t}`)} = ${wrap(`${num(w.w1, 4)}·${num(v.inputs[t], 4)} + ${num(w.b1, 4)} + ${num(w.w2, 4)}·${num(prev, 4)}`)} = ${num(v.hidden[t], 5)}.`,
      lit: [`[data-in="${t}"]`, `[data-w1="${t}"]`, `[data-hid="${t}"]`, ...(t > 0 ? [`[data-w2="${t}"]`] : [])],
    };
  }
  const { delta, terms } = backwardChain(v);
  if (stage === T) {
    return {
      text: `Output: predicted = w3·h${T} + b2 = ${num(w.w3, 4)}·${num(v.hidden[T - 1], 4)} + ${num(w.b2, 4)} = ${num(v.predicted, 5)}; observed ${num(v.observed, 4)}. The error flows back: dSSR/dh${T} = 2(predicted − observed)·w3 = ${num(delta[T - 1], 5)}.`,
      lit: ['[data-out="1"]', `[data-hid="${T - 1}"]`],
    };
  }
  const k = stage - T - 1; // days back from the last
  if (k >= T) return { text: '', lit: [] };
  const t = T - 1 - k;
  const d = actDerivative(v.activation, v.hidden[t]);
  const dName = v.activation === 'identity' ? '' : ` × ${v.activation === 'relu' ? 'ReLU′' : 'tanh′'}(${num(d, 4)})`;
  const chain =
    k === 0
      ? `dSSR/dh${T} = ${num(delta[t], 5)}`
      : `dSSR/dh${t + 1} = dSSR/dh${t + 2}${v.activation === 'identity' ? '' : ' × act′'} × w2 = ${num(delta[t], 5)}`;
  const sum = terms.slice(t).reduce((a, b) => a + b, 0);
  return {
    text:
      `Backward, ${k === 0 ? 'the last day' : `${k} day${k === 1 ? '' : 's'} back`}: ${chain}; ` +
      `this day's term of dSSR/dw1 = dSSR/dh${t + 1}${dName} × x${t + 1} = ${num(delta[t], 5)}${dName} × ${num(v.inputs[t], 4)} = ${num(terms[t], 5)}` +
      (k > 0 ? ` (w2 appears ${k} time${k === 1 ? '' : 's'}: w2^${k} = ${num(w.w2 ** k, 4)})` : '') +
      `. Sum so far: ${num(sum, 6)}${t === 0 ? ` = this sequence's dSSR/dw1` : ''}.`,
    lit: [`[data-hid="${t}"]`, `[data-in="${t}"]`, `[data-w1="${t}"]`, ...(t < T - 1 ? [`[data-w2="${t + 1}"]`] : [])],
  };
}

/** Number of stages of the walk for a sequence of T days. */
export const walkStages = (T: number): number => 2 * T + 1;
