import { allFinite, ddot4 } from '../../core/kernels.js';
import type { Regularizer } from '../regularizers/regularizer.js';
import type { StoreParts } from './storeBase.js';
import { StoreBase, checkFiniteDense } from './storeBase.js';

/**
 * Every weight current in `params` after every step: the optimizer steps the coordinates, then the
 * regularizer's prox (or L0's projection) runs over every weight. Plain SGD with no penalty or an elastic
 * net takes a fused step instead (gradient step and prox in one unrolled pass, `shrinkStep` / `softStep`),
 * and a one-output model learning Float64Array events takes it with the dot product inlined
 * (`learnFloat64`), the throughput `npm run bench linear` measures.
 */
export class EagerStore extends StoreBase {
  protected readonly reg: Regularizer;
  /** The regularizer's l1 / l2 when it is an elastic net (null for none and for every other penalty). */
  protected readonly elastic: { readonly l1: number; readonly l2: number } | null;
  /** Dense steps take the fused SGD + elastic-net kernel (uniform rate, separable or no penalty). */
  private readonly fused: boolean;
  /** fused with one output: Float64Array events take `learnFloat64`'s inlined path. */
  private readonly fusedOne: boolean;
  /**
   * Every weight and intercept is ≤ HALF_MAX in magnitude: set only by the fused dense step that checked
   * it, cleared by every other write (and by `expose`, whose caller may write), so the next fused step
   * can skip its snapshot.
   */
  protected denseSafe = false;
  /** Some weight may differ from its `read` value (a lazy store's owed prox): `materialize` has work to do. */
  protected stale = false;

  constructor(p: StoreParts, reg: Regularizer) {
    super(p);
    this.reg = reg;
    this.elastic = reg.elastic;
    this.fused = p.opt.uniform && !reg.project && (reg.kind === 'none' || reg.kind === 'elasticnet');
    this.fusedOne = this.fused && this.K === 1;
  }

  override allocate(d: number): void {
    super.allocate(d);
    this.denseSafe = false;
    this.stale = false;
  }

  read(_t: number, j: number): number {
    return this.params[j];
  }

  materialize(_t: number): void {}

  override expose(t: number): Float64Array {
    this.materialize(t);
    this.denseSafe = false;
    return this.params;
  }

  protected prepareSparse(_t: number, _idx: Int32Array, _nnz: number): void {}

  protected rowRead(_t: number, o: number, x: ArrayLike<number>, d: number, s0: number): number {
    return s0 + ddot4(d, this.params, o, x);
  }

  protected step(t0: number, coords: Int32Array | null, grad: Float64Array, n: number): boolean {
    const t = t0 + 1;
    this.denseSafe = false;
    if (coords === null) this.guard.save(this.guardArrays);
    else this.guard.save(this.guardArrays, coords, n);
    this.opt.step(t, this.params, grad, n, coords, 0);
    if (!this.guard.commit()) return false;
    if (this.opt.proximal || this.reg.kind === 'none') return true;
    this.prox(t, coords);
    return true;
  }

  /** The regularizer's prox for step t, over every weight (a store may owe it instead). */
  protected prox(t: number, _coords: Int32Array | null): void {
    const { nW, params, reg } = this;
    if (this.opt.uniform) {
      const eta = this.opt.rate(t, 0);
      for (let j = 0; j < nW; j++) params[j] = reg.prox(params[j], eta);
    } else {
      for (let j = 0; j < nW; j++) params[j] = reg.prox(params[j], this.opt.rate(t, j));
    }
    reg.project?.(params, nW);
  }

