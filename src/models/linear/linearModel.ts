import { ModelError } from '../../errors.js';
import { NonFiniteGuard } from '../guard.js';
import type { Loss, LossName, ScalarLoss, VectorLoss } from '../losses/loss.js';
import { createLoss, lossNames } from '../losses/createLoss.js';
import { createOptimizer } from '../optim/createOptimizer.js';
import type { OptimizerConfig, OptimizerState } from '../optim/optimizer.js';
import { unpackArray } from '../optim/optimizer.js';
import { optimalTypw } from '../optim/schedules.js';
import { createRegularizer } from '../regularizers/createRegularizer.js';
import type { Regularizer, RegularizerConfig } from '../regularizers/regularizer.js';
import type { Classifier, Features, ModelState, StepMark, Task, WeightStats } from '../types.js';
import { isSparse } from '../types.js';
import { createWeightStore } from './createWeightStore.js';
import { SparseInput } from './sparseInput.js';
import type { WeightStore } from './weightStore.js';

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
 * such closed form and touch every weight on a sparse step, O(dim). How the weights are kept and stepped
 * is the weight store's business (`WeightStore`: eager, lazy elastic net or FTRL), chosen at construction.
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
  /** Raw outputs per sample (1, or classes for softmax). */
  private readonly K: number;
  private readonly store: WeightStore;
  private readonly input = new SparseInput();
  private readonly guard = new NonFiniteGuard();
  private dim_ = 0;
  private t = 0;
  /** {@link stepMark}'s copies, reused from mark to mark. */
  private marked: { params: Float64Array; arrays: Float64Array[] } | null = null;

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
    const opt = createOptimizer(options.optimizer, { alpha: this.reg.strength, lossSlope });
    if (opt.type === 'ftrl' && (this.reg.kind === 'lp' || this.reg.kind === 'l0')) {
      throw new ModelError(
        `regularizer ${this.reg.kind} is not supported with the ftrl optimizer (FTRL-Proximal applies only l1/l2, in closed form)`,
      );
    }
    if (options.fitIntercept !== undefined && typeof options.fitIntercept !== 'boolean') {
      throw new ModelError(`option fitIntercept=${String(options.fitIntercept)} must be a boolean`);
    }
    const fitIntercept = options.fitIntercept ?? true;
    this.options = {
      loss: options.loss,
      regularizer: this.reg.config() ?? null,
      optimizer: opt.config(),
      fitIntercept,
      ...(options.dim !== undefined ? { dim: options.dim } : {}),
      ...(options.classes !== undefined ? { classes: options.classes } : {}),
    };
    this.store = createWeightStore({ loss: this.loss, opt, fitIntercept, guard: this.guard }, this.reg);
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
    return this.store.expose(this.t).subarray(0, this.K * this.dim_);
  }

  /** One intercept per output (a live view). */
  get biases(): Float64Array {
    const nW = this.K * this.dim_;
    return this.store.expose(this.t).subarray(nW, nW + this.K);
  }

  /** The intercept of a one-output model (softmax models have `biases`, one per class). */
  get bias(): number {
    if (this.K !== 1)
      throw new ModelError(`a softmax model has one intercept per class: read 'biases', not 'bias'`);
    return this.dim_ === 0 ? 0 : this.store.read(this.t, this.dim_);
  }

  /** The objective's penalty J(w) at the current weights (for tests and monitoring). */
  penalty(): number {
    this.store.materialize(this.t);
    return this.reg.value(this.store.params, this.K * this.dim_);
  }

  learnOne(x: Features, y: number, w = 1): void {
    this.loss.checkLabel(y);
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new ModelError(`sample weight w=${String(w)} must be a finite number ≥ 0`);
    }
    // A Float64Array of the right length needs no other check: the store's monomorphic entry point.
    if (x instanceof Float64Array && x.length === this.dim_ && this.dim_ !== 0) {
      if (this.store.learnFloat64(this.t, x, y, w)) this.t++;
    } else if (isSparse(x)) {
      this.input.parse(x, 'x', this.dim_);
      if (this.store.learnSparse(this.t, this.input, y, w)) this.t++;
    } else {
      const xd = this.denseInput(x, 'x');
      if (this.store.learnDense(this.t, xd, y, w)) this.t++;
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
    for (let b = 0; b < B; b++) this.loss.checkLabel(Y[b]);
    for (let b = 0; b < B; b++) {
      const xb = X[b];
      if (isSparse(xb)) this.input.parse(xb, `X[${b}]`, this.dim_);
      else this.denseInput(xb, b);
    }
    if (this.store.learnBatch(this.t, X, Y, this.input)) this.t++;
  }

  /** Class index (argmax probability) for classifiers, the value for regression. */
  predictOne(x: Features): number {
    const s = this.rawScores(x, 'x');
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
    const s = this.rawScores(x, 'x');
    if (this.vectorLoss) {
      const out = new Float64Array(this.K);
      this.vectorLoss.probaInto(s, out);
      return Array.from(out);
    }
    const p = (this.scalarLoss as ScalarLoss).proba!(s[0]);
    return [1 - p, p];
  }

  predictProbaMany(X: Features[]): number[][] {
    return X.map((x) => this.predictProbaOne(x));
  }

  /** The raw scores (margins / regression value) for x, one per output. */
  decisionFunction(x: Features): number[] {
    return Array.from(this.rawScores(x, 'x'));
  }

  /** Mean loss of the model on (X, Y), without the penalty. */
  meanLoss(X: Features[], Y: number[]): number {
    let s = 0;
    for (let b = 0; b < X.length; b++) {
      this.loss.checkLabel(Y[b]);
      const scores = this.rawScores(X[b], `X[${b}]`);
      s += this.scalarLoss ? this.scalarLoss.value(Y[b], scores[0]) : this.vectorLoss!.value(Y[b], scores);
    }
    return X.length === 0 ? 0 : s / X.length;
  }

  weightStats(): WeightStats {
    this.store.materialize(this.t);
    const params = this.store.params;
    const n = this.K * this.dim_;
    let l1 = 0;
    let s2 = 0;
    let zeros = 0;
    for (let j = 0; j < n; j++) {
      const v = params[j];
      l1 += Math.abs(v);
      s2 += v * v;
      if (v === 0) zeros++;
    }
    return { l1, l2: Math.sqrt(s2), sparsity: n === 0 ? 0 : zeros / n, count: n };
  }

  /** JSON-safe state: options, weights, optimizer statistics and the step counter; restores bit for bit. */
  state(): LinearModelState {
    this.store.materialize(this.t);
    return {
      kind: 'LinearModel',
      version: 1,
      options: structuredClone(this.options),
      dim: this.dim_,
      t: this.t,
      params: Array.from(this.store.params),
      optimizer: this.store.optimizerState(),
      rejectedUpdates: this.guard.rejected,
    };
  }

  /**
   * The model before one learning step, for RobustModel's step guard: copies of the (materialized) weights and
   * the optimizer's arrays into buffers reused from mark to mark, so a guarded batch copies a few arrays where
   * two {@link state} snapshots cloned the options and packed the optimizer. `norm()` and `state()` give
   * exactly `stepNorm(stateBefore, state())` and the state before (pinned against them in robust.test.ts).
   * Valid until the next mark.
   */
  stepMark(): StepMark {
    if (this.dim_ === 0) {
      // Not allocated yet (the step fixes the dimension): the state before has no weights to compare.
      const before = this.state();
      return {
        norm: () => {
          this.store.materialize(this.t);
          return 0;
        },
        state: () => before,
      };
    }
    this.store.materialize(this.t);
    const live = this.store.params;
    const arrays = this.store.optimizerArrays();
    let m = this.marked;
    if (
      m === null ||
      m.params.length !== live.length ||
      m.arrays.length !== arrays.length ||
      m.arrays.some((a, i) => a.length !== arrays[i].length)
    ) {
      m = { params: new Float64Array(live.length), arrays: arrays.map((a) => new Float64Array(a.length)) };
      this.marked = m;
    }
    const mark = m;
    mark.params.set(live);
    for (let i = 0; i < arrays.length; i++) mark.arrays[i].set(arrays[i]);
    const t = this.t;
    const dim = this.dim_;
    const rejected = this.guard.rejected;
    return {
      norm: () => {
        this.store.materialize(this.t);
        const now = this.store.params;
        const before = mark.params;
        const n = Math.min(now.length, before.length);
        let s = 0;
        for (let j = 0; j < n; j++) {
          const d = now[j] - before[j];
          s += d * d;
        }
        return Math.sqrt(s);
      },
      state: (): LinearModelState => {
        // The optimizer packs its live arrays: lend it the marked values, then put the live ones back.
        const liveArrays = this.store.optimizerArrays();
        const held = liveArrays.map((a) => Float64Array.from(a));
        liveArrays.forEach((a, i) => a.set(mark.arrays[i]));
        const optimizer = this.store.optimizerState();
        liveArrays.forEach((a, i) => a.set(held[i]));
        return {
          kind: 'LinearModel',
          version: 1,
          options: structuredClone(this.options),
          dim,
          t,
          params: Array.from(mark.params),
          optimizer,
          rejectedUpdates: rejected,
        };
      },
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
        unpackArray(s.params, m.store.params, 'LinearModel state params');
        m.store.restore(s.optimizer);
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
    this.dim_ = d;
    this.store.allocate(d);
  }

  /** `at`: the argument's name, or a batch index (named X[b] only in an error: no string per event). */
  private denseInput(x: Features, at: string | number): number[] | Float64Array {
    if (x instanceof Float64Array) return this.checkDim(x, at);
    if (!Array.isArray(x)) {
      throw new ModelError(`${argName(at)} must be a number[], Float64Array or { indices, values }`);
    }
    // `typeof` first: Array.isArray on a vector's first number would box it on every call.
    if (x.length > 0 && typeof x[0] !== 'number' && Array.isArray(x[0])) {
      throw new ModelError(
        `${argName(at)} is a window (number[][]); LinearModel takes vectors (use WindowNet or flatten it)`,
      );
    }
    return this.checkDim(x as number[], at);
  }

  private checkDim(xd: number[] | Float64Array, at: string | number): number[] | Float64Array {
    if (this.dim_ === 0) {
      if (xd.length === 0) throw new ModelError(`${argName(at)} is empty`);
      this.allocate(xd.length);
    } else if (xd.length !== this.dim_) {
      throw new ModelError(`${argName(at)} has dimension ${xd.length}; the model expects dim=${this.dim_}`);
    }
    return xd;
  }

  /** The raw scores for x (a pure read), validating x; the store's buffer, valid until the next call. */
  private rawScores(x: Features, name: string): Float64Array {
    if (isSparse(x)) {
      this.input.parse(x, name, this.dim_);
      this.store.readScoresSparse(this.t, this.input);
    } else this.store.readScores(this.t, this.denseInput(x, name), name);
    return this.store.scores;
  }
}

/** An argument's name in an error: its own, or X[b] for a batch index. */
function argName(at: string | number): string {
  return typeof at === 'number' ? `X[${at}]` : at;
}
