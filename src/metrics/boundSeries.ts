/**
 * Handles on one labeled series of a prom-client 15 metric, for the per-batch hot path of the catalog: every
 * call through prom-client's API validates the labels and hashes them (sorting their names for a gauge), a
 * dozen times per batch. A handle updates through the public API once, keeps the series object that update
 * created, and afterwards moves that object itself (a counter's value, a gauge's value, a histogram's count,
 * sum and bucket, exactly as prom-client's own update does), as long as the metric still holds that very
 * object under the same key. A `reset()` or `remove()` replaces or drops it; then the next update goes
 * through the public API again and finds the new series. Where the internals are not the ones this was
 * written against, every update goes through the public API. A histogram also takes `times` equal observations
 * at once (prom-client has no observe-with-count). Pinned against plain API calls, resets and removes included,
 * by test/property/boundSeries.test.ts.
 */
import type { Counter, Gauge, Histogram, LabelValues } from 'prom-client';

/** The parts of a prom-client 15 metric these read (not public API: checked before use). */
interface MetricInternals {
  hashMap?: Record<string, Series | undefined>;
  upperBounds?: number[];
}

interface Series {
  labels: Record<string, string | number>;
  value?: number;
  sum?: number;
  count?: number;
  bucketValues?: Record<string, number>;
}

/** The key and object of the series with exactly these labels, or null (none, several, or other internals). */
function findSeries(
  metric: MetricInternals,
  labels: Record<string, string | number>,
): { key: string; series: Series } | null {
  const map = metric.hashMap;
  if (map === undefined || map === null || typeof map !== 'object') return null;
  const names = Object.keys(labels);
  let found: { key: string; series: Series } | null = null;
  for (const key in map) {
    const s = map[key];
    if (s === undefined || s === null || typeof s.labels !== 'object') return null;
    const l = s.labels;
    if (Object.keys(l).length !== names.length) continue;
    if (names.every((n) => String(l[n]) === String(labels[n]))) {
      if (found !== null) return null;
      found = { key, series: s };
    }
  }
  return found;
}

abstract class Bound<M, T extends string> {
  private key = '';
  protected series: Series | null = null;

  constructor(
    protected readonly metric: M,
    protected readonly labels: LabelValues<T>,
  ) {}

  /** The series to move directly, or null: then update through the API and call {@link bind}. */
  protected live(): Series | null {
    const s = this.series;
    if (s === null) return null;
    const map = (this.metric as MetricInternals).hashMap;
    return map !== undefined && map[this.key] === s ? s : null;
  }

  /** After an update through the API: remember the series it moved, if it has the expected shape. */
  protected bind(check: (s: Series) => boolean): void {
    const found = findSeries(this.metric as MetricInternals, this.labels as Record<string, string | number>);
    if (found === null || !check(found.series)) {
      this.series = null;
      return;
    }
    this.key = found.key;
    this.series = found.series;
  }
}

/** `inc(n)` on a counter series: the same as `counter.inc(labels, n)`. */
export class BoundCounter<T extends string> extends Bound<Counter<T>, T> {
  inc(n: number): void {
    const s = this.live();
    // prom-client's own checks, in its order: a finite value, not negative.
    if (s !== null && Number.isFinite(n) && n >= 0) {
      s.value! += n;
      return;
    }
    this.metric.inc(this.labels, n);
    this.bind((x) => typeof x.value === 'number');
  }
}

/** `set(v)` on a gauge series: the same as `gauge.set(labels, v)`. */
export class BoundGauge<T extends string> extends Bound<Gauge<T>, T> {
  set(v: number): void {
    const s = this.live();
    if (s !== null && typeof v === 'number') {
      s.value = v;
      return;
    }
    this.metric.set(this.labels, v);
    this.bind((x) => typeof x.value === 'number');
  }
}

/** `observe(v)` on a histogram series: the same as `histogram.observe(labels, v)`. */
export class BoundHistogram<T extends string> extends Bound<Histogram<T>, T> {
  observe(v: number): void {
    this.observeRepeated(v, 1);
  }

  /**
   * `times` observations of `v` at once: the same as `times` calls of {@link observe} (the sum is added to one
   * value at a time, so it rounds the same), for one fetched run's events that share one latency.
   */
  observeRepeated(v: number, times: number): void {
    if (times <= 0) return;
    let s = this.live();
    const bounds = (this.metric as MetricInternals).upperBounds;
    if (s === null || !Number.isFinite(v) || bounds === undefined) {
      this.metric.observe(this.labels, v);
      this.bind(
        (x) =>
          typeof x.sum === 'number' &&
          typeof x.count === 'number' &&
          x.bucketValues !== null &&
          typeof x.bucketValues === 'object' &&
          Array.isArray(bounds),
      );
      if (--times === 0) return;
      s = this.live();
      if (s === null || bounds === undefined) {
        for (let i = 0; i < times; i++) this.metric.observe(this.labels, v);
        return;
      }
    }
    let sum = s.sum!;
    for (let i = 0; i < times; i++) sum += v;
    s.sum = sum;
    s.count! += times;
    // prom-client's findBound: the first upper bound at or above v; above them all, only the count moves.
    for (let i = 0; i < bounds.length; i++) {
      if (v <= bounds[i]) {
        const b = bounds[i];
        if (Object.prototype.hasOwnProperty.call(s.bucketValues, b)) s.bucketValues![b] += times;
        break;
      }
    }
  }
}
