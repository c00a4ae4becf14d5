/**
 * `fromKafka(options)`: a Kafka topic as an RxJS source of {@link RawMessage}, with the delivery
 * guarantees of the design (the Flink way: model state and offsets are snapshotted together).
 *
 * - kafkajs `eachBatch` with `eachBatchAutoResolve: false` and `autoCommit: false`: the existing RxJS
 *   bridges call `subscriber.next` and return, so kafkajs commits offsets before the work is done.
 *   Here a message counts as done only once the pipeline has {@link KafkaSource.ack acknowledged} it
 *   (learned, or sent to dead letters), and the group's offsets are committed only through
 *   {@link KafkaSource.commit}, which the pipeline calls after a durable checkpoint. (kafkajs's resolved
 *   offset is only its read position here: it is moved past what was handed over, so nothing is fetched
 *   twice, and never committed.)
 * - Fetching overlaps processing: kafkajs fetches a partition again only after its batch handler
 *   returns, so the handler only queues the batch's messages and returns, and a pump hands them to the
 *   pipeline meanwhile (yielding every `yieldEveryMs`). The next fetch is on the wire while the
 *   pipeline works, instead of fetch and processing taking turns.
 * - Bounded in flight: at most `maxInFlight` messages per partition are queued or handed over and not
 *   yet acknowledged. At the bound the handler waits for acknowledgements (heartbeating); when the
 *   pipeline is slow (no room within `ackWaitMs`) the partition is paused (kafkajs stops fetching it)
 *   instead of buffering, and acknowledgements resume it. Other partitions keep flowing.
 * - Recovery: `startOffsets` (the checkpoint's next offset per partition) decide where each partition
 *   is read from on start and after every assignment: a batch that does not start there is answered
 *   with a seek, and messages below it are never emitted again. So each message changes the model
 *   exactly once, even after `kill -9`, whatever the group had committed.
 * - Failures: kafkajs `CRASH` (non-retriable errors, retries exhausted) errors the stream with a
 *   {@link KafkaError} whose cause is the kafkajs error. Nothing is swallowed.
 *
 * Offsets are tracked as JavaScript numbers: exact up to 2^53, far beyond any real partition.
 */
import { Observable, type Subscriber } from 'rxjs';
import { ConfigError, KafkaError } from '../errors.js';
import { parsePartitionKey, partitionKey, type EventOrigin, type RawMessage } from './event.js';
import {
  beforeRejoin,
  createConsumer,
  createKafka,
  installGroupHooks,
  joinedGeneration,
  streamLogger,
  type Consumer,
  type EachBatchPayload,
  type GroupMembership,
  type KafkaClient,
  type StreamLogger,
} from './kafka/client.js';
import { PartitionTracker } from './partitionTracker.js';

/** Next offset to read per partition, keyed `topic:partition` (what a checkpoint stores). */
export type PartitionOffsets = Record<string, string>;

/** Kafka consumer happenings, for the metrics (rebalances, lag per partition, crashes, pauses). */
export interface KafkaSourceEvents {
  onGroupJoin?(info: {
    groupId: string;
    memberId: string;
    /** The group generation this member joined with: what its fenced offset commits carry (client.ts `sendOffsetsAs`). */
    generationId: number;
    assignment: Record<string, number[]>;
    durationMs: number;
  }): void;
  onRebalancing?(info: { groupId: string; memberId: string }): void;
  /** After each batch handed to the pipeline: `offsetLag` is the high watermark minus the batch's last offset + 1. */
  onBatch?(info: {
    topic: string;
    partition: number;
    offsetLag: number;
    highWatermark: string;
    batchSize: number;
  }): void;
  onCrash?(error: KafkaError, info: { restart: boolean }): void;
  onPause?(topic: string, partition: number): void;
  onResume?(topic: string, partition: number): void;
  onCommit?(offsets: PartitionOffsets): void;
}

