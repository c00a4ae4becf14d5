/**
 * Fenced offset commits on the real broker (KIP-447: client.ts `sendOffsetsAs`, TxnOffsetCommit version 3 in
 * txnOffsetCommitV3.ts). A transaction's offsets committed as a member of a generation the group has left are
 * refused (ILLEGAL_GENERATION), the transaction aborts and the group's offsets stay where they were; as the
 * current generation they commit. A member the group does not have is refused (UNKNOWN_MEMBER_ID); no membership
 * (generation −1, member id '') is not checked, as before version 3. And the scale-out state store on top: a
 * checkpoint of a stale membership leaves the group's offsets, the state record and the sync records as they were.
 */
import { describe, expect, it } from 'vitest';
import { KafkaError } from '../../src/errors.js';
import {
  KafkaStateStore,
  ensureCompactedTopic,
  readLatest,
  type ScaleMeta,
} from '../../src/scale/kafkaState.js';
import {
  committedOffsets,
  createConsumer,
  createProducer,
  installGroupHooks,
  joinedGeneration,
  sendOffsetsAs,
  type Consumer,
  type GroupMembership,
} from '../../src/streams/kafka/client.js';
import { capture } from './helpers/syncCapture.js';
import { createTopic, produce, testKafka, uniqueName, waitFor } from './helpers/kafka.js';

const kafka = testKafka();

/**
 * A topic of 2 partitions with 20 records in each: the offsets committed here lie inside the log (a member
 * assigned a partition whose committed offset is past its end resets it, and kafkajs then commits the reset).
 */
async function topicWithRecords(prefix: string): Promise<string> {
  const topic = uniqueName(prefix);
  await createTopic(kafka, topic, 2);
  await produce(
    kafka,
    topic,
    Array.from({ length: 40 }, (_, i) => ({ value: `r${i}`, partition: i % 2 })),
  );
  return topic;
}

/** Consumers of `group` whose every join (member id and generation) is recorded. */
function members(group: string, topic: string) {
  installGroupHooks();
  const consumers: Consumer[] = [];
  const joins: GroupMembership[][] = [];
  return {
    joins,
    /** The latest membership of consumer `i`. */
    latest: (i: number): GroupMembership => joins[i][joins[i].length - 1],
    async start(): Promise<number> {
      const i = consumers.length;
      const c = createConsumer(kafka, { groupId: group, sessionTimeout: 10_000, heartbeatInterval: 300 });
      consumers.push(c);
      joins.push([]);
      c.on(c.events.GROUP_JOIN, ({ payload }) => {
        const generationId = joinedGeneration(payload.groupId, payload.memberId);
        if (generationId !== null)
          joins[i].push({ groupId: group, memberId: payload.memberId, generationId });
      });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ autoCommit: false, eachBatch: async () => undefined });
      await waitFor(() => joins[i].length > 0, 60_000, `consumer ${i} to join`);
      return i;
    },
    /** Waits until every consumer has joined generation `generation` or a later one. */
    async settled(generation: number): Promise<number> {
      await waitFor(
        () =>
          joins.every((j) => j.length > 0 && j[j.length - 1].generationId >= generation) &&
          new Set(joins.map((j) => j[j.length - 1].generationId)).size === 1,
        60_000,
        `every member to join generation ${generation}`,
      );
      return joins[0][joins[0].length - 1].generationId;
    },
    stop: () => Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined))),
  };
}

