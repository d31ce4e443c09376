// The seed notes' toy stock data: each day is low (0), medium (0.5) or high (1); the network reads yesterday and
// today and predicts tomorrow. The sequences themselves live in src/statquest.ts (STATQUEST_SEQUENCES).

import { batchFromArrays } from '../batch.ts';
import { STATQUEST_JSON } from '../model.ts';
import { STATQUEST_3DAY, STATQUEST_SEQUENCES, type ScalarData } from '../statquest.ts';
import type { DataSet } from './dataset.ts';

/** A scalar-input data set (one value per day, one observed value per sequence) as a `last`-output batch. */
export function scalarDataSet(name: string, description: string, data: ScalarData): DataSet {
  const batch = batchFromArrays(
    data.inputs.map((s) => s.map((v) => [v])),
    data.observed.map((v) => [v]),
    'last',
  );
  return {
    name,
    description,
    batch,
    suggest: { inputSize: 1, outputSize: 1, output: 'last', hiddenSize: STATQUEST_JSON.hiddenSize, activation: STATQUEST_JSON.activation },
    timeOrdered: false,
    gap: 0,
  };
}

/**
 * The notes' data: [1, 0.5] → 0 and [0, 0.5] → 1 (yesterday, today → tomorrow). With `days: 3`, the 3-day set of
 * the closed-form comparison: [1, 1, 0.5] → 0 and [0.5, 0, 0.5] → 1.
 */
export function seedData(days: 2 | 3 = 2): DataSet {
  return days === 2
    ? scalarDataSet('seed', "the seed notes' toy stock data: [1, 0.5] → 0 and [0, 0.5] → 1 (low 0, medium 0.5, high 1)", STATQUEST_SEQUENCES)
    : scalarDataSet('seed3', "the seed notes' 3-day toy stock data: [1, 1, 0.5] → 0 and [0.5, 0, 0.5] → 1", STATQUEST_3DAY);
}
