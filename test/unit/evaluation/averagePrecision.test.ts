import { describe, expect, it } from 'vitest';
import { averagePrecision } from '../../../src/evaluation/index.js';
import { fx } from './fixture.js';

describe('averagePrecision (AUC-PR)', () => {
  it.each(
    fx.averagePrecision.map((c, i) => [i, c.labels.length, c.labels.reduce((a, b) => a + b, 0), c] as const),
  )("equals scikit-learn's average_precision_score on case %i (%i events, %i positive)", (_i, _n, _p, c) => {
    expect(Math.abs(averagePrecision(c.scores, c.labels) - c.ap)).toBeLessThan(1e-12);
  });

  it('the fixtures include tied scores', () => {
    const tied = fx.averagePrecision.filter((c) => new Set(c.scores).size < c.scores.length);
    expect(tied.length).toBeGreaterThanOrEqual(2);
  });

  it('is 1 for a perfect ranking and the positive rate for all-equal scores', () => {
    expect(averagePrecision([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])).toBe(1);
    expect(averagePrecision([0.5, 0.5, 0.5, 0.5], [1, 0, 0, 0])).toBe(0.25);
    // Worst ranking: positives last. Precision at recall 1/2 is 1/3, at 1 it is 2/4.
    expect(averagePrecision([0.9, 0.8, 0.3, 0.1], [0, 0, 1, 1])).toBeCloseTo(0.5 * (1 / 3) + 0.5 * 0.5, 15);
  });

  it('is NaN without positives and rejects bad labels or scores', () => {
    expect(averagePrecision([0.1, 0.2], [0, 0])).toBeNaN();
    expect(() => averagePrecision([0.1, 0.2], [0, 2])).toThrow(/labels\[1\]=2/);
    expect(() => averagePrecision([NaN, 0.2], [0, 1])).toThrow(/scores\[0\]=NaN/);
    expect(() => averagePrecision([0.1], [0, 1])).toThrow(/1 scores but 2 labels/);
  });
});
