import type { ScalarLoss } from './loss.js';
import { sigmoid, softplus } from './loss.js';
import { checkBinaryLabel } from './binaryLabel.js';

/**
 * Logistic (log) loss for y ∈ {0, 1} on the margin ŷ: log(1 + e^ŷ) − y·ŷ, i.e. the cross-entropy of
 * σ(ŷ). Written with softplus so large margins neither overflow nor lose the gradient.
 */
export const logisticLoss: ScalarLoss = {
  name: 'logistic',
  task: 'classification',
  outputs: 1,
  checkLabel(y: number): void {
    checkBinaryLabel('logistic', y);
  },
  value(y: number, yhat: number): number {
    return softplus(yhat) - y * yhat;
  },
  gradient(y: number, yhat: number): number {
    return sigmoid(yhat) - y;
  },
  proba(yhat: number): number {
    return sigmoid(yhat);
  },
};
