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
  /**
   * Decoupled weight decay λ (default 0), which makes this AdamW (Loshchilov & Hutter 2019): each step
   * first shrinks a weight by lr·λ·w, outside the adaptive scaling, which for Adam is not the same as an L2
   * term in the loss. Set by a net for its decayed tensors; a `LinearModel` applies its penalties as a prox.
   */
  weightDecay?: number;
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1), written as PyTorch writes it:
 * w ← w − lr·m̂ / (√v̂ + eps) with m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t), so eps is added to the bias-corrected
 * √v̂. Its momentum moves a weight even when that weight's gradient is zero, so sparse steps are applied to
 * every weight (O(dim), `dense = true`): for hashed features use SGD, AdaGrad or FTRL, whose sparse steps
 * are lazy.
 */
export class Adam implements Optimizer {
  readonly type = 'adam' as const;
  readonly uniform = false;
  readonly proximal = false;
  readonly dense = true;
  /** Base rate; `setLearningRate` changes it (early stopping lowers it). */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private m = new Float64Array(0);
  private v = new Float64Array(0);

  constructor(opts: AdamOptions = {}) {
    this.lr = opts.lr ?? 0.001;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
  }

  setLearningRate(lr: number): void {
    this.lr = lr;
  }

  init(size: number): void {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  step(t: number, w: Float64Array, g: Float64Array, n: number, idx: Int32Array | null, off: number): void {
    const { m, v, lr, beta1: b1, beta2: b2, eps } = this;
    const c1 = 1 - Math.pow(b1, t);
    const c2 = 1 - Math.pow(b2, t);
    const shrink = 1 - lr * this.weightDecay;
    for (let i = 0; i < n; i++) {
      const j = idx === null ? off + i : idx[i];
      const gi = g[i];
      if (shrink !== 1) w[j] *= shrink;
      m[j] = b1 * m[j] + (1 - b1) * gi;
      v[j] = b2 * v[j] + (1 - b2) * gi * gi;
      w[j] -= (lr * (m[j] / c1)) / (Math.sqrt(v[j] / c2) + eps);
    }
  }

  /** lr/(1 − β1^t) / (√v̂_j + eps): the factor coordinate j's first moment was scaled by at step t. */
  rate(t: number, j: number): number {
    const c1 = 1 - Math.pow(this.beta1, t);
    const c2 = 1 - Math.pow(this.beta2, t);
    return this.lr / c1 / (Math.sqrt(this.v[j] / c2) + this.eps);
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
