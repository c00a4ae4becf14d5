import { ModelError } from '../errors.js';
import { StandardScaler, type StandardScalerState } from '../normalizers/standardScaler.js';
import { StepGuard, type StepGuardOptions, type StepGuardState } from './guard.js';
import {
  isClassifier,
  isSparse,
  type Classifier,
  type Features,
  type ModelState,
  type OnlineModel,
  type Task,
  type WeightStats,
} from './types.js';

/** Options of a {@link RobustModel}. */
export interface RobustOptions {
  /**
   * Standardized inputs are clipped to ±clip (default 5: five running standard deviations). `Infinity`
   * standardizes without clipping.
   */
  clip?: number;
  /** The step guard (see {@link StepGuard}); `false` turns it off. */
  step?: StepGuardOptions | false;
}

export interface RobustModelState extends ModelState {
  kind: 'RobustModel';
  version: 1;
  clip: number;
  scaler: StandardScalerState;
  guard: StepGuardState | null;
  inner: ModelState;
}

/** Events the scaler must have seen before its statistics standardize (and clip) anything. */
const SCALER_WARMUP = 2;

/**
 * Robust learning for a stream (the CLI's default models): inputs are standardized with a streaming
 * {@link StandardScaler} and clipped to ±`clip` standard deviations, and every update goes through a
 * {@link StepGuard} that rejects a step out of proportion to the model's recent steps. So one extreme but
 * finite event (|x| ≥ 1e3 on unit-scale features) can move neither the scaler nor the model far: the scaler
 * learns the winsorized value (mean + clip·std), the model sees at most ±clip, and a step that is still
 * outsized is undone (counted in {@link outsizedUpdates}).
 *
 * Dense vectors and windows are scaled feature by feature (a window's C·L values); sparse vectors pass
 * through unscaled (hashed counts have no stable per-feature scale), still under the step guard.
 *
 * Order per batch (prequential): predict with the statistics learned so far; learn = update the scaler with
 * the winsorized events, then learn the model on the events standardized by the updated statistics.
 */
export class RobustModel implements Classifier {
  readonly clip: number;
  private inner: OnlineModel;
  private readonly restore: (s: ModelState) => OnlineModel;
  private readonly scaler: StandardScaler;
  private readonly guard: StepGuard | null;
  /** Scratch of fit/transform, reused: the scaler's variance and standard deviations, the winsorized event. */
  private variance = new Float64Array(0);
  private winsorized = new Float64Array(0);
  private sd = new Float64Array(0);
  /**
   * Standardized vectors of the current batch call, reused from call to call: the inner model reads its
   * inputs during learnMany/predict*Many and keeps none of them (nets copy a batch into their own tensor).
   */
  private pool: Float64Array[] = [];

  constructor(
    inner: OnlineModel,
    restore: (s: ModelState) => OnlineModel,
    options: RobustOptions = {},
    parts: { scaler?: StandardScaler; guard?: StepGuard | null } = {},
  ) {
    const clip = options.clip ?? 5;
    if (!(clip === Infinity || (Number.isFinite(clip) && clip > 0)))
      throw new ModelError(`robust clip must be a positive number (or Infinity), got ${clip}`);
    this.clip = clip;
    this.inner = inner;
    this.restore = restore;
    this.scaler = parts.scaler ?? new StandardScaler();
    this.guard =
      parts.guard !== undefined
        ? parts.guard
        : options.step === false
          ? null
          : new StepGuard(options.step ?? {});
  }

  get kind(): string {
    return 'RobustModel';
  }
  get task(): Task {
    return this.inner.task;
  }
  get classes(): number {
    return this.inner.classes;
  }
  /** The wrapped model (rebuilt from its last good state after a rejected step). */
  get model(): OnlineModel {
    return this.inner;
  }
  /** Non-finite updates the model rejected plus outsized steps this wrapper rejected. */
  get rejectedUpdates(): number {
    return this.inner.rejectedUpdates + this.outsizedUpdates;
  }
  /** Steps rejected as out of proportion to the recent ones. */
  get outsizedUpdates(): number {
    return this.guard?.rejected ?? 0;
  }

