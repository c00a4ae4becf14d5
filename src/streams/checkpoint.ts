import {
  asyncScheduler,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { CheckpointError, ConfigError, KafkaError } from '../errors.js';
import type { ModelState } from '../models/types.js';
import type { Checkpoint, CheckpointInput, CheckpointStore } from './checkpointStore.js';
import { mergeOffsets } from './offsets.js';
import { operate } from './operate.js';
import type { PrequentialResult, RunningScore } from './prequential.js';

/** Emitted once a checkpoint is durable: everything up to these offsets is learned and saved. */
export interface CheckpointAck {
  sequence: number;
  /** Next offset to read per `"topic:partition"`; every message before it is in the saved state. */
  offsets: Record<string, string>;
  /** Messages and batches covered since the very first start. */
  messages: number;
  batches: number;
  savedAt: number;
  /** True for the checkpoint written when the source completed. */
  final: boolean;
}

export interface CheckpointOptions {
  /** Snapshot once this many messages (events and dead letters) arrived since the last one (default: no limit). */
  everyEvents?: number;
  /** Snapshot at most this long after un-saved progress arrived (default 1000 ms; Infinity disables). */
  everyMs?: number;
  /** Stored with every checkpoint (e.g. the variant configs needed to rebuild the models). */
  meta?: Record<string, unknown> | (() => Record<string, unknown>);
  /** What the checkpoint is for (topic, the stream's schema, the variant specs): loading checks it. */
  identity?: () => Pick<CheckpointInput, 'topic' | 'schema' | 'variants'>;
  /** The checkpoint this run started from: its offsets, message and batch counts carry over. */
  resume?: Checkpoint | null;
  /**
   * "Checkpoint now": each emission snapshots what was learned so far at once (if anything is unsaved), e.g.
   * when a Kafka partition is about to be revoked, so its next owner resumes from the state at revocation.
   */
  flush$?: Observable<unknown>;
  /** Clock and timer of `everyMs` (default `asyncScheduler`; marble tests pass a TestScheduler). */
  scheduler?: SchedulerLike;
}

/** What `checkpoint` needs from each item: a prequential result (or anything shaped like one). */
export type CheckpointSource = Pick<
  PrequentialResult,
  'batch' | 'messages' | 'offsets' | 'models' | 'progress' | 'pending' | 'variants'
>;

interface Snapshot {
  identity: Pick<CheckpointInput, 'topic' | 'schema' | 'variants'>;
  models: Record<string, ModelState>;
  offsets: Record<string, string>;
  meta: Record<string, unknown>;
  messages: number;
  batches: number;
  scores: Record<string, RunningScore>;
  pending: PromiseLike<unknown>[];
  final: boolean;
}

function validate(options: CheckpointOptions): { everyEvents: number; everyMs: number } {
  const everyEvents = options.everyEvents ?? Infinity;
  const everyMs = options.everyMs ?? 1000;
  if (!(everyEvents === Infinity || (Number.isInteger(everyEvents) && everyEvents >= 1)))
    throw new ConfigError(`checkpoint everyEvents must be an integer >= 1 or Infinity, got ${everyEvents}`);
  if (!(everyMs === Infinity || (Number.isFinite(everyMs) && everyMs > 0)))
    throw new ConfigError(`checkpoint everyMs must be a positive number or Infinity, got ${everyMs}`);
  return { everyEvents, everyMs };
}

/**
 * Snapshot model state and offsets together and save them to a {@link CheckpointStore}, every `everyEvents`
 * messages or `everyMs` after un-saved progress, and once more when the source completes (if anything was
 * learned since the last save); emits a
 * {@link CheckpointAck} as each save becomes durable, in order, so a Kafka source can resolve and commit the
 * offsets it covers. Completes after the final save.
 *
 * Place it directly after `prequential` (only synchronous operators in between): the models' state is read
 * synchronously when a snapshot is taken, and must match the offsets seen so far. If the models have already
 * learned a batch that has not reached this operator, the snapshot would be ahead of its offsets, so that is
 * a {@link CheckpointError} instead of a silent double-learn after restart.
 *
 * Waiting never stalls upstream: the state is captured in memory, then written asynchronously while batches
 * keep flowing. At most one write is in flight and one more queued; a newer snapshot replaces the queued one
 * (it covers the same offsets and more). Promises in a result's `pending` (e.g. publishing its predictions) are
 * awaited before the checkpoint covering it is written. A failed write errors the stream with a retriable
 * CheckpointError, or with the store's own KafkaError (e.g. a scale-out checkpoint the consumer group refused).
 *
 * @example
 * decoded$.pipe(rebatch({ count: 32 }), prequential(model), checkpoint(new FileCheckpointStore(dir), { everyEvents: 1000 }))
 */
export function checkpoint(
  store: CheckpointStore,
  options: CheckpointOptions = {},
): OperatorFunction<CheckpointSource, CheckpointAck> {
  const { everyEvents, everyMs } = validate(options);
  const scheduler = options.scheduler ?? asyncScheduler;
  return operate<CheckpointSource, CheckpointAck>((out) => {
    const resume = options.resume ?? null;
    const offsets: Record<string, string> = { ...(resume?.offsets ?? {}) };
    let messages = resume?.messages ?? 0;
    let batches = resume?.batches ?? 0;
    let last: CheckpointSource | null = null;
    let since = 0;
    let dirty = false;
    let lastCapture = scheduler.now();
    let pending: PromiseLike<unknown>[] = [];
    let timer: Subscription | null = null;
    let inflight = false;
    let queued: Snapshot | null = null;
    let completing = false;
    let stopped = false;

    const clearTimer = (): void => {
      timer?.unsubscribe();
      timer = null;
    };

    const capture = (final: boolean): Snapshot => {
      clearTimer();
      const models: Record<string, ModelState> = {};
      const scores: Record<string, RunningScore> = {};
      if (last) {
        if (last.progress.batches !== last.batch + 1)
          throw new CheckpointError(
            `models have learned ${last.progress.batches} batches but only ${last.batch + 1} reached checkpoint: ` +
              'put checkpoint() directly after prequential()',
          );
        for (const [name, model] of Object.entries(last.models)) models[name] = model.state();
        for (const v of last.variants) scores[v.variant] = { ...v.running };
      }
      const meta = typeof options.meta === 'function' ? options.meta() : { ...(options.meta ?? {}) };
      const snap: Snapshot = {
        identity: options.identity?.() ?? {},
        models,
        offsets: { ...offsets },
        meta,
        messages,
        batches,
        scores,
        pending,
        final,
      };
      pending = [];
      since = 0;
      dirty = false;
      lastCapture = scheduler.now();
      return snap;
    };

    const start = (snap: Snapshot): void => {
      inflight = true;
      let saving = false;
      (async () => {
        if (snap.pending.length > 0) await Promise.all(snap.pending);
        saving = true;
        return store.save({
          ...snap.identity,
          models: snap.models,
          offsets: snap.offsets,
          meta: snap.meta,
          messages: snap.messages,
          batches: snap.batches,
          scores: snap.scores,
        });
      })().then(
        (cp) => {
          inflight = false;
          if (stopped) return;
          out.next({
            sequence: cp.sequence,
            offsets: cp.offsets,
            messages: cp.messages,
            batches: cp.batches,
            savedAt: cp.savedAt,
            final: snap.final || (completing && queued === null),
          });
          const next = queued;
          queued = null;
          if (next) start(next);
          // A subscriber may have completed the source from inside out.next() (stop() in a callback), which
          // already started the final save: complete only after that one.
          else if (completing && !inflight) out.complete();
        },
        (err) => {
          inflight = false;
          if (stopped) return;
          // A store that says what went wrong in its own terms (a Kafka store refused by the group) is heard as
          // it is; anything else is a failed write.
          out.error(
            err instanceof CheckpointError || (saving && err instanceof KafkaError)
              ? err
              : new CheckpointError('checkpoint failed', { cause: err, retriable: true }),
          );
        },
      );
    };

    const enqueue = (snap: Snapshot): void => {
      if (!inflight) return start(snap);
      // The newer snapshot covers the queued one's offsets; keep its pending work too.
      if (queued) snap.pending = [...queued.pending, ...snap.pending];
      queued = snap;
    };

    const onTimer = (): void => {
      timer = null;
      if (stopped || !dirty) return;
      try {
        enqueue(capture(false));
      } catch (err) {
        out.error(err);
      }
    };

    const flushing = options.flush$?.subscribe(() => {
      if (stopped || completing || !dirty) return;
      try {
        enqueue(capture(false));
      } catch (err) {
        out.error(err);
      }
    });

    return {
      next(r) {
        mergeOffsets(offsets, r.offsets);
        messages += r.messages;
        batches = r.batch + 1;
        since += r.messages;
        last = r;
        for (const p of r.pending) {
          // This operator owns the outcome now: a failure surfaces through the save that awaits it, and one
          // dropped with an unsaved snapshot (teardown) must not become an unhandled rejection.
          const owned = Promise.resolve(p);
          owned.catch(() => undefined);
          pending.push(owned);
        }
        dirty = true;
        const elapsed = scheduler.now() - lastCapture;
        if (since >= everyEvents || elapsed >= everyMs) enqueue(capture(false));
        else if (everyMs !== Infinity && timer === null)
          timer = scheduler.schedule(onTimer, Math.max(0, everyMs - elapsed));
      },
      complete() {
        completing = true;
        // Nothing learned in this run means nothing new to save (and no empty state over a good checkpoint).
        if (dirty) enqueue(capture(true));
        else if (queued) queued.final = true;
        if (!inflight) out.complete();
      },
      finalize() {
        stopped = true;
        flushing?.unsubscribe();
        clearTimer();
        queued = null;
        pending = [];
      },
    };
  });
}
