import type { ScalarLoss } from './loss.js';
import { sigmoid } from './loss.js';
import { checkBinaryLabel } from './binaryLabel.js';

/**
 * Exponential loss e^(−y'·ŷ) with y' = 2y − 1: AdaBoost's loss (Freund & Schapire 1997). Its population
 * minimizer is ŷ = ½·log(p / (1 − p)) (Friedman, Hastie & Tibshirani 2000), hence proba = σ(2ŷ).
 * It grows exponentially with a wrong margin, so the non-finite guard matters most here.
 */
export const exponentialLoss: ScalarLoss = {
  name: 'exponential',
  task: 'classification',
  outputs: 1,
  checkLabel(y: number): void {
    checkBinaryLabel('exponential', y);
  },
  value(y: number, yhat: number): number {
    return Math.exp(-(2 * y - 1) * yhat);
  },
  gradient(y: number, yhat: number): number {
    const s = 2 * y - 1;
    return -s * Math.exp(-s * yhat);
  },
  proba(yhat: number): number {
    return sigmoid(2 * yhat);
  },
};
