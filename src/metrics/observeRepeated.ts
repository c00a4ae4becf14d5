/**
 * `observeRepeated(histogram, labels, value, times)`: the same as calling `histogram.observe(labels, value)`
 * `times` times, for the hot path where one batch's events share one value (event-to-prediction latency: every
 * event of a fetched run was received at the same instant and predicted in the same step).
 *
 * prom-client (15.x) has no observe-with-count, and an observation costs a label validation and a label hash
 * each time. This observes once through the public API (which validates, creates the series and checks the
 * value), then moves that series' count, sum and bucket by the rest, exactly as the repeated calls would (the
 * sum is added to one value at a time, so it rounds the same). Where the histogram's internals are not the
 * ones this was written against, it falls back to the plain loop. Pinned against the plain loop by
 * test/unit/metrics/observeRepeated.test.ts.
 */
import type { Histogram, LabelValues } from 'prom-client';

/** The parts of a prom-client 15 Histogram this reads (not public API: checked before use). */
interface HistogramInternals {
  hashMap?: Record<string, SeriesInternals | undefined>;
  upperBounds?: number[];
}

interface SeriesInternals {
  labels: Record<string, string | number>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/** The plain version: one observe per occurrence. */
export function observeRepeatedPlain<T extends string>(
  histogram: Histogram<T>,
  labels: LabelValues<T>,
  value: number,
  times: number,
): void {
  for (let i = 0; i < times; i++) histogram.observe(labels, value);
}

export function observeRepeated<T extends string>(
  histogram: Histogram<T>,
  labels: LabelValues<T>,
  value: number,
  times: number,
): void {
  if (times <= 0) return;
  histogram.observe(labels, value);
  if (times === 1) return;
  const internals = histogram as unknown as HistogramInternals;
  const series = seriesOf(internals, labels);
  if (series === null || !Array.isArray(internals.upperBounds)) {
    observeRepeatedPlain(histogram, labels, value, times - 1);
    return;
  }
  const rest = times - 1;
  let sum = series.sum;
  for (let i = 0; i < rest; i++) sum += value;
  series.sum = sum;
  series.count += rest;
  const bounds = internals.upperBounds;
  for (let i = 0; i < bounds.length; i++) {
    if (value <= bounds[i]) {
      const b = bounds[i];
      if (Object.prototype.hasOwnProperty.call(series.bucketValues, b)) series.bucketValues[b] += rest;
      break;
    }
  }
}

/** The series of these label values (the one `observe` just moved), or null when the internals differ. */
function seriesOf(h: HistogramInternals, labels: Record<string, unknown>): SeriesInternals | null {
  const map = h.hashMap;
  if (map === undefined || map === null || typeof map !== 'object') return null;
  const names = Object.keys(labels);
  let found: SeriesInternals | null = null;
  for (const key in map) {
    const s = map[key];
    if (s === undefined || typeof s.labels !== 'object' || typeof s.count !== 'number') return null;
    const l = s.labels;
    if (Object.keys(l).length !== names.length) continue;
    let same = true;
    for (const n of names) {
      if (String(l[n]) !== String(labels[n])) {
        same = false;
        break;
      }
    }
    if (same) {
      if (found !== null) return null; // ambiguous: not the layout this was written for
      found = s;
    }
  }
  return found;
}
