import { ModelError } from '../../errors.js';
import type { ScalarLoss } from './loss.js';

/**
 * Squared loss ½(y − ŷ)²: least squares, and with the l1/l2 penalties exactly scikit-learn's
 * Lasso / ElasticNet objective (its ½ is why the gradient is plain ŷ − y).
 */
export const squaredLoss: ScalarLoss = {
  name: 'squared',
  task: 'regression',
  outputs: 1,
  checkLabel(y: number): void {
    if (!Number.isFinite(y)) throw new ModelError(`label y=${y} is not a finite number (squared loss)`);
  },
  value(y: number, yhat: number): number {
    const r = y - yhat;
    return 0.5 * r * r;
  },
  gradient(y: number, yhat: number): number {
    return yhat - y;
  },
};
