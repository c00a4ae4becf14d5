import { ModelError } from '../errors.js';
import { logLossOne, squaredError } from '../evaluation/index.js';
import type { NetNormalizerStats } from './nets/softmaxNet.js';
import {
  type Classifier,
  type Features,
  type ModelState,
  type OnlineModel,
  type Task,
  type WeightStats,
  isClassifier,
} from './types.js';

export interface EarlyStoppingOptions {
  /** Every k-th event by arrival index (index % k = k − 1) is held out: scored, never learned [10]. */
  holdoutEvery?: number;
  /** Holdout events per evaluation round, the stream's stand-in for an epoch [50]. */
  evalEvery?: number;
  /** Rounds without improvement before acting [5]. */
  patience?: number;
  /** Improvement smaller than this does not count [0]. */
  minDelta?: number;
  /** On a plateau: restore the best weights, or multiply the learning rate by `lrFactor` ['restore']. */
  onPlateau?: 'restore' | 'lr-drop';
  /** Learning-rate factor for 'lr-drop' [0.5]. */
  lrFactor?: number;
}

/** What the pipeline and metrics read from early stopping. */
export interface EarlyStoppingStats {
  /** Best holdout round loss so far (Infinity before the first round). */
  bestLoss: number;
  /** Loss of the last completed round (NaN before the first). */
  lastLoss: number;
  /** Consecutive rounds without improvement. */
  badRounds: number;
  rounds: number;
  /** Times the best weights were restored. */
  restored: number;
  /** Times the learning rate was lowered. */
  lrDrops: number;
  /** Events held out so far. */
  heldOut: number;
}

export interface EarlyStoppingState extends ModelState {
  kind: 'EarlyStopping';
  options: Required<EarlyStoppingOptions>;
  inner: ModelState;
  bestState: ModelState | null;
  seen: number;
  roundSum: number;
  roundCount: number;
  rejectedOffset: number;
  stats: EarlyStoppingStats;
}

/** A model whose learning rate can be lowered (the nets); 'lr-drop' needs it. */
interface ScalableLr {
  scaleLearningRate(factor: number): void;
}

function hasScalableLr(m: OnlineModel): m is OnlineModel & ScalableLr {
  return typeof (m as Partial<ScalableLr>).scaleLearningRate === 'function';
}

/**
 * Early stopping for streams (Prechelt 1998, "Early stopping — but when?", adapted to a stream without
 * epochs): a deterministic slice of the stream (every k-th event) is held out — scored by the current
 * model, never learned — and its mean loss per round of `evalEvery` held-out events plays the role of the
 * validation loss. When it has not improved for `patience` rounds the wrapper restores the weights of the
 * best round (the classic remedy for overfitting) or lowers the learning rate (when the stream is
 * non-stationary and old weights would be stale). The slice is by arrival index, so a replay holds out
 * exactly the same events.
 *
 * It wraps any model with `state()` and a `fromState` function; the best state is kept as the model's own
 * JSON-safe state and is part of this wrapper's state, so a checkpoint restores the whole procedure.
 * Loss on the holdout: the shared log loss −log p_y (src/evaluation, p clipped to [1e-15, 1]) for
 * classifiers, squared error for regressors.
 *
 * @example
 * const es = new EarlyStopping(new WindowNet(opts), (s) => WindowNet.fromState(s as NetState), { patience: 3 });
 * es.learnMany(X, Y); // holds out every 10th event
 * es.stats();         // { bestLoss, badRounds, restored, ... }
 */
export class EarlyStopping implements Classifier {
  readonly kind = 'EarlyStopping';
  readonly options: Required<EarlyStoppingOptions>;
  private model: OnlineModel;
  private readonly restoreFn: (s: ModelState) => OnlineModel;
  private bestState: ModelState | null = null;
  private seen = 0;
  private roundSum = 0;
  private roundCount = 0;
  private rejectedOffset = 0;
  private readonly s: EarlyStoppingStats = {
    bestLoss: Infinity,
    lastLoss: NaN,
    badRounds: 0,
    rounds: 0,
    restored: 0,
    lrDrops: 0,
    heldOut: 0,
  };

