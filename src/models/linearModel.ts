import { ModelError } from '../errors.js';
import type { Classifier, Features, ModelState, SparseVector, Task, WeightStats } from './types.js';
import { isSparse } from './types.js';
import type { Loss, LossName, ScalarLoss, VectorLoss } from './losses/loss.js';
import { createLoss, lossNames } from './losses/createLoss.js';
import type { Regularizer, RegularizerConfig } from './regularizers/regularizer.js';
import { createRegularizer } from './regularizers/createRegularizer.js';
import { LazyElasticNet } from './regularizers/lazyElasticNet.js';
import type { Optimizer, OptimizerConfig, OptimizerState } from './optim/optimizer.js';
import { unpackArray } from './optim/optimizer.js';
import { createOptimizer } from './optim/createOptimizer.js';
import { optimalTypw } from './optim/schedules.js';
import { Ftrl } from './optim/ftrl.js';
import { NonFiniteGuard } from './guard.js';

export interface LinearModelOptions {
  /** 'squared' (regression), 'logistic' | 'hinge' | 'exponential' (binary, y ∈ {0,1}), 'softmax' (multiclass). */
  loss: LossName;
  /** `{ l1?, l2? }`, `{ lp: { p, lambda } }`, `{ l0: { k } }`; none by default. */
  regularizer?: RegularizerConfig | null;
  /** Default `{ type: 'sgd', lr: 0.01, schedule: 'constant' }`. */
  optimizer?: OptimizerConfig;
  /** Learn an unpenalized intercept (default true). */
  fitIntercept?: boolean;
  /** Feature count; required for sparse inputs, inferred from the first dense input otherwise. */
  dim?: number;
  /** Number of classes (softmax only, ≥ 2). */
  classes?: number;
}

export interface LinearModelState extends ModelState {
  kind: 'LinearModel';
  version: 1;
  options: LinearModelOptions;
  dim: number;
  t: number;
  /**
   * Weights then intercepts (see the class doc for the layout). A plain array (a zero costs two bytes of
   * JSON); the optimizer's statistics, larger and denser in bytes, are packed.
   */
  params: number[];
  optimizer: OptimizerState;
  rejectedUpdates: number;
}

const optionKeys = ['loss', 'regularizer', 'optimizer', 'fitIntercept', 'dim', 'classes'];

/**
 * A linear model learned online: regression (squared loss), binary classification (logistic, hinge,
 * exponential) or multiclass (softmax), with L1 / L2 / elastic-net / Lp / L0 regularization.
 *
 * Objective: mean loss + l1·‖w‖₁ + (l2/2)·‖w‖₂², the intercept never penalized. With squared loss this is
 * exactly scikit-learn's Lasso / ElasticNet objective, so trained to convergence on a fixed dataset it
 * lands on the batch solver's solution, zeros included. Regularization is applied as a proximal step after
 * each gradient step (FOBOS, Duchi & Singer 2009), never as a subgradient, so L1 gives exact zeros; FTRL
 * applies it in closed form instead (see `Ftrl` for the l1/l2 → λ1/λ2 mapping).
 *
 * `learnOne` takes one optimizer step per event (gradient scaled by the sample weight; the prox step is
 * not). `learnMany` takes ONE step on the mean gradient of the batch, as a mini-batch optimizer does: it
 * is not the same as looping `learnOne` (which takes B smaller steps, each seeing the last; River #1912).
 *
 * Sparse inputs `{ indices, values }` (hashed features, `dim` required) update only the active weights:
 * owed elastic-net prox steps are applied lazily in closed form (`LazyElasticNet`), which equals applying
 * every step to every weight. Adam (momentum moves untouched weights) and the Lp / L0 penalties have no
 * such closed form and touch every weight on a sparse step, O(dim).
 *
 * Parameter layout: `weights` is row-major [outputs × dim] (outputs = 1, or `classes` for softmax, row k
 * scoring class k) and `biases` holds one intercept per output; `bias` is the single intercept of a
 * one-output model. An update that would make a weight non-finite is rejected (`rejectedUpdates`).
 *
 * @example
 * const m = new LinearModel({ loss: 'logistic', regularizer: { l1: 1e-3 }, optimizer: { type: 'sgd', lr: 0.1 } });
 * m.learnOne([0.5, -1.2], 1);
 * m.predictProbaOne([0.5, -1.2]); // [p0, p1]
 */