export interface FromKafkaOptions extends KafkaSourceEvents {
  /** An existing client, or `brokers` to create one. */
  kafka?: KafkaClient;
  brokers?: string[] | string;
  clientId?: string;
  topic: string | string[];
  groupId: string;
  /** Unacknowledged messages per partition before the partition is paused. Default 2000. */
  maxInFlight?: number;
  /** Read from the beginning when neither a checkpoint nor the group has an offset. Default true. */
  fromBeginning?: boolean;
  /**
   * Where to resume: the last durable checkpoint's next offset per partition. Called once when the
   * source starts; later positions come from the acknowledgements themselves.
   */
  startOffsets?: () => PartitionOffsets | Promise<PartitionOffsets>;
  /**
   * Scale-out with state in Kafka (src/scale/kafkaState.ts): on every assignment, forget the position of each
   * partition this member no longer holds, so a partition that comes back starts from the group's committed
   * offset (which the checkpoint transaction of whoever owned it last wrote), not from this member's older one;
   * checkpoints and commits then cover only the partitions held. Default false.
   *
   * With it, a member that comes back under a new member id (the group dropped it: its session expired while it
   * did not heartbeat, e.g. the process was paused, or its consumer restarted after a crash) ends the stream with
   * a {@link KafkaError}: another member may have learned its partitions meanwhile, so its positions and what it
   * learned since its last checkpoint are stale, and only a restart from the durable state is exact.
   */
  positionsFromGroup?: boolean;
  /**
   * Called once when the group starts rebalancing (partitions may be revoked), after the source stopped
   * handing over messages: the pipeline learns what it holds, checkpoints and commits here, so the next
   * owner of a partition starts from what this one learned. When a batch handler notices the rebalance
   * (its heartbeat fails), kafkajs rejoins the group only after this settles; when kafkajs notices it
   * between batches it rejoins at once, and this runs concurrently (best effort).
   */
  onRevoke?: () => void | Promise<void>;
  /**
   * How long a batch handler waits for the pipeline to make room under `maxInFlight` before it pauses the
   * partition and returns (a slow pipeline). Default 50 ms.
   */
  ackWaitMs?: number;
  /** Longest synchronous stretch of handing over messages before yielding to the event loop. Default 10 ms. */
  yieldEveryMs?: number;
  /**
   * Hand over each fetched run of messages as one array (an arrival batch: what one Kafka fetch brought, up to
   * the room under `maxInFlight`) instead of one message per emission. `rebatch('arrival')` then learns fetch
   * batches as they are, and every operator downstream pays its per-emission cost once per run, not per
   * message. Default false (one message per emission). {@link fromKafka} types the source accordingly.
   */
  arrivalBatches?: boolean;
  /**
   * With `arrivalBatches`, the most messages in one handed-over array (default: no limit, a whole fetched run).
   * A pipeline that rebatches anyway (a count policy) takes runs of one batch's worth: each operator's cost is
   * paid per run instead of per message, and the pump still yields to the event loop between runs.
   */
  maxRun?: number;
  /**
   * Called when the pump has handed over everything fetched and every partition's read position has reached
   * the high watermark of its last fetch: nothing more is there to read right now, so a partial batch waiting
   * for more events may as well go (a quiet topic's tail, a steady trickle).
   */
  onCaughtUp?: () => void;
  /**
   * Messages held downstream after they were acknowledged (e.g. predictions not yet published), counted
   * against `maxInFlight` of every partition, so what waits to be written stays bounded too. Call
   * {@link KafkaSource.released} when it drops.
   */
  heldDownstream?: () => number;
  /** Batches of different partitions handled concurrently. Default 4. */
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  maxWaitTimeMs?: number;
  maxBytesPerPartition?: number;
  logger?: StreamLogger;
}