  /**
   * The fused one-output step: the same computation as materialize → scoreDense → lossGradient →
   * stepDense, bit for bit, in one monomorphic method with the dot product and the L2 kernel inlined.
   */
  override learnFloat64(t0: number, x: Float64Array, y: number, w: number): boolean {
    if (!this.fusedOne) return this.learnDense(t0, x, y, w);
    if (this.stale) this.materialize(t0);
    const { dim: d, nW, params } = this;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j + 3 < d; j += 4) {
      s0 += params[j] * x[j];
      s1 += params[j + 1] * x[j + 1];
      s2 += params[j + 2] * x[j + 2];
      s3 += params[j + 3] * x[j + 3];
    }
    for (; j < d; j++) s0 += params[j] * x[j];
    const s = params[nW] + (s0 + s1 + (s2 + s3));
    this.scores[0] = s;
    if (!Number.isFinite(s)) {
      checkFiniteDense(x, 'x');
      return this.reject();
    }
    const g = w * this.scalarLoss!.gradient(y, s);
    this.dscores[0] = g;
    const t = t0 + 1;
    const eta = this.opt.rate(t, 0);
    const el = this.elastic;
    const a = el ? eta * el.l1 : 0;
    const c = el ? 1 / (1 + eta * el.l2) : 1;
    const step = eta * g;
    // See stepDense for why these bounds make the step finite without a snapshot.
    const safe = this.denseSafe && c <= 1 && Math.abs(step) <= 0.5;
    if (!safe) this.guard.save(this.guardArrays);
    let big = false;
    if (a === 0) {
      let ok = true;
      j = 0;
      for (; j + 3 < d; j += 4) {
        const v0 = (params[j] - step * x[j]) * c;
        const v1 = (params[j + 1] - step * x[j + 1]) * c;
        const v2 = (params[j + 2] - step * x[j + 2]) * c;
        const v3 = (params[j + 3] - step * x[j + 3]) * c;
        params[j] = v0;
        params[j + 1] = v1;
        params[j + 2] = v2;
        params[j + 3] = v3;
        if (!(Math.abs(v0) + Math.abs(v1) + (Math.abs(v2) + Math.abs(v3)) <= HALF_MAX)) ok = false;
      }
      for (; j < d; j++) {
        const v = (params[j] - step * x[j]) * c;
        params[j] = v;
        if (!(Math.abs(v) <= HALF_MAX)) ok = false;
      }
      big = !ok;
    } else big = !softStep(params, 0, x, d, step, a, c);
    if (this.fitIntercept) {
      const b = (params[nW] -= step);
      if (!(Math.abs(b) <= HALF_MAX)) big = true;
    }
    if (big) {
      this.denseSafe = false;
      if (!safe && !allFinite(nW + (this.fitIntercept ? 1 : 0), params)) {
        this.guard.reject();
        return false;
      }
    } else this.denseSafe = true;
    return true;
  }

  protected override stepDense(t0: number, x: number[] | Float64Array): boolean {
    if (!this.fused) return super.stepDense(t0, x);
    // Fused SGD + elastic-net prox: w ← soft(w − η·g·x, η·l1) / (1 + η·l2). No snapshot is needed when
    // every weight and intercept is known to be ≤ HALF_MAX in magnitude (denseSafe) and every |η·g_k| ≤ ½:
    // x is finite (its score is), so |w − η·g·x| ≤ HALF_MAX + ½·MAX_VALUE stays finite, and the prox only
    // shrinks. Otherwise the step is guarded by a whole-array copy.
    const { K, dim: d, nW, params, dscores } = this;
    const t = t0 + 1;
    const eta = this.opt.rate(t, 0);
    const a = this.elastic ? eta * this.elastic.l1 : 0;
    const c = this.elastic ? 1 / (1 + eta * this.elastic.l2) : 1;
    let safe = this.denseSafe && c <= 1;
    for (let k = 0; k < K && safe; k++) if (!(Math.abs(eta * dscores[k]) <= 0.5)) safe = false;
    if (!safe) this.guard.save(this.guardArrays);
    // big: some result may exceed HALF_MAX (or be non-finite); the kernels test it without a float chain.
    let big = false;
    for (let k = 0; k < K; k++) {
      const o = k * d;
      const step = eta * dscores[k];
      if (a === 0 ? !shrinkStep(params, o, x, d, step, c) : !softStep(params, o, x, d, step, a, c))
        big = true;
      if (this.fitIntercept) {
        const b = (params[nW + k] -= step);
        if (!(Math.abs(b) <= HALF_MAX)) big = true;
      }
    }
    if (big) {
      this.denseSafe = false;
      if (!safe && !allFinite(nW + (this.fitIntercept ? K : 0), params)) {
        this.guard.reject();
        return false;
      }
    } else this.denseSafe = true;
    return true;
  }
}

/** Half the largest double: |w| ≤ HALF_MAX and |δ| ≤ ½·MAX_VALUE give a finite w − δ. */
const HALF_MAX = Number.MAX_VALUE / 2;

/**
 * w[o + j] ← (w[o + j] − step·x[j])·c for j < d (SGD step + L2 prox), unrolled by four; false if a result
 * may exceed HALF_MAX in magnitude or is not finite (a sum of four |v| compared once: no loop-carried float
 * chain; conservative, which only costs a finiteness scan or the next step's snapshot).
 */
function shrinkStep(
  w: Float64Array,
  o: number,
  x: ArrayLike<number>,
  d: number,
  step: number,
  c: number,
): boolean {
  let ok = true;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    const v0 = (w[o + j] - step * x[j]) * c;
    const v1 = (w[o + j + 1] - step * x[j + 1]) * c;
    const v2 = (w[o + j + 2] - step * x[j + 2]) * c;
    const v3 = (w[o + j + 3] - step * x[j + 3]) * c;
    w[o + j] = v0;
    w[o + j + 1] = v1;
    w[o + j + 2] = v2;
    w[o + j + 3] = v3;
    if (!(Math.abs(v0) + Math.abs(v1) + (Math.abs(v2) + Math.abs(v3)) <= HALF_MAX)) ok = false;
  }
  for (; j < d; j++) {
    const v = (w[o + j] - step * x[j]) * c;
    w[o + j] = v;
    if (!(Math.abs(v) <= HALF_MAX)) ok = false;
  }
  return ok;
}

/** w[o + j] ← soft(w[o + j] − step·x[j], a)·c for j < d (SGD step + elastic-net prox); false if some |result| > HALF_MAX or is not finite. */
function softStep(
  w: Float64Array,
  o: number,
  x: ArrayLike<number>,
  d: number,
  step: number,
  a: number,
  c: number,
): boolean {
  let ok = true;
  for (let j = 0; j < d; j++) {
    const v = w[o + j] - step * x[j];
    const u = (v > a ? v - a : v < -a ? v + a : 0) * c;
    w[o + j] = u;
    if (!(Math.abs(u) <= HALF_MAX)) ok = false;
  }
  return ok;
}