export class LinearModel implements Classifier {
  readonly kind = 'LinearModel';
  readonly task: Task;
  readonly classes: number;
  private readonly options: LinearModelOptions;
  private readonly loss: Loss;
  private readonly scalarLoss: ScalarLoss | null;
  private readonly vectorLoss: VectorLoss | null;
  private readonly reg: Regularizer;
  private readonly opt: Optimizer;
  private readonly ftrl: Ftrl | null;
  private readonly fitIntercept: boolean;
  /** Raw outputs per sample (1, or classes for softmax). */
  private readonly K: number;
  private dim_ = 0;
  private nW = 0;
  private params = new Float64Array(0);
  private t = 0;
  private readonly guard = new NonFiniteGuard();
  private lazy: LazyElasticNet | null = null;
  private lazyOn = false;
  /** Elastic net whose prox can be owed lazily (SGD, AdaGrad). */
  private readonly lazyCapable: boolean;
  /** Dense steps take the fused SGD + elastic-net kernel (uniform rate, separable or no penalty). */
  private readonly fastDense: boolean;
  /**
   * Every weight and intercept is ≤ HALF_MAX in magnitude: set only by the fused dense step that checked
   * it, cleared by every other write (and by the live `weights` / `biases` views), so the next fused step
   * can skip its snapshot.
   */
  private denseSafe = false;
  /** fastDense with one output: Float64Array events take `denseFastOne`. */
  private readonly fastDenseOne: boolean;
  private readonly elastic: { l1: number; l2: number } | null;
  // Scratch buffers (reused; grown on demand).
  private scores: Float64Array;
  private dscores: Float64Array;
  private dsum: Float64Array;
  private grad = new Float64Array(0);
  private coords = new Int32Array(0);
  /** FTRL guard coordinates (2j, 2j + 1) for coords[i] = j. */
  private coords2 = new Int32Array(0);
  private sIdx = new Int32Array(16);
  private sVal = new Float64Array(16);
  /**
   * FTRL fast path, for events of more than SCRATCH features (smaller ones use the module's Z_AT, ...): z
   * and n of the active features before the step, by position in sIdx.
   */
  private zAt = new Float64Array(16);
  private nAt = new Float64Array(16);
  /** FTRL fast path: the pre-step weights of the active features. */
  private wAt = new Float64Array(16);
  /** FTRL fast path: √n of the active features (reused by the z/n update). */
  private rootAt = new Float64Array(16);
  private nnz = 0;
  private hKeys = new Int32Array(0);
  private hPos = new Int32Array(0);
  private hStamp = new Int32Array(0);
  private hEpoch = 0;
  private upos = new Int32Array(0);
  private guardArrays: Float64Array[] = [];

  constructor(options: LinearModelOptions) {
    if (typeof options !== 'object' || options === null)
      throw new ModelError('LinearModel options must be an object');
    for (const k of Object.keys(options)) {
      if (!optionKeys.includes(k))
        throw new ModelError(`unknown LinearModel option '${k}' (expected ${optionKeys.join(', ')})`);
    }
    if (options.loss === undefined)
      throw new ModelError(`LinearModel option 'loss' is required (${lossNames.join(', ')})`);
    if (!lossNames.includes(options.loss)) {
      throw new ModelError(
        `unknown loss '${String(options.loss)}' (expected one of ${lossNames.join(', ')})`,
      );
    }
    this.loss = createLoss(options.loss, options.classes);
    this.scalarLoss = this.loss.outputs === 1 ? (this.loss as ScalarLoss) : null;
    this.vectorLoss = this.loss.outputs === 1 ? null : (this.loss as VectorLoss);
    this.K = this.loss.outputs;
    this.task = this.loss.task;
    this.classes = this.task === 'regression' ? 1 : this.K === 1 ? 2 : this.K;
    this.reg = createRegularizer(options.regularizer);
    const typw = this.reg.strength > 0 ? optimalTypw(this.reg.strength) : 1;
    const lossSlope = this.scalarLoss ? this.scalarLoss.gradient(1, -typw) : -1;
    this.opt = createOptimizer(options.optimizer, { alpha: this.reg.strength, lossSlope });
    this.ftrl = this.opt instanceof Ftrl ? this.opt : null;
    this.elastic =
      this.reg.kind === 'elasticnet' ? (this.reg as unknown as { l1: number; l2: number }) : null;
    if (this.ftrl && (this.reg.kind === 'lp' || this.reg.kind === 'l0')) {
      throw new ModelError(
        `regularizer ${this.reg.kind} is not supported with the ftrl optimizer (FTRL-Proximal applies only l1/l2, in closed form)`,
      );
    }
    if (options.fitIntercept !== undefined && typeof options.fitIntercept !== 'boolean') {
      throw new ModelError(`option fitIntercept=${String(options.fitIntercept)} must be a boolean`);
    }
    this.fitIntercept = options.fitIntercept ?? true;
    this.lazyCapable = this.elastic !== null && !this.opt.proximal && !this.opt.dense;
    this.fastDense =
      this.opt.uniform && !this.reg.project && (this.reg.kind === 'none' || this.reg.kind === 'elasticnet');
    this.fastDenseOne = this.fastDense && this.K === 1;
    this.options = {
      loss: options.loss,
      regularizer: this.reg.config() ?? null,
      optimizer: this.opt.config(),
      fitIntercept: this.fitIntercept,
      ...(options.dim !== undefined ? { dim: options.dim } : {}),
      ...(options.classes !== undefined ? { classes: options.classes } : {}),
    };
    this.scores = new Float64Array(this.K);
    this.dscores = new Float64Array(this.K);
    this.dsum = new Float64Array(this.K);
    if (options.dim !== undefined) {
      if (!Number.isInteger(options.dim) || options.dim < 1) {
        throw new ModelError(`option dim=${String(options.dim)} must be a positive integer`);
      }
      this.allocate(options.dim);
    }
  }

