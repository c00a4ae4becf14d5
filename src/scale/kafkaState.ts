/**
 * State in Kafka (issue 11, "State in Kafka"): each replica's checkpoint is the latest record under its id in
 * a compacted changelog topic, written in one Kafka transaction with its sync records and the consumer
 * group's offsets of the partitions it owns.
 *
 * Why one transaction: a checkpoint holds model states and offsets, a sync record what the replica learned;
 * committed together, the group's committed offset of every partition is always the offset of the latest
 * durable checkpoint that owned it, and what that checkpoint learned is exactly what the sync topic says
 * it learned (nothing unsynced survives a checkpoint). A partition's next owner, on any assignment, resumes
 * from the group's committed offset, so every event is learned by one replica once across joins, leaves and
 * `kill -9` (what was learned after the last checkpoint is learned again by the next owner, and was never
 * published).
 *
 * Fencing: the transactional id is per group and replica id, so a restarted replica (same id) fences its zombie
 * predecessor, whose next commit fails (Kafka's producer epoch). A replica that lost its partitions to another id
 * (paused past its session timeout, it wakes with their old positions and unsaved learning) is fenced by the
 * group: the transaction commits the offsets as the member and generation the partitions were assigned under
 * (`ScaleMeta.member`, TxnOffsetCommit version 3 of KIP-447 through client.ts `sendOffsetsAs`), the coordinator
 * refuses a member it dropped or a generation it has left, and the whole transaction aborts, so neither its
 * offsets nor its state and sync records land over the new owner's. The coordinator checks when the offsets are
 * sent, not at the commit; a pause between the two is covered on the reading side: the next owner reads the
 * group's offsets with OffsetFetch require_stable (client.ts `createConsumer`, offsetFetchV7.ts) and waits until
 * the transaction commits or aborts (docs/scale-out.md, "Zombies").
 */
import { parsePartitionKey } from '../streams/event.js';
import { CheckpointError, KafkaError } from '../errors.js';
import type { ModelState } from '../models/types.js';
import {
  CHECKPOINT_VERSION,
  type Checkpoint,
  type CheckpointInput,
  type CheckpointStore,
} from '../streams/checkpointStore.js';
import {
  createConsumer,
  createProducer,
  ensureTopic,
  sendOffsetsAs,
  withAdmin,
  type GroupMembership,
  type KafkaClient,
  type Producer,
} from '../streams/kafka/client.js';
import type { ReplicaSyncState, SyncCapture } from './replica.js';
import { syncKey } from './syncLog.js';

export const STATE_FORMAT = 'streamnorm-state';

/** kafkajs error types of a commit the group coordinator refused because the member is no longer current. */
const GROUP_FENCED = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);

/** One replica's checkpoint in the changelog topic. */
export interface StateRecord {
  format: typeof STATE_FORMAT;
  replica: string;
  group: string;
  /** Partitions of the input topic this replica owned at the checkpoint. */
  partitions: number[];
  /** Events this replica learned itself, in total. */
  eventsLearned: number;
  /** Time since the replica's previous sync, at the checkpoint (ms). */
  stalenessMs: number;
  checkpoint: Checkpoint;
  sync: ReplicaSyncState;
  /** True for the checkpoint of a replica that left the group (SIGTERM). */
  left?: boolean;
}

/** Creates a compacted topic if it does not exist. */
export async function ensureCompactedTopic(kafka: KafkaClient, topic: string, partitions = 1): Promise<void> {
  await ensureTopic(kafka, topic, partitions, { 'cleanup.policy': 'compact' });
}

/**
 * The latest committed value per key of a (compacted) topic, read from its beginning to its end offsets as of
 * the call. Transaction markers occupy offsets that are never delivered, so a partition also counts as read
 * once nothing more arrives for `idleMs` after the last message (bounded by `timeoutMs`).
 */