  learnOne(x: Features, y: number, w?: number): void {
    this.fit([x]);
    const z = this.transform(x);
    this.guarded(() => this.inner.learnOne(z, y, w));
  }

  learnMany(X: Features[], Y: number[]): void {
    this.fit(X);
    const Z = this.transformAll(X);
    this.guarded(() => this.inner.learnMany(Z, Y));
  }

  predictOne(x: Features): number {
    return this.inner.predictOne(this.transform(x));
  }
  predictMany(X: Features[]): number[] {
    return this.inner.predictMany(this.transformAll(X));
  }
  predictProbaOne(x: Features): number[] {
    return this.classifier().predictProbaOne(this.transform(x));
  }
  predictProbaMany(X: Features[]): number[][] {
    return this.classifier().predictProbaMany(this.transformAll(X));
  }
  weightStats(): WeightStats {
    return this.inner.weightStats();
  }

  state(): RobustModelState {
    return {
      kind: 'RobustModel',
      version: 1,
      clip: this.clip,
      scaler: this.scaler.state(),
      guard: this.guard?.state() ?? null,
      inner: this.inner.state(),
    };
  }

  static fromState(s: RobustModelState, restore: (s: ModelState) => OnlineModel): RobustModel {
    if (s === null || typeof s !== 'object' || s.kind !== 'RobustModel')
      throw new ModelError(`RobustModel.fromState: expected kind 'RobustModel', got ${String(s?.kind)}`);
    // JSON writes Infinity as null.
    const clip = s.clip === null ? Infinity : s.clip;
    return new RobustModel(
      restore(s.inner),
      restore,
      { clip },
      {
        scaler: StandardScaler.fromState(s.scaler),
        guard: s.guard === null ? null : StepGuard.fromState(s.guard),
      },
    );
  }

  private classifier(): Classifier {
    if (!isClassifier(this.inner)) throw new ModelError(`${this.inner.kind} is not a classifier`);
    return this.inner;
  }

  /** Runs a learning step; undoes it (restores the model's state before it) when the step guard refuses it. */
  private guarded(step: () => void): void {
    if (this.guard === null) return step();
    if (this.inner.stepMark !== undefined) {
      const mark = this.inner.stepMark();
      step();
      if (!this.guard.accept(mark.norm())) this.inner = this.restore(mark.state());
      return;
    }
    const before = this.inner.state();
    step();
    const norm = stepNorm(before, this.inner.state());
    if (!this.guard.accept(norm)) this.inner = this.restore(before);
  }

  /** A reused buffer of length n (the scaler copies what it learns; transform reads the variance only). */
  private scratch(which: 'variance' | 'winsorized' | 'sd', n: number): Float64Array {
    if (this[which].length !== n) this[which] = new Float64Array(n);
    return this[which];
  }

  /** Updates the scaler with the events, each winsorized at ±clip standard deviations of the statistics so far. */
  private fit(X: Features[]): void {
    for (const x of X) {
      const v = flat(x);
      if (v === null) continue;
      const s = this.scaler;
      if (s.count < SCALER_WARMUP || this.clip === Infinity) {
        s.learnOne(v);
        continue;
      }
      const mean = s.mean;
      const variance = s.varianceInto(this.scratch('variance', v.length));
      const w = this.scratch('winsorized', v.length);
      for (let j = 0; j < v.length; j++) {
        const sd = Math.sqrt(variance[j]) || 1;
        const lo = mean[j] - this.clip * sd;
        const hi = mean[j] + this.clip * sd;
        w[j] = v[j] < lo ? lo : v[j] > hi ? hi : v[j];
      }
      s.learnOne(w);
    }
  }

