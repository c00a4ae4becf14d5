import { describe, expect, it } from 'vitest';
import { clipProbability, LOG_LOSS_EPS, logLoss, logLossOne } from '../../../src/evaluation/index.js';
import { fx } from './fixture.js';

describe('logLoss', () => {
  it.each(fx.logLoss.map((c, i) => [i, c] as const))(
    "equals scikit-learn's log_loss (eps = 1e-15) on case %i",
    (_i, c) => {
      // sklearn 1.2 clips to [eps, 1 − eps] and renormalizes each row; both move a loss by ~1e-15 only.
      expect(Math.abs(logLoss(c.proba, c.labels) - c.logLoss)).toBeLessThan(1e-12);
    },
  );

  it('clips a probability of 0 at 1e-15 and never rewards p > 1', () => {
    expect(LOG_LOSS_EPS).toBe(1e-15);
    expect(logLossOne([1, 0], 1)).toBe(-Math.log(1e-15));
    expect(logLossOne([0.25, 0.75], 1)).toBe(-Math.log(0.75));
    expect(Math.abs(logLossOne([1 + 1e-12, 0], 0))).toBe(0);
    expect(clipProbability(-1)).toBe(1e-15);
    expect(clipProbability(2)).toBe(1);
  });

  it('is NaN for an empty batch and refuses mismatched lengths', () => {
    expect(logLoss([], [])).toBeNaN();
    expect(() => logLoss([[0.5, 0.5]], [])).toThrow(/logLoss: 1 rows but 0 to compare/);
  });
});
