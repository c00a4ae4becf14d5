/**
 * Streaming standardization (z-scores) of input features: Welford's update per event and Chan, Golub &
 * LeVeque's pairwise merge per batch ("Algorithms for computing the sample variance", 1979).
 */
import type { Tensor } from '../core/tensor.js';
import { NormalizationError } from '../errors.js';
import type { StatisticsMerge } from './moments.js';
import { checkKind, checkScalerBatch, checkScalerRow, floatsFromState } from './input.js';

export interface StandardScalerOptions {
  /** Feature count; inferred from the first input when omitted. */
  features?: number;
  /** Subtract the running mean. Default true. */
  withMean?: boolean;
  /** Divide by the running (population) standard deviation; a zero std divides by 1. Default true. */
  withStd?: boolean;
}

export interface StandardScalerState {
  kind: 'standard-scaler';
  features: number | null;
  withMean: boolean;
  withStd: boolean;
  count: number;
  mean: number[] | null;
  m2: number[] | null;
}

/**
 * z = (x − mean)/std with mean and population variance over everything seen so far (scikit-learn's
 * `StandardScaler.partial_fit` conventions: a zero variance scales by 1). Exact in any split of the
 * stream: learning batches one by one, merging scalers fitted on parts, or one pass give the same
 * statistics up to rounding. Use it on raw inputs before a model; inside nets use a normalization layer.
 *
 * @example
 * const s = new StandardScaler();
 * s.partialFit(tensor([1, 10, 3, 30], [2, 2]));
 * s.transformOne([2, 20]); // Float64Array [0, 0]
 */
export class StandardScaler {
  readonly withMean: boolean;
  readonly withStd: boolean;
  private d: number | null;
  private n = 0;
  private mu: Float64Array | null = null;
  private m2: Float64Array | null = null;

  constructor(opts: StandardScalerOptions = {}) {
    if (opts.features !== undefined && (!Number.isInteger(opts.features) || opts.features < 1)) {
      throw new NormalizationError(
        `StandardScaler: features must be a positive integer, got ${String(opts.features)}`,
      );
    }
    this.d = opts.features ?? null;
    this.withMean = opts.withMean ?? true;
    this.withStd = opts.withStd ?? true;
    if (this.d !== null) this.alloc(this.d);
  }

  /** Events seen. */
  get count(): number {
    return this.n;
  }
  get features(): number | null {
    return this.d;
  }
  /** Running mean (zeros before the first event). */
  get mean(): Float64Array {
    return this.mu ?? new Float64Array(0);
  }
  /** Population variance (M2 / n). */
  get variance(): Float64Array {
    return this.varianceInto(new Float64Array(this.d ?? 0));
  }

  /** {@link variance} written into `out` (its length: the feature count), for loops that read it per event. */
  varianceInto(out: Float64Array): Float64Array {
    if (this.m2 && this.n > 0) for (let j = 0; j < out.length; j++) out[j] = this.m2[j] / this.n;
    else out.fill(0);
    return out;
  }

  private alloc(d: number): void {
    this.d = d;
    this.mu = new Float64Array(d);
    this.m2 = new Float64Array(d);
  }

  /** Welford's update with one event. */
  learnOne(x: ArrayLike<number>): this {
    const d = checkScalerRow('StandardScaler', x, this.d);
    if (this.mu === null) this.alloc(d);
    const mu = this.mu!;
    const m2 = this.m2!;
    this.n++;
    for (let j = 0; j < d; j++) {
      const delta = x[j] - mu[j];
      mu[j] += delta / this.n;
      m2[j] += delta * (x[j] - mu[j]);
    }
    return this;
  }

  /** One batch `[N, d]`: its two-pass statistics merged in (Chan et al.). */
  partialFit(x: Tensor): this {
    const { n, d } = checkScalerBatch('StandardScaler', x, this.d);
    const mean = new Float64Array(d);
    const m2 = new Float64Array(d);
    const xs = x.data;
    for (let i = 0, o = 0; i < n; i++, o += d) for (let j = 0; j < d; j++) mean[j] += xs[o + j];
    for (let j = 0; j < d; j++) mean[j] /= n;
    for (let i = 0, o = 0; i < n; i++, o += d) {
      for (let j = 0; j < d; j++) {
        const t = xs[o + j] - mean[j];
        m2[j] += t * t;
      }
    }
    this.combine(n, mean, m2, d);
    return this;
  }

