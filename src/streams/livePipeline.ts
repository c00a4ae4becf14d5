/**
 * `runLivePipeline(options)`: the long-running consumer. fromKafka → decodeEvents → rebatch →
 * prequential (every variant on identical batches) → publish predictions → checkpoint → commit.
 *
 * Guarantees (README "Delivery guarantees"):
 * - every message changes the models exactly once: the checkpoint holds the model states and the next
 *   offset per partition together, and the source seeks to those offsets on start and on assignment;
 * - predictions are published at least once, keyed by event id: a checkpoint waits for the writes of
 *   every batch it covers;
 * - bounded memory: the source hands over at most `maxInFlight` unacknowledged messages per partition
 *   and pauses the partition beyond that; messages are acknowledged as soon as they are learned, so
 *   waiting for a checkpoint never stalls fetching;
 * - SIGTERM / SIGINT (or `stop()`): stop taking messages, learn the batch in hand, checkpoint, commit,
 *   disconnect, within `stopTimeoutMs` (default 10 s; past it the process exits with 128 + the signal's
 *   number, losing nothing durable). A second signal exits at once the same way: the last durable checkpoint
 *   holds state and offsets together, so the restart learns every event after it exactly once.
 * - no single message stops it: the stream's schema is fixed before the first event is learned (options,
 *   the checkpoint's, or the first valid event's shape; label classes from the models), decodeEvents and
 *   fitSchema turn what does not fit into dead letters with a reason, and prequential isolates an event a
 *   model still throws on. Only infrastructure faults (broker, disk, a refused checkpoint) end it.
 */
import { Subject, tap, type Subscription } from 'rxjs';
import { CheckpointRefusedError, ConfigError } from '../errors.js';
import type { ModelState, OnlineModel } from '../models/types.js';
import { checkpoint, type CheckpointAck } from './checkpoint.js';
import {
  FileCheckpointStore,
  checkCheckpointFits,
  type Checkpoint,
  type CheckpointExpectation,
  type CheckpointFallback,
  type CheckpointStore,
} from './checkpointStore.js';
import { deadLetterTopic, type KafkaDeadLetterSink } from './deadLetterTopic.js';
import { TeeDeadLetterSink, type DeadLetterSink } from './deadLetters.js';
import { decodeEvents, type EventSchema, type XShape } from './decodeEvents.js';
import { fitSchema } from './fitSchema.js';
import type { RawMessage } from './event.js';
import { fromKafka, type KafkaSource, type KafkaSourceEvents, type KafkaSourceStats } from './fromKafka.js';
import {
  createKafka,
  endOffsets,
  streamLogger,
  type KafkaClient,
  type StreamLogger,
} from './kafka/client.js';
import { prequential, type PrequentialResult, type RunningScore } from './prequential.js';
import { rebatch, type RebatchPolicy } from './rebatch.js';
import { predictionRecords } from './predictionRecords.js';
import { KafkaPublisher, PREDICTION_PRODUCER, producerSettings, type ProducerSettings } from './toKafka.js';