  /** {@link transform} of each event, with the standard deviations computed once for the batch. */
  private transformAll(X: Features[]): Features[] {
    const sd = this.scaler.count === 0 || this.scaler.features === null ? undefined : this.stds();
    const Z = new Array<Features>(X.length);
    for (let i = 0; i < X.length; i++) Z[i] = this.transform(X[i], sd, i);
    return Z;
  }

  /** The batch call's i-th reused output vector of length n. */
  private pooled(i: number, n: number): Float64Array {
    const pool = this.pool;
    while (pool.length <= i) pool.push(new Float64Array(n));
    if (pool[i].length !== n) pool[i] = new Float64Array(n);
    return pool[i];
  }

  /** The scaler's standard deviations (a zero one as 1), in a buffer reused from call to call. */
  private stds(): Float64Array {
    const n = this.scaler.features ?? 0;
    const variance = this.scaler.varianceInto(this.scratch('variance', n));
    const sd = this.scratch('sd', n);
    for (let j = 0; j < n; j++) sd[j] = Math.sqrt(variance[j]) || 1;
    return sd;
  }

  /**
   * z = clip((x − mean)/std, ±clip) in the event's own shape; sparse events pass through. `stds`: the
   * scaler's current {@link stds}, when the caller computed them for a batch. `slot`: a dense vector is
   * written into the batch call's reused vector at this index (see {@link pool}) instead of a new one.
   */
  private transform(x: Features, stds?: Float64Array, slot?: number): Features {
    const v = flat(x);
    if (v === null) return x;
    const s = this.scaler;
    if (s.count === 0) return x;
    if (s.features !== v.length)
      throw new ModelError(`x has ${v.length} features, the scaler was fitted on ${String(s.features)}`);
    const mean = s.mean;
    const sd = stds ?? this.stds();
    const c = this.clip;
    const window = isWindow(x);
    const z = slot === undefined || window ? new Float64Array(v.length) : this.pooled(slot, v.length);
    for (let j = 0; j < v.length; j++) {
      // min/max, not `t > c ? c : …`: the same value for every t (NaN and -0 included), and the optimizing
      // compiler keeps it a raw double where the ternary boxed every element into a heap number.
      z[j] = Math.min(Math.max((v[j] - mean[j]) / sd[j], -c), c);
    }
    if (window) {
      const rows = x as number[][];
      const L = rows[0].length;
      return rows.map((_, i) => Array.from(z.subarray(i * L, (i + 1) * L)));
    }
    return z;
  }
}

/** The values of dense vectors and windows (row-major), null for sparse vectors. */
function flat(x: Features): ArrayLike<number> | null {
  if (isSparse(x)) return null;
  if (x instanceof Float64Array) return x;
  if (isWindow(x)) return (x as number[][]).flat();
  return x as number[];
}

/**
 * A window (rows of numbers), not a vector. Tests the first element's type rather than `Array.isArray` on it,
 * which would box a vector's first number into a heap number on every call.
 */
function isWindow(x: Features): x is number[][] {
  return Array.isArray(x) && x.length > 0 && typeof x[0] !== 'number';
}

/**
 * Euclidean norm of the parameter change between two states of one model: every numeric array under
 * `params` (a LinearModel's weights, a net's named parameters), in the same order in both.
 */
export function stepNorm(before: ModelState, after: ModelState): number {
  const a = paramArrays(before.params);
  const b = paramArrays(after.params);
  let s = 0;
  for (let i = 0; i < a.length && i < b.length; i++) {
    const p = a[i];
    const q = b[i];
    for (let j = 0; j < p.length && j < q.length; j++) {
      const d = q[j] - p[j];
      s += d * d;
    }
  }
  return Math.sqrt(s);
}

function paramArrays(p: unknown): number[][] {
  if (Array.isArray(p)) return [p as number[]];
  if (p !== null && typeof p === 'object')
    return Object.values(p).filter((v): v is number[] => Array.isArray(v));
  return [];
}