  constructor(
    model: OnlineModel,
    fromState: (s: ModelState) => OnlineModel,
    opts: EarlyStoppingOptions = {},
  ) {
    if (model === null || typeof model !== 'object' || typeof model.state !== 'function') {
      throw new ModelError('model: EarlyStopping needs a model with state()');
    }
    if (typeof fromState !== 'function')
      throw new ModelError('fromState: EarlyStopping needs a function rebuilding the model from its state');
    const known = ['holdoutEvery', 'evalEvery', 'patience', 'minDelta', 'onPlateau', 'lrFactor'];
    for (const k of Object.keys(opts))
      if (!known.includes(k)) throw new ModelError(`${k}: unknown EarlyStopping option`);
    const int = (field: string, v: number, min: number): number => {
      if (!Number.isInteger(v) || v < min)
        throw new ModelError(`${field}: expected an integer >= ${min}, got ${String(v)}`);
      return v;
    };
    const onPlateau = opts.onPlateau ?? 'restore';
    if (onPlateau !== 'restore' && onPlateau !== 'lr-drop') {
      throw new ModelError(`onPlateau: expected 'restore' or 'lr-drop', got ${JSON.stringify(onPlateau)}`);
    }
    const lrFactor = opts.lrFactor ?? 0.5;
    if (!Number.isFinite(lrFactor) || lrFactor <= 0 || lrFactor >= 1) {
      throw new ModelError(`lrFactor: expected a number in (0, 1), got ${String(lrFactor)}`);
    }
    const minDelta = opts.minDelta ?? 0;
    if (!Number.isFinite(minDelta) || minDelta < 0)
      throw new ModelError(`minDelta: expected a finite number >= 0, got ${String(minDelta)}`);
    if (onPlateau === 'lr-drop' && !hasScalableLr(model)) {
      throw new ModelError(
        `onPlateau: 'lr-drop' needs a model with scaleLearningRate(); ${model.kind} has none`,
      );
    }
    this.options = {
      holdoutEvery: int('holdoutEvery', opts.holdoutEvery ?? 10, 2),
      evalEvery: int('evalEvery', opts.evalEvery ?? 50, 1),
      patience: int('patience', opts.patience ?? 5, 1),
      minDelta,
      onPlateau,
      lrFactor,
    };
    this.model = model;
    this.restoreFn = fromState;
  }

  /** The wrapped model (replaced by a restored copy when the best weights come back). */
  get inner(): OnlineModel {
    return this.model;
  }

  get task(): Task {
    return this.model.task;
  }

  get classes(): number {
    return this.model.classes;
  }

  get rejectedUpdates(): number {
    return this.rejectedOffset + this.model.rejectedUpdates;
  }

  stats(): EarlyStoppingStats {
    return { ...this.s };
  }

  /** True when the event with this arrival index belongs to the holdout slice. */
  isHoldout(index: number): boolean {
    return index % this.options.holdoutEvery === this.options.holdoutEvery - 1;
  }

  learnOne(x: Features, y: number, w = 1): void {
    const i = this.seen;
    if (this.isHoldout(i)) {
      const loss = this.lossOf([x], [y])[0];
      this.seen++;
      this.score(loss);
    } else {
      this.model.learnOne(x, y, w);
      this.seen++;
    }
  }

  /** Learns the non-holdout part of the batch as one batch, then scores the holdout part. */
  learnMany(X: Features[], Y: number[]): void {
    if (!Array.isArray(X) || !Array.isArray(Y) || X.length !== Y.length) {
      throw new ModelError('learnMany: X and Y must be arrays of equal length');
    }
    const tx: Features[] = [];
    const ty: number[] = [];
    const hx: Features[] = [];
    const hy: number[] = [];
    for (let j = 0; j < X.length; j++) {
      if (this.isHoldout(this.seen + j)) {
        hx.push(X[j]);
        hy.push(Y[j]);
      } else {
        tx.push(X[j]);
        ty.push(Y[j]);
      }
    }
    // Score the holdout first with the weights before this batch: validation never sees its own batch's step
    // and invalid input throws before anything changed.
    const losses = hx.length > 0 ? this.lossOf(hx, hy) : [];
    if (tx.length > 0) this.model.learnMany(tx, ty);
    this.seen += X.length;
    for (const l of losses) this.score(l);
  }

