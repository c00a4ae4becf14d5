import { meanOver } from './meanOver.js';

/**
 * The one log-loss convention of the project: a probability is clipped to [LOG_LOSS_EPS, 1] before the log,
 * as scikit-learn's `log_loss` does, so a confident wrong prediction costs −log(1e-15) ≈ 34.5 instead of
 * Infinity. The live metrics, the comparison and early stopping all score through these functions.
 */
export const LOG_LOSS_EPS = 1e-15;

/** p clipped to [LOG_LOSS_EPS, 1]. */
export function clipProbability(p: number): number {
  return Math.min(1, Math.max(LOG_LOSS_EPS, p));
}

/** −log p_y of one prediction (natural log), `proba` being the class probabilities and y the class index. */
export function logLossOne(proba: ArrayLike<number>, y: number): number {
  return -Math.log(clipProbability(proba[y]));
}

/** Mean log loss of a batch of predictions (NaN for an empty batch). */
export function logLoss(proba: readonly ArrayLike<number>[], y: readonly number[]): number {
  return meanOver('logLoss', proba, y, logLossOne);
}
