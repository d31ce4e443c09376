// The vanishing/exploding gradient study of the seed notes: for an input sequence x_1..x_T and a range of w2
// values, the term that the input k steps back adds to dSSR/dw1, for every k = 0..T−1, in the notes' scalar network
//   h_t = act(w1·x_t + b1 + w2·h_{t−1}), h_0 = 0;   predicted = w3·h_T + b2;   SSR = (predicted − target)².
// Three ways: BPTT on the GPU (src/study/unroll-gpu.ts), BPTT on the CPU in float64 (here), and the closed form for
// the identity activation: term k = 2(predicted − target)·w3·w2^k·x_{T−k}. Every input is rounded to float32 first,
// so the three see the same numbers.

import type { Engine } from '../engine.ts';
import { activate, activateGrad } from '../cpu/cells.ts';
import { InputError } from '../errors.ts';
import { closedFormPredicted } from '../statquest.ts';
import { studyRow, studySetup, type UnrollStudy, type UnrollStudyOptions } from './unroll-setup.ts';

export {
  MAX_STUDY_VALUES,
  studyRow,
  studySetup,
  type StudySetup,
  type StudyWeights,
  type UnrollRow,
  type UnrollStudy,
  type UnrollStudyOptions,
} from './unroll-setup.ts';

/** BPTT in float64 plain loops: the CPU path of the study. */
export function unrollStudyCpu(opts: UnrollStudyOptions): UnrollStudy {
  const s = studySetup(opts);
  const T = s.inputs.length;
  const { w1, b1, w3, b2 } = s.weights;
  const hs = new Float64Array(T);
  const rows = Array.from(s.w2, (w2) => {
    let h = 0;
    for (let t = 0; t < T; t++) {
      h = activate(s.activation, w1 * s.inputs[t] + b1 + w2 * h);
      hs[t] = h;
    }
    const y = w3 * h + b2;
    const dy = 2 * (y - s.target);
    const g = new Float64Array(T);
    const c = new Float64Array(T);
    let dh = w3;
    for (let k = 0; k < T; k++) {
      const t = T - 1 - k;
      const dz = dh * activateGrad(s.activation, hs[t]);
      g[k] = dz * s.inputs[t];
      c[k] = dy * g[k];
      dh = w2 * dz;
    }
    return studyRow('cpu', w2, y, dy, g, c);
  });
  return { ...s, method: 'cpu', adapter: 'float64 JavaScript', length: T, rows };
}

/** The closed form (identity activation only): term k = 2(predicted − target)·w3·w2^k·x_{T−k}. */
export function unrollClosedForm(opts: UnrollStudyOptions): UnrollStudy {
  const s = studySetup(opts);
  if (s.activation !== 'identity')
    throw new InputError('activation', `the closed form holds for the identity activation, not ${s.activation}`);
  const T = s.inputs.length;
  const days = Array.from(s.inputs);
  const rows = Array.from(s.w2, (w2) => {
    const y = closedFormPredicted(days, { ...s.weights, w2 });
    const dy = 2 * (y - s.target);
    const g = new Float64Array(T);
    const c = new Float64Array(T);
    for (let k = 0; k < T; k++) {
      g[k] = s.weights.w3 * w2 ** k * s.inputs[T - 1 - k];
      c[k] = dy * g[k];
    }
    return studyRow('closed form', w2, y, dy, g, c);
  });
  return { ...s, method: 'closed-form', adapter: 'closed form (float64)', length: T, rows };
}

/** The study by BPTT on the engine's backend: the WebGPU kernel, or the float64 CPU loops. */
export async function unrollStudy(engine: Engine, opts: UnrollStudyOptions): Promise<UnrollStudy> {
  if (engine.backend === 'webgpu') {
    const { unrollStudyGpu } = await import('./unroll-gpu.ts');
    return unrollStudyGpu(engine.runtime!, opts);
  }
  return { ...unrollStudyCpu(opts), adapter: engine.adapter };
}
