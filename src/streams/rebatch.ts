import {
  asyncScheduler,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { Rng } from '../core/rng.js';
import { ConfigError } from '../errors.js';
import { operate } from './operate.js';

/**
 * How events are grouped into the batches a model learns from.
 * - `'arrival'`: as they arrive. An arrival batch is one emission of the source: an array is one batch
 *   (a Kafka fetch, passed through as is), a single item is a batch of one.
 * - `{ count }`: exactly `count` events per batch (the last one, flushed on complete, may be smaller).
 * - `{ timeMs, maxCount? }`: whatever arrived within `timeMs` of the batch's first event, flushed early when it
 *   reaches `maxCount`. Depends on wall-clock timing, so not reproducible.
 * - `{ poisson, seed }`: sizes 1 + Poisson(mean − 1) from a seeded RNG, so every size is ≥ 1, the mean is
 *   exactly `poisson`, and the same seed gives the same sizes (the "varying arrival batch sizes" experiment).
 *
 * Count and Poisson policies take a bounded wait ({@link MaxWait}), so a quiet stream's tail is never held back
 * until more events arrive. Without one (the default) they wait for the batch to fill, which makes the cut a
 * pure function of the event sequence (what replays and experiments need).
 */
export type RebatchPolicy =
  | 'arrival'
  | ({ count: number } & MaxWait)
  | { timeMs: number; maxCount?: number }
  | ({ poisson: number; seed: number } & MaxWait);

/**
 * When a partial count or Poisson batch is flushed anyway. A live consumer sets `maxWaitMs`; a flush by
 * time changes where later batches are cut, so the models are then reproducible only for the same arrival
 * timing (as with `{ timeMs }`).
 */
export interface MaxWait {
  /**
   * Idle gap: the batch in hand is flushed once no item (event or dead letter) has arrived for this long.
   * A burst is still cut into full batches (items keep arriving), and the tail of a burst waits at most
   * `maxWaitMs` after its last event.
   */
  maxWaitMs?: number;
  /**
   * Age bound: the batch in hand is flushed once its first item has waited this long, even while items keep
   * trickling in. With the idle gap alone a busy but slow topic (an event every 90 ms, `maxWaitMs` 100) holds
   * its first event until the batch fills (`count` × 90 ms); `maxAgeMs` bounds every event's wait. Default:
   * none.
   */
  maxAgeMs?: number;
}

export interface RebatchOptions<T> {
  /**
   * How much an item counts toward a batch's size (0 or 1). Default: dead letters (items with a `reason` and
   * a `raw`, as `decodeEvents` emits them) count 0 and ride along with the batch in hand, so a stream with
   * poison messages is cut into exactly the same event batches as one without.
   */
  weight?: (item: T) => number;
  /**
   * Batches a previous run already emitted (a checkpoint's `batches`). A resumed `{ poisson }` stream then
   * continues the same sequence of sizes instead of starting over, so it cuts the remaining events exactly as
   * an uninterrupted run would. Other policies ignore it.
   */
  skipBatches?: number;
  /**
   * Each emission flushes the batch in hand now, however small (e.g. before a Kafka partition is revoked, so
   * nothing handed over stays unlearned). Breaks the reproducible cut of `{ count }` / `{ poisson }`.
   */
  flush$?: Observable<unknown>;
  /** Clock and timers for `timeMs`, `maxWaitMs` and `maxAgeMs` (default `asyncScheduler`; tests pass a TestScheduler). */
  scheduler?: SchedulerLike;
}

function defaultWeight(item: unknown): number {
  if (item !== null && typeof item === 'object') {
    const o = item as { reason?: unknown; raw?: unknown };
    if (typeof o.reason === 'string' && typeof o.raw === 'string') return 0;
  }
  return 1;
}

function validatePolicy(policy: RebatchPolicy): void {
  if (policy === 'arrival') return;
  const posInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1;
  if (policy === null || typeof policy !== 'object')
    throw new ConfigError(`unknown rebatch policy ${String(policy)}`);
  if ('count' in policy || 'poisson' in policy) {
    for (const k of ['maxWaitMs', 'maxAgeMs'] as const) {
      const v = (policy as MaxWait)[k];
      if (v !== undefined && !(Number.isFinite(v) && v > 0))
        throw new ConfigError(`rebatch ${k} must be a positive number, got ${v}`);
    }
  }
  if ('count' in policy) {
    if (!posInt(policy.count))
      throw new ConfigError(`rebatch count must be an integer >= 1, got ${policy.count}`);
  } else if ('timeMs' in policy) {
    if (!(Number.isFinite(policy.timeMs) && policy.timeMs > 0))
      throw new ConfigError(`rebatch timeMs must be a positive number, got ${policy.timeMs}`);
    if (policy.maxCount !== undefined && !posInt(policy.maxCount))
      throw new ConfigError(`rebatch maxCount must be an integer >= 1, got ${policy.maxCount}`);
  } else if ('poisson' in policy) {
    if (!(Number.isFinite(policy.poisson) && policy.poisson >= 1))
      throw new ConfigError(`rebatch poisson mean must be a number >= 1, got ${policy.poisson}`);
    if (!Number.isInteger(policy.seed))
      throw new ConfigError(`rebatch poisson seed must be an integer, got ${policy.seed}`);
  } else {
    throw new ConfigError(`unknown rebatch policy ${JSON.stringify(policy)}`);
  }
}

/**
 * A seeded generator of batch sizes 1 + Poisson(mean − 1). Exported so experiments can report or reproduce
 * the sizes a `{ poisson, seed }` policy uses.
 */
export function poissonSizes(mean: number, seed: number): () => number {
  validatePolicy({ poisson: mean, seed });
  const rng = new Rng(seed);
  return () => 1 + rng.poisson(mean - 1);
}

/**
 * Regroup a stream of items (or arrays of items) into batches by a {@link RebatchPolicy}. Order and content
 * are preserved: the concatenation of the emitted batches is the concatenation of the input. A remainder is
 * flushed on complete; on error or unsubscribe the buffer and any timer are dropped. Items must not
 * themselves be arrays (an array input is read as an arrival batch).
 *
 * @example
 * decoded$.pipe(rebatch({ count: 32 }), prequential(model))
 */
export function rebatch<T>(
  policy: RebatchPolicy,
  options: RebatchOptions<T> = {},
): OperatorFunction<T | readonly T[], T[]> {
  validatePolicy(policy);
  const weight = options.weight ?? defaultWeight;
  const skip = options.skipBatches ?? 0;
  if (!(Number.isInteger(skip) && skip >= 0))
    throw new ConfigError(`rebatch skipBatches must be an integer >= 0, got ${skip}`);

  if (policy === 'arrival') {
    return operate<T | readonly T[], T[]>((out) => ({
      next(input) {
        if (Array.isArray(input)) {
          if (input.length > 0) out.next(input as T[]);
        } else {
          out.next([input as T]);
        }
      },
    }));
  }

  const scheduler = options.scheduler ?? asyncScheduler;
  // Idle gap and age bound, in ms (Infinity: none). `{ timeMs }` is an age bound.
  const idleMs = 'timeMs' in policy ? Infinity : (policy.maxWaitMs ?? Infinity);
  const ageMs = 'timeMs' in policy ? policy.timeMs : (policy.maxAgeMs ?? Infinity);
  const timed = idleMs !== Infinity || ageMs !== Infinity;

  return operate<T | readonly T[], T[]>((out) => {
    let buffer: T[] = [];
    let filled = 0;
    let timer: Subscription | null = null;
    /** When the batch in hand got its first item, and its latest one (scheduler time). */
    let firstAt = 0;
    let lastAt = 0;
    let target: number;
    let nextSize: () => number;

    if ('count' in policy) {
      const n = policy.count;
      nextSize = () => n;
    } else if ('poisson' in policy) {
      nextSize = poissonSizes(policy.poisson, policy.seed);
      for (let i = 0; i < skip; i++) nextSize();
    } else {
      const cap = policy.maxCount ?? Infinity;
      nextSize = () => cap;
    }
    target = nextSize();

    const stopTimer = (): void => {
      if (timer !== null) {
        timer.unsubscribe();
        timer = null;
      }
    };

    const flush = (): void => {
      stopTimer();
      if (buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      filled = 0;
      target = nextSize();
      out.next(batch);
    };

    /**
     * One timer per batch, not one per item: when it fires it flushes if a bound is reached, or sleeps until
     * the nearer bound as moved by the items that arrived meanwhile.
     */
    const arm = (delay: number): void => {
      timer = scheduler.schedule(() => {
        timer = null;
        const now = scheduler.now();
        const due = Math.min(lastAt + idleMs, firstAt + ageMs);
        if (now >= due) flush();
        else arm(due - now);
      }, delay);
    };

    const push = (item: T): void => {
      if (timed) {
        // Any item starts and moves the clock, so dead letters at the tail of a live stream are still flushed (and acked).
        lastAt = scheduler.now();
        if (buffer.length === 0) firstAt = lastAt;
        if (timer === null) arm(Math.min(idleMs, ageMs));
      }
      buffer.push(item);
      const w = weight(item);
      if (w > 0) {
        filled += w;
        if (filled >= target) flush();
      }
    };

    const flushing = options.flush$?.subscribe(() => flush());

    return {
      next(input) {
        if (Array.isArray(input)) for (const item of input as readonly T[]) push(item);
        else push(input as T);
      },
      complete() {
        flush();
        out.complete();
      },
      finalize() {
        flushing?.unsubscribe();
        stopTimer();
        buffer = [];
      },
    };
  });
}
