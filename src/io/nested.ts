// Conversions between the flat layouts of Batch / Result and the nested arrays of the JSON formats.

import type { Batch } from '../batch.ts';
import type { OutputMode } from '../model.ts';

/**
 * Nests a flat per-sequence (`last`: N×W) or per-step (`all`: N×T_n×W) array the way the data JSON nests targets.
 * `flat` holds `last`: n*W + w; `all`: (offsets[n]+t)*W + w.
 */
export function nestRows(
  flat: ArrayLike<number>,
  batch: Pick<Batch, 'count' | 'lengths' | 'offsets'>,
  width: number,
  mode: OutputMode,
): number[][] | number[][][] {
  const row = (start: number): number[] => {
    const r = new Array<number>(width);
    for (let w = 0; w < width; w++) r[w] = flat[start + w];
    return r;
  };
  if (mode === 'last') return Array.from({ length: batch.count }, (_, n) => row(n * width));
  return Array.from({ length: batch.count }, (_, n) =>
    Array.from({ length: batch.lengths[n] }, (_, t) => row((batch.offsets[n] + t) * width)),
  );
}

/** Inputs of sequence n as T_n×I nested arrays. */
export function sequenceInputs(batch: Batch, n: number): number[][] {
  const I = batch.inputSize;
  return Array.from({ length: batch.lengths[n] }, (_, t) => {
    const base = (batch.offsets[n] + t) * I;
    return Array.from({ length: I }, (_, i) => batch.inputs[base + i]);
  });
}

/** Targets of sequence n: O values (`last`) or T_n×O (`all`). */
export function sequenceTargets(batch: Batch, n: number): number[] | number[][] {
  const O = batch.outputSize;
  const tg = batch.targets!;
  const row = (start: number): number[] => Array.from({ length: O }, (_, o) => tg[start + o]);
  if (batch.output === 'last') return row(n * O);
  return Array.from({ length: batch.lengths[n] }, (_, t) => row((batch.offsets[n] + t) * O));
}
