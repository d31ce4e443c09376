// Rolling a trained series model past the end of its series, for the CLI's `forecast` and the page's Train panel:
// each run predicts `horizon` rows from the last `window` rows (normalised, as the model was trained), which are
// appended, until `steps` rows are predicted.

import { offsetsFromLengths, type Batch } from './batch.ts';
import type { TimeSeries } from './data/csv.ts';
import type { Engine } from './engine.ts';
import type { Model } from './model.ts';

/**
 * Rolls `model` forward `steps` rows past the end of `normalized`: each call of `predict` (by default engine.run's
 * outputs) predicts `horizon` rows from the last `window` rows, which are appended (the last call keeps only the
 * rows still needed). Returns one array of `steps` values per column, normalised like the series.
 */
export async function rollForward(
  engine: Engine,
  model: Model,
  normalized: TimeSeries,
  window: number,
  horizon: number,
  steps: number,
  predict: (batch: Batch) => Promise<Float64Array> = async (batch) =>
    (await engine.run(model, batch, { outputs: true, gradients: false })).outputs!,
): Promise<Float64Array[]> {
  const C = normalized.values.length;
  const cols = normalized.values.map((v) => Array.from(v.subarray(v.length - window)));
  const out = Array.from({ length: C }, () => new Float64Array(steps));
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
    const y = await predict(batch);
    for (let j = 0; j < horizon && done < steps; j++, done++) {
      for (let c = 0; c < C; c++) {
        out[c][done] = y[j * C + c];
        cols[c].push(y[j * C + c]);
      }
    }
  }
  return out;
}
