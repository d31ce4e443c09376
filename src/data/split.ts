// Subsets of a batch and the train/validation split. For windows of one time series (DataSet.timeOrdered) the
// honest split is by time: validation is the last fraction of the windows, so no validation target was ever a
// training target (a gap of DataSet.gap windows keeps multi-step targets apart). A seeded random split suits
// independent sequences (seed, sine, adding) and is refused for time-ordered windows unless asked for explicitly.

import { offsetsFromLengths, type Batch } from '../batch.ts';
import { InputError } from '../errors.ts';
import { Rng } from '../random.ts';
import type { DataSet } from './dataset.ts';

/** The sequences `indices` of `batch`, in that order (copies). */
export function subsetBatch(batch: Batch, indices: ArrayLike<number>): Batch {
  const N = indices.length;
  const I = batch.inputSize;
  const O = batch.outputSize;
  const all = batch.output === 'all';
  const lengths = new Uint32Array(N);
  for (let k = 0; k < N; k++) {
    const n = indices[k];
    if (!Number.isInteger(n) || n < 0 || n >= batch.count) throw new RangeError(`sequence ${n} is outside the batch of ${batch.count}`);
    lengths[k] = batch.lengths[n];
  }
  const offsets = offsetsFromLengths(lengths);
  const inputs = new Float64Array(offsets[N] * I);
  const targets = batch.targets ? new Float64Array((all ? offsets[N] : N) * O) : null;
  for (let k = 0; k < N; k++) {
    const n = indices[k];
    const from = batch.offsets[n];
    inputs.set(batch.inputs.subarray(from * I, (from + lengths[k]) * I), offsets[k] * I);
    if (targets && batch.targets) {
      if (all) targets.set(batch.targets.subarray(from * O, (from + lengths[k]) * O), offsets[k] * O);
      else targets.set(batch.targets.subarray(n * O, (n + 1) * O), k * O);
    }
  }
  return { count: N, inputSize: I, outputSize: O, output: batch.output, lengths, offsets, inputs, targets };
}

export type SplitMode = 'time' | 'random';

export interface SplitOptions {
  /** Fraction of the sequences for validation, in (0, 1). */
  fraction: number;
  /** `time` (default): the last fraction; `random`: a seeded shuffle (not allowed for time-ordered windows unless `force`). */
  mode?: SplitMode;
  /** Seed of the random split. */
  seed?: number;
  /** Allow a random split of time-ordered windows (it leaks the future into training). */
  force?: boolean;
}

export interface Split {
  train: Batch;
  validation: Batch;
  /** Which sequences of the original batch went where (ascending for `time`). */
  trainIndices: Uint32Array;
  validationIndices: Uint32Array;
  /** Windows left out between the two (time split of multi-step targets). */
  dropped: number;
}

/**
 * Splits a data set into training and validation batches. Validation gets round(N·fraction) sequences and both
 * sides get at least one; a split by time leaves `data.gap` windows out between them.
 */
export function splitData(data: DataSet, opts: SplitOptions): Split {
  const f = opts.fraction;
  if (!Number.isFinite(f) || f <= 0 || f >= 1) throw new InputError('validation', `the validation fraction must be between 0 and 1 (exclusive), got ${f}`);
  const mode = opts.mode ?? 'time';
  const N = data.batch.count;
  const gap = mode === 'time' && data.timeOrdered ? data.gap : 0;
  const nVal = Math.round(N * f);
  const nTrain = N - nVal - gap;
  if (nVal < 1 || nTrain < 1) {
    throw new InputError(
      'validation',
      `a fraction of ${f} of ${N} sequences leaves ${Math.max(0, nTrain)} for training and ${nVal} for validation${gap ? ` (with ${gap} left out between them)` : ''}; both need at least one`,
    );
  }
  let order: Uint32Array;
  if (mode === 'random') {
    if (data.timeOrdered && !opts.force) {
      throw new InputError('validation', 'a random split of windows of one time series lets training see the future; split by time instead');
    }
    order = Uint32Array.from({ length: N }, (_, k) => k);
    const rng = new Rng(opts.seed ?? 1);
    for (let k = N - 1; k > 0; k--) {
      const j = rng.int(0, k);
      const t = order[k];
      order[k] = order[j];
      order[j] = t;
    }
  } else if (mode === 'time') {
    order = Uint32Array.from({ length: N }, (_, k) => k);
  } else {
    throw new InputError('validation', `unknown split mode "${String(mode)}" (use time or random)`);
  }
  const trainIndices = order.slice(0, nTrain);
  const validationIndices = order.slice(nTrain + gap);
  return {
    train: subsetBatch(data.batch, trainIndices),
    validation: subsetBatch(data.batch, validationIndices),
    trainIndices,
    validationIndices,
    dropped: gap,
  };
}
