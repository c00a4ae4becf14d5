/**
 * fromKafka's `positionsFromGroup` (scale-out with state in Kafka): a partition that moved to another member
 * and comes back starts from the group's committed offset (what its last owner's checkpoint transaction
 * wrote), not from this member's older position; without the option the member seeks back to its own. A member
 * the group dropped (it comes back under a new member id) ends the stream. Every join reports the generation.
 */
import { describe, expect, it } from 'vitest';
import { KafkaError } from '../../../src/errors.js';
import type { RawMessage } from '../../../src/streams/event.js';
import { fromKafka } from '../../../src/streams/fromKafka.js';
import { silentLogger, type EachBatchPayload, type KafkaClient } from '../../../src/streams/kafka/client.js';
import { joinLikeKafkajs } from '../streams/helpers.js';

const EVENTS = { GROUP_JOIN: 'join', REBALANCING: 'rebalancing', END_BATCH_PROCESS: 'end', CRASH: 'crash' };
type Listener = (e: { payload: Record<string, unknown> }) => void;

/** The kafkajs consumer calls KafkaSource makes, scripted; seeks recorded. */
class ScriptedConsumer {
  readonly events = EVENTS;
  readonly listeners = new Map<string, Listener[]>();
  eachBatch: ((p: EachBatchPayload) => Promise<void>) | null = null;
  readonly seeks: string[] = [];
  connect = async (): Promise<void> => undefined;
  subscribe = async (): Promise<void> => undefined;
  disconnect = async (): Promise<void> => undefined;
  commitOffsets = async (): Promise<void> => undefined;
  run = async (config: { eachBatch: (p: EachBatchPayload) => Promise<void> }): Promise<void> => {
    this.eachBatch = config.eachBatch;
  };
  on(event: string, listener: Listener): () => void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return () => undefined;
  }
  emit(event: string, payload: Record<string, unknown>): void {
    for (const l of this.listeners.get(event) ?? []) l({ payload });
  }
  /** Joins as kafkajs does: GROUP_JOIN from inside joinAndSync, after JoinGroup set the generation. */
  join(memberId: string, generationId: number, partitions: number[]): Promise<void> {
    return joinLikeKafkajs({ groupId: 'g', memberId, generationId }, () =>
      this.emit(EVENTS.GROUP_JOIN, {
        groupId: 'g',
        memberId,
        memberAssignment: { t: partitions },
        duration: 1,
      }),
    );
  }
  pause(): void {}
  resume(): void {}
  seek({ offset }: { offset: string }): void {
    this.seeks.push(offset);
  }
  batch(from: number, count: number): Promise<void> {
    const messages = Array.from({ length: count }, (_, i) => ({
      offset: String(from + i),
      timestamp: '1700000000000',
      key: null,
      value: Buffer.from(`{"n":${from + i}}`),
      headers: {},
      attributes: 0,
    }));
    return this.eachBatch!({
      batch: { topic: 't', partition: 0, highWatermark: String(from + count), messages },
      resolveOffset: () => undefined,
      heartbeat: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload);
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A source on a scripted consumer, subscribed, once kafkajs's batch handler is in place. */
async function started(positionsFromGroup: boolean) {
  const consumer = new ScriptedConsumer();
  const source = fromKafka({
    kafka: { consumer: () => consumer } as unknown as KafkaClient,
    topic: 't',
    groupId: 'g',
    logger: silentLogger,
    yieldEveryMs: 60_000,
    positionsFromGroup,
  });
  const seen: RawMessage[] = [];
  const failure: { error: unknown } = { error: null };
  source.subscribe({ next: (m) => seen.push(m), error: (e: unknown) => (failure.error = e) });
  for (let i = 0; i < 100 && consumer.eachBatch === null; i++) await turn();
  return { consumer, source, seen, failure };
}

async function scenario(positionsFromGroup: boolean) {
  const { consumer, source, seen, failure } = await started(positionsFromGroup);
  await consumer.join('m', 1, [0]);
  await consumer.batch(0, 50);
  await turn();
  source.ackAll(seen.map((m) => m.origin));
  const before = source.positions();
  // Partition 0 moves to another member, which learns 50..79 and commits 80; then it comes back here.
  await consumer.join('m', 2, []);
  const away = source.positions();
  await consumer.join('m', 3, [0]);
  await consumer.batch(80, 20);
  await turn();
  // The stream must still be running: an error here is the test's failure, not a result.
  if (failure.error !== null) throw failure.error;
  return { consumer, seen, before, away, source };
}

describe('fromKafka positionsFromGroup', () => {
  it('a partition that comes back starts from the group offset, and is not checkpointed while away', async () => {
    const { consumer, seen, before, away } = await scenario(true);
    expect(before).toEqual({ 't:0': '50' });
    expect(away).toEqual({});
    expect(consumer.seeks).toEqual([]);
    expect(seen.map((m) => Number(m.origin.offset))).toEqual([
      ...Array.from({ length: 50 }, (_, i) => i),
      ...Array.from({ length: 20 }, (_, i) => 80 + i),
    ]);
  });

  it('without it, the member seeks back to its own older position (right for one process, wrong for a group)', async () => {
    const { consumer, away } = await scenario(false);
    expect(away).toEqual({ 't:0': '50' });
    expect(consumer.seeks).toEqual(['50']);
  });
});

describe('fromKafka group membership', () => {
  it('reports the generation of every join, and remembers the last membership', async () => {
    const consumer = new ScriptedConsumer();
    const joins: Array<{ memberId: string; generationId: number }> = [];
    const source = fromKafka({
      kafka: { consumer: () => consumer } as unknown as KafkaClient,
      topic: 't',
      groupId: 'g',
      logger: silentLogger,
      onGroupJoin: ({ memberId, generationId }) => joins.push({ memberId, generationId }),
    });
    source.subscribe({ error: () => undefined });
    for (let i = 0; i < 100 && consumer.eachBatch === null; i++) await turn();
    expect(source.membership()).toBeNull();
    await consumer.join('m', 4, [0]);
    await consumer.join('m', 5, [0]);
    expect(joins).toEqual([
      { memberId: 'm', generationId: 4 },
      { memberId: 'm', generationId: 5 },
    ]);
    expect(source.membership()).toEqual({ groupId: 'g', memberId: 'm', generationId: 5 });
  });

  it.each([true, false])(
    'a member the group dropped (back under a new member id) ends the stream only with positionsFromGroup (%s)',
    async (positionsFromGroup) => {
      const { consumer, source, failure } = await started(positionsFromGroup);
      await consumer.join('m', 1, [0]);
      await consumer.batch(0, 10);
      await turn();
      // Its session expired while it was paused: kafkajs forgets the member id and joins as a new member.
      await consumer.join('m-new', 3, [0]);
      if (positionsFromGroup) {
        expect(failure.error).toBeInstanceOf(KafkaError);
        expect((failure.error as KafkaError).message).toMatch(
          /member m of group g was dropped by the group .* rejoined as m-new/,
        );
      } else {
        // One process owns its checkpoint and seeks to it: a new member id changes nothing.
        expect(failure.error).toBeNull();
        expect(source.membership()).toEqual({ groupId: 'g', memberId: 'm-new', generationId: 3 });
      }
    },
  );
});