export interface KafkaSourceStats {
  /** Messages queued or handed over and not yet acknowledged, all partitions. */
  inFlight: number;
  /** Highest in-flight count of any single partition so far (never above `maxInFlight`). */
  maxInFlightSeen: number;
  emitted: number;
  acknowledged: number;
  pauses: number;
  resumes: number;
  seeks: number;
  rebalances: number;
  commits: number;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Fetched, handed-over and acknowledged offsets, and the frontier a checkpoint stores. */
  tracker: PartitionTracker;
  resolved: number | null;
  paused: boolean;
  /** Whether this assignment's position was checked (reset on every group join). */
  positioned: boolean;
  /** High watermark of the last fetched batch (null before the first). */
  highWatermark: number | null;
  waiters: Array<() => void>;
}

/**
 * A Kafka topic as an Observable of raw messages, plus the acknowledgement and commit handles that
 * give the pipeline control over offsets. Subscribing connects and starts consuming.
 */
export class KafkaSource<T extends RawMessage | RawMessage[] = RawMessage> extends Observable<T> {
  private readonly opts: Required<
    Pick<FromKafkaOptions, 'maxInFlight' | 'ackWaitMs' | 'yieldEveryMs' | 'maxRun'>
  > &
    FromKafkaOptions;
  private readonly parts = new Map<string, PartitionState>();
  private consumer: Consumer | null = null;
  private subscriber: Subscriber<T> | null = null;
  private draining = false;
  private closed = false;
  /** Unregisters this member's gate before kafkajs rejoins (client.ts `beforeRejoin`). */
  private ungate: (() => void) | null = null;
  /** The membership this source's consumer last joined its group with (null before the first join). */
  private member: GroupMembership | null = null;
  /** Fetched messages waiting to be handed over, in fetch order (per partition in offset order). */
  private chunks: QueuedChunk[] = [];
  private pumping = false;
  private lastAcked: PartitionState | null = null;
  /** Set from the first sign of a rebalance until the next group join: nothing is handed over meanwhile. */
  private revoking: Promise<void> | null = null;
  private readonly counters: Omit<KafkaSourceStats, 'inFlight'> = {
    maxInFlightSeen: 0,
    emitted: 0,
    acknowledged: 0,
    pauses: 0,
    resumes: 0,
    seeks: 0,
    rebalances: 0,
    commits: 0,
  };
  private readonly logger: StreamLogger;

  constructor(options: FromKafkaOptions) {
    super((subscriber) => {
      if (this.subscriber) {
        subscriber.error(new ConfigError('a KafkaSource can be subscribed once (share() it to fan out)'));
        return;
      }
      this.subscriber = subscriber;
      this.start().catch((error: unknown) => this.fail(error));
      return () => {
        this.subscriber = null;
        // After drain() the owner still commits the final checkpoint, then calls close() itself.
        if (!this.draining) void this.close();
      };
    });
    const maxInFlight = options.maxInFlight ?? 2000;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
      throw new ConfigError(`maxInFlight must be an integer >= 1, got ${maxInFlight}`);
    const ackWaitMs = options.ackWaitMs ?? 50;
    if (!Number.isFinite(ackWaitMs) || ackWaitMs < 0)
      throw new ConfigError(`ackWaitMs must be a finite number >= 0, got ${ackWaitMs}`);
    if (!options.kafka && options.brokers === undefined)
      throw new ConfigError('fromKafka needs `kafka` or `brokers`');
    if (typeof options.groupId !== 'string' || options.groupId.length === 0)
      throw new ConfigError(`groupId must be a non-empty string, got ${JSON.stringify(options.groupId)}`);
    const maxRun = options.maxRun ?? Infinity;
    if (!(maxRun === Infinity || (Number.isInteger(maxRun) && maxRun >= 1)))
      throw new ConfigError(`maxRun must be an integer >= 1, got ${maxRun}`);
    const yieldEveryMs = options.yieldEveryMs ?? 10;
    if (!Number.isFinite(yieldEveryMs) || yieldEveryMs < 0)
      throw new ConfigError(`yieldEveryMs must be a finite number >= 0, got ${yieldEveryMs}`);
    this.opts = { ...options, maxInFlight, ackWaitMs, yieldEveryMs, maxRun };
    this.logger = options.logger ?? streamLogger();
  }