export interface LivePipelineOptions extends KafkaSourceEvents {
  kafka?: KafkaClient;
  brokers?: string[] | string;
  topic: string;
  groupId: string;
  /** Where predictions go (one record per event, key = event id). None: predictions are not published. */
  outputTopic?: string;
  /**
   * How predictions are written (acks, compression, linger, requests in flight, records per request).
   * Default {@link PREDICTION_PRODUCER}. Records waiting to be acknowledged count toward `maxInFlight`.
   */
  producer?: ProducerSettings;
  /** A dead-letter topic, and/or any other sink (file, counter). */
  deadLetterTopic?: string;
  deadLetters?: DeadLetterSink;
  /**
   * Builds the model variants: from the checkpoint's saved states when there is one (`null` on a first
   * start). The same names must come back, since the states are keyed by variant.
   */
  createModels: (states: Readonly<Record<string, ModelState>> | null) => Record<string, OnlineModel>;
  /** Checkpoint directory (FileCheckpointStore) or a store. */
  checkpoint: string | CheckpointStore;
  /**
   * Start from this checkpoint (a savepoint) instead of the store's latest; later checkpoints still go to the
   * store. `path` names it in a refusal, `advice` says what to do then.
   */
  resumeFrom?: { checkpoint: Checkpoint; path: string; advice?: string };
  /** Checkpoint every this many messages and at most this long after un-saved progress. Defaults 5000 / 1000 ms. */
  checkpointEvery?: { messages?: number; ms?: number };
  /**
   * What a valid event looks like. Without `x` (or with `'infer'`) the checkpoint's shape is used, else the
   * first valid event fixes it; without `label.classes` the classifiers' common class count is used.
   */
  schema?: EventSchema;
  /** Largest accepted |x| and |y| (fitSchema); beyond it an event is an `out_of_range` dead letter. Default 1e9. */
  maxAbs?: number;
  /** The specs the variants were built from (JSON, by name), stored in every checkpoint. */
  variantSpecs?: Record<string, unknown>;
  /** What this run was given explicitly (variant specs, schema fields): a checkpoint that differs is refused. */
  expectCheckpoint?: Pick<CheckpointExpectation, 'variants' | 'schema'>;
  /** The newest checkpoint was damaged or missing and the previous one was loaded (logged too). */
  onCheckpointFallback?: (f: CheckpointFallback) => void;
  /** A graceful stop (signal) that takes longer than this exits the process (128 + signal). Default 10 000 ms. */
  stopTimeoutMs?: number;
  /** Default `{ count: 32 }`. Count-based batching makes the models reproducible bit for bit. */
  rebatch?: RebatchPolicy;
  learn?: 'many' | 'one';
  /**
   * Unacknowledged messages per partition before it is paused, predictions not yet published included.
   * Default 2000 (plus `producer.maxInFlight × producer.batchRecords` with an output topic); must exceed a
   * count batch.
   */
  maxInFlight?: number;
  /**
   * How long a full partition's batch handler waits for room before pausing it (fromKafka `ackWaitMs`).
   * Default 500 ms: publishing makes room in steps of a produce round trip, and a pause throws away the rest
   * of the fetched batch, to be fetched and decoded again.
   */
  ackWaitMs?: number;
  /**
   * Consumer group session timeout: how long a dead consumer (kill -9) holds its partitions before the
   * group moves them. Default 30 000 ms; the broker's group.min.session.timeout.ms (6 s) is the floor.
   */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Stop gracefully on SIGTERM and SIGINT. Default true. */
  handleSignals?: boolean;
  fromBeginning?: boolean;
  /** Every learned batch, for metrics (called synchronously, before the checkpoint). */
  onResult?: (result: PrequentialResult) => void;
  /**
   * Whether `onResult` reads each event's prediction (`variants[i].predictions`). Default true. Without an
   * output topic and with false here, no per-event prediction object is built: a run that only learns and
   * reports batch figures allocates less per event.
   */
  resultPredictions?: boolean;
  /** Every durable checkpoint. */
  onCheckpointSaved?: (ack: CheckpointAck) => void;
  /**
   * Taken with every checkpoint snapshot, synchronously with the model states, and stored in its `meta`
   * (scale-out: the replica's sync capture and owned partitions, see src/scale/scaleOut.ts).
   */
  checkpointMeta?: () => Record<string, unknown>;
  /** See KafkaSourceOptions.positionsFromGroup (scale-out with state in Kafka). Default false. */
  positionsFromGroup?: boolean;
  clientId?: string;
  logger?: StreamLogger;
}

export interface LiveSummary {
  /** Messages (events and dead letters) covered by the final checkpoint, since the very first start. */
  messages: number;
  batches: number;
  offsets: Record<string, string>;
  scores: Record<string, RunningScore>;
  checkpoints: number;
  source: KafkaSourceStats;
}

export interface LivePipelineHandle {
  /** Stop gracefully: finish the batch in hand, checkpoint, commit, disconnect. Resolves with the summary. */
  stop(): Promise<LiveSummary>;
  /** Settles when the pipeline ends: stopped (resolves), or failed (rejects with the cause). */
  readonly done: Promise<LiveSummary>;
  /** Hands over single messages, or fetched runs of them with the arrival policy. */
  readonly source: KafkaSource<RawMessage[]>;
  readonly models: Readonly<Record<string, OnlineModel>>;
  /** The checkpoint this run started from (null on a first start). */
  readonly resumedFrom: Checkpoint | null;
  lastCheckpoint(): CheckpointAck | null;
}

// The published record and its writer live in predictionRecords.ts; these names stay importable from here.
export { predictionRecords, type PredictionRecord } from './predictionRecords.js';

