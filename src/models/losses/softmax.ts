import { ModelError } from '../../errors.js';
import type { VectorLoss } from './loss.js';

/** log Σ_j e^{z_j} over z[off, off + k), shifted by the maximum so that no exponential overflows. */
export function logSumExp(z: ArrayLike<number>, off: number, k: number): number {
  let max = -Infinity;
  for (let j = 0; j < k; j++) if (z[off + j] > max) max = z[off + j];
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(z[off + j] - max);
  return max + Math.log(sum);
}

/**
 * out[outOff + j] ← scale·softmax(z[off, off + k))_j, computed as (scale·e^{z_j − max}) / Σ e^{z_i − max}
 * (scale = 1: the probabilities; scale = w/n: a weighted mean's gradient, without a second pass). Returns
 * log Σ e^{z_j}, as `logSumExp` computes it.
 */
export function softmaxRow(
  z: ArrayLike<number>,
  off: number,
  k: number,
  out: Float64Array | number[],
  outOff: number,
  scale: number,
): number {
  let max = -Infinity;
  for (let j = 0; j < k; j++) if (z[off + j] > max) max = z[off + j];
  let sum = 0;
  for (let j = 0; j < k; j++) {
    const e = Math.exp(z[off + j] - max);
    out[outOff + j] = e;
    sum += e;
  }
  for (let j = 0; j < k; j++) out[outOff + j] = (scale * out[outOff + j]) / sum;
  return max + Math.log(sum);
}

/**
 * Mean weighted softmax cross-entropy of a batch of logits `[n, k]` (row-major), (1/n)·Σ_i w·(−log
 * softmax(z_i)_{y_i}), and its gradient with respect to the logits into `dlogits` (same layout):
 * (w/n)·(softmax(z_i) − onehot(y_i)). The nets' head; `SoftmaxLoss` is the same loss one row at a time.
 */
export function softmaxCrossEntropy(
  logits: Float64Array,
  labels: readonly number[],
  k: number,
  weight: number,
  dlogits: Float64Array,
): number {
  const n = labels.length;
  const scale = weight / n;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const o = i * k;
    const lse = softmaxRow(logits, o, k, dlogits, o, scale);
    loss += (weight * (lse - logits[o + labels[i]])) / n;
    dlogits[o + labels[i]] -= scale;
  }
  return loss;
}

/**
 * Softmax cross-entropy over K classes, y ∈ {0, …, K−1}: −log softmax(s)_y, gradient p − onehot(y).
 * Scores are shifted by their maximum before exponentiating, so no score overflows.
 */
export class SoftmaxLoss implements VectorLoss {
  readonly name = 'softmax' as const;
  readonly task = 'classification' as const;
  readonly outputs: number;

  constructor(classes: number) {
    if (!Number.isInteger(classes) || classes < 2) {
      throw new ModelError(`softmax loss needs classes ≥ 2 (an integer); got classes=${classes}`);
    }
    this.outputs = classes;
  }

  checkLabel(y: number): void {
    if (!Number.isInteger(y) || y < 0 || y >= this.outputs) {
      throw new ModelError(
        `label y=${y} is out of range for the softmax loss (expected an integer in [0, ${this.outputs}))`,
      );
    }
  }

  value(y: number, scores: Float64Array): number {
    return logSumExp(scores, 0, this.outputs) - scores[y];
  }

  gradient(y: number, scores: Float64Array, out: Float64Array): void {
    this.probaInto(scores, out);
    out[y] -= 1;
  }

  probaInto(scores: Float64Array, out: Float64Array): void {
    softmaxRow(scores, 0, this.outputs, out, 0, 1);
  }
}
