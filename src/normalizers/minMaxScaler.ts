/**
 * Streaming min-max normalization of input features to a range [a, b].
 */
import type { Tensor } from '../core/tensor.js';
import { NormalizationError } from '../errors.js';
import { checkKind, checkScalerBatch, checkScalerRow, floatsFromState } from './input.js';

export interface MinMaxScalerOptions {
  /** Target range [a, b] with a < b. Default [0, 1]. */
  range?: [number, number];
  /** Feature count; inferred from the first input when omitted. */
  features?: number;
  /** Clip transformed values into [a, b] (values outside the range seen so far). Default false. */
  clip?: boolean;
}

export interface MinMaxScalerState {
  kind: 'min-max-scaler';
  range: [number, number];
  clip: boolean;
  features: number | null;
  count: number;
  min: number[] | null;
  max: number[] | null;
}

/**
 * x' = a + (x − min)/(max − min)·(b − a) with the per-feature min and max seen so far (scikit-learn's
 * `MinMaxScaler` conventions: a feature with max = min maps x to a + (x − min)·(b − a)). Mergeable, so
 * parallel parts of a stream combine exactly.
 *
 * @example
 * const s = new MinMaxScaler({ range: [-1, 1] });
 * s.learnOne([0, 5]).learnOne([10, 15]);
 * s.transformOne([5, 10]); // Float64Array [0, 0]
 */
export class MinMaxScaler {
  readonly a: number;
  readonly b: number;
  readonly clip: boolean;
  private d: number | null;
  private n = 0;
  private lo: Float64Array | null = null;
  private hi: Float64Array | null = null;

  constructor(opts: MinMaxScalerOptions = {}) {
    const range = opts.range ?? [0, 1];
    if (
      !Array.isArray(range) ||
      range.length !== 2 ||
      !Number.isFinite(range[0]) ||
      !Number.isFinite(range[1]) ||
      !(range[0] < range[1])
    ) {
      throw new NormalizationError(
        `MinMaxScaler: range must be [a, b] with finite a < b, got ${JSON.stringify(range)}`,
      );
    }
    if (opts.features !== undefined && (!Number.isInteger(opts.features) || opts.features < 1)) {
      throw new NormalizationError(
        `MinMaxScaler: features must be a positive integer, got ${String(opts.features)}`,
      );
    }
    [this.a, this.b] = range;
    this.clip = opts.clip ?? false;
    this.d = opts.features ?? null;
    if (this.d !== null) this.alloc(this.d);
  }

  get count(): number {
    return this.n;
  }
  get dataMin(): Float64Array {
    return this.lo ?? new Float64Array(0);
  }
  get dataMax(): Float64Array {
    return this.hi ?? new Float64Array(0);
  }

  private alloc(d: number): void {
    this.d = d;
    this.lo = new Float64Array(d).fill(Infinity);
    this.hi = new Float64Array(d).fill(-Infinity);
  }

  learnOne(x: ArrayLike<number>): this {
    const d = checkScalerRow('MinMaxScaler', x, this.d);
    if (this.lo === null) this.alloc(d);
    for (let j = 0; j < d; j++) {
      if (x[j] < this.lo![j]) this.lo![j] = x[j];
      if (x[j] > this.hi![j]) this.hi![j] = x[j];
    }
    this.n++;
    return this;
  }

  partialFit(x: Tensor): this {
    const { n, d } = checkScalerBatch('MinMaxScaler', x, this.d);
    if (this.lo === null) this.alloc(d);
    const lo = this.lo!;
    const hi = this.hi!;
    for (let i = 0, o = 0; i < n; i++, o += d) {
      for (let j = 0; j < d; j++) {
        const v = x.data[o + j];
        if (v < lo[j]) lo[j] = v;
        if (v > hi[j]) hi[j] = v;
      }
    }
    this.n += n;
    return this;
  }

  merge(other: MinMaxScaler): this {
    if (other.n === 0) return this;
    if (this.d !== null && other.d !== this.d) {
      throw new NormalizationError(
        `MinMaxScaler.merge: feature counts differ (${this.d} vs ${String(other.d)})`,
      );
    }
    if (this.lo === null) this.alloc(other.d!);
    for (let j = 0; j < this.d!; j++) {
      this.lo![j] = Math.min(this.lo![j], other.lo![j]);
      this.hi![j] = Math.max(this.hi![j], other.hi![j]);
    }
    this.n += other.n;
    return this;
  }

  transformOne(x: ArrayLike<number>): Float64Array {
    const d = checkScalerRow('MinMaxScaler', x, this.d);
    const out = new Float64Array(d);
    this.apply(x, 0, out, 0, d);
    return out;
  }

  transform(x: Tensor): Tensor {
    const { n, d } = checkScalerBatch('MinMaxScaler', x, this.d);
    const out = new Float64Array(n * d);
    for (let i = 0, o = 0; i < n; i++, o += d) this.apply(x.data, o, out, o, d);
    return { data: out, shape: [n, d] };
  }

  private apply(x: ArrayLike<number>, ox: number, out: Float64Array, oo: number, d: number): void {
    const w = this.b - this.a;
    for (let j = 0; j < d; j++) {
      const v = x[ox + j];
      if (this.n === 0) {
        out[oo + j] = v;
        continue;
      }
      const span = this.hi![j] - this.lo![j];
      let t = this.a + ((v - this.lo![j]) / (span > 0 ? span : 1)) * w;
      if (this.clip) t = Math.min(this.b, Math.max(this.a, t));
      out[oo + j] = t;
    }
  }

  state(): MinMaxScalerState {
    return {
      kind: 'min-max-scaler',
      range: [this.a, this.b],
      clip: this.clip,
      features: this.d,
      count: this.n,
      min: this.lo && this.n > 0 ? Array.from(this.lo) : null,
      max: this.hi && this.n > 0 ? Array.from(this.hi) : null,
    };
  }

  static fromState(s: MinMaxScalerState): MinMaxScaler {
    const st = checkKind('MinMaxScaler', s, 'min-max-scaler') as unknown as MinMaxScalerState;
    const sc = new MinMaxScaler({ range: st.range, clip: st.clip, features: st.features ?? undefined });
    if (!Number.isInteger(st.count) || st.count < 0) {
      throw new NormalizationError(
        `MinMaxScaler.fromState: count must be an integer >= 0, got ${String(st.count)}`,
      );
    }
    sc.n = st.count;
    if (st.features !== null && st.count > 0) {
      sc.lo!.set(floatsFromState('MinMaxScaler', 'min', st.min, st.features));
      sc.hi!.set(floatsFromState('MinMaxScaler', 'max', st.max, st.features));
    }
    return sc;
  }
}
