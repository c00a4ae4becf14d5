/**
 * `streamnorm status` from state records: a partition is listed under the replica whose checkpoint holding
 * it is newest, events add up over replicas, staleness is the age of each replica's latest checkpoint; and
 * the replica metrics expose staleness, learned events and sync traffic.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { groupStatus } from '../../../src/scale/groupStatus.js';
import type { StateRecord } from '../../../src/scale/kafkaState.js';
import { scaleMetrics } from '../../../src/scale/scaleMetrics.js';

function record(replica: string, partitions: number[], eventsLearned: number, savedAt: number): StateRecord {
  return {
    format: 'streamnorm-state',
    replica,
    group: 'g',
    partitions,
    eventsLearned,
    stalenessMs: 0,
    checkpoint: { savedAt } as StateRecord['checkpoint'],
    sync: {} as StateRecord['sync'],
  };
}

describe('groupStatus', () => {
  it('attributes each partition to its newest holder and adds up the events', () => {
    const s = groupStatus(
      [record('b', [0, 1, 2], 700, 1000), record('a', [3, 4, 5], 500, 2000), record('c', [0, 1], 300, 3000)],
      5000,
    );
    expect(s).toEqual({
      replicas: [
        { id: 'a', partitions: [3, 4, 5], eventsLearned: 500, stalenessMs: 3000 },
        { id: 'b', partitions: [2], eventsLearned: 700, stalenessMs: 4000 },
        { id: 'c', partitions: [0, 1], eventsLearned: 300, stalenessMs: 2000 },
      ],
      eventsLearned: 1500,
    });
  });

  it('an empty group has no replicas and no events', () => {
    expect(groupStatus([], 1)).toEqual({ replicas: [], eventsLearned: 0 });
  });
});

describe('scaleMetrics', () => {
  it('exposes staleness at scrape time, learned events and sync traffic', async () => {
    const registry = new Registry();
    let staleness = 2500;
    const m = scaleMetrics(registry, () => staleness);
    m.learned(32);
    m.published(2, 900);
    m.folded();
    let text = await registry.metrics();
    expect(text).toContain('streamnorm_replica_staleness_seconds 2.5');
    expect(text).toContain('streamnorm_replica_learned_events_total 32');
    expect(text).toContain('streamnorm_sync_records_total{direction="published"} 2');
    expect(text).toContain('streamnorm_sync_records_total{direction="folded"} 1');
    expect(text).toContain('streamnorm_sync_bytes_total 900');
    staleness = 0;
    text = await registry.metrics();
    expect(text).toContain('streamnorm_replica_staleness_seconds 0');
  });
});
