import { ddot4 } from '../../core/kernels.js';
import { ModelError } from '../../errors.js';
import type { NonFiniteGuard } from '../guard.js';
import type { Loss, ScalarLoss, VectorLoss } from '../losses/loss.js';
import type { Optimizer, OptimizerState } from '../optim/optimizer.js';
import type { Features, SparseVector } from '../types.js';
import { isSparse } from '../types.js';
import type { SparseInput } from './sparseInput.js';
import type { WeightStore } from './weightStore.js';

/** What every store is built from (the model validated each piece). */
export interface StoreParts {
  loss: Loss;
  opt: Optimizer;
  fitIntercept: boolean;
  /** The model's guard: stores snapshot and restore through it, and count rejections in it. */
  guard: NonFiniteGuard;
}

/**
 * The general paths every store shares, written against the per-store primitives: `prepareSparse`
 * (make the active coordinates current), `materialize`, `rowRead` (a pure-read dot product) and `step`
 * (a guarded optimizer step plus the regularizer's prox). A store overrides a `learn*` method only where
 * it has a tuned path; what it inherits is the arithmetic the model always had, in the same order.
 */
export abstract class StoreBase implements WeightStore {
  dim = 0;
  params = new Float64Array(0);
  readonly scores: Float64Array;
  protected readonly K: number;
  protected nW = 0;
  protected readonly scalarLoss: ScalarLoss | null;
  protected readonly vectorLoss: VectorLoss | null;
  protected readonly opt: Optimizer;
  protected readonly fitIntercept: boolean;
  protected readonly guard: NonFiniteGuard;
  /** What the guard snapshots for a whole-array step. */
  protected guardArrays: Float64Array[] = [];
  protected readonly dscores: Float64Array;
  private readonly dsum: Float64Array;
  // Scratch buffers (reused; grown on demand).
  protected grad = new Float64Array(0);
  protected coords = new Int32Array(0);
  /** upos[j] = position of feature j in a sparse batch's union of active features, −1 outside one. */
  private upos = new Int32Array(0);

  constructor(p: StoreParts) {
    this.K = p.loss.outputs;
    this.scalarLoss = p.loss.outputs === 1 ? (p.loss as ScalarLoss) : null;
    this.vectorLoss = p.loss.outputs === 1 ? null : (p.loss as VectorLoss);
    this.opt = p.opt;
    this.fitIntercept = p.fitIntercept;
    this.guard = p.guard;
    this.scores = new Float64Array(this.K);
    this.dscores = new Float64Array(this.K);
    this.dsum = new Float64Array(this.K);
  }

  abstract read(t: number, j: number): number;
  abstract materialize(t: number): void;
  /** Makes the active coordinates of every output (and the intercepts) current before a sparse step. */
  protected abstract prepareSparse(t: number, idx: Int32Array, nnz: number): void;
  /** s0 + Σ read(t, o + j)·x[j] for j < d, summed the way the store always has. */
  protected abstract rowRead(t: number, o: number, x: ArrayLike<number>, d: number, s0: number): number;
  /**
   * Step t0 + 1 (t0 = steps taken so far, as every method here takes it) on coordinates coords[i] (all of
   * them in order when null) with gradient grad[i], i < n, under the guard; then the regularizer's prox
   * (now for every weight, or owed lazily). False when rejected.
   */
  protected abstract step(t0: number, coords: Int32Array | null, grad: Float64Array, n: number): boolean;

  allocate(d: number): void {
    this.dim = d;
    this.nW = this.K * d;
    const size = this.nW + this.K;
    this.params = new Float64Array(size);
    this.opt.init(size);
    this.upos = new Int32Array(d).fill(-1);
    this.guardArrays = [this.params, ...this.opt.stateArrays()];
    this.ensureScratch(size);
  }

  expose(t: number): Float64Array {
    this.materialize(t);
    return this.params;
  }

  optimizerState(): OptimizerState {
    return this.opt.state();
  }

  restore(s: OptimizerState): void {
    this.opt.restore(s);
  }

  optimizerArrays(): Float64Array[] {
    return this.opt.stateArrays();
  }

  readScores(t: number, x: number[] | Float64Array, name: string): void {
    const { K, dim: d, scores, nW } = this;
    let ok = true;
    for (let k = 0; k < K; k++) {
      const s = this.rowRead(t, k * d, x, d, this.read(t, nW + k));
      scores[k] = s;
      if (!Number.isFinite(s)) ok = false;
    }
    if (!ok) checkFiniteDense(x, name);
  }

