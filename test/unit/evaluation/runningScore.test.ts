import { describe, expect, it } from 'vitest';
import { addToScore, deriveScore, emptyScore } from '../../../src/evaluation/index.js';

describe('running scores', () => {
  it('cumulative and faded means (S ← ℓ + αS, N ← 1 + αN)', () => {
    const s = emptyScore();
    deriveScore(s, 'classification');
    expect(s.loss).toBeNaN();
    expect(s.fadedError).toBeNaN();
    const alpha = 0.5;
    addToScore(s, 1, 1, alpha);
    addToScore(s, 3, 0, alpha);
    s.events += 3; // one unlabeled event predicted
    s.labeled += 2;
    deriveScore(s, 'classification');
    expect(s.loss).toBe(2);
    expect(s.error).toBe(0.5);
    // Faded: S = 3 + 0.5·1 = 3.5, N = 1 + 0.5·1 = 1.5; error S = 0 + 0.5·1.
    expect(s.fadedLoss).toBeCloseTo(3.5 / 1.5, 15);
    expect(s.fadedError).toBeCloseTo(0.5 / 1.5, 15);
  });

  it('α = 1 makes the faded means the cumulative ones; regressors have no error', () => {
    const s = emptyScore();
    for (const l of [0.5, 1.5, 4]) addToScore(s, l, 0, 1);
    s.events = s.labeled = 3;
    deriveScore(s, 'regression');
    expect(s.fadedLoss).toBe(s.loss);
    expect(s.loss).toBe(2);
    expect(s.error).toBeNaN();
    expect(s.fadedError).toBeNaN();
  });
});
