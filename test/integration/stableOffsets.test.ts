/**
 * Offsets pending in a transaction on the real broker (KIP-447's reading half: OffsetFetch version 7 with
 * require_stable, offsetFetchV7.ts). While a transaction that sent offsets for a group is open, the group's
 * coordinator answers a read of them with UNSTABLE_OFFSET_COMMIT instead of the offset committed before; a new
 * consumer of the group retries, delivers nothing meanwhile, and starts from the transaction's offset once it
 * commits, or from the one before once it aborts. Without version 7 the read answers the old offset at once
 * and the consumer starts there while the transaction is still open.
 */
import { describe, expect, it } from 'vitest';
import {
  committedOffsets,
  createConsumer,
  createProducer,
  withAdmin,
  type Producer,
  type Transaction,
} from '../../src/streams/kafka/client.js';
import { installOffsetFetchV7 } from '../../src/streams/kafka/offsetFetchV7.js';
import { createTopic, produce, testKafka, uniqueName, waitFor } from './helpers/kafka.js';

const kafka = testKafka();

/**
 * A topic of one partition holding 20 records, a group whose committed offset there is 5, and a transaction,
 * left open, that sent offset 12 for the group.
 */
async function pendingOffsets(prefix: string): Promise<{
  topic: string;
  group: string;
  producer: Producer;
  open: Transaction;
}> {
  const topic = uniqueName(prefix);
  await createTopic(kafka, topic, 1);
  await produce(
    kafka,
    topic,
    Array.from({ length: 20 }, (_, i) => ({ value: `r${i}`, partition: 0 })),
  );
  const group = uniqueName(`${prefix}-g`);
  const producer = createProducer(kafka, {
    transactionalId: uniqueName(`${prefix}-tx`),
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  await withAdmin(kafka, (admin) =>
    admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '5' }] }),
  );
  const open = await producer.transaction();
  await open.sendOffsets({
    consumerGroupId: group,
    topics: [{ topic, partitions: [{ partition: 0, offset: '12' }] }],
  });
  return { topic, group, producer, open };
}

describe('offsets pending in a transaction, on the real broker', () => {
  it('the group refuses to answer them while the transaction is open; committedOffsets waits for the commit', async () => {
    const { topic, group, producer, open } = await pendingOffsets('stable-admin');
    try {
      installOffsetFetchV7();
      // One read, as the consumer's offset manager makes it (admin.fetchOffsets does not retry).
      const read = await withAdmin(kafka, (admin) =>
        admin.fetchOffsets({ groupId: group, topics: [topic] }),
      ).then(
        (r) => r[0]?.partitions.find((p) => p.partition === 0)?.offset,
        (e: unknown) => e,
      );
      expect(read).toMatchObject({ type: 'UNSTABLE_OFFSET_COMMIT', retriable: true });
      const waited = committedOffsets(kafka, group, topic);
      await open.commit();
      expect((await waited).get(0)).toBe('12');
    } finally {
      await producer.disconnect();
    }
  });

  it.each([
    ['commits', '12'],
    ['aborts', '5'],
  ])(
    'a new consumer of the group waits while the transaction is open, and starts where it left after it %s',
    async (ending, expected) => {
      const { topic, group, producer, open } = await pendingOffsets(`stable-${ending}`);
      const consumer = createConsumer(kafka, {
        groupId: group,
        sessionTimeout: 10_000,
        heartbeatInterval: 300,
        retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
      });
      const offsetFetches: number[] = [];
      consumer.on(consumer.events.REQUEST, ({ payload }) => {
        if (payload.apiName === 'OffsetFetch') offsetFetches.push(payload.apiVersion);
      });
      const firstOffsets: string[] = [];
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (batch.messages.length > 0) firstOffsets.push(batch.messages[0].offset);
          },
        });
        // Three reads of the group's offsets (the first answered unstable, and two retries), unless it started.
        await waitFor(
          () => offsetFetches.length >= 3 || firstOffsets.length > 0,
          60_000,
          'the consumer to read the offsets three times',
        );
        expect(firstOffsets).toEqual([]);
        expect(offsetFetches[0]).toBe(7);

        await (ending === 'commits' ? open.commit() : open.abort());
        await waitFor(() => firstOffsets.length > 0, 60_000, 'the consumer to deliver a batch');
        expect(firstOffsets[0]).toBe(expected);
      } finally {
        await consumer.disconnect().catch(() => undefined);
        await producer.disconnect();
      }
    },
  );
});
