/**
 * Metrics of `run --sync-bn` (synchronized BatchNorm in the live consumer), on the registry the caller injects:
 * how each layer's step ended, how long the learner waited for its peers, and how many members meet at a step.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How a synchronized BatchNorm step of one layer ended (the `outcome` label). */
export type SyncBnStepOutcome = 'pooled' | 'local_fallback' | 'shadow' | 'alone';

export interface SyncBnMetrics {
  /** A learning step of one BatchNorm layer ended so. */
  step(outcome: SyncBnStepOutcome): void;
  /** The learner waited this long (ms) for one exchange (a forward's moments or a backward's sums). */
  waited(ms: number): void;
}

/**
 * Registers `streamnorm_syncbn_steps_total{outcome}` (`pooled` with the roster, `local_fallback` when peers did not
 * answer in time or the group was rebalancing, `shadow` for the count-0 steps this replica stood in with while it
 * had no data, `alone` when it was the whole roster), `streamnorm_syncbn_wait_seconds` and
 * `streamnorm_syncbn_roster_size`. `shadows()` and `roster()` are read at scrape time.
 */
export function syncBnMetrics(
  registry: Registry,
  read: { shadows: () => number; roster: () => number },
): SyncBnMetrics {
  let shadowsSeen = 0;
  const steps = new Counter({
    name: 'streamnorm_syncbn_steps_total',
    help: 'Synchronized BatchNorm steps of one layer by outcome: pooled with the roster, local_fallback (peers late or rebalancing), shadow (count-0 stand-in while idle), alone (a roster of one).',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const now = read.shadows();
      if (now > shadowsSeen) this.inc({ outcome: 'shadow' }, now - shadowsSeen);
      shadowsSeen = Math.max(shadowsSeen, now);
    },
  });
  for (const outcome of ['pooled', 'local_fallback', 'shadow', 'alone'] as const) steps.inc({ outcome }, 0);
  const wait = new Histogram({
    name: 'streamnorm_syncbn_wait_seconds',
    help: 'Time the learner waited for its peers in one synchronized BatchNorm exchange (forward moments or backward sums).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'streamnorm_syncbn_roster_size',
    help: "Members of the consumer group's current generation that synchronized BatchNorm pools over.",
    registers: [registry],
    collect() {
      this.set(read.roster());
    },
  });
  return {
    step: (outcome) => steps.inc({ outcome }),
    waited: (ms) => wait.observe(ms / 1000),
  };
}
