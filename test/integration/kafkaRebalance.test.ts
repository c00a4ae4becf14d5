/**
 * Checkpoint on revoke: two consumers of one group on a 2-partition topic, each with its own checkpoint (its
 * own model lineage). When the second joins, the first learns what it holds, checkpoints and commits before
 * giving a partition up, so the second starts where the first's model is: across both, every produced event
 * is learned exactly once. Periodic checkpoints are effectively off, so only the revoke can commit.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLivePipeline, type LivePipelineHandle } from '../../src/streams/livePipeline.js';
import { createTestModels } from './helpers/models.js';
import {
  createTopic,
  makeEvents,
  produce,
  testKafka,
  uniqueName,
  waitFor,
  type RawRecord,
} from './helpers/kafka.js';

const kafka = testKafka();

describe('rebalance', () => {
  it('the first consumer checkpoints and commits on revoke: events learned across both == events produced', async () => {
    const topic = uniqueName('rb');
    const group = uniqueName('rb-g');
    await createTopic(kafka, topic, 2);
    const N = 4000;
    const records: RawRecord[] = makeEvents(N, 53).map((e, i) => ({
      key: e.id,
      value: JSON.stringify(e),
      partition: i % 2,
    }));

    const learned = { a: 0, b: 0 };
    const startConsumer = (name: 'a' | 'b'): Promise<LivePipelineHandle> =>
      runLivePipeline({
        kafka,
        topic,
        groupId: group,
        createModels: createTestModels,
        checkpoint: mkdtempSync(join(tmpdir(), `sn-rb-${name}-`)),
        rebatch: { count: 32 },
        checkpointEvery: { messages: 1_000_000, ms: 600_000 },
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 200,
        handleSignals: false,
        onResult: (r) => (learned[name] += r.messages),
      });

    // A steady trickle of the first half, so the first consumer is mid-stream (batches half full) when the
    // second joins; the second half only once the group has rebalanced with both members, so that the
    // first one cannot have taken every event before the second one is in (it learns 4,000 events in well
    // under a second).
    const trickle = async (from: number, to: number): Promise<void> => {
      for (let at = from; at < to; at += 100) await produce(kafka, topic, records.slice(at, at + 100));
    };
    let rebalancedA = 0;
    const firstHalf = trickle(0, N / 2);
    const a = await startConsumer('a');
    await waitFor(() => learned.a >= 800, 60_000, 'the first consumer learning');
    expect(a.source.stats().rebalances).toBe(0); // so the one awaited below is the second consumer's join
    const b = await startConsumer('b');
    await firstHalf;
    try {
      await waitFor(() => a.source.stats().rebalances >= 1, 60_000, 'the first consumer rebalanced');
      await trickle(N / 2, N);
      // Everything handed over (the batches in hand are learned when the consumers stop).
      await waitFor(
        () => a.source.stats().emitted + b.source.stats().emitted >= N,
        60_000,
        'every event handed over',
      );
      rebalancedA = a.source.stats().rebalances;
    } finally {
      const [sa, sb] = await Promise.all([a.stop(), b.stop()]);
      // Both consumers took part; the first one gave a partition up with a checkpoint and a commit.
      expect(rebalancedA).toBeGreaterThanOrEqual(1);
      expect(sb.messages).toBeGreaterThan(0);
      expect(sa.source.commits).toBeGreaterThanOrEqual(2);
      // Exactly once across the two lineages: no event learned by both, none lost.
      expect(learned.a + learned.b).toBe(N);
      expect(sa.messages + sb.messages).toBe(N);
      expect(sa.scores.linear.labeled + sb.scores.linear.labeled).toBe(N);
    }
  });
});