  // ---------------------------------------------------------------- public API

  /** Feature count (0 until known). */
  get dim(): number {
    return this.dim_;
  }

  /** Optimizer steps taken. */
  get steps(): number {
    return this.t;
  }

  get rejectedUpdates(): number {
    return this.guard.rejected;
  }

  /** Weights, row-major [outputs × dim] (a live view, brought up to date first). */
  get weights(): Float64Array {
    this.materialize();
    this.denseSafe = false;
    return this.params.subarray(0, this.nW);
  }

  /** One intercept per output (a live view). */
  get biases(): Float64Array {
    this.materialize();
    this.denseSafe = false;
    return this.params.subarray(this.nW, this.nW + this.K);
  }

  /** The intercept of a one-output model (softmax models have `biases`, one per class). */
  get bias(): number {
    if (this.K !== 1)
      throw new ModelError(`a softmax model has one intercept per class: read 'biases', not 'bias'`);
    return this.dim_ === 0 ? 0 : this.biasRead(0);
  }

  /** The objective's penalty J(w) at the current weights (for tests and monitoring). */
  penalty(): number {
    this.materialize();
    return this.reg.value(this.params, this.nW);
  }

  learnOne(x: Features, y: number, w = 1): void {
    this.loss.checkLabel(y);
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new ModelError(`sample weight w=${String(w)} must be a finite number ≥ 0`);
    }
    if (this.fastDenseOne && x instanceof Float64Array && x.length === this.dim_ && this.dim_ !== 0) {
      this.denseFastOne(x, y, w);
      return;
    }
    if (isSparse(x)) {
      this.denseSafe = false;
      this.parseSparse(x, 'x');
      if (this.ftrl !== null && this.K === 1 && this.ftrlOne(y, w)) return;
      this.prepareSparse();
      const ok = this.scoreSparse();
      if (!ok) return this.rejectNonFinite();
      this.lossGradient(y, w, this.dscores);
      this.stepSparse(this.dscores, this.sIdx, this.sVal, this.nnz);
    } else {
      const xd = this.denseInput(x, 'x');
      this.prepareDense();
      if (!this.scoreDense(xd)) return this.rejectNonFinite();
      this.lossGradient(y, w, this.dscores);
      this.stepDense(xd);
    }
  }

  /**
   * One step on the mean gradient of the batch (all scores computed at the current weights first).
   * Looping `learnOne` instead takes B steps. Throws before any update if any sample is invalid.
   */
  learnMany(X: Features[], Y: number[]): void {
    if (!Array.isArray(X) || !Array.isArray(Y) || X.length !== Y.length) {
      throw new ModelError(
        `learnMany: X and Y must be arrays of the same length (got ${X?.length} and ${Y?.length})`,
      );
    }
    const B = X.length;
    if (B === 0) return;
    this.denseSafe = false;
    for (let b = 0; b < B; b++) this.loss.checkLabel(Y[b]);
    let allSparse = true;
    for (let b = 0; b < B; b++) {
      if (!isSparse(X[b])) {
        allSparse = false;
        this.denseInput(X[b] as number[] | Float64Array, `X[${b}]`);
      } else this.parseSparse(X[b] as SparseVector, `X[${b}]`);
    }
    const K = this.K;
    const dsum = this.dsum;
    dsum.fill(0);
    if (allSparse && !this.opt.dense) {
      // Union of active features; accumulate Σ dscore_k·x_j per (k, feature) in grad.
      const upos = this.upos;
      const uIdx: number[] = [];
      const acc: number[] = [];
      for (let b = 0; b < B; b++) {
        this.parseSparse(X[b] as SparseVector, `X[${b}]`);
        this.prepareSparse();
        if (!this.scoreSparse()) {
          for (const j of uIdx) upos[j] = -1;
          return this.rejectNonFinite();
        }
        this.lossGradient(Y[b], 1, this.dscores);
        for (let i = 0; i < this.nnz; i++) {
          const j = this.sIdx[i];
          let u = upos[j];
          if (u < 0) {
            u = uIdx.length;
            upos[j] = u;
            uIdx.push(j);
            for (let k = 0; k < K; k++) acc.push(0);
          }
          for (let k = 0; k < K; k++) acc[u * K + k] += this.dscores[k] * this.sVal[i];
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
          coords[i] = k * this.dim_ + uIdx[u];
          grad[i] = acc[u * K + k] / B;
        }
      }
      if (this.fitIntercept) {
        for (let k = 0; k < K; k++) {
          coords[K * U + k] = this.nW + k;
          grad[K * U + k] = dsum[k] / B;
        }
      }
      this.applyStep(coords, grad, n);
      return;
    }
    // Dense (or mixed) batch: a full gradient buffer.
    this.prepareDense();
    const nW = this.nW;
    const n = nW + (this.fitIntercept ? K : 0);
    this.ensureScratch(n);
    const grad = this.grad;
    grad.fill(0, 0, n);
    const d = this.dim_;
    for (let b = 0; b < B; b++) {
      const xb = X[b];
      if (isSparse(xb)) {
        this.parseSparse(xb, `X[${b}]`);
        if (!this.scoreSparse()) return this.rejectNonFinite();
        this.lossGradient(Y[b], 1, this.dscores);
        for (let k = 0; k < K; k++) {
          const g = this.dscores[k];
          for (let i = 0; i < this.nnz; i++) grad[k * d + this.sIdx[i]] += g * this.sVal[i];
        }
      } else {
        const xd = xb as number[] | Float64Array;
        if (!this.scoreDense(xd)) return this.rejectNonFinite();
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
    this.applyStep(null, grad, n);
  }

  /** Class index (argmax probability) for classifiers, the value for regression. */
  predictOne(x: Features): number {
    this.rawScores(x, 'x');
    const s = this.scores;
    if (this.task === 'regression') return s[0];
    if (this.K === 1) return s[0] > 0 ? 1 : 0;
    let best = 0;
    for (let k = 1; k < this.K; k++) if (s[k] > s[best]) best = k;
    return best;
  }

  predictMany(X: Features[]): number[] {
    return X.map((x) => this.predictOne(x));
  }

  /** Class probabilities ([p0, p1] for binary; see each loss for what its probability means). */
  predictProbaOne(x: Features): number[] {
    if (this.task !== 'classification')
      throw new ModelError(`predictProbaOne: the squared loss is a regressor`);
    this.rawScores(x, 'x');
    if (this.vectorLoss) {
      const out = new Float64Array(this.K);
      this.vectorLoss.probaInto(this.scores, out);
      return Array.from(out);
    }
    const p = (this.scalarLoss as ScalarLoss).proba!(this.scores[0]);
    return [1 - p, p];
  }

  predictProbaMany(X: Features[]): number[][] {
    return X.map((x) => this.predictProbaOne(x));
  }

  /** The raw scores (margins / regression value) for x, one per output. */
  decisionFunction(x: Features): number[] {
    this.rawScores(x, 'x');
    return Array.from(this.scores);
  }

  /** Mean loss of the model on (X, Y), without the penalty. */
  meanLoss(X: Features[], Y: number[]): number {
    let s = 0;
    for (let b = 0; b < X.length; b++) {
      this.loss.checkLabel(Y[b]);
      this.rawScores(X[b], `X[${b}]`);
      s += this.scalarLoss
        ? this.scalarLoss.value(Y[b], this.scores[0])
        : this.vectorLoss!.value(Y[b], this.scores);
    }
    return X.length === 0 ? 0 : s / X.length;
  }

  weightStats(): WeightStats {
    this.materialize();
    const n = this.nW;
    let l1 = 0;
    let s2 = 0;
    let zeros = 0;
    for (let j = 0; j < n; j++) {
      const v = this.params[j];
      l1 += Math.abs(v);
      s2 += v * v;
      if (v === 0) zeros++;
    }
    return { l1, l2: Math.sqrt(s2), sparsity: n === 0 ? 0 : zeros / n, count: n };
  }

  /** JSON-safe state: options, weights, optimizer statistics and the step counter; restores bit for bit. */
  state(): LinearModelState {
    this.materialize();
    return {
      kind: 'LinearModel',
      version: 1,
      options: structuredClone(this.options),
      dim: this.dim_,
      t: this.t,
      params: Array.from(this.params),
      optimizer: this.opt.state(),
      rejectedUpdates: this.guard.rejected,
    };
  }

  static fromState(s: LinearModelState): LinearModel {
    if (s === null || typeof s !== 'object' || s.kind !== 'LinearModel') {
      throw new ModelError(
        `not a LinearModel state (kind=${String((s as { kind?: unknown } | null)?.kind)})`,
      );
    }
    if (s.version !== 1) throw new ModelError(`unsupported LinearModel state version ${String(s.version)}`);
    const m = new LinearModel(s.options);
    if (s.dim > 0) {
      if (m.dim_ === 0) m.allocate(s.dim);
      try {
        unpackArray(s.params, m.params, 'LinearModel state params');
        m.opt.restore(s.optimizer);
      } catch (e) {
        throw new ModelError(`corrupt LinearModel state: ${(e as Error).message}`, { cause: e });
      }
    }
    m.t = s.t;
    m.guard.rejected = s.rejectedUpdates;
    return m;
  }

  // ---------------------------------------------------------------- internals

  private allocate(d: number): void {
    this.denseSafe = false;
    this.dim_ = d;
    this.nW = this.K * d;
    const size = this.nW + this.K;
    this.params = new Float64Array(size);
    this.opt.init(size);
    this.ftrl?.setPenalty({ l1: this.elastic?.l1 ?? 0, l2: this.elastic?.l2 ?? 0, penalized: this.nW });
    if (this.lazyCapable)
      this.lazy = new LazyElasticNet(this.elastic!.l1, this.elastic!.l2, this.opt.uniform, this.nW);
    this.upos = new Int32Array(d).fill(-1);
    // FTRL never writes weights in its step (they are a function of z, n and t), so only z and n need
    // guarding (one interleaved array).
    this.guardArrays = this.ftrl ? this.opt.stateArrays() : [this.params, ...this.opt.stateArrays()];
    this.ensureScratch(size);
  }

  private ensureScratch(n: number): void {
    if (this.grad.length < n) {
      this.grad = new Float64Array(Math.max(n, 2 * this.grad.length));
      this.coords = new Int32Array(this.grad.length);
    }
  }

  private denseInput(x: Features, name: string): number[] | Float64Array {
    if (!Array.isArray(x) && !(x instanceof Float64Array)) {
      throw new ModelError(`${name} must be a number[], Float64Array or { indices, values }`);
    }
    if (x.length > 0 && Array.isArray(x[0])) {
      throw new ModelError(
        `${name} is a window (number[][]); LinearModel takes vectors (use WindowNet or flatten it)`,
      );
    }
    const xd = x as number[] | Float64Array;
    if (this.dim_ === 0) {
      if (xd.length === 0) throw new ModelError(`${name} is empty`);
      this.allocate(xd.length);
    } else if (xd.length !== this.dim_) {
      throw new ModelError(`${name} has dimension ${xd.length}; the model expects dim=${this.dim_}`);
    }
    return xd;
  }

  /**
   * Validates and coalesces a sparse vector into sIdx / sVal / nnz (duplicate indices, e.g. hash
   * collisions, are summed). One pass validates and copies, marking each index in a 2^20-bit filter
   * (`copySparse`); only an input in which the filter saw a repeat is coalesced, with a small
   * open-addressing table sized to the input. Neither is dim-sized, so parsing stays in cache even with
   * 2^20 hashed features.
   */
  private parseSparse(x: SparseVector, name: string): void {
    if (this.dim_ === 0)
      throw new ModelError(`${name} is sparse: the 'dim' option is required for sparse inputs`);
    const { indices, values } = x;
    if (!Array.isArray(indices) || !Array.isArray(values) || indices.length !== values.length) {
      throw new ModelError(`${name}.indices and ${name}.values must be arrays of the same length`);
    }
    const m = indices.length;
    if (this.sIdx.length < m) {
      this.sIdx = new Int32Array(Math.max(m, 2 * this.sIdx.length));
      this.sVal = new Float64Array(this.sIdx.length);
    }
    const d = this.dim_;
    const r = copySparse(indices, values, m, d, this.sIdx, this.sVal);
    const i = r >>> 1;
    if (i < m) {
      const j = indices[i];
      if (!Number.isInteger(j) || j < 0 || j >= d) {
        throw new ModelError(`${name}.indices[${i}]=${j} is out of range [0, ${d})`);
      }
      throw new ModelError(`${name}.values[${i}]=${values[i]} is not a finite number (feature ${j})`);
    }
    this.nnz = (r & 1) !== 0 ? this.coalesce(m) : m;
  }

  /** Sums the values of repeated indices in sIdx / sVal[0..m) in place, in first-seen order; returns nnz. */
  private coalesce(m: number): number {
    let bits = 4;
    while (1 << bits < 2 * m) bits++;
    const size = 1 << bits;
    if (this.hKeys.length < size) {
      this.hKeys = new Int32Array(size);
      this.hPos = new Int32Array(size);
      this.hStamp = new Int32Array(size);
    }
    // A slot is occupied when its stamp is this call's epoch: no clearing pass per event.
    let epoch = this.hEpoch + 1;
    if (epoch > 0x3fffffff) {
      this.hStamp.fill(0);
      epoch = 1;
    }
    this.hEpoch = epoch;
    const keys = this.hKeys;
    const hpos = this.hPos;
    const stamp = this.hStamp;
    const mask = size - 1;
    const shift = 32 - bits;
    const { sIdx, sVal } = this;
    let nnz = 0;
    for (let i = 0; i < m; i++) {
      const j = sIdx[i];
      const v = sVal[i];
      let h = Math.imul(j, 0x9e3779b1) >>> shift;
      while (stamp[h] === epoch && keys[h] !== j) h = (h + 1) & mask;
      if (stamp[h] === epoch) sVal[hpos[h]] += v;
      else {
        stamp[h] = epoch;
        keys[h] = j;
        hpos[h] = nnz;
        sIdx[nnz] = j;
        sVal[nnz] = v;
        nnz++;
      }
    }
    return nnz;
  }

  /**
   * FTRL-Proximal on one sparse event in the shape of McMahan et al.'s Algorithm 1: gather the active
   * features' z and n (one tight loop, so their cache misses overlap), weights + score from the copies,
   * then the z/n updates. The copies are also the non-finite guard's snapshot: `Ftrl.stepEvent` checks
   * every value it writes and puts the copies back if one is not finite, so no other snapshot is taken.
   * Returns false (nothing done) on a non-finite score, so the general path counts the rejection.
   */
  private ftrlOne(y: number, w: number): boolean {
    const ftrl = this.ftrl!;
    const { nnz, sIdx, sVal, nW } = this;
    const t = this.t;
    if (nnz > SCRATCH && this.wAt.length < nnz) {
      const n = this.sIdx.length;
      this.zAt = new Float64Array(n);
      this.nAt = new Float64Array(n);
      this.wAt = new Float64Array(n);
      this.rootAt = new Float64Array(n);
    }
    // Module constants when they fit: V8 compiles their accesses in the three loops to fixed addresses.
    const small = nnz <= SCRATCH;
    const zAt = small ? Z_AT : this.zAt;
    const nAt = small ? N_AT : this.nAt;
    const wAt = small ? W_AT : this.wAt;
    const rootAt = small ? ROOT_AT : this.rootAt;
    ftrl.gather(sIdx, nnz, zAt, nAt);
    // The weights of the active features go to wAt (in cache), not to params: FTRL's params are stale by
    // design (a weight is a function of z, n and t, evaluated on read), so nothing reads them there.
    const wb = ftrl.weightAt(t, nW);
    const s = ftrl.weightsDot(t, zAt, nAt, sVal, nnz, wAt, rootAt, wb);
    if (!Number.isFinite(s)) return false;
    this.scores[0] = s;
    const g = w * this.scalarLoss!.gradient(y, s);
    if (ftrl.stepEvent(zAt, nAt, wAt, rootAt, sIdx, sVal, nnz, g, this.fitIntercept ? nW : -1, wb))
      this.t = t + 1;
    else this.rejectNonFinite();
    return true;
  }

  /** Makes the weights of the active features current before a sparse step. */
  private prepareSparse(): void {
    const { K, dim_: d, nnz, sIdx, params } = this;
    if (this.ftrl) {
      const ftrl = this.ftrl;
      const t = this.t;
      for (let k = 0; k < K; k++) {
        const o = k * d;
        for (let i = 0; i < nnz; i++) params[o + sIdx[i]] = ftrl.weightAt(t, o + sIdx[i]);
        params[this.nW + k] = ftrl.weightAt(t, this.nW + k);
      }
      return;
    }
    if (this.lazyCapable) {
      if (!this.lazyOn) {
        this.lazy!.start(this.t);
        this.lazyOn = true;
      }
      const lazy = this.lazy!;
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < nnz; i++) {
          const j = k * d + sIdx[i];
          lazy.sync(params, j, this.t, this.opt.uniform ? 0 : this.opt.rate(this.t, j));
        }
      }
    }
  }

  /** Makes every weight current before a dense step (and leaves lazy mode). */
  private prepareDense(): void {
    if (this.dim_ === 0) return;
    this.materialize();
  }

  /** Brings every weight up to date: pays lazy prox debts, evaluates FTRL weights. */
  private materialize(): void {
    if (this.lazyOn || this.ftrl) this.denseSafe = false;
    if (this.lazyOn) {
      const lazy = this.lazy!;
      for (let j = 0; j < this.nW; j++)
        lazy.sync(this.params, j, this.t, this.opt.uniform ? 0 : this.opt.rate(this.t, j));
      this.lazyOn = false;
    }
    if (this.ftrl)
      for (let j = 0; j < this.params.length; j++) this.params[j] = this.ftrl.weightAt(this.t, j);
  }

  /** Effective weight j for a pure read (no lazy debts paid). */
  private weightRead(j: number): number {
    if (this.lazyOn)
      return this.lazy!.peek(this.params, j, this.t, this.opt.uniform ? 0 : this.opt.rate(this.t, j));
    if (this.ftrl) return this.ftrl.weightAt(this.t, j);
    return this.params[j];
  }

  /** Intercept k for a pure read (FTRL keeps it as a function of its statistics too). */
  private biasRead(k: number): number {
    return this.ftrl ? this.ftrl.weightAt(this.t, this.nW + k) : this.params[this.nW + k];
  }

  /** scores ← W·x + b for the parsed sparse input (weights already current). False if non-finite. */
  private scoreSparse(): boolean {
    const { K, dim_: d, nnz, sIdx, sVal, params, scores, nW } = this;
    let ok = true;
    for (let k = 0; k < K; k++) {
      let s = params[nW + k];
      const o = k * d;
      for (let i = 0; i < nnz; i++) s += params[o + sIdx[i]] * sVal[i];
      scores[k] = s;
      if (!Number.isFinite(s)) ok = false;
    }
    return ok;
  }

  /** scores ← W·x + b for a validated dense input. Throws naming the feature if x holds a non-finite value. */
  private scoreDense(x: number[] | Float64Array): boolean {
    const { K, dim_: d, params, scores, nW } = this;
    let ok = true;
    for (let k = 0; k < K; k++) {
      const s = params[nW + k] + dot(params, k * d, x, d);
      scores[k] = s;
      if (!Number.isFinite(s)) ok = false;
    }
    if (!ok) this.checkFiniteDense(x, 'x');
    return ok;
  }

  private checkFiniteDense(x: ArrayLike<number>, name: string): void {
    for (let j = 0; j < x.length; j++) {
      if (typeof x[j] !== 'number' || !Number.isFinite(x[j])) {
        throw new ModelError(`${name}[${j}]=${x[j]} is not a finite number`);
      }
    }
  }

  /** Pure read of the raw scores into `scores`, validating x. */
  private rawScores(x: Features, name: string): void {
    const { K, scores } = this;
    if (isSparse(x)) {
      this.parseSparse(x, name);
      const { dim_: d, nnz, sIdx, sVal } = this;
      for (let k = 0; k < K; k++) {
        let s = this.biasRead(k);
        for (let i = 0; i < nnz; i++) s += this.weightRead(k * d + sIdx[i]) * sVal[i];
        scores[k] = s;
      }
      return;
    }
    const xd = this.denseInput(x, name);
    const d = this.dim_;
    const plain = !this.lazyOn && !this.ftrl;
    let ok = true;
    for (let k = 0; k < K; k++) {
      let s = this.biasRead(k);
      const o = k * d;
      if (plain) s += dot(this.params, o, xd, d);
      else for (let j = 0; j < d; j++) s += this.weightRead(o + j) * xd[j];
      scores[k] = s;
      if (!Number.isFinite(s)) ok = false;
    }
    if (!ok) this.checkFiniteDense(xd, name);
  }

  /** dscores ← w · ∂L/∂scores at the current scores. */
  private lossGradient(y: number, w: number, out: Float64Array): void {
    if (this.scalarLoss) out[0] = w * this.scalarLoss.gradient(y, this.scores[0]);
    else {
      this.vectorLoss!.gradient(y, this.scores, out);
      if (w !== 1) for (let k = 0; k < this.K; k++) out[k] *= w;
    }
  }

  private rejectNonFinite(): void {
    this.guard.rejected++;
  }

  /**
   * `learnOne` on a Float64Array of the right length for a one-output model whose dense steps are fused
   * (SGD + none/elastic net): the same computation as prepareDense → scoreDense → lossGradient →
   * stepDense, bit for bit, in one monomorphic method with the dot product and the L2 kernel inlined.
   */
  private denseFastOne(x: Float64Array, y: number, w: number): void {
    if (this.lazyOn) this.materialize();
    const { dim_: d, nW, params } = this;
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
      this.checkFiniteDense(x, 'x');
      return this.rejectNonFinite();
    }
    const g = w * this.scalarLoss!.gradient(y, s);
    this.dscores[0] = g;
    const t = this.t + 1;
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
      if (!safe && !allFinite(params, nW + (this.fitIntercept ? 1 : 0))) {
        this.guard.reject();
        return;
      }
    } else this.denseSafe = true;
    this.t = t;
  }

  /** One step on a dense input with loss gradients dscores (per output). */
  private stepDense(x: number[] | Float64Array): void {
    const { K, dim_: d, nW, params, dscores } = this;
    if (this.fastDense) {
      // Fused SGD + elastic-net prox: w ← soft(w − η·g·x, η·l1) / (1 + η·l2). No snapshot is needed when
      // every weight and intercept is known to be ≤ HALF_MAX in magnitude (denseSafe) and every |η·g_k| ≤ ½:
      // x is finite (its score is), so |w − η·g·x| ≤ HALF_MAX + ½·MAX_VALUE stays finite, and the prox only
      // shrinks. Otherwise the step is guarded by a whole-array copy, as before.
      const t = this.t + 1;
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
        if (!safe && !allFinite(params, nW + (this.fitIntercept ? K : 0))) {
          this.guard.reject();
          return;
        }
      } else this.denseSafe = true;
      this.t = t;
      return;
    }
    const n = nW + (this.fitIntercept ? K : 0);
    const grad = this.grad;
    for (let k = 0; k < K; k++) {
      const g = dscores[k];
      const o = k * d;
      for (let j = 0; j < d; j++) grad[o + j] = g * x[j];
      if (this.fitIntercept) grad[nW + k] = g;
    }
    this.applyStep(null, grad, n);
  }

  /** One step on the parsed sparse input (sIdx, sVal, nnz), loss gradients dscores. */
  private stepSparse(dscores: Float64Array, sIdx: Int32Array, sVal: Float64Array, nnz: number): void {
    const { K, dim_: d, nW } = this;
    if (this.opt.dense) {
      const n = nW + (this.fitIntercept ? K : 0);
      const grad = this.grad;
      grad.fill(0, 0, n);
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < nnz; i++) grad[k * d + sIdx[i]] += dscores[k] * sVal[i];
        if (this.fitIntercept) grad[nW + k] = dscores[k];
      }
      this.applyStep(null, grad, n);
      return;
    }
    const n = K * nnz + (this.fitIntercept ? K : 0);
    this.ensureScratch(n);
    const { coords, grad } = this;
    for (let k = 0, i = 0; k < K; k++) {
      const g = dscores[k];
      for (let q = 0; q < nnz; q++, i++) {
        coords[i] = k * d + sIdx[q];
        grad[i] = g * sVal[q];
      }
    }
    if (this.fitIntercept) {
      for (let k = 0; k < K; k++) {
        coords[K * nnz + k] = nW + k;
        grad[K * nnz + k] = dscores[k];
      }
    }
    this.applyStep(coords, grad, n);
  }

  /**
   * The general step: optimizer on coordinates (coords[i] or i) with gradient grad[i], guarded; then the
   * regularizer's prox (now for every weight, or owed lazily for untouched weights in lazy mode).
   */
  private applyStep(coords: Int32Array | null, grad: Float64Array, n: number): void {
    this.denseSafe = false;
    const t = this.t + 1;
    const params = this.params;
    if (coords === null) this.guard.save(this.guardArrays);
    else if (this.ftrl) {
      // FTRL keeps z_j and n_j interleaved at 2j and 2j + 1 in one array.
      if (this.coords2.length < 2 * n) this.coords2 = new Int32Array(2 * this.coords.length);
      const c2 = this.coords2;
      for (let i = 0; i < n; i++) {
        c2[2 * i] = 2 * coords[i];
        c2[2 * i + 1] = 2 * coords[i] + 1;
      }
      this.guard.save(this.guardArrays, c2, 2 * n);
    } else this.guard.save(this.guardArrays, coords, n);
    this.opt.step(t, params, grad, n, coords, 0);
    if (!this.guard.commit()) return;
    this.t = t;
    if (this.opt.proximal || this.reg.kind === 'none') return;
    if (coords !== null && this.lazyOn) {
      // Sparse step in lazy mode: this step's prox is owed by every weight, touched or not.
      if (this.opt.uniform) {
        this.lazy!.advance(this.opt.rate(t, 0));
        if (this.lazy!.needsRescale()) {
          this.materialize();
          this.lazy!.start(this.t);
          this.lazyOn = true;
        }
      }
      return;
    }
    const nW = this.nW;
    const reg = this.reg;
    if (this.opt.uniform) {
      const eta = this.opt.rate(t, 0);
      for (let j = 0; j < nW; j++) params[j] = reg.prox(params[j], eta);
    } else {
      for (let j = 0; j < nW; j++) params[j] = reg.prox(params[j], this.opt.rate(t, j));
    }
    reg.project?.(params, nW);
  }
}

