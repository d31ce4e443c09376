// The one median of the project (page, benchmark and whatever else needs one), from d3-array, with one convention
// for what is not a finite number. Browser-safe and free of project imports, so every layer may use it.

import { median as d3Median, quantileSorted } from 'd3-array';

/**
 * The median of the finite values in `values`: the middle one, or the mean of the middle two for an even count.
 * NaN and ±Infinity are left out (d3-array alone skips NaN but returns NaN for a list like [1, 2, Infinity]); the
 * result is NaN when no finite value is left.
 */
export function median(values: Iterable<number>): number {
  return d3Median(values, (v) => (Number.isFinite(v) ? v : NaN)) ?? NaN;
}

/** Quantile p of ascending `sorted` values, interpolating linearly between ranks (p = 0: min, 1: max); NaN when empty. */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  // d3-array reads only `length` and indices, so a typed array serves as it is (its types ask for an Array).
  return quantileSorted(sorted as number[], p) ?? NaN;
}
