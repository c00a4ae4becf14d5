/**
 * Per-replica metrics of a scale-out group (issue 11, "Operations"), on the registry the caller injects:
 * how stale this replica is against the merged model, what it learned and what it exchanged.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ScaleMetrics {
  /** A sync (checkpoint) became durable: `records` published, `bytes` their JSON size. */
  published(records: number, bytes: number): void;
  /** Another replica's record was folded in. */
  folded(): void;
  /** Events learned by this replica. */
  learned(events: number): void;
}

/**
 * Registers `streamnorm_replica_staleness_seconds` (time since this replica's learning last reached the
 * merged model, read at scrape time from `staleness()`), `streamnorm_replica_learned_events_total`,
 * `streamnorm_sync_records_total{direction}` and `streamnorm_sync_bytes_total`.
 */
export function scaleMetrics(registry: Registry, staleness: () => number): ScaleMetrics {
  new Gauge({
    name: 'streamnorm_replica_staleness_seconds',
    help: 'Time since this replica last published what it learned and folded the others in (scale-out).',
    registers: [registry],
    collect() {
      this.set(staleness() / 1000);
    },
  });
  const learned = new Counter({
    name: 'streamnorm_replica_learned_events_total',
    help: 'Events this replica learned itself (scale-out; the group learns each event in exactly one replica).',
    registers: [registry],
  });
  const records = new Counter({
    name: 'streamnorm_sync_records_total',
    help: 'Sync records published by this replica or folded in from the others (scale-out).',
    labelNames: ['direction'],
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'streamnorm_sync_bytes_total',
    help: 'Bytes of sync records this replica published (scale-out).',
    registers: [registry],
  });
  records.inc({ direction: 'published' }, 0);
  records.inc({ direction: 'folded' }, 0);
  return {
    published(n, size) {
      records.inc({ direction: 'published' }, n);
      bytes.inc(size);
    },
    folded: () => records.inc({ direction: 'folded' }),
    learned: (n) => learned.inc(n),
  };
}