/**
 * `copySparse`'s bit filter, 2^20 bits (128 KB): bit j & SEEN_MASK marks index j while an input is copied.
 * Exact up to dim = 2^20; past it two indices may share a bit, which only costs a needless coalescing pass.
 * One filter serves every model because copying is synchronous and leaves it all clear; and as a module
 * constant V8 compiles its accesses to a fixed address (parsing measured ~25% faster than with a field).
 */
const SEEN = new Int32Array(1 << 15);
const SEEN_MASK = (1 << 20) - 1;

/**
 * The FTRL fast path's per-feature buffers for events of up to SCRATCH active features, shared by every
 * model (each use is synchronous and complete within one `learnOne`). As module constants their accesses
 * compile to fixed addresses: measured ~30% faster FTRL steps than with the same buffers in model fields.
 */
const SCRATCH = 1024;
const Z_AT = new Float64Array(SCRATCH);
const N_AT = new Float64Array(SCRATCH);
const W_AT = new Float64Array(SCRATCH);
const ROOT_AT = new Float64Array(SCRATCH);

/**
 * Copies the entries of a sparse input into sIdx / sVal up to the first invalid one (index not an integer
 * in [0, d), value not finite). Returns 2·(entries copied) + 1 when two of them shared a filter bit (a
 * possible repeat), + 0 when none did.
 */
