// Validation of the gradient options of a run (RunOptions in src/backend.ts): the truncated-BPTT window and the
// clipping norm.
// Each bad value is an InputError naming the option, so nothing runs with it.

import { InputError } from './errors.ts';

/** Throws an InputError naming `truncation` unless it is absent or an integer ≥ 1. */
export function checkTruncation(k: unknown): void {
  if (k === undefined) return;
  if (typeof k !== 'number')
    throw new InputError('truncation', `expected an integer ≥ 1 (steps), got ${typeof k}`, 'options');
  if (!Number.isFinite(k)) throw new InputError('truncation', `must be finite, got ${k}`, 'options');
  if (!Number.isInteger(k) || k < 1)
    throw new InputError('truncation', `must be an integer ≥ 1 (steps), got ${k}`, 'options');
}

/** Throws an InputError naming `clipNorm` unless it is absent or a finite number > 0. */
export function checkClipNorm(c: unknown): void {
  if (c === undefined) return;
  if (typeof c !== 'number') throw new InputError('clipNorm', `expected a number > 0, got ${typeof c}`, 'options');
  if (!Number.isFinite(c)) throw new InputError('clipNorm', `must be finite, got ${c}`, 'options');
  if (!(c > 0)) throw new InputError('clipNorm', `must be > 0, got ${c}`, 'options');
}
