// The Train panel's forecast past the end of a CSV series, as the CLI's `forecast` rolls it: each run of the
// trained model predicts `horizon` rows from the last `window` rows (normalised, as the model was trained), which
// are appended, until `steps` rows are predicted. The page undoes the normalisation to draw it in the series' units.

import { offsetsFromLengths, type Batch } from '../batch.ts';
import type { TimeSeries } from '../data/csv.ts';
import type { Engine } from '../engine.ts';
import type { Model } from '../model.ts';

/** `steps` rows past the end of `normalized`, row-major (steps × columns), normalised like the series. */
export async function rollForward(
  engine: Engine,
  model: Model,
  normalized: TimeSeries,
  window: number,
  horizon: number,
  steps: number,
): Promise<Float64Array> {
  const C = normalized.values.length;
  const cols = normalized.values.map((v) => Array.from(v.subarray(v.length - window)));
  const out = new Float64Array(steps * C);
  const lengths = Uint32Array.of(window);
  for (let done = 0; done < steps;) {
    const inputs = new Float64Array(window * C);
    for (let t = 0; t < window; t++)
      for (let c = 0; c < C; c++) inputs[t * C + c] = cols[c][cols[c].length - window + t];
    const batch: Batch = {
      count: 1,
      inputSize: C,
      outputSize: model.outputSize,
      output: 'last',
      lengths,
      offsets: offsetsFromLengths(lengths),
      inputs,
      targets: null,
    };
    const y = (await engine.run(model, batch, { outputs: true, gradients: false })).outputs!;
    for (let j = 0; j < horizon && done < steps; j++, done++)
      for (let c = 0; c < C; c++) {
        out[done * C + c] = y[j * C + c];
        cols[c].push(y[j * C + c]);
      }
  }
  return out;
}