  /**
   * Marks a message as done (learned by every model, or dead-lettered). Acks may come in any order;
   * the partition's position advances over the contiguous acknowledged prefix.
   */
  ack(origin: EventOrigin): void {
    // Acks come in runs of one partition: skip building the map key for each.
    let st = this.lastAcked;
    if (st === null || st.partition !== origin.partition || st.topic !== origin.topic) {
      st = this.parts.get(partitionKey(origin.topic, origin.partition)) ?? null;
      if (st === null) return;
      this.lastAcked = st;
    }
    const passed = st.tracker.ack(Number(origin.offset));
    this.counters.acknowledged += passed;
    if (passed > 0) this.wake(st);
  }

  /**
   * What `heldDownstream` counts has dropped (e.g. predictions were published): partitions waiting for room
   * may go on.
   */
  released(): void {
    for (const st of this.parts.values()) this.wake(st);
  }

  /**
   * Hysteresis: a paused partition resumes, and a handler waiting for room wakes, once half the bound is free,
   * so room comes in large runs instead of one learned batch at a time.
   */
  private wake(st: PartitionState): void {
    if (this.inFlightOf(st) > this.opts.maxInFlight / 2) return;
    if (st.paused) this.resume(st);
    if (st.waiters.length === 0) return;
    const waiters = st.waiters.splice(0);
    for (const w of waiters) w();
  }

  /** Acknowledges many messages (a learned batch). */
  ackAll(origins: Iterable<EventOrigin>): void {
    for (const o of origins) this.ack(o);
  }

  /**
   * The next offset per partition over which everything is acknowledged: store these with the model
   * state in a checkpoint, take both in the same synchronous step.
   */
  positions(): PartitionOffsets {
    const out: PartitionOffsets = {};
    for (const [key, st] of this.parts) {
      const frontier = st.tracker.frontier;
      if (frontier !== null) out[key] = String(frontier);
    }
    return out;
  }

