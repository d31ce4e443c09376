// The project's one median (src/stats.ts): the middle value, the mean of the middle two for an even count, and its
// convention for NaN, ±Infinity and empty input.

import { describe, expect, it } from 'vitest';
import { median } from '../src/stats.ts';

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
