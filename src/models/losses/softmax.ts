import { ModelError } from '../../errors.js';
import type { VectorLoss } from './loss.js';

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
    const k = this.outputs;
    let m = -Infinity;
    for (let i = 0; i < k; i++) if (scores[i] > m) m = scores[i];
    let z = 0;
    for (let i = 0; i < k; i++) z += Math.exp(scores[i] - m);
    return m + Math.log(z) - scores[y];
  }

  gradient(y: number, scores: Float64Array, out: Float64Array): void {
    this.probaInto(scores, out);
    out[y] -= 1;
  }

  probaInto(scores: Float64Array, out: Float64Array): void {
    const k = this.outputs;
    let m = -Infinity;
    for (let i = 0; i < k; i++) if (scores[i] > m) m = scores[i];
    let z = 0;
    for (let i = 0; i < k; i++) {
      const e = Math.exp(scores[i] - m);
      out[i] = e;
      z += e;
    }
    for (let i = 0; i < k; i++) out[i] /= z;
  }
}
