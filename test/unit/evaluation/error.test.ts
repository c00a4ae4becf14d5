import { describe, expect, it } from 'vitest';
import { argmax, errorRate, squaredError, zeroOneError } from '../../../src/evaluation/index.js';

describe('error', () => {
  it('argmax takes the first of tied maxima', () => {
    expect(argmax([0.2, 0.5, 0.5, 0.1])).toBe(1);
    expect(argmax([1])).toBe(0);
  });

  it('zero-one error and the error rate of a batch', () => {
    expect(zeroOneError([0.3, 0.7], 1)).toBe(0);
    expect(zeroOneError([0.3, 0.7], 0)).toBe(1);
    expect(
      errorRate(
        [
          [0.9, 0.1],
          [0.4, 0.6],
          [0.5, 0.5],
          [0.2, 0.8],
        ],
        [0, 0, 0, 1],
      ),
    ).toBe(0.25);
    expect(errorRate([], [])).toBeNaN();
  });

  it('squared error is (y − ŷ)²', () => {
    expect(squaredError(3, 1.5)).toBe(2.25);
    expect(squaredError(-1, 1)).toBe(4);
  });
});
