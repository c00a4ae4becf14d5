import type { Task } from '../types.js';

/** Loss names accepted by `LinearModel` (`loss` option). */
export type LossName = 'squared' | 'logistic' | 'hinge' | 'exponential' | 'softmax';

/**
 * A loss on one scalar raw output ŷ (regression value or binary margin). `gradient` is ∂L/∂ŷ, so the
 * gradient for weight j of a linear model is `gradient(y, ŷ) · x_j` (chain rule done by the model).
 */
export interface ScalarLoss {
  readonly name: Exclude<LossName, 'softmax'>;
  readonly task: Task;
  /** Raw outputs per sample: always 1 here. */
  readonly outputs: 1;
  /** Throws `ModelError` naming the label when this loss cannot take it (e.g. 2 for logistic). */
  checkLabel(y: number): void;
  value(y: number, yhat: number): number;
  gradient(y: number, yhat: number): number;
  /** P(y = 1) from the raw margin (classifiers only). */
  proba?(yhat: number): number;
}

/**
 * A loss on K raw scores (multiclass). `gradient` writes ∂L/∂score_k into `out` (length K).
 */
export interface VectorLoss {
  readonly name: 'softmax';
  readonly task: 'classification';
  /** Raw outputs per sample: the number of classes. */
  readonly outputs: number;
  checkLabel(y: number): void;
  value(y: number, scores: Float64Array): number;
  gradient(y: number, scores: Float64Array, out: Float64Array): void;
  /** Class probabilities into `out` (length K). */
  probaInto(scores: Float64Array, out: Float64Array): void;
}

export type Loss = ScalarLoss | VectorLoss;

/** log(1 + e^z) without overflow. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** 1 / (1 + e^-z) without overflow. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