describe('fenced offset commits on the real broker', () => {
  it('a stale generation is refused and moves nothing; the current generation commits', async () => {
    const topic = await topicWithRecords('fence');
    const group = uniqueName('fence-g');
    const group$ = members(group, topic);
    const transactionalId = uniqueName('fence-tx');
    const producer = createProducer(kafka, { transactionalId, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    /** Commits offset `offset` of partition 0 in one transaction, as `member`. */
    const commit = async (member: GroupMembership | null, offset: string): Promise<void> => {
      const txn = await producer.transaction();
      try {
        await sendOffsetsAs(
          txn,
          transactionalId,
          { consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 0, offset }] }] },
          member,
        );
        await txn.commit();
      } catch (err) {
        await txn.abort();
        throw err;
      }
    };
    const offset0 = async (): Promise<string | undefined> =>
      (await committedOffsets(kafka, group, topic)).get(0);
    try {
      await group$.start();
      const first = group$.latest(0);
      expect(first.generationId).toBeGreaterThanOrEqual(1);
      await commit(first, '5');
      expect(await offset0()).toBe('5');

      // A second member joins: the group rebalances into a later generation, the first member keeps its id.
      await group$.start();
      const generation = await group$.settled(first.generationId + 1);
      const current = group$.latest(0);
      expect(current).toEqual({ groupId: group, memberId: first.memberId, generationId: generation });

      const stale = await commit(first, '3').catch((e: unknown) => e);
      expect(stale).toMatchObject({ type: 'ILLEGAL_GENERATION' });
      expect(await offset0()).toBe('5');

      await commit(current, '7');
      expect(await offset0()).toBe('7');

      const gone = await commit(
        { groupId: group, memberId: 'left-long-ago', generationId: generation },
        '2',
      ).catch((e: unknown) => e);
      expect(gone).toMatchObject({ type: 'UNKNOWN_MEMBER_ID' });
      expect(await offset0()).toBe('7');

      // No membership: the coordinator checks nothing (offsets not read through the group).
      await commit(null, '9');
      expect(await offset0()).toBe('9');
    } finally {
      await producer.disconnect().catch(() => undefined);
      await group$.stop();
    }
  });

  it("the state store: a stale member's checkpoint aborts, leaving offsets, state and sync records", async () => {
    const topic = await topicWithRecords('fence-kss');
    const group = uniqueName('fence-kss-g');
    const stateTopic = uniqueName('fence-kss-state');
    const syncTopic = uniqueName('fence-kss-sync');
    await ensureCompactedTopic(kafka, stateTopic);
    await ensureCompactedTopic(kafka, syncTopic);
    const group$ = members(group, topic);
    const committed: number[] = [];
    const store = new KafkaStateStore({
      kafka,
      stateTopic,
      syncTopic,
      groupId: group,
      replica: 'r',
      onCommitted: (m) => committed.push(m.capture.seq),
    });
    const save = (seq: number, offset: string, member: GroupMembership) => {
      const scale: ScaleMeta = {
        capture: capture(seq),
        partitions: [0],
        member,
        eventsLearned: 10 * seq,
        stalenessMs: 5,
      };
      return store.save({
        models: { v: { kind: 'X', seq } },
        offsets: { [`${topic}:0`]: offset },
        topic,
        meta: { scale },
        messages: 10 * seq,
      });
    };
    try {
      await group$.start();
      const first = group$.latest(0);
      await save(1, '7', first);
      await group$.start();
      await group$.settled(first.generationId + 1);

      const err = await save(2, '11', first).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KafkaError);
      expect((err as KafkaError).message).toMatch(
        new RegExp(
          `refused by group ${group}: member ${first.memberId} \\(generation ${first.generationId}\\)`,
        ),
      );
      expect((err as KafkaError).cause).toMatchObject({ type: 'ILLEGAL_GENERATION' });
      expect(committed).toEqual([1]);
      expect((await committedOffsets(kafka, group, topic)).get(0)).toBe('7');
      const state = await readLatest(kafka, stateTopic);
      expect(JSON.parse(state.get('r')!).checkpoint.models.v.seq).toBe(1);
      const sync = await readLatest(kafka, syncTopic);
      expect(JSON.parse(sync.get('v/r')!)).toMatchObject({ seq: 1 });

      // The same store goes on as the member's current generation.
      await save(2, '13', group$.latest(0));
      expect(committed).toEqual([1, 2]);
      expect((await committedOffsets(kafka, group, topic)).get(0)).toBe('13');
      expect(JSON.parse((await readLatest(kafka, syncTopic)).get('v/r')!)).toMatchObject({ seq: 2 });
    } finally {
      await store.close();
      await group$.stop();
    }
  });
});