export async function readLatest(
  kafka: KafkaClient,
  topic: string,
  opts: { idleMs?: number; timeoutMs?: number } = {},
): Promise<Map<string, string>> {
  const ends = await withAdmin(kafka, async (admin) => {
    if (!(await admin.listTopics()).includes(topic)) return null;
    return admin.fetchTopicOffsets(topic);
  });
  const out = new Map<string, string>();
  if (ends === null) return out;
  const remaining = new Map(
    ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]),
  );
  if (remaining.size === 0) return out;
  const consumer = createConsumer(kafka, {
    groupId: `streamnorm-read-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    readUncommitted: false,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const idleMs = opts.idleMs ?? 1500;
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    let lastMessageAt = Date.now();
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        lastMessageAt = Date.now();
        const key = message.key?.toString();
        if (key !== undefined) {
          if (message.value === null) out.delete(key);
          else out.set(key, message.value.toString());
        }
        const end = remaining.get(partition);
        // The last data offset is end − 1, or end − 2 when a commit marker closes the log.
        if (end !== undefined && Number(message.offset) >= end - 2) remaining.delete(partition);
      },
    });
    for (let i = 0; i < 10_000 && remaining.size > 0; i++) {
      if (Date.now() > deadline)
        throw new KafkaError(`reading ${topic}: not at its end after ${opts.timeoutMs ?? 30_000} ms`, {
          retriable: true,
        });
      if (Date.now() - lastMessageAt > idleMs && i > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return out;
}

/** Parses a changelog value; null when it is not a state record. */
export function parseStateRecord(value: string): StateRecord | null {
  try {
    const v = JSON.parse(value) as StateRecord;
    return v !== null && typeof v === 'object' && v.format === STATE_FORMAT ? v : null;
  } catch {
    return null;
  }
}

/**
 * What a scale-out checkpoint carries besides models and offsets, taken with its snapshot (the pipeline's
 * `checkpointMeta` hook puts it under `meta.scale`; the store writes it and strips it from `meta`).
 */
export interface ScaleMeta {
  capture: SyncCapture;
  partitions: number[];
  /**
   * The group membership `partitions` were assigned under: the offsets commit as this member (generation and
   * member id in the TxnOffsetCommit), so the group coordinator refuses the checkpoint once the group has moved
   * on without it. Absent: committed as no member, which the coordinator does not check.
   */
  member?: GroupMembership;
  eventsLearned: number;
  stalenessMs: number;
  /**
   * Only with an audit log: how many events this replica had learned, in all, when the capture was taken. A
   * capture that a newer one replaced before it was written is never committed; the next committed one covers
   * its events too, so the audit log takes the ids up to this count from what it has not written yet.
   */
  idsEnd?: number;
}

export interface KafkaStateStoreOptions {
  kafka: KafkaClient;
  /** The compacted changelog topic (one record per replica). */
  stateTopic: string;
  /** The compacted sync topic (one record per variant and replica). */
  syncTopic: string;
  /** The consumer group whose offsets are committed in the checkpoint's transaction. */
  groupId: string;
  replica: string;
  /** After the transaction committed. */
  onCommitted?: (scale: ScaleMeta) => void;
}

/**
 * A CheckpointStore on Kafka (see the module comment): `save` writes the checkpoint, its sync records and
 * the owned partitions' offsets in one transaction; `load` reads this replica's latest checkpoint.
 */
export class KafkaStateStore implements CheckpointStore {
  private producer: Producer | null = null;
  private sequence = 0;

  constructor(private readonly o: KafkaStateStoreOptions) {}

  /** The transactional id: per group and replica, so a restart of the replica fences its predecessor. */
  get transactionalId(): string {
    return `streamnorm-${this.o.groupId}-${this.o.replica}`;
  }

  private async open(): Promise<Producer> {
    if (this.producer) return this.producer;
    const p = createProducer(this.o.kafka, {
      transactionalId: this.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      // A replica killed inside a transaction blocks read_committed readers of the state and sync topics until
      // the broker aborts it: keep that short.
      transactionTimeout: 10_000,
    });
    await p.connect();
    this.producer = p;
    return p;
  }

  /** The record {@link load} found (its sync state resumes the replica). */
  loaded: StateRecord | null = null;

  /**
   * This replica's latest checkpoint, without offsets: the group's committed offsets (written in the same
   * transactions) say where each partition resumes, whoever held it last.
   */
  async load(): Promise<Checkpoint | null> {
    const rec = await this.loadRecord();
    return rec === null ? null : { ...rec.checkpoint, offsets: {}, partitions: [] };
  }

  /** This replica's latest state record (its checkpoint and sync state), or null. */
  async loadRecord(): Promise<StateRecord | null> {
    const latest = await readLatest(this.o.kafka, this.o.stateTopic);
    const v = latest.get(this.o.replica);
    if (v === undefined) return null;
    const rec = parseStateRecord(v);
    if (rec === null)
      throw new CheckpointError(
        `state topic ${this.o.stateTopic}: record of ${this.o.replica} is not a state record`,
      );
    this.sequence = rec.checkpoint.sequence;
    this.loaded = rec;
    return rec;
  }

  async save(input: CheckpointInput): Promise<Checkpoint> {
    const described = (input.meta?.scale ?? null) as ScaleMeta | null;
    if (described === null)
      throw new CheckpointError(
        'KafkaStateStore.save: the checkpoint has no scale-out description (meta.scale)',
      );
    const { scale: _scale, ...meta } = input.meta ?? {};
    const owned = new Set(described.partitions);
    const offsets: Record<string, string> = {};
    for (const [key, off] of Object.entries(input.offsets)) {
      if (owned.has(parsePartitionKey(key).partition)) offsets[key] = off;
    }
    const cp: Checkpoint = {
      version: CHECKPOINT_VERSION,
      sequence: this.sequence + 1,
      savedAt: Date.now(),
      topic: input.topic ?? null,
      partitions: [...owned].sort((a, b) => a - b),
      schema: input.schema ?? null,
      variants: Object.fromEntries(
        Object.entries(input.models).map(([name, s]) => [
          name,
          {
            kind: (s as ModelState).kind,
            options: (s as { options?: unknown }).options ?? null,
            spec: input.variants?.[name] ?? null,
          },
        ]),
      ),
      models: input.models,
      offsets,
      meta,
      messages: input.messages ?? 0,
      batches: input.batches ?? 0,
      scores: input.scores ?? {},
    };
    const record: StateRecord = {
      format: STATE_FORMAT,
      replica: this.o.replica,
      group: this.o.groupId,
      partitions: [...owned].sort((a, b) => a - b),
      eventsLearned: described.eventsLearned,
      stalenessMs: described.stalenessMs,
      checkpoint: cp,
      sync: described.capture.syncState,
    };
    const producer = await this.open();
    const txn = await producer.transaction();
    try {
      await txn.send({
        topic: this.o.stateTopic,
        messages: [{ key: this.o.replica, value: JSON.stringify(record) }],
      });
      if (described.capture.records.length > 0) {
        await txn.send({
          topic: this.o.syncTopic,
          messages: described.capture.records.map((r) => ({
            key: syncKey(r.variant, r.replica),
            value: JSON.stringify(r),
          })),
        });
      }
      const parts = Object.entries(offsets).map(([key, offset]) => ({ ...parsePartitionKey(key), offset }));
      if (parts.length > 0) {
        const byTopic = new Map<string, { partition: number; offset: string }[]>();
        for (const p of parts)
          byTopic.set(p.topic, [
            ...(byTopic.get(p.topic) ?? []),
            { partition: p.partition, offset: p.offset },
          ]);
        await sendOffsetsAs(
          txn,
          this.transactionalId,
          {
            consumerGroupId: this.o.groupId,
            topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
          },
          described.member ?? null,
        );
      }
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => undefined);
      const why = err instanceof Error ? err.message : String(err);
      const m = described.member;
      throw new KafkaError(
        m !== undefined && GROUP_FENCED.has((err as { type?: unknown }).type as string)
          ? `checkpoint of replica ${this.o.replica} refused by group ${this.o.groupId}: member ${m.memberId} (generation ${m.generationId}) is no longer current in the group (a process paused past its session timeout?), so its partitions may belong to another member now; aborted (${why})`
          : `checkpoint of replica ${this.o.replica} to ${this.o.stateTopic} failed (fenced by a newer incarnation?): ${why}`,
        { cause: err, retriable: false },
      );
    }
    this.sequence = cp.sequence;
    this.o.onCommitted?.(described);
    return cp;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = null;
  }
}
