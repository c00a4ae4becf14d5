import type { Task } from '../models/types.js';

/**
 * Running prequential ("test-then-train") scores, cumulative and exponentially faded (Gama, Sebastião &
 * Rodrigues 2013, "On evaluating stream learning algorithms": faded sums S ← ℓ + αS, N ← 1 + αN). The sums
 * are kept so that a checkpoint can resume them; loss/error are derived (NaN while nothing is labeled, and
 * error is NaN for regressors).
 */
export interface RunningScore {
  /** Events predicted. */
  events: number;
  /** Events learned (labeled). */
  labeled: number;
  lossSum: number;
  errorSum: number;
  fadedLossSum: number;
  fadedErrorSum: number;
  fadedWeight: number;
  loss: number;
  error: number;
  fadedLoss: number;
  fadedError: number;
}

/** The sums a checkpoint stores (the rest is derived). */
export const runningScoreSums = [
  'events',
  'labeled',
  'lossSum',
  'errorSum',
  'fadedLossSum',
  'fadedErrorSum',
  'fadedWeight',
] as const;

export function emptyScore(): RunningScore {
  return {
    events: 0,
    labeled: 0,
    lossSum: 0,
    errorSum: 0,
    fadedLossSum: 0,
    fadedErrorSum: 0,
    fadedWeight: 0,
    loss: NaN,
    error: NaN,
    fadedLoss: NaN,
    fadedError: NaN,
  };
}

/**
 * Adds one labeled event's loss and 0/1 error (0 for regressors) with fading factor alpha in (0, 1]. The
 * event counts (`events`, `labeled`) and the derived means are the caller's, per batch: see `deriveScore`.
 */
export function addToScore(s: RunningScore, loss: number, error: number, alpha: number): void {
  s.lossSum += loss;
  s.errorSum += error;
  s.fadedLossSum = loss + alpha * s.fadedLossSum;
  s.fadedErrorSum = error + alpha * s.fadedErrorSum;
  s.fadedWeight = 1 + alpha * s.fadedWeight;
}

/** Recomputes the derived means from the sums. */
export function deriveScore(s: RunningScore, task: Task): void {
  const any = s.labeled > 0;
  s.loss = any ? s.lossSum / s.labeled : NaN;
  s.fadedLoss = any ? s.fadedLossSum / s.fadedWeight : NaN;
  s.error = any && task === 'classification' ? s.errorSum / s.labeled : NaN;
  s.fadedError = any && task === 'classification' ? s.fadedErrorSum / s.fadedWeight : NaN;
}
