import type { Optimizer, OptimizerConfig, OptimizerState } from './optimizer.js';
import { packArray, unpackArray } from './optimizer.js';

export interface AdagradOptions {
  /** Default 0.1. */
  lr?: number;
  /** Added to √G (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay λ (default 0): each step first shrinks a weight by lr·λ·w (see `SgdOptions`). */
  weightDecay?: number;
}

/**
 * AdaGrad (Duchi, Hazan & Singer 2011): per-coordinate rate lr / (√G_j + eps) with G_j the sum of
 * squared gradients, so rare features keep large steps (useful for hashed sparse inputs). With the
 * model's prox this is their diagonal composite-mirror-descent update. An untouched coordinate's rate
 * does not change, which makes lazy prox steps exact.
 */
export class Adagrad implements Optimizer {
  readonly type = 'adagrad' as const;
  readonly uniform = false;
  readonly proximal = false;
  readonly dense = false;
  /** Base rate; `setLearningRate` changes it (early stopping lowers it). */
  lr: number;
  readonly eps: number;
  readonly weightDecay: number;
  private G = new Float64Array(0);

  constructor(opts: AdagradOptions = {}) {
    this.lr = opts.lr ?? 0.1;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
  }

  setLearningRate(lr: number): void {
    this.lr = lr;
  }

  init(size: number): void {
    this.G = new Float64Array(size);
  }

  step(_t: number, w: Float64Array, g: Float64Array, n: number, idx: Int32Array | null, off: number): void {
    const G = this.G;
    const shrink = 1 - this.lr * this.weightDecay;
    for (let i = 0; i < n; i++) {
      const j = idx === null ? off + i : idx[i];
      const gi = g[i];
      if (shrink !== 1) w[j] *= shrink;
      G[j] += gi * gi;
      w[j] -= (this.lr * gi) / (Math.sqrt(G[j]) + this.eps);
    }
  }

  rate(_t: number, j: number): number {
    return this.lr / (Math.sqrt(this.G[j]) + this.eps);
  }

  stateArrays(): Float64Array[] {
    return [this.G];
  }

  state(): OptimizerState {
    return { type: 'adagrad', config: this.config(), arrays: [packArray(this.G)] };
  }

  restore(s: OptimizerState): void {
    unpackArray(s.arrays[0], this.G, 'adagrad G');
  }

  config(): OptimizerConfig {
    return { type: 'adagrad', lr: this.lr, eps: this.eps };
  }
}
