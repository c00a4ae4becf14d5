import type { Regularizer, RegularizerConfig } from './regularizer.js';
import { softThreshold } from './regularizer.js';

/**
 * Elastic net l1·‖w‖₁ + (l2/2)·‖w‖₂² (Zou & Hastie 2005); Lasso when l2 = 0, ridge when l1 = 0, and no
 * penalty when both are 0. With squared loss this is scikit-learn's ElasticNet objective with
 * alpha = l1 + l2 and l1_ratio = l1 / (l1 + l2). Its prox is soft(v, η·l1) / (1 + η·l2).
 */
export class ElasticNet implements Regularizer {
  readonly kind: 'none' | 'elasticnet';
  readonly strength: number;
  readonly elastic: { readonly l1: number; readonly l2: number } | null;

  constructor(
    readonly l1: number,
    readonly l2: number,
  ) {
    this.kind = l1 === 0 && l2 === 0 ? 'none' : 'elasticnet';
    this.strength = l1 + l2;
    this.elastic = this.kind === 'none' ? null : this;
  }

  value(w: Float64Array, n: number): number {
    let a = 0;
    let s = 0;
    for (let j = 0; j < n; j++) {
      a += Math.abs(w[j]);
      s += w[j] * w[j];
    }
    return this.l1 * a + 0.5 * this.l2 * s;
  }

  addGradient(w: Float64Array, n: number, out: Float64Array): void {
    for (let j = 0; j < n; j++) out[j] += this.l1 * Math.sign(w[j]) + this.l2 * w[j];
  }

  prox(v: number, eta: number): number {
    return softThreshold(v, eta * this.l1) / (1 + eta * this.l2);
  }

  config(): RegularizerConfig | undefined {
    return this.kind === 'none' ? undefined : { l1: this.l1, l2: this.l2 };
  }
}