function copySparse(
  indices: number[],
  values: number[],
  m: number,
  d: number,
  sIdx: Int32Array,
  sVal: Float64Array,
): number {
  const seen = SEEN;
  const mask = SEEN_MASK;
  let repeat = 0;
  let i = 0;
  for (; i < m; i++) {
    const j = indices[i];
    const v = values[i];
    if (!Number.isInteger(j) || j < 0 || j >= d || !Number.isFinite(v)) break;
    const b = j & mask;
    const word = seen[b >>> 5];
    const bit = 1 << (b & 31);
    if ((word & bit) !== 0) repeat = 1;
    seen[b >>> 5] = word | bit;
    sIdx[i] = j;
    sVal[i] = v;
  }
  // Every bit set belongs to this input, so clearing whole words is exact.
  for (let q = 0; q < i; q++) seen[(sIdx[q] & mask) >>> 5] = 0;
  return 2 * i + repeat;
}

/** Half the largest double: |w| ≤ HALF_MAX and |δ| ≤ ½·MAX_VALUE give a finite w − δ. */
const HALF_MAX = Number.MAX_VALUE / 2;

/** True when w[0..n) are all finite. */
function allFinite(w: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (!Number.isFinite(w[i])) return false;
  return true;
}

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

/** Σ w[o + j]·x[j] for j < d, with four accumulators so the additions do not wait on each other. */
function dot(w: Float64Array, o: number, x: ArrayLike<number>, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    s0 += w[o + j] * x[j];
    s1 += w[o + j + 1] * x[j + 1];
    s2 += w[o + j + 2] * x[j + 2];
    s3 += w[o + j + 3] * x[j + 3];
  }
  for (; j < d; j++) s0 += w[o + j] * x[j];
  return s0 + s1 + (s2 + s3);
}
