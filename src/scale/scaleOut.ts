/**
 * `streamnorm run --state kafka`: the glue between the live pipeline and the scale-out pieces. The process is
 * one replica of every variant; its checkpoints go to the group's compacted state topic together with its
 * sync records and the offsets of the partitions it holds (kafkaState.ts), and it folds the other replicas'
 * records from the compacted sync topic as they arrive (replica.ts). A sync is each checkpoint: every K
 * messages or T ms (`checkpointEvery`), so nothing a durable checkpoint learned is unsynced.
 */
import { appendFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { OnlineModel } from '../models/types.js';
import { scaleMetrics, type ScaleMetrics } from './scaleMetrics.js';
import type { KafkaSourceEvents } from '../streams/fromKafka.js';
import {
  createConsumer,
  type Consumer,
  type GroupMembership,
  type KafkaClient,
  type StreamLogger,
} from '../streams/kafka/client.js';
import type { PrequentialResult } from '../streams/prequential.js';
import { KafkaStateStore, ensureCompactedTopic, type ScaleMeta } from './kafkaState.js';
import { Replica } from './replica.js';
import type { SyncRecord } from './syncLog.js';

export interface ScaleOutOptions {
  kafka: KafkaClient;
  groupId: string;
  /** This replica's id (default `<hostname>-<pid>`; give a stable one, e.g. the systemd instance, to resume its own state). */
  replica?: string;
  /** Default `<group>-state` (characters Kafka refuses in topic names become `_`). */
  stateTopic?: string;
  /** Default `<group>-sync`. */
  syncTopic?: string;
  logger?: StreamLogger;
  /**
   * Appends one JSON line per durable checkpoint, `{ "replica", "ids" }`: the ids of the events it made
   * durable (learned since the previous durable checkpoint, including those of a capture a newer one replaced
   * before it was written). An audit log: over a group's files every event id appears
   * exactly once (what the failover test checks).
   */
  learnedIdsFile?: string;
  /** Where the replica's metrics go (scaleMetrics.ts); none: not measured. */
  registry?: Registry;
}

/** The state and sync topics of a group, as `run --state kafka` and `status` name them by default. */
export function scaleTopics(groupId: string): { stateTopic: string; syncTopic: string } {
  const safe = groupId.replace(/[^A-Za-z0-9._-]/g, '_');
  return { stateTopic: `${safe}-state`, syncTopic: `${safe}-sync` };
}

export class ScaleOut {
  readonly replicaId: string;
  readonly store: KafkaStateStore;
  readonly stateTopic: string;
  readonly syncTopic: string;
  private replica: Replica | null = null;
  private held: number[] = [];
  /** The group membership `held` was assigned under (null before the first join). */
  private member: GroupMembership | null = null;
  private early: SyncRecord[] = [];
  private feed: Consumer | null = null;
  /** Audit log: ids learned and not yet in a committed checkpoint, after the first `idsWritten` ever learned. */
  private uncaptured: string[] = [];
  private idsWritten = 0;
  private readonly metrics: ScaleMetrics | null;

  constructor(private readonly o: ScaleOutOptions) {
    const topics = scaleTopics(o.groupId);
    this.replicaId = o.replica ?? `${hostname()}-${process.pid}`;
    this.stateTopic = o.stateTopic ?? topics.stateTopic;
    this.syncTopic = o.syncTopic ?? topics.syncTopic;
    this.metrics = o.registry ? scaleMetrics(o.registry, () => this.replica?.stalenessMs() ?? 0) : null;
    this.store = new KafkaStateStore({
      kafka: o.kafka,
      stateTopic: this.stateTopic,
      syncTopic: this.syncTopic,
      groupId: o.groupId,
      replica: this.replicaId,
      onCommitted: (m: ScaleMeta) => {
        this.replica?.published(m.capture);
        const size = m.capture.records.reduce((n, r) => n + JSON.stringify(r).length, 0);
        this.metrics?.published(m.capture.records.length, size);
        if (o.learnedIdsFile !== undefined && m.idsEnd !== undefined && m.idsEnd > this.idsWritten) {
          const ids = this.uncaptured.splice(0, m.idsEnd - this.idsWritten);
          this.idsWritten = m.idsEnd;
          appendFileSync(o.learnedIdsFile, JSON.stringify({ replica: this.replicaId, ids }) + '\n');
        }
      },
    });
  }

  /** Creates the compacted topics and starts folding the sync topic's records (from its beginning). */
  async start(): Promise<void> {
    await ensureCompactedTopic(this.o.kafka, this.stateTopic);
    await ensureCompactedTopic(this.o.kafka, this.syncTopic);
    const feed = createConsumer(this.o.kafka, {
      groupId: `streamnorm-sync-${this.replicaId}-${Date.now()}`,
      readUncommitted: false,
      maxWaitTimeInMs: 100,
    });
    this.feed = feed;
    await feed.connect();
    await feed.subscribe({ topic: this.syncTopic, fromBeginning: true });
    await feed.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (message.value === null) return;
        let rec: SyncRecord;
        try {
          rec = JSON.parse(message.value.toString()) as SyncRecord;
        } catch {
          this.o.logger?.warn(
            { topic: this.syncTopic, offset: message.offset },
            'sync record is not JSON: skipped',
          );
          return;
        }
        if (this.replica === null) this.early.push(rec);
        else this.fold(rec);
      },
    });
  }

  /**
   * Wraps the variants built from the checkpoint (or fresh) in this replica: the models the pipeline uses.
   * A replica resuming its own state continues its sync state; a new one starts from the initial models and
   * folds every replica's records, which is the group's merged model.
   */
  wrap(models: Record<string, OnlineModel>): Record<string, OnlineModel> {
    const resume = this.store.loaded?.sync;
    this.replica = new Replica({
      id: this.replicaId,
      log: { publish: async () => undefined, poll: async () => [] },
      models,
      ...(resume === undefined ? {} : { resume }),
    });
    for (const rec of this.early.splice(0)) this.fold(rec);
    return this.replica.models;
  }

  private fold(rec: SyncRecord): void {
    if (this.replica === null || rec.replica === this.replicaId) return;
    this.replica.fold([rec]);
    this.metrics?.folded();
  }

  /** The pipeline's `checkpointMeta` hook: the sync capture taken with the snapshot. */
  checkpointMeta(): Record<string, unknown> {
    const r = this.replica;
    if (r === null) return {};
    const scale: ScaleMeta = {
      capture: r.capture(),
      partitions: [...this.held],
      ...(this.member === null ? {} : { member: { ...this.member } }),
      eventsLearned: r.events,
      stalenessMs: r.stalenessMs(),
      ...(this.o.learnedIdsFile === undefined ? {} : { idsEnd: this.idsWritten + this.uncaptured.length }),
    };
    return { scale };
  }

  /** Counts learned events (call from the pipeline's onResult). */
  onResult(r: PrequentialResult): void {
    this.replica?.learned(r.envelopes.length);
    this.metrics?.learned(r.envelopes.length);
    if (this.o.learnedIdsFile !== undefined) for (const e of r.envelopes) this.uncaptured.push(e.event.id);
  }

  /**
   * Records the partitions this member holds and the membership they were assigned under, together (call from
   * the source's onGroupJoin): a checkpoint commits the offsets of exactly these partitions as exactly this
   * member, so the group refuses it once it has moved on without this member.
   */
  onGroupJoin(info: Parameters<NonNullable<KafkaSourceEvents['onGroupJoin']>>[0], topic: string): void {
    this.held = [...(info.assignment[topic] ?? [])].sort((a, b) => a - b);
    this.member = { groupId: info.groupId, memberId: info.memberId, generationId: info.generationId };
  }

  /** This replica (after {@link wrap}). */
  get current(): Replica | null {
    return this.replica;
  }

  async close(): Promise<void> {
    await this.feed?.disconnect().catch(() => undefined);
    await this.store.close();
  }
}
