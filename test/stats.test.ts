// The project's one median (src/stats.ts): the middle value, the mean of the middle two for an even count, and its
// convention for NaN, ±Infinity and empty input; quantiles of sorted values, interpolated between ranks.

import { describe, expect, it } from 'vitest';
import { median, quantile } from '../src/stats.ts';

describe('median', () => {
  it('is the middle value of an odd count and the mean of the middle two of an even count, in any order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([7])).toBe(7);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 1])).toBe(5.5);
    expect(median([5, 5, 1, 9])).toBe(5);
    expect(median(new Float64Array([0.1, 0.3, 0.2, 0.4]))).toBeCloseTo(0.25, 15);
  });

  it('leaves out NaN and ±Infinity, and is NaN when no finite value is left', () => {
    expect(median([1, NaN, 3])).toBe(2);
    expect(median([1, 2, Infinity])).toBe(1.5);
    expect(median([-Infinity, 1, 2, 3, Infinity])).toBe(2);
    expect(median([])).toBeNaN();
    expect(median([NaN, Infinity, -Infinity])).toBeNaN();
  });

  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('quantile', () => {
  it('interpolates linearly between ranks of sorted values: p = 0 the min, 1 the max, empty NaN', () => {
    const xs = new Float64Array([1, 2, 4, 8, 16]);
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile(xs, 1)).toBe(16);
    expect(quantile(xs, 0.5)).toBe(4);
    expect(quantile(xs, 0.25)).toBe(2); // rank 1 exactly
    expect(quantile(xs, 0.1)).toBeCloseTo(1.4, 14); // rank 0.4: 1 + 0.4·(2 − 1)
    expect(quantile(xs, 0.9)).toBeCloseTo(12.8, 14); // rank 3.6: 8 + 0.6·(16 − 8)
    expect(quantile([3, 5], 0.5)).toBe(4);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
