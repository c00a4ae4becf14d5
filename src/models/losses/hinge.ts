import type { ScalarLoss } from './loss.js';
import { checkBinaryLabel } from './binaryLabel.js';

/**
 * Hinge loss max(0, 1 − y'·ŷ) with y' = 2y − 1 ∈ {−1, +1}: the linear SVM. Not differentiable at the
 * hinge y'·ŷ = 1, where the subgradient 0 is used (as scikit-learn's SGD does).
 */
export const hingeLoss: ScalarLoss = {
  name: 'hinge',
  task: 'classification',
  outputs: 1,
  checkLabel(y: number): void {
    checkBinaryLabel('hinge', y);
  },
  value(y: number, yhat: number): number {
    const s = 2 * y - 1;
    return Math.max(0, 1 - s * yhat);
  },
  gradient(y: number, yhat: number): number {
    const s = 2 * y - 1;
    return s * yhat < 1 ? -s : 0;
  },
  /**
   * The hinge loss estimates no probability; this is a monotone score clipped from the margin
   * ((ŷ + 1) / 2 in [0, 1]), good for ranking and thresholds at 0.5, not calibrated.
   */
  proba(yhat: number): number {
    return Math.min(1, Math.max(0, (yhat + 1) / 2));
  },
};