  predictOne(x: Features): number {
    return this.model.predictOne(x);
  }

  predictMany(X: Features[]): number[] {
    return this.model.predictMany(X);
  }

  predictProbaOne(x: Features): number[] {
    return this.classifier().predictProbaOne(x);
  }

  predictProbaMany(X: Features[]): number[][] {
    return this.classifier().predictProbaMany(X);
  }

  weightStats(): WeightStats {
    return this.model.weightStats();
  }

  /** Pass-through for nets, so metrics see the wrapped model's normalizer statistics (empty for other models). */
  normalizerStats(): Partial<NetNormalizerStats> {
    const m = this.model as OnlineModel & { normalizerStats?: () => NetNormalizerStats };
    return typeof m.normalizerStats === 'function' ? m.normalizerStats() : {};
  }

  state(): EarlyStoppingState {
    return {
      kind: 'EarlyStopping',
      options: { ...this.options },
      inner: this.model.state(),
      bestState: this.bestState,
      seen: this.seen,
      roundSum: this.roundSum,
      roundCount: this.roundCount,
      rejectedOffset: this.rejectedOffset,
      stats: { ...this.s, bestLoss: this.s.bestLoss, lastLoss: this.s.lastLoss },
    };
  }

  static fromState(s: EarlyStoppingState, fromState: (s: ModelState) => OnlineModel): EarlyStopping {
    if (s?.kind !== 'EarlyStopping')
      throw new ModelError(`EarlyStopping.fromState: expected kind 'EarlyStopping', got ${String(s?.kind)}`);
    const es = new EarlyStopping(fromState(s.inner), fromState, s.options);
    es.bestState = s.bestState;
    es.seen = s.seen;
    es.roundSum = s.roundSum;
    es.roundCount = s.roundCount;
    es.rejectedOffset = s.rejectedOffset;
    Object.assign(es.s, s.stats);
    // JSON turns Infinity/NaN into null.
    if (typeof s.stats.bestLoss !== 'number') es.s.bestLoss = Infinity;
    if (typeof s.stats.lastLoss !== 'number') es.s.lastLoss = NaN;
    return es;
  }

  private classifier(): Classifier {
    if (!isClassifier(this.model))
      throw new ModelError(`${this.model.kind} is not a classifier: no class probabilities`);
    return this.model;
  }

  private lossOf(X: Features[], Y: number[]): number[] {
    if (isClassifier(this.model)) {
      const p = this.model.predictProbaMany(X);
      return p.map((row, i) => {
        const y = Y[i];
        if (!Number.isInteger(y) || y < 0 || y >= row.length) {
          throw new ModelError(
            `y=${String(y)} is not a class label: expected an integer in [0, ${row.length})`,
          );
        }
        return logLossOne(row, y);
      });
    }
    const yhat = this.model.predictMany(X);
    return yhat.map((v, i) => {
      if (!Number.isFinite(Y[i])) throw new ModelError(`y=${String(Y[i])} is not a finite target`);
      return squaredError(Y[i], v);
    });
  }

  private score(loss: number): void {
    this.s.heldOut++;
    this.roundSum += loss;
    this.roundCount++;
    if (this.roundCount < this.options.evalEvery) return;
    const round = this.roundSum / this.roundCount;
    this.roundSum = 0;
    this.roundCount = 0;
    this.s.rounds++;
    this.s.lastLoss = round;
    if (round < this.s.bestLoss - this.options.minDelta) {
      this.s.bestLoss = round;
      this.s.badRounds = 0;
      if (this.options.onPlateau === 'restore') this.bestState = this.model.state();
      return;
    }
    this.s.badRounds++;
    if (this.s.badRounds < this.options.patience) return;
    this.s.badRounds = 0;
    if (this.options.onPlateau === 'restore' && this.bestState !== null) {
      const before = this.model.rejectedUpdates;
      this.model = this.restoreFn(this.bestState);
      this.rejectedOffset += before - this.model.rejectedUpdates;
      this.s.restored++;
    } else if (this.options.onPlateau === 'lr-drop' && hasScalableLr(this.model)) {
      this.model.scaleLearningRate(this.options.lrFactor);
      this.s.lrDrops++;
    }
  }
}
