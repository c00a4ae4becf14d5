import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { ConfigError } from '../errors.js';

/** Options for {@link trackEventLoopDelay}. */
export interface EventLoopDelayOptions {
  /** Sampling timer of `perf_hooks.monitorEventLoopDelay` (ms, default 10). */
  resolutionMs?: number;
}

const NAME = 'streamnorm_event_loop_delay_seconds';
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One histogram page as prom-client's registry formats it. */
interface HistogramValues {
  name: string;
  help: string;
  type: 'histogram';
  aggregator: 'sum';
  values: { metricName: string; labels: Record<string, string | number>; value: number }[];
}

/**
 * Export the event loop's delay as a cumulative Prometheus histogram, `streamnorm_event_loop_delay_seconds`:
 * how late each tick of a `resolutionMs` timer ran (`perf_hooks.monitorEventLoopDelay`, minus the resolution
 * itself). Unlike prom-client's `nodejs_eventloop_lag_*` gauges, which show only the interval since the previous
 * collection, a histogram can be compared between any two scrapes (`histogram_quantile(0.99,
 * rate(streamnorm_event_loop_delay_seconds_bucket[1m]))`), so a stall between scrapes is not lost.
 *
 * The monitor is never reset: Node drops the sample that spans a `reset()` (it restarts its previous-tick
 * time), which is exactly the long one when a collection runs inside a busy stretch. At each scrape, each
 * bucket's count is read from the cumulative monitor by rank (the largest k whose k-th smallest sample is within
 * the bound, by bisection on `percentile`), exact up to Node's histogram precision (3 significant digits).
 *
 * @example
 * const registry = createRegistry();
 * const delay = trackEventLoopDelay(registry);
 * // ... serve registry ...
 * delay.stop();
 */
export function trackEventLoopDelay(
  registry: Registry,
  options: EventLoopDelayOptions = {},
): { read(): HistogramValues; stop(): void } {
  const resolutionMs = options.resolutionMs ?? 10;
  if (!Number.isInteger(resolutionMs) || resolutionMs < 1)
    throw new ConfigError(`event loop resolutionMs must be an integer >= 1, got ${resolutionMs}`);
  const monitor: IntervalHistogram = monitorEventLoopDelay({ resolution: resolutionMs });
  monitor.enable();
  const offsetNs = resolutionMs * 1e6;
  const help = `How late a ${resolutionMs} ms timer ran on the event loop (perf_hooks.monitorEventLoopDelay), per tick.`;

  /** Samples whose delay is at most `seconds`: the largest rank k with a k-th smallest sample within it. */
  const countAtMost = (seconds: number, n: number): number => {
    const limit = seconds * 1e9 + offsetNs;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const k = Math.floor((lo + hi + 1) / 2);
      // percentile(100·(k − ½)/n) is the k-th smallest sample (its rank is ceil(k − ½) = k).
      if (monitor.percentile((100 * (k - 0.5)) / n) <= limit) lo = k;
      else hi = k - 1;
    }
    return lo;
  };

  const read = (): HistogramValues => {
    const n = monitor.count;
    const values: HistogramValues['values'] = [];
    for (const le of BUCKETS)
      values.push({ metricName: `${NAME}_bucket`, labels: { le }, value: n === 0 ? 0 : countAtMost(le, n) });
    values.push({ metricName: `${NAME}_bucket`, labels: { le: '+Inf' }, value: n });
    const sum = n === 0 ? 0 : (Math.max(0, monitor.mean - offsetNs) * n) / 1e9;
    values.push({ metricName: `${NAME}_sum`, labels: {}, value: sum });
    values.push({ metricName: `${NAME}_count`, labels: {}, value: n });
    return { name: NAME, help, type: 'histogram', aggregator: 'sum', values };
  };
  const metric = {
    name: NAME,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: () => Promise.resolve(read()),
    reset: () => undefined,
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  return {
    read,
    stop() {
      monitor.disable();
      registry.removeSingleMetric(NAME);
    },
  };
}
