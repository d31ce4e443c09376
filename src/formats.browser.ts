// Public entry `webgpu-rnn/formats` in browsers: the in-memory half of src/formats.ts (no file system).
/// <reference types="@webgpu/types" preserve="true" />

/**
 * Model and data formats in memory: JSON models and data sets and the binary `.rnnb` format.
 *
 * @module webgpu-rnn/formats (browser)
 */

import type { Batch } from './batch.ts';
import { sequenceInputs, sequenceTargets } from './io/nested.ts';
import { checkBatch } from './validate.ts';

export { parseModel, parseData, parseStates, checkBatch, type DataShape } from './validate.ts';
export { modelFromJSON, modelToJSON, type ModelJSON } from './model.ts';
export { encodeRnnb, decodeRnnb, RNNB_MAGIC, RNNB_VERSION, RNNB_HEADER_BYTES } from './io/rnnb-codec.ts';

/** A data set in the JSON data format (what {@link parseData} reads back). */
export interface DataJSON {
  /** One array of steps per sequence, each step `inputSize` numbers. */
  inputs: number[][][];
  /** Output mode `last`: one target vector per sequence; `all`: one per step. Absent when the batch has none. */
  targets?: number[][] | number[][][];
}

/**
 * The JSON form of a batch, for `JSON.stringify` (float32 values become the doubles they hold). A batch that is
 * malformed or holds a non-finite value (JSON has no Infinity or NaN) throws an `InputError` naming it.
 */
export function dataToJSON(batch: Batch): DataJSON {
  checkBatch(batch, batch);
  const inputs = Array.from({ length: batch.count }, (_, n) => sequenceInputs(batch, n));
  if (!batch.targets) return { inputs };
  const targets = Array.from({ length: batch.count }, (_, n) => sequenceTargets(batch, n)) as number[][] | number[][][];
  return { inputs, targets };
}
