import { LazyElasticNet } from '../regularizers/lazyElasticNet.js';
import type { Regularizer } from '../regularizers/regularizer.js';
import { EagerStore } from './eagerStore.js';
import type { StoreParts } from './storeBase.js';

/**
 * An elastic net with an optimizer whose zero gradient leaves a weight alone (SGD, AdaGrad): sparse steps
 * touch only the active weights and every other weight owes the step's prox, paid in closed form when the
 * weight is next read (`LazyElasticNet`), which equals applying every prox to every weight. A dense step
 * first pays every debt (`materialize`) and then runs as `EagerStore`'s, fused kernel included.
 *
 * `stale` is lazy mode: entered by the first sparse step after a dense one, left by `materialize`.
 */
export class LazyElasticNetStore extends EagerStore {
  private lazy: LazyElasticNet | null = null;
  private readonly l1: number;
  private readonly l2: number;

  constructor(p: StoreParts, reg: Regularizer) {
    super(p, reg);
    if (reg.elastic === null) throw new Error('LazyElasticNetStore needs an elastic-net regularizer');
    this.l1 = reg.elastic.l1;
    this.l2 = reg.elastic.l2;
  }

  override allocate(d: number): void {
    super.allocate(d);
    this.lazy = new LazyElasticNet(this.l1, this.l2, this.opt.uniform, this.nW);
  }

  /** Weight j's rate for its owed steps (per-weight mode; 0 when the rate is uniform). */
  private owedRate(t: number, j: number): number {
    return this.opt.uniform ? 0 : this.opt.rate(t, j);
  }

  override read(t: number, j: number): number {
    // Intercepts are never penalized, so they owe nothing.
    if (this.stale && j < this.nW) return this.lazy!.peek(this.params, j, t, this.owedRate(t, j));
    return this.params[j];
  }

  override materialize(t: number): void {
    if (!this.stale) return;
    this.denseSafe = false;
    const lazy = this.lazy!;
    for (let j = 0; j < this.nW; j++) lazy.sync(this.params, j, t, this.owedRate(t, j));
    this.stale = false;
  }

  protected override prepareSparse(t: number, idx: Int32Array, nnz: number): void {
    if (!this.stale) {
      this.lazy!.start(t);
      this.stale = true;
    }
    const { K, dim: d, params } = this;
    const lazy = this.lazy!;
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < nnz; i++) {
        const j = k * d + idx[i];
        lazy.sync(params, j, t, this.owedRate(t, j));
      }
    }
  }

  protected override rowRead(t: number, o: number, x: ArrayLike<number>, d: number, s0: number): number {
    if (!this.stale) return super.rowRead(t, o, x, d, s0);
    let s = s0;
    for (let j = 0; j < d; j++) s += this.read(t, o + j) * x[j];
    return s;
  }

  protected override prox(t: number, coords: Int32Array | null): void {
    if (coords === null || !this.stale) {
      super.prox(t, coords);
      return;
    }
    // A sparse step in lazy mode: this step's prox is owed by every weight, touched or not.
    if (this.opt.uniform) {
      this.lazy!.advance(this.opt.rate(t, 0));
      if (this.lazy!.needsRescale()) {
        this.materialize(t);
        this.lazy!.start(t);
        this.stale = true;
      }
    }
  }
}