  readScoresSparse(t: number, x: SparseInput): void {
    const { K, dim: d, scores, nW } = this;
    const { nnz, idx, val } = x;
    for (let k = 0; k < K; k++) {
      let s = this.read(t, nW + k);
      for (let i = 0; i < nnz; i++) s += this.read(t, k * d + idx[i]) * val[i];
      scores[k] = s;
    }
  }

  learnDense(t: number, x: number[] | Float64Array, y: number, w: number): boolean {
    this.materialize(t);
    if (!this.scoreDense(x)) return this.reject();
    this.lossGradient(y, w, this.dscores);
    return this.stepDense(t, x);
  }

  learnFloat64(t: number, x: Float64Array, y: number, w: number): boolean {
    return this.learnDense(t, x, y, w);
  }

  learnSparse(t: number, x: SparseInput, y: number, w: number): boolean {
    this.prepareSparse(t, x.idx, x.nnz);
    if (!this.scoreSparse(x)) return this.reject();
    this.lossGradient(y, w, this.dscores);
    return this.stepSparse(t, x);
  }

  learnBatch(t: number, X: readonly Features[], Y: readonly number[], input: SparseInput): boolean {
    const B = X.length;
    const K = this.K;
    const d = this.dim;
    const dsum = this.dsum;
    dsum.fill(0);
    if (!this.opt.dense && X.every(isSparse)) {
      // Union of active features; accumulate Σ dscore_k·x_j per (k, feature) in acc.
      const upos = this.upos;
      const uIdx: number[] = [];
      const acc: number[] = [];
      for (let b = 0; b < B; b++) {
        input.parse(X[b] as SparseVector, `X[${b}]`, d);
        this.prepareSparse(t, input.idx, input.nnz);
        if (!this.scoreSparse(input)) {
          for (const j of uIdx) upos[j] = -1;
          return this.reject();
        }
        this.lossGradient(Y[b], 1, this.dscores);
        for (let i = 0; i < input.nnz; i++) {
          const j = input.idx[i];
          let u = upos[j];
          if (u < 0) {
            u = uIdx.length;
            upos[j] = u;
            uIdx.push(j);
            for (let k = 0; k < K; k++) acc.push(0);
          }
          for (let k = 0; k < K; k++) acc[u * K + k] += this.dscores[k] * input.val[i];
        }
        for (let k = 0; k < K; k++) dsum[k] += this.dscores[k];
      }
      const U = uIdx.length;
      for (let u = 0; u < U; u++) upos[uIdx[u]] = -1;
      const n = K * U + (this.fitIntercept ? K : 0);
      this.ensureScratch(n);
      const coords = this.coords;
      const grad = this.grad;
      for (let k = 0, i = 0; k < K; k++) {
        for (let u = 0; u < U; u++, i++) {
          coords[i] = k * d + uIdx[u];
          grad[i] = acc[u * K + k] / B;
        }
      }
      if (this.fitIntercept) {
        for (let k = 0; k < K; k++) {
          coords[K * U + k] = this.nW + k;
          grad[K * U + k] = dsum[k] / B;
        }
      }
      return this.step(t, coords, grad, n);
    }
    // Dense (or mixed) batch: a full gradient buffer.
    this.materialize(t);
    const nW = this.nW;
    const n = nW + (this.fitIntercept ? K : 0);
    this.ensureScratch(n);
    const grad = this.grad;
    grad.fill(0, 0, n);
    for (let b = 0; b < B; b++) {
      const xb = X[b];
      if (isSparse(xb)) {
        input.parse(xb, `X[${b}]`, d);
        if (!this.scoreSparse(input)) return this.reject();
        this.lossGradient(Y[b], 1, this.dscores);
        for (let k = 0; k < K; k++) {
          const g = this.dscores[k];
          for (let i = 0; i < input.nnz; i++) grad[k * d + input.idx[i]] += g * input.val[i];
        }
      } else {
        const xd = xb as number[] | Float64Array;
        if (!this.scoreDense(xd)) return this.reject();
        this.lossGradient(Y[b], 1, this.dscores);
        for (let k = 0; k < K; k++) {
          const g = this.dscores[k];
          const o = k * d;
          for (let j = 0; j < d; j++) grad[o + j] += g * xd[j];
        }
      }
      for (let k = 0; k < K; k++) dsum[k] += this.dscores[k];
    }
    for (let i = 0; i < nW; i++) grad[i] /= B;
    if (this.fitIntercept) for (let k = 0; k < K; k++) grad[nW + k] = dsum[k] / B;
    return this.step(t, null, grad, n);
  }

