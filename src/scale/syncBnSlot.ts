/**
 * The rendezvous between a learner that must block and the worker thread that talks to Kafka (`run --sync-bn`):
 * BatchNorm's `StatisticsReducer` is synchronous, inside a synchronous learning step, so the learner posts
 * its contribution to the worker and sleeps in `Atomics.wait` on a `SharedArrayBuffer` until the worker writes the
 * pooled statistics there, or its time is up.
 *
 * Races: the learner names each request (`TURN` = id) and the worker claims a request before writing its answer
 * (`TURN`: id → −id); a learner whose time is up withdraws it (`TURN`: id → 0). Exactly one of the two wins, so
 * a late answer never lands in a later request's place, and the learner never reads a half-written one.
 */
/** Int32 cells at the start of the buffer. */
export const CTRL = {
  /** The request being answered: id (open), −id (claimed by the worker), 0 (withdrawn). */
  TURN: 0,
  /** The id of the last answer written. */
  DONE: 1,
  /** The answer's outcome code ({@link OUTCOME}). */
  OUTCOME: 2,
  /** The answer's length (float64s). */
  LENGTH: 3,
  /** Shadow steps contributed so far (the worker counts, the metrics read). */
  SHADOWS: 4,
  /** Members in the current generation's roster. */
  ROSTER: 5,
} as const;

const CTRL_BYTES = 64;

export const OUTCOME = { POOLED: 1, ALONE: 2, FALLBACK: 3 } as const;

/** Largest answer (float64s): moments of a BatchNorm with up to 4095 channels. */
export const SLOT_CAPACITY = 8192;

export function slotBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(CTRL_BYTES + 8 * SLOT_CAPACITY);
}

export function slotViews(sab: SharedArrayBuffer): { ctrl: Int32Array; data: Float64Array } {
  return {
    ctrl: new Int32Array(sab, 0, CTRL_BYTES / 4),
    data: new Float64Array(sab, CTRL_BYTES, SLOT_CAPACITY),
  };
}

/** Worker side: writes the answer to request `id` unless the learner withdrew it. True when written. */
export function answer(
  views: { ctrl: Int32Array; data: Float64Array },
  id: number,
  outcome: number,
  pooled: Float64Array | null,
): boolean {
  const { ctrl, data } = views;
  if (Atomics.compareExchange(ctrl, CTRL.TURN, id, -id) !== id) return false;
  const len = pooled === null ? 0 : Math.min(pooled.length, SLOT_CAPACITY);
  if (pooled !== null) data.set(pooled.subarray(0, len));
  Atomics.store(ctrl, CTRL.OUTCOME, outcome);
  Atomics.store(ctrl, CTRL.LENGTH, len);
  Atomics.store(ctrl, CTRL.DONE, id);
  Atomics.notify(ctrl, CTRL.DONE);
  return true;
}

/** What the learner's side got back: the pooled array, or null (fall back to the local statistics). */
export interface BlockingAnswer {
  outcome: 'pooled' | 'alone' | 'fallback';
  pooled: Float64Array | null;
  waitedMs: number;
}

/**
 * Learner side: posts request `id` through `post` and blocks until its answer or `timeoutMs`. The worker's own
 * timer answers a fallback at its timeout; this one is the bound that holds even when the worker is gone.
 */
export function blockingCall(
  views: { ctrl: Int32Array; data: Float64Array },
  id: number,
  post: () => void,
  timeoutMs: number,
): BlockingAnswer {
  const { ctrl, data } = views;
  const t0 = performance.now();
  Atomics.store(ctrl, CTRL.TURN, id);
  post();
  const deadline = t0 + timeoutMs;
  let graced = false;
  for (let i = 0; i < 1_000_000; i++) {
    const done = Atomics.load(ctrl, CTRL.DONE);
    if (done === id) {
      const code = Atomics.load(ctrl, CTRL.OUTCOME);
      const len = Atomics.load(ctrl, CTRL.LENGTH);
      const waitedMs = performance.now() - t0;
      if (code === OUTCOME.FALLBACK) return { outcome: 'fallback', pooled: null, waitedMs };
      return {
        outcome: code === OUTCOME.ALONE ? 'alone' : 'pooled',
        pooled: Float64Array.from(data.subarray(0, len)),
        waitedMs,
      };
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      // Withdraw; if the worker has claimed the request it is writing the answer now (microseconds): one more wait.
      if (Atomics.compareExchange(ctrl, CTRL.TURN, id, 0) === id || graced) {
        return { outcome: 'fallback', pooled: null, waitedMs: performance.now() - t0 };
      }
      graced = true;
      Atomics.wait(ctrl, CTRL.DONE, done, 1000);
      continue;
    }
    Atomics.wait(ctrl, CTRL.DONE, done, left);
  }
  return { outcome: 'fallback', pooled: null, waitedMs: performance.now() - t0 };
}
