import { describe, expect, it } from 'vitest';
import { durationFigures, percentile } from '../../src/reports/percentiles.js';

describe('nearest-rank percentiles', () => {
  it('takes the value at rank ⌈p/100 × n⌉ of the sorted values, never one between', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(ten, 50)).toBe(5);
    expect(percentile(ten, 90)).toBe(9);
    expect(percentile(ten, 91)).toBe(10);
    expect(percentile(ten, 100)).toBe(10);
    expect(percentile(ten, 1)).toBe(1);
    // Four values: p50 is rank 2, p90 rank 4 (⌈3.6⌉); no interpolation to 25 or 37.
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 90)).toBe(40);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 90)).toBe(7);
  });

  it('has none of no values, and refuses a percentile outside (0, 100]', () => {
    expect(percentile([], 50)).toBeNull();
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it('gives durations in ms as count, p50 and p90 in seconds, whatever their order', () => {
    expect(durationFigures([90_000, 30_000, 600_000, 45_500, 60_000])).toEqual({
      count: 5,
      p50: 60,
      p90: 600,
    });
    expect(durationFigures([])).toEqual({ count: 0, p50: null, p90: null });
  });
});