  /**
   * Commits offsets to the consumer group, after the checkpoint holding them is durable. These are for
   * monitoring (lag) and for consumers without a checkpoint; recovery seeks to the checkpoint.
   */
  async commit(offsets: PartitionOffsets): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || this.closed) return;
    const list = Object.entries(offsets).map(([key, offset]) => ({ ...parsePartitionKey(key), offset }));
    if (list.length === 0) return;
    await consumer.commitOffsets(list);
    this.counters.commits++;
    this.opts.onCommit?.(offsets);
  }

  /** The group membership (member id, generation) the consumer last joined with; null before its first join. */
  membership(): GroupMembership | null {
    return this.member === null ? null : { ...this.member };
  }

  stats(): KafkaSourceStats {
    let inFlight = this.opts.heldDownstream?.() ?? 0;
    for (const st of this.parts.values()) inFlight += st.tracker.inFlight;
    return { inFlight, ...this.counters };
  }

  /**
   * Stops handing over messages and completes the stream (so downstream flushes its last batch);
   * the consumer stays in the group so the final checkpoint's offsets can still be committed.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    this.dropQueued(); // never handed over, so neither learned nor checkpointed: the next run reads them
    for (const st of this.parts.values()) st.waiters.splice(0).forEach((w) => w());
    this.subscriber?.complete();
  }

  /** Leaves the group and disconnects. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.draining = true;
    this.dropQueued();
    for (const st of this.parts.values()) st.waiters.splice(0).forEach((w) => w());
    this.ungate?.();
    this.ungate = null;
    const consumer = this.consumer;
    this.consumer = null;
    if (consumer) await consumer.disconnect();
  }

  private inFlightOf(st: PartitionState): number {
    const held = this.opts.heldDownstream;
    return held === undefined ? st.tracker.inFlight : st.tracker.inFlight + held();
  }

  private open(): boolean {
    return !this.draining && this.revoking === null && this.subscriber !== null && !this.subscriber.closed;
  }

  private fail(error: unknown): void {
    const err =
      error instanceof KafkaError
        ? error
        : new KafkaError(`Kafka consumer failed: ${messageOf(error)}`, { cause: error });
    this.subscriber?.error(err);
  }

  private state(topic: string, partition: number): PartitionState {
    const key = partitionKey(topic, partition);
    let st = this.parts.get(key);
    if (!st) {
      st = {
        topic,
        partition,
        tracker: new PartitionTracker(),
        resolved: null,
        paused: false,
        positioned: false,
        highWatermark: null,
        waiters: [],
      };
      this.parts.set(key, st);
    }
    return st;
  }

  private async start(): Promise<void> {
    const o = this.opts;
    const start = (await o.startOffsets?.()) ?? {};
    for (const [key, offset] of Object.entries(start)) {
      const { topic, partition } = parsePartitionKey(key);
      const st = this.state(topic, partition);
      st.tracker.start(Number(offset));
    }
    const kafka = o.kafka ?? createKafka({ brokers: o.brokers!, clientId: o.clientId, logger: this.logger });
    const consumer = createConsumer(kafka, {
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: o.heartbeatIntervalMs ?? 3000,
      maxWaitTimeInMs: o.maxWaitTimeMs ?? 100,
      maxBytesPerPartition: o.maxBytesPerPartition ?? 1 << 20,
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    this.consumer = consumer;
    // Before the first join: its GROUP_JOIN reads the generation through the hooks, and the rejoin gate needs them.
    installGroupHooks();
    this.wireEvents(consumer);
    if (this.closed) return;
    await consumer.connect();
    const topics = Array.isArray(o.topic) ? o.topic : [o.topic];
    await consumer.subscribe({ topics, fromBeginning: o.fromBeginning ?? true });
    if (this.closed) return;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 4,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  private wireEvents(consumer: Consumer): void {
    const o = this.opts;
    const ev = consumer.events;
    consumer.on(ev.GROUP_JOIN, ({ payload }) => {
      const generationId = joinedGeneration(payload.groupId, payload.memberId);
      if (generationId === null) {
        this.fail(
          new KafkaError(
            `kafkajs internals changed: the generation member ${payload.memberId} of group ${payload.groupId} joined with is unknown`,
          ),
        );
        return;
      }
      const previous = this.member;
      this.member = { groupId: payload.groupId, memberId: payload.memberId, generationId };
      if (o.positionsFromGroup && previous !== null && previous.memberId !== payload.memberId) {
        this.fail(
          new KafkaError(
            `member ${previous.memberId} of group ${payload.groupId} was dropped by the group (its session expired while it did not heartbeat, e.g. a paused process, or its consumer restarted) and rejoined as ${payload.memberId}: another member may have learned its partitions meanwhile, so its positions and unsaved learning are stale; stopping so that a restart resumes from the durable state`,
          ),
        );
        return;
      }
      // A new assignment: what was queued may belong to another member now; it is fetched again if not.
      this.dropQueued();
      this.revoking = null;
      // Whichever path kafkajs rejoins by next, it waits for the checkpoint and commit of what this member holds.
      this.ungate?.();
      this.ungate = beforeRejoin(payload.groupId, payload.memberId, () => this.revoke());
      for (const st of this.parts.values()) st.positioned = false;
      if (o.positionsFromGroup) {
        const held = new Set(
          Object.entries(payload.memberAssignment).flatMap(([t, ps]) => ps.map((p) => partitionKey(t, p))),
        );
        for (const key of [...this.parts.keys()]) if (!held.has(key)) this.parts.delete(key);
        this.lastAcked = null;
      }
      o.onGroupJoin?.({
        groupId: payload.groupId,
        memberId: payload.memberId,
        generationId,
        assignment: payload.memberAssignment,
        durationMs: payload.duration,
      });
    });
    consumer.on(ev.REBALANCING, ({ payload }) => {
      this.counters.rebalances++;
      o.onRebalancing?.({ groupId: payload.groupId, memberId: payload.memberId });
      void this.revoke();
    });
    consumer.on(ev.END_BATCH_PROCESS, ({ payload }) => {
      o.onBatch?.({
        topic: payload.topic,
        partition: payload.partition,
        offsetLag: Number(payload.offsetLag),
        highWatermark: payload.highWatermark,
        batchSize: payload.batchSize,
      });
    });
    consumer.on(ev.CRASH, ({ payload }) => {
      const err = new KafkaError(
        `Kafka consumer crashed (group ${payload.groupId}): ${messageOf(payload.error)}`,
        {
          cause: payload.error,
          retriable: payload.restart,
        },
      );
      o.onCrash?.(err, { restart: payload.restart });
      // kafkajs restarts the consumer itself after a retriable crash; anything else ends the stream.
      if (!payload.restart) this.fail(err);
      else this.logger.warn({ err: messageOf(payload.error) }, 'kafka consumer crashed; kafkajs restarts it');
    });
  }

  /**
   * Stop handing over messages and let the pipeline checkpoint and commit (once per rebalance). A failure
   * ends the stream: a partition handed on without its state would be learned twice.
   */
  private revoke(): Promise<void> {
    if (this.revoking) return this.revoking;
    const onRevoke = this.opts.onRevoke;
    this.dropQueued();
    this.revoking = (async () => {
      for (const st of this.parts.values()) st.waiters.splice(0).forEach((w) => w());
      if (onRevoke && !this.draining) await onRevoke();
    })().catch((error: unknown) => this.fail(error));
    return this.revoking;
  }

  /** A heartbeat that, when it reveals a rebalance, checkpoints and commits before kafkajs rejoins. */
  private async beat(heartbeat: () => Promise<void>): Promise<void> {
    try {
      await heartbeat();
    } catch (error) {
      if (isRebalancing(error)) await this.revoke();
      throw error;
    }
  }

  private pause(st: PartitionState): void {
    if (st.paused || !this.consumer) return;
    st.paused = true;
    this.counters.pauses++;
    this.consumer.pause([{ topic: st.topic, partitions: [st.partition] }]);
    this.opts.onPause?.(st.topic, st.partition);
  }

  private resume(st: PartitionState): void {
    if (!st.paused) return;
    st.paused = false;
    this.counters.resumes++;
    this.consumer?.resume([{ topic: st.topic, partitions: [st.partition] }]);
    this.opts.onResume?.(st.topic, st.partition);
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const st = this.state(batch.topic, batch.partition);
    const sub = this.subscriber;
    // kafkajs's own state can only change while this handler awaits, so isRunning()/isStale() (which builds
    // a string key per call) are checked again after every await, not per message.
    const live = (): boolean => this.open() && this.subscriber === sub && isRunning() && !isStale();
    const messages = batch.messages;
    if (!live() || messages.length === 0) return;
    st.highWatermark = Number(batch.highWatermark);

    // On each assignment, read from where the model is (the checkpoint, or what was handed over since).
    const tracker = st.tracker;
    if (!st.positioned && tracker.fetchedNext !== null) {
      st.positioned = true;
      const first = Number(messages[0].offset);
      if (first !== tracker.fetchedNext) {
        this.counters.seeks++;
        this.consumer!.seek({
          topic: st.topic,
          partition: st.partition,
          offset: String(tracker.fetchedNext),
        });
        return;
      }
    }
    st.positioned = true;

    let i = 0;
    // Offsets ascend within a batch: skip what is already queued, in flight or learned.
    const from = tracker.fetchedNext;
    if (from !== null) while (i < messages.length && Number(messages[i].offset) < from) i++;
    const queuedAny = i < messages.length;
    while (i < messages.length) {
      let room = this.opts.maxInFlight - this.inFlightOf(st);
      if (room <= 0) {
        // Full: wait for the pipeline. A fast one makes room within a moment (the pump runs meanwhile); a slow
        // one does not within ackWaitMs, so the partition is paused and kafkajs stops fetching it.
        const t0 = performance.now();
        await this.waitForAck(st, this.opts.ackWaitMs);
        await this.beat(heartbeat);
        if (!live()) break;
        room = this.opts.maxInFlight - this.inFlightOf(st);
        if (room <= 0 || performance.now() - t0 >= this.opts.ackWaitMs) {
          this.pause(st);
          if (room <= 0) break;
        }
      }
      const end = Math.min(messages.length, i + room);
      this.chunks.push({ st, messages, next: i, end, receivedAt: Date.now() });
      tracker.queue(end - i, Number(messages[end - 1].offset));
      const inFlight = this.inFlightOf(st);
      if (inFlight > this.counters.maxInFlightSeen) this.counters.maxInFlightSeen = inFlight;
      this.schedulePump();
      i = end;
      if (st.paused) break;
    }

    // Nothing new to queue: wait (bounded) for the pipeline instead of refetching in a spin.
    if (!queuedAny && this.inFlightOf(st) > 0 && live()) {
      await this.waitForAck(st, this.opts.ackWaitMs);
    }
    const fetchedNext = tracker.fetchedNext;
    if (fetchedNext !== null && fetchedNext > 0 && fetchedNext - 1 !== st.resolved) {
      // kafkajs fetches on from the resolved offset, so resolve what was queued: resolving only the
      // acknowledged prefix made every fetch return the messages still in a batch again. Nothing commits
      // resolved offsets (autoCommit is off; commit() sends the checkpoint's offsets), and recovery seeks to
      // the checkpoint, so this moves the read position only.
      resolveOffset(String(fetchedNext - 1));
      st.resolved = fetchedNext - 1;
    }
    await this.beat(heartbeat);
  }

  private schedulePump(): void {
    if (this.pumping) return;
    this.pumping = true;
    setImmediate(() => {
      this.pump().catch((error: unknown) => this.fail(error));
    });
  }

  /**
   * Hands queued messages to the pipeline in fetch order. Downstream runs synchronously inside next(), so
   * the event loop (fetches, checkpoint writes, timers, heartbeats) gets a turn every `yieldEveryMs`.
   */
  private async pump(): Promise<void> {
    try {
      let sliceStart = performance.now();
      let sinceCheck = 0;
      while (this.chunks.length > 0 && this.open()) {
        if (this.opts.arrivalBatches === true) {
          const c = this.chunks[0];
          this.nextRun(c, Math.min(c.end, c.next + this.opts.maxRun));
          if (c.next === c.end) this.chunks.shift();
          if (performance.now() - sliceStart >= this.opts.yieldEveryMs) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            sliceStart = performance.now();
          }
          continue;
        }
        const c = this.chunks[0];
        const m = c.messages[c.next++];
        if (c.next === c.end) this.chunks.shift();
        const st = c.st;
        st.tracker.emit(Number(m.offset));
        this.counters.emitted++;
        (this.subscriber as Subscriber<RawMessage>).next(rawMessage(st, m, c.receivedAt));
        if (++sinceCheck >= 16 || this.opts.yieldEveryMs === 0) {
          sinceCheck = 0;
          if (performance.now() - sliceStart >= this.opts.yieldEveryMs) {
            // The queue may be dropped meanwhile (a rebalance): the loop reads it afresh.
            await new Promise<void>((resolve) => setImmediate(resolve));
            sliceStart = performance.now();
          }
        }
      }
    } finally {
      this.pumping = false;
    }
    if (this.chunks.length > 0 && this.open()) this.schedulePump();
    else if (this.opts.onCaughtUp !== undefined && this.open() && this.caughtUp()) this.opts.onCaughtUp();
  }

  /** Every partition read up to the high watermark of its last fetch, and nothing queued. */
  private caughtUp(): boolean {
    if (this.chunks.length > 0) return false;
    for (const st of this.parts.values()) {
      const next = st.tracker.fetchedNext;
      if (st.highWatermark !== null && next !== null && next < st.highWatermark) return false;
    }
    return true;
  }

  /** Hands over a queued run `[c.next, end)` as one array (`arrivalBatches`). */
  private nextRun(c: QueuedChunk, end: number): void {
    const st = c.st;
    const run: RawMessage[] = new Array(end - c.next);
    for (let j = c.next; j < end; j++) {
      const m = c.messages[j];
      st.tracker.emit(Number(m.offset));
      run[j - c.next] = rawMessage(st, m, c.receivedAt);
    }
    this.counters.emitted += run.length;
    c.next = end;
    (this.subscriber as Subscriber<RawMessage[]>).next(run);
  }

  /**
   * Forgets what was queued and not handed over (a rebalance, or stopping): each partition's read position
   * goes back to what was handed over, so it is fetched again if this member keeps the partition.
   */
  private dropQueued(): void {
    this.chunks = [];
    for (const st of this.parts.values()) {
      st.tracker.dropQueued();
      if (st.paused && this.inFlightOf(st) <= this.opts.maxInFlight / 2) this.resume(st);
    }
  }

  private waitForAck(st: PartitionState, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      st.waiters.push(done);
    });
  }
}

