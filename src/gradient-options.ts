// Validation of the gradient options of a run (RunOptions in src/backend.ts): the truncated-BPTT window.
// Each bad value is an InputError naming the option, so nothing runs with it.

import { InputError } from './errors.ts';

/** Throws an InputError naming `truncation` unless it is absent or an integer ≥ 1. */
export function checkTruncation(k: unknown): void {
  if (k === undefined) return;
  if (typeof k !== 'number') throw new InputError('truncation', `expected an integer ≥ 1 (steps), got ${typeof k}`, 'options');
  if (!Number.isFinite(k)) throw new InputError('truncation', `must be finite, got ${k}`, 'options');
  if (!Number.isInteger(k) || k < 1) throw new InputError('truncation', `must be an integer ≥ 1 (steps), got ${k}`, 'options');
}
