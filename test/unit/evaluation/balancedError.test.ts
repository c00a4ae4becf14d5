import { describe, expect, it } from 'vitest';
import { balancedError, countPrediction, emptyClassCounts } from '../../../src/evaluation/index.js';
import { fx } from './fixture.js';

describe('balancedError', () => {
  it.each(fx.balancedError.map((c, i) => [i, c] as const))(
    "equals 1 − scikit-learn's balanced_accuracy_score on case %i",
    (_i, c) => {
      const counts = emptyClassCounts(c.classes);
      c.labels.forEach((y, i) => countPrediction(counts, y, c.predicted[i]));
      expect(Math.abs(balancedError(counts) - c.balancedError)).toBeLessThan(1e-15);
    },
  );

  it('always answering the majority class scores 1 − 1/K whatever the class frequencies', () => {
    const counts = emptyClassCounts(3);
    for (let i = 0; i < 90; i++) countPrediction(counts, 0, 0);
    for (let i = 0; i < 9; i++) countPrediction(counts, 1, 0);
    countPrediction(counts, 2, 0);
    expect(balancedError(counts)).toBeCloseTo(2 / 3, 15);
  });

  it('skips classes that never occurred; 1 when none did', () => {
    const counts = emptyClassCounts(3);
    countPrediction(counts, 1, 1);
    countPrediction(counts, 1, 0);
    expect(balancedError(counts)).toBe(0.5);
    expect(balancedError(emptyClassCounts(2))).toBe(1);
  });
});
