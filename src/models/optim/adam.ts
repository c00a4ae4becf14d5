import type { Optimizer, OptimizerConfig, OptimizerState } from './optimizer.js';
import { packArray, unpackArray } from './optimizer.js';

export interface AdamOptions {
  /** Default 0.001. */
  lr?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
}

/**
 * Adam (Kingma & Ba 2015) with bias correction folded into the rate:
 * w ← w − lr·√(1 − β2^t)/(1 − β1^t) · m / (√v + eps). Its momentum moves a weight even when that
 * weight's gradient is zero, so sparse steps are applied to every weight (O(dim), `dense = true`):
 * for hashed features use SGD, AdaGrad or FTRL, whose sparse steps are lazy.
 */
export class Adam implements Optimizer {
  readonly type = 'adam' as const;
  readonly uniform = false;
  readonly proximal = false;
  readonly dense = true;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private m = new Float64Array(0);
  private v = new Float64Array(0);

  constructor(opts: AdamOptions = {}) {
    this.lr = opts.lr ?? 0.001;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  init(size: number): void {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  private stepRate(t: number): number {
    return (this.lr * Math.sqrt(1 - Math.pow(this.beta2, t))) / (1 - Math.pow(this.beta1, t));
  }

  step(t: number, w: Float64Array, g: Float64Array, n: number, idx: Int32Array | null, off: number): void {
    const lrT = this.stepRate(t);
    const { m, v, beta1: b1, beta2: b2, eps } = this;
    for (let i = 0; i < n; i++) {
      const j = idx === null ? off + i : idx[i];
      const gi = g[i];
      m[j] = b1 * m[j] + (1 - b1) * gi;
      v[j] = b2 * v[j] + (1 - b2) * gi * gi;
      w[j] -= (lrT * m[j]) / (Math.sqrt(v[j]) + eps);
    }
  }

  rate(t: number, j: number): number {
    return this.stepRate(t) / (Math.sqrt(this.v[j]) + this.eps);
  }

  stateArrays(): Float64Array[] {
    return [this.m, this.v];
  }

  state(): OptimizerState {
    return { type: 'adam', config: this.config(), arrays: [packArray(this.m), packArray(this.v)] };
  }

  restore(s: OptimizerState): void {
    unpackArray(s.arrays[0], this.m, 'adam m');
    unpackArray(s.arrays[1], this.v, 'adam v');
  }

  config(): OptimizerConfig {
    return { type: 'adam', lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps };
  }
}