  /** Adds another scaler's statistics (same feature count) to this one. */
  merge(other: StandardScaler): this {
    if (other.n === 0) return this;
    if (this.d !== null && other.d !== this.d) {
      throw new NormalizationError(
        `StandardScaler.merge: feature counts differ (${this.d} vs ${String(other.d)})`,
      );
    }
    this.combine(other.n, other.mu!, other.m2!, other.d!);
    return this;
  }

  private combine(nb: number, meanB: Float64Array, m2B: Float64Array, d: number): void {
    if (this.mu === null) this.alloc(d);
    const mu = this.mu!;
    const m2 = this.m2!;
    const na = this.n;
    const n = na + nb;
    for (let j = 0; j < d; j++) {
      const delta = meanB[j] - mu[j];
      mu[j] += (delta * nb) / n;
      m2[j] += m2B[j] + (delta * delta * na * nb) / n;
    }
    this.n = n;
  }

  /** Standardizes one event (fresh array). */
  transformOne(x: ArrayLike<number>): Float64Array {
    const d = checkScalerRow('StandardScaler', x, this.d);
    const out = new Float64Array(d);
    this.apply(x, 0, out, 0, d);
    return out;
  }

  /** Standardizes a batch `[N, d]` (fresh tensor; the input is not modified). */
  transform(x: Tensor): Tensor {
    const { n, d } = checkScalerBatch('StandardScaler', x, this.d);
    const out = new Float64Array(n * d);
    for (let i = 0, o = 0; i < n; i++, o += d) this.apply(x.data, o, out, o, d);
    return { data: out, shape: [n, d] };
  }

  private apply(x: ArrayLike<number>, ox: number, out: Float64Array, oo: number, d: number): void {
    if (this.mu === null) {
      for (let j = 0; j < d; j++) out[oo + j] = x[ox + j];
      return;
    }
    const mu = this.mu;
    const m2 = this.m2!;
    for (let j = 0; j < d; j++) {
      let v = x[ox + j];
      if (this.withMean) v -= mu[j];
      if (this.withStd && this.n > 0) {
        const sd = Math.sqrt(m2[j] / this.n);
        if (sd > 0) v /= sd;
      }
      out[oo + j] = v;
    }
  }

  state(): StandardScalerState {
    return {
      kind: 'standard-scaler',
      features: this.d,
      withMean: this.withMean,
      withStd: this.withStd,
      count: this.n,
      mean: this.mu ? Array.from(this.mu) : null,
      m2: this.m2 ? Array.from(this.m2) : null,
    };
  }

  static fromState(s: StandardScalerState): StandardScaler {
    const st = checkKind('StandardScaler', s, 'standard-scaler') as unknown as StandardScalerState;
    const sc = new StandardScaler({
      features: st.features ?? undefined,
      withMean: st.withMean,
      withStd: st.withStd,
    });
    if (!Number.isInteger(st.count) || st.count < 0) {
      throw new NormalizationError(
        `StandardScaler.fromState: count must be an integer >= 0, got ${String(st.count)}`,
      );
    }
    sc.n = st.count;
    if (st.features !== null) {
      sc.mu!.set(floatsFromState('StandardScaler', 'mean', st.mean, st.features));
      sc.m2!.set(floatsFromState('StandardScaler', 'm2', st.m2, st.features));
    }
    return sc;
  }
}

/**
 * Replicas' StandardScaler statistics: Welford's count, mean and M2, merged exactly with Chan et al.'s
 * parallel formula (the same as {@link StandardScaler.merge}, on states).
 */
export const standardScalerMerge: StatisticsMerge = {
  kind: 'standard-scaler',
  exact: () => true,
  fields: ['count', 'mean', 'm2'],
  read: (s) => ({
    count: s.count as number,
    means: [[...((s.mean as number[] | null) ?? [])]],
    m2: [...((s.m2 as number[] | null) ?? [])],
  }),
  // A scaler sized by its first event has no features before it: merged statistics size it.
  write: (s, m) =>
    m.means[0].length === 0
      ? { ...s, count: m.count }
      : { ...s, features: m.means[0].length, count: m.count, mean: [...m.means[0]], m2: [...m.m2!] },
  nonNegative: [],
};
