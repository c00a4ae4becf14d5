/** A sparse feature vector (e.g. hashed bag of words): parallel arrays of indices and values. */
export interface SparseVector {
  indices: number[];
  values: number[];
}

/** Dense vector, sparse vector, or a window `[C][L]` (channels by time steps). */
export type Features = number[] | Float64Array | SparseVector | number[][];

export type Task = 'regression' | 'classification';

/** Weight summary for metrics (`streamnorm_weight_norm`, `streamnorm_weight_sparsity_ratio`). */
export interface WeightStats {
  l1: number;
  l2: number;
  /** Fraction of weights exactly zero. */
  sparsity: number;
  count: number;
}

export interface ModelState {
  kind: string;
  [key: string]: unknown;
}

/**
 * The River-style online API every model implements. `learnOne` is one optimizer step per event;
 * `learnMany` is one step on the mean gradient of the batch (a mini-batch step, not a loop of learnOne).
 */
export interface OnlineModel {
  readonly kind: string;
  readonly task: Task;
  /** Number of classes for classifiers (2 for binary), 1 for regression. */
  readonly classes: number;
  learnOne(x: Features, y: number, w?: number): void;
  learnMany(X: Features[], Y: number[]): void;
  /** Class index for classifiers, value for regressors. */
  predictOne(x: Features): number;
  predictMany(X: Features[]): number[];
  /** Updates rejected because they would have made a weight non-finite. */
  readonly rejectedUpdates: number;
  weightStats(): WeightStats;
  state(): ModelState;
  /**
   * Optional: marks the model before one learning step, so a step guard can measure and undo the step
   * without two full {@link state} snapshots per batch (RobustModel). Must give exactly what those snapshots
   * would: {@link StepMark.norm} = `stepNorm(stateBefore, state())`, {@link StepMark.state} = the state before.
   */
  stepMark?(): StepMark;
}

/** A model as it was before one learning step; see {@link OnlineModel.stepMark}. */
export interface StepMark {
  /** Euclidean norm of the parameter change since the mark (the model's state now against then). */
  norm(): number;
  /** The model's state at the mark, to rebuild it from when the step is refused. */
  state(): ModelState;
}

/** A classifier also gives class probabilities (binary: [p0, p1]). */
export interface Classifier extends OnlineModel {
  predictProbaOne(x: Features): number[];
  predictProbaMany(X: Features[]): number[][];
}

export function isClassifier(m: OnlineModel): m is Classifier {
  return m.task === 'classification' && typeof (m as Partial<Classifier>).predictProbaMany === 'function';
}

export function isSparse(x: Features): x is SparseVector {
  return !Array.isArray(x) && !(x instanceof Float64Array) && typeof x === 'object' && 'indices' in x;
}