  /** Counts a rejected update (nothing was changed) and returns false. */
  protected reject(): false {
    this.guard.rejected++;
    return false;
  }

  /** dscores ← w · ∂L/∂scores at the current scores. */
  protected lossGradient(y: number, w: number, out: Float64Array): void {
    if (this.scalarLoss) out[0] = w * this.scalarLoss.gradient(y, this.scores[0]);
    else {
      this.vectorLoss!.gradient(y, this.scores, out);
      if (w !== 1) for (let k = 0; k < this.K; k++) out[k] *= w;
    }
  }

  /** scores ← W·x + b for a parsed sparse input (its weights current in params). False if non-finite. */
  protected scoreSparse(x: SparseInput): boolean {
    const { K, dim: d, params, scores, nW } = this;
    const { nnz, idx, val } = x;
    let ok = true;
    for (let k = 0; k < K; k++) {
      let s = params[nW + k];
      const o = k * d;
      for (let i = 0; i < nnz; i++) s += params[o + idx[i]] * val[i];
      scores[k] = s;
      if (!Number.isFinite(s)) ok = false;
    }
    return ok;
  }

  /** scores ← W·x + b for a validated dense input (params current). Throws naming a non-finite feature. */
  protected scoreDense(x: number[] | Float64Array): boolean {
    const { K, dim: d, params, scores, nW } = this;
    let ok = true;
    for (let k = 0; k < K; k++) {
      const s = params[nW + k] + ddot4(d, params, k * d, x);
      scores[k] = s;
      if (!Number.isFinite(s)) ok = false;
    }
    if (!ok) checkFiniteDense(x, 'x');
    return ok;
  }

  /** The step for a dense input with loss gradients dscores (params current). */
  protected stepDense(t: number, x: number[] | Float64Array): boolean {
    const { K, dim: d, nW, dscores } = this;
    const n = nW + (this.fitIntercept ? K : 0);
    const grad = this.grad;
    for (let k = 0; k < K; k++) {
      const g = dscores[k];
      const o = k * d;
      for (let j = 0; j < d; j++) grad[o + j] = g * x[j];
      if (this.fitIntercept) grad[nW + k] = g;
    }
    return this.step(t, null, grad, n);
  }

  /** The step for the parsed sparse input x with loss gradients dscores. */
  protected stepSparse(t: number, x: SparseInput): boolean {
    const { K, dim: d, nW, dscores } = this;
    const { nnz, idx, val } = x;
    if (this.opt.dense) {
      const n = nW + (this.fitIntercept ? K : 0);
      const grad = this.grad;
      grad.fill(0, 0, n);
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < nnz; i++) grad[k * d + idx[i]] += dscores[k] * val[i];
        if (this.fitIntercept) grad[nW + k] = dscores[k];
      }
      return this.step(t, null, grad, n);
    }
    const n = K * nnz + (this.fitIntercept ? K : 0);
    this.ensureScratch(n);
    const { coords, grad } = this;
    for (let k = 0, i = 0; k < K; k++) {
      const g = dscores[k];
      for (let q = 0; q < nnz; q++, i++) {
        coords[i] = k * d + idx[q];
        grad[i] = g * val[q];
      }
    }
    if (this.fitIntercept) {
      for (let k = 0; k < K; k++) {
        coords[K * nnz + k] = nW + k;
        grad[K * nnz + k] = dscores[k];
      }
    }
    return this.step(t, coords, grad, n);
  }

  protected ensureScratch(n: number): void {
    if (this.grad.length < n) {
      this.grad = new Float64Array(Math.max(n, 2 * this.grad.length));
      this.coords = new Int32Array(this.grad.length);
    }
  }
}

/** Throws naming the first entry of x that is not a finite number. */
export function checkFiniteDense(x: ArrayLike<number>, name: string): void {
  for (let j = 0; j < x.length; j++) {
    if (typeof x[j] !== 'number' || !Number.isFinite(x[j])) {
      throw new ModelError(`${name}[${j}]=${x[j]} is not a finite number`);
    }
  }
}