export async function runLivePipeline(options: LivePipelineOptions): Promise<LivePipelineHandle> {
  const logger = options.logger ?? streamLogger();
  const store =
    typeof options.checkpoint === 'string'
      ? new FileCheckpointStore(options.checkpoint, {
          onFallback: (f) => {
            logger.warn(
              { path: f.path, movedTo: f.movedTo, reason: f.reason, sequence: f.sequence },
              'newest checkpoint unusable: resuming from the previous one',
            );
            options.onCheckpointFallback?.(f);
          },
        })
      : options.checkpoint;
  const kafka =
    options.kafka ?? createKafka({ brokers: options.brokers!, clientId: options.clientId, logger });
  // Loading removes stale temporaries, verifies the file and its parameters, and falls back if it must.
  const resumedFrom = options.resumeFrom?.checkpoint ?? (await store.load());
  const where =
    options.resumeFrom?.path ?? (store instanceof FileCheckpointStore ? store.path : 'checkpoint');
  const advice = options.resumeFrom?.advice;
  if (resumedFrom) {
    checkCheckpointFits(
      resumedFrom,
      {
        topic: options.topic,
        endOffsets: await endOffsets(kafka, options.topic),
        ...(options.expectCheckpoint ?? {}),
      },
      where,
      advice,
    );
  }
  let models: Record<string, OnlineModel>;
  try {
    models = options.createModels(resumedFrom?.models ?? null);
  } catch (err) {
    if (resumedFrom === null) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new CheckpointRefusedError(
      `checkpoint ${where} is refused: its models cannot be restored (${why}); ${advice ?? 'move it away (or use another --checkpoint-dir) to start the models over'}`,
      { cause: err },
    );
  }
  if (resumedFrom)
    checkCheckpointFits(
      resumedFrom,
      { topic: options.topic, variantNames: Object.keys(models) },
      where,
      advice,
    );
  const schema = streamSchema(options.schema ?? {}, resumedFrom, models);
  let shape: XShape | null = schema.x === undefined || schema.x === 'infer' ? null : schema.x;
  const storedSchema = (): Record<string, unknown> => ({
    x: shape,
    label: schema.label?.classes !== undefined ? 'class' : 'value',
    ...(schema.label?.classes === undefined ? {} : { classes: schema.label.classes }),
    ...(shape?.kind === 'sparse' && shape.dim !== undefined ? { dim: shape.dim } : {}),
  });
  const policy = options.rebatch ?? { count: 32 };
  const producer = producerSettings(options.producer, PREDICTION_PRODUCER);
  // Publishing adds what its requests in flight hold to the default bound, so it has room to overlap.
  const maxInFlight =
    options.maxInFlight ?? 2000 + (options.outputTopic ? producer.maxInFlight * producer.batchRecords : 0);
  if (typeof policy === 'object' && 'count' in policy && policy.count >= maxInFlight) {
    throw new ConfigError(
      `maxInFlight (${maxInFlight}) must exceed the batch count (${policy.count}), or no batch could ever fill`,
    );
  }
  const dlt: KafkaDeadLetterSink | null = options.deadLetterTopic
    ? deadLetterTopic({ kafka, topic: options.deadLetterTopic })
    : null;
  const sinks = [dlt, options.deadLetters].filter((s): s is DeadLetterSink => s != null);
  const deadLetters =
    sinks.length === 0 ? undefined : sinks.length === 1 ? sinks[0] : new TeeDeadLetterSink(...sinks);
  const publisher = options.outputTopic
    ? new KafkaPublisher({
        ...producer,
        kafka,
        topic: options.outputTopic,
        onReleased: () => source.released(),
      })
    : null;

  const flushBatch$ = new Subject<void>();
  const source: KafkaSource<RawMessage[]> = fromKafka({
    ...options,
    kafka,
    maxInFlight,
    // One emission per fetched run, so each operator's cost is paid per run, not per message. With the arrival
    // policy a run is what a fetch brought (the arrival batch); other policies cut runs into their own batches
    // anyway, so a run is one batch's worth and the pump yields to the event loop (checkpoint writes,
    // heartbeats) between runs every few milliseconds, however slow the models.
    arrivalBatches: true,
    ...(policy === 'arrival' ? {} : { maxRun: runLength(policy) }),
    // A count or Poisson batch with a bounded wait goes as soon as nothing more is there to read: a quiet
    // topic's event is learned and predicted at once rather than after the idle gap (without a bound the cut
    // stays a pure function of the event sequence, and nothing is flushed).
    ...(flushesWhenCaughtUp(policy) ? { onCaughtUp: () => flushBatch$.next() } : {}),
    ackWaitMs: options.ackWaitMs ?? 500,
    // Predictions waiting to be written count toward the bound, so a slow output topic pauses the input.
    ...(publisher === null ? {} : { heldDownstream: () => publisher.held }),
    logger,
    startOffsets: () => resumedFrom?.offsets ?? {},
    // Partitions may move to another consumer: learn what was handed over, checkpoint and commit now, so the
    // next owner starts exactly where this one's models are (within this process a partition that comes back
    // resumes from what was handed over, so nothing is learned twice either way).
    onRevoke: () => checkpointNow(),
  });

  let last: CheckpointAck | null = null;
  let checkpoints = 0;
  const lastScores: Record<string, RunningScore> = { ...(resumedFrom?.scores ?? {}) };
  let commitChain: Promise<void> = Promise.resolve();
  const flushCheckpoint$ = new Subject<void>();
  /** Messages learned since the very first start; a checkpoint ack covering them is what a flush waits for. */
  let learned = resumedFrom?.messages ?? 0;
  let ackWaiters: Array<() => void> = [];
  let ended = false;

  let settle!: { resolve: (s: LiveSummary) => void; reject: (e: unknown) => void };
  const done = new Promise<LiveSummary>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);

  const summary = (): LiveSummary => ({
    messages: last?.messages ?? resumedFrom?.messages ?? 0,
    batches: last?.batches ?? resumedFrom?.batches ?? 0,
    offsets: last?.offsets ?? resumedFrom?.offsets ?? {},
    scores: lastScores,
    checkpoints,
    source: source.stats(),
  });

  /**
   * Learn the batch in hand, checkpoint it and commit the checkpoint's offsets; resolves when the commit is
   * done (bounded: after 30 s it gives up waiting and logs, since the rebalance cannot wait forever).
   */
  const checkpointNow = async (): Promise<void> => {
    if (ended) return;
    flushBatch$.next();
    flushCheckpoint$.next();
    const target = learned;
    const deadline = Date.now() + 30_000;
    while (!ended && (last?.messages ?? resumedFrom?.messages ?? 0) < target && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        ackWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await commitChain;
    logger.info({ topic: options.topic, offsets: last?.offsets }, 'rebalance: checkpointed and committed');
  };

  const finish = async (error: unknown): Promise<void> => {
    ended = true;
    for (const w of ackWaiters.splice(0)) w();
    removeSignals();
    const closing = [
      commitChain.catch((e: unknown) => (error ??= e)),
      deadLetters?.close().catch((e: unknown) => (error ??= e)),
    ];
    await Promise.all(closing);
    await publisher?.close();
    await source.close().catch((e: unknown) => (error ??= e));
    if (error !== undefined) settle.reject(error);
    else settle.resolve(summary());
  };

  const checkpointOp = checkpoint(store, {
    everyEvents: options.checkpointEvery?.messages ?? 5000,
    everyMs: options.checkpointEvery?.ms ?? 1000,
    resume: resumedFrom,
    meta:
      options.checkpointMeta === undefined
        ? { topic: options.topic, groupId: options.groupId }
        : () => ({ topic: options.topic, groupId: options.groupId, ...options.checkpointMeta!() }),
    identity: () => ({
      topic: options.topic,
      schema: storedSchema(),
      ...(options.variantSpecs === undefined ? {} : { variants: options.variantSpecs }),
    }),
    flush$: flushCheckpoint$,
  });

  const subscription: Subscription = source
    .pipe(
      decodeEvents(schema, { deadLetters }),
      fitSchema({
        ...(options.maxAbs === undefined ? {} : { maxAbs: options.maxAbs }),
        ...(deadLetters === undefined ? {} : { deadLetters }),
        onShape: (s) => (shape ??= s.kind === 'sparse' ? { kind: 'sparse' } : s),
      }),
      // A resumed { poisson } stream continues its size sequence where the checkpoint left it, so the
      // remaining events are cut exactly as in an uninterrupted run (other policies ignore it).
      rebatch(policy, { skipBatches: resumedFrom?.batches ?? 0, flush$: flushBatch$ }),
      prequential(models, {
        learn: options.learn,
        // Per-event prediction objects only when someone reads them (the output topic, or onResult).
        predictions:
          publisher !== null || (options.onResult !== undefined && options.resultPredictions !== false),
        resume: { scores: resumedFrom?.scores, batches: resumedFrom?.batches },
        ...(deadLetters === undefined ? {} : { onDeadLetter: (d) => deadLetters.write(d) }),
      }),
      tap((r) => {
        // Published first, so the predictions are held (counted in flight) before their events are acked.
        if (publisher && r.envelopes.length > 0) r.pending.push(publisher.publish(predictionRecords(r)));
        // Learned: the source may move past these messages (the checkpoint decides what survives a crash).
        for (const e of r.envelopes) source.ack(e.origin);
        for (const d of r.deadLetters) source.ack(d.origin);
        if (dlt && r.deadLetters.length > 0) r.pending.push(dlt.flush());
        for (const v of r.variants) lastScores[v.variant] = v.running;
        learned += r.messages;
        options.onResult?.(r);
      }),
      checkpointOp,
    )
    .subscribe({
      next(ack) {
        last = ack;
        checkpoints++;
        options.onCheckpointSaved?.(ack);
        // Commit to the group only what is durable; commits are for monitoring, so a failed one is logged.
        commitChain = commitChain.then(() =>
          source
            .commit(ack.offsets)
            .catch((error: unknown) => logger.warn({ err: String(error) }, 'offset commit failed')),
        );
        const waiters = ackWaiters;
        ackWaiters = [];
        for (const w of waiters) w();
      },
      error(error: unknown) {
        void finish(error);
      },
      complete() {
        void finish(undefined);
      },
    });

  let stopping: Promise<LiveSummary> | null = null;
  const stop = (): Promise<LiveSummary> => {
    stopping ??= (async () => {
      // Completing the source flushes the last batch through prequential and the final checkpoint. Deferred
      // to a microtask: stop() may be called from inside the pipeline (onResult, onCheckpointSaved), and
      // completing synchronously there would end the checkpoint stage before the batch in hand reached it.
      await Promise.resolve();
      source.drain();
      return done;
    })();
    return stopping;
  };
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = 128 + (signal === 'SIGINT' ? 2 : 15);
    if (++signals > 1) {
      // A second signal: exit now. Nothing durable is lost (the last checkpoint has state and offsets together).
      logger.warn({ signal }, 'second signal: exiting at once; the restart resumes from the last checkpoint');
      process.exit(code);
    }
    logger.info({ signal, stopTimeoutMs }, 'stopping: finishing the batch in hand and checkpointing');
    const timer = setTimeout(() => {
      logger.error(
        { signal, stopTimeoutMs },
        'graceful stop timed out: exiting; the restart resumes from the last checkpoint',
      );
      process.exit(code);
    }, stopTimeoutMs);
    timer.unref();
    void stop()
      .catch(() => undefined)
      .finally(() => clearTimeout(timer));
  };
  const handleSignals = options.handleSignals ?? true;
  const removeSignals = (): void => {
    if (!handleSignals) return;
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
  if (handleSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  void subscription;

  return {
    stop,
    done,
    source,
    models,
    resumedFrom,
    lastCheckpoint: () => last,
  };
}

/**
 * Messages per handed-over run when the policy rebatches: one batch's worth, so a run completes at most one
 * batch (plus the one it finishes) and a slow model still lets the event loop in between batches, as with
 * messages handed over one by one, while each operator's per-emission cost is paid once per batch.
 */
function runLength(policy: RebatchPolicy): number {
  if (typeof policy !== 'object') return 1;
  if ('count' in policy) return policy.count;
  if ('poisson' in policy) return Math.max(1, Math.ceil(policy.poisson));
  return policy.maxCount ?? 32;
}

/** Whether a partial batch is flushed once the source has caught up: count or Poisson with a bounded wait. */
function flushesWhenCaughtUp(policy: RebatchPolicy): boolean {
  if (typeof policy !== 'object' || !('count' in policy || 'poisson' in policy)) return false;
  return policy.maxWaitMs !== undefined || policy.maxAgeMs !== undefined;
}

/**
 * The stream's schema, fixed before the first event is learned: `x` from the options, else the checkpoint's
 * (so a first event of another shape after a resume is a dead letter, not a crash), else inferred from the
 * first valid event; `label.classes` from the options, else the checkpoint's, else the classifiers' common
 * class count (every variant a classifier with the same count), so a label outside the classes is a dead letter.
 */
function streamSchema(
  given: EventSchema,
  resumedFrom: Checkpoint | null,
  models: Record<string, OnlineModel>,
): EventSchema {
  const saved = resumedFrom?.schema ?? null;
  const savedX = saved?.x as XShape | null | undefined;
  const x = given.x !== undefined && given.x !== 'infer' ? given.x : (savedX ?? 'infer');
  let classes = given.label?.classes ?? (typeof saved?.classes === 'number' ? saved.classes : undefined);
  if (classes === undefined) {
    const all = Object.values(models);
    const counts = new Set(all.map((m) => (m.task === 'classification' ? m.classes : -1)));
    const only = counts.size === 1 ? [...counts][0] : -1;
    if (only >= 2) classes = only;
  }
  return {
    ...given,
    x,
    ...(classes === undefined ? {} : { label: { ...(given.label ?? {}), classes } }),
  };
}