/** A run of one fetched batch's messages, `[next, end)`, waiting to be handed over. */
interface QueuedChunk {
  st: PartitionState;
  messages: EachBatchPayload['batch']['messages'];
  next: number;
  end: number;
  /** When the batch was queued: where event-to-prediction latency starts inside this process. */
  receivedAt: number;
}

function rawMessage(
  st: PartitionState,
  m: EachBatchPayload['batch']['messages'][number],
  receivedAt: number,
): RawMessage {
  return new KafkaMessage(
    { topic: st.topic, partition: st.partition, offset: m.offset, timestamp: Number(m.timestamp) },
    m.key,
    m.value ?? Buffer.alloc(0),
    receivedAt,
  );
}

/**
 * A fetched message as a {@link RawMessage}. The key is decoded only when read (a dead letter reads it): a valid
 * event's key is never used, and decoding every one cost a string per message.
 */
class KafkaMessage implements RawMessage {
  constructor(
    readonly origin: RawMessage['origin'],
    private readonly keyBytes: Buffer | null,
    readonly value: Buffer,
    readonly receivedAt: number,
  ) {}

  get key(): string | null {
    return this.keyBytes === null ? null : this.keyBytes.toString('utf8');
  }
}

/**
 * A Kafka topic as a source of raw messages (or, with `arrivalBatches`, of arrays of them: one per fetched
 * run) with ack/commit handles; see {@link KafkaSource}.
 */
export function fromKafka(options: FromKafkaOptions & { arrivalBatches: true }): KafkaSource<RawMessage[]>;
export function fromKafka(options: FromKafkaOptions & { arrivalBatches?: false }): KafkaSource<RawMessage>;
export function fromKafka(options: FromKafkaOptions): KafkaSource<RawMessage> | KafkaSource<RawMessage[]>;
export function fromKafka(options: FromKafkaOptions): KafkaSource<RawMessage> | KafkaSource<RawMessage[]> {
  return options.arrivalBatches === true
    ? new KafkaSource<RawMessage[]>(options)
    : new KafkaSource<RawMessage>(options);
}

/** kafkajs's own test (errors.isRebalancing): the group moved on and this member must rejoin. */
function isRebalancing(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return (
    type === 'REBALANCE_IN_PROGRESS' || type === 'NOT_COORDINATOR_FOR_GROUP' || type === 'ILLEGAL_GENERATION'
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
