/**
 * A flood of concurrent scrapes against a metrics server, and the event-loop delay of the scraped process over
 * that time, read from its `streamnorm_event_loop_delay_seconds` histogram (the difference of two scrapes, as
 * Prometheus' `increase()` would). Shared by test/integration/metricsLoad.test.ts and the `metricsLoad` bench.
 */
import { httpGet, type Answer } from './runProcess.js';

export interface FloodResult {
  requests: number;
  /** Answers by HTTP status. */
  statuses: Record<string, number>;
  /** Requests that got no HTTP answer (first few messages). */
  failures: number;
  failureSamples: string[];
  wallMs: number;
}

/** `n` GETs of `url`, all started at once, each on its own connection (bounded by `timeoutMs` each). */
export async function floodScrapes(url: string, n: number, timeoutMs = 60_000): Promise<FloodResult> {
  const started = Date.now();
  const results = await Promise.allSettled(Array.from({ length: n }, () => httpGet(url, { timeoutMs })));
  const statuses: Record<string, number> = {};
  const failureSamples: string[] = [];
  let failures = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') {
      const s = String((r.value as Answer).status);
      statuses[s] = (statuses[s] ?? 0) + 1;
    } else {
      failures++;
      if (failureSamples.length < 5) failureSamples.push(String((r.reason as Error).message));
    }
  }
  return { requests: n, statuses, failures, failureSamples, wallMs: Date.now() - started };
}

/** Cumulative bucket counts (le → count, `+Inf` as Infinity) of one histogram in a Prometheus text page. */
export function histogramBuckets(page: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`);
  for (const line of page.split('\n')) {
    const m = re.exec(line);
    if (m !== null) out.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  }
  return out;
}

export interface DelayFigures {
  /** Timer ticks measured between the two scrapes. */
  samples: number;
  /** Quantiles by linear interpolation inside the bucket (Prometheus' histogram_quantile), seconds. */
  p50: number;
  p99: number;
  /** Upper bound of the highest bucket that gained a sample (the largest delay is at most this), seconds. */
  maxAtMost: number;
}

/** The event-loop delay between two scrapes of `streamnorm_event_loop_delay_seconds`. */
export function delayBetween(before: string, after: string): DelayFigures {
  const name = 'streamnorm_event_loop_delay_seconds';
  const a = histogramBuckets(before, name);
  const b = histogramBuckets(after, name);
  if (b.size === 0) throw new Error(`no ${name} on the second page`);
  const bounds = [...b.keys()].sort((x, y) => x - y);
  const inc = bounds.map((le) => Math.max(0, (b.get(le) ?? 0) - (a.get(le) ?? 0)));
  const total = inc[inc.length - 1];
  const quantile = (q: number): number => {
    if (total === 0) return 0;
    const rank = q * total;
    for (let i = 0; i < bounds.length; i++) {
      if (inc[i] >= rank) {
        const lo = i === 0 ? 0 : bounds[i - 1];
        const below = i === 0 ? 0 : inc[i - 1];
        if (bounds[i] === Infinity) return lo;
        return lo + ((bounds[i] - lo) * (rank - below)) / Math.max(1, inc[i] - below);
      }
    }
    return bounds[bounds.length - 2];
  };
  let maxAtMost = 0;
  for (let i = 0; i < bounds.length; i++) {
    const gained = inc[i] - (i === 0 ? 0 : inc[i - 1]);
    if (gained > 0) maxAtMost = bounds[i];
  }
  return { samples: total, p50: quantile(0.5), p99: quantile(0.99), maxAtMost };
}
