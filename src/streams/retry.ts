/**
 * The project's one retry policy: exponential backoff with full jitter, no retry for programmer
 * errors, and a final error that carries the last failure as its `cause`.
 *
 * Why jitter: several consumers that lost the same broker at the same moment would otherwise retry in
 * lockstep and hit it together when it comes back (the kafkajs `retry/` module does the same).
 */
import { KafkaError, StreamnormError, ConfigError } from '../errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt (0 = try once). Default 5. */
  retries?: number;
  /** Delay before the first retry, ms. Default 100. */
  initialDelayMs?: number;
  /** Upper bound of any delay, ms. Default 10 000. */
  maxDelayMs?: number;
  /** Growth of the delay per retry. Default 2. */
  factor?: number;
  /** Fraction of each delay that is randomized (0 = none, 1 = full jitter). Default 0.2. */
  jitter?: number;
}

export interface RetryOptions extends RetryPolicy {
  /** Source of randomness for the jitter (seeded in tests). Default Math.random. */
  random?: () => number;
  /** Decides whether an error is worth another attempt. Default {@link isRetriable}. */
  retriable?: (error: unknown) => boolean;
  /** Called before each wait, e.g. to log or count. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Stops waiting and gives up early (the final error then carries the abort reason as context). */
  signal?: AbortSignal;
  /** Builds the error thrown when the attempts are exhausted. Default: a KafkaError. */
  exhausted?: (lastError: unknown, attempts: number) => Error;
}

/**
 * Programmer errors (TypeError, RangeError, ReferenceError, SyntaxError) and errors flagged
 * `retriable: false` (our taxonomy, kafkajs' non-retriable errors) are not retried: another attempt
 * cannot succeed. Anything else (connection refused, timeouts, leader moved) is.
 */
export function isRetriable(error: unknown): boolean {
  if (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError
  ) {
    return false;
  }
  if (error instanceof StreamnormError) return error.retriable;
  if (typeof error === 'object' && error !== null && 'retriable' in error) {
    return (error as { retriable: unknown }).retriable !== false;
  }
  return true;
}

/** Resolved policy with every default filled in and validated. */
export function resolvePolicy(p: RetryPolicy = {}): Required<RetryPolicy> {
  const r = {
    retries: p.retries ?? 5,
    initialDelayMs: p.initialDelayMs ?? 100,
    maxDelayMs: p.maxDelayMs ?? 10_000,
    factor: p.factor ?? 2,
    jitter: p.jitter ?? 0.2,
  };
  if (!Number.isInteger(r.retries) || r.retries < 0)
    throw new ConfigError(`retry.retries must be an integer >= 0, got ${r.retries}`);
  if (!Number.isFinite(r.initialDelayMs) || r.initialDelayMs < 0)
    throw new ConfigError(`retry.initialDelayMs must be a finite number >= 0, got ${r.initialDelayMs}`);
  if (!Number.isFinite(r.maxDelayMs) || r.maxDelayMs < r.initialDelayMs)
    throw new ConfigError(`retry.maxDelayMs must be finite and >= initialDelayMs, got ${r.maxDelayMs}`);
  if (!Number.isFinite(r.factor) || r.factor < 1)
    throw new ConfigError(`retry.factor must be >= 1, got ${r.factor}`);
  if (!Number.isFinite(r.jitter) || r.jitter < 0 || r.jitter > 1)
    throw new ConfigError(`retry.jitter must be in [0, 1], got ${r.jitter}`);
  return r;
}

/** Delay before retry number `attempt` (1-based): initial·factor^(attempt−1), capped, with jitter. */
export function backoffDelay(policy: Required<RetryPolicy>, attempt: number, random: () => number): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (attempt - 1));
  return base * (1 - policy.jitter) + base * policy.jitter * random();
}

/**
 * Runs `fn` until it succeeds, a non-retriable error occurs (rethrown as is), or the retries are
 * exhausted (the `exhausted` error is thrown, its `cause` the last failure).
 *
 * @example
 * const meta = await retry(() => admin.fetchTopicMetadata({ topics: [t] }), { retries: 3 });
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = resolvePolicy(options);
  const random = options.random ?? Math.random;
  const retriable = options.retriable ?? isRetriable;
  let attempt = 0;
  for (;;) {
    attempt++;
    try {
      return await fn(attempt);
    } catch (error) {
      if (!retriable(error)) throw error;
      if (attempt > policy.retries || options.signal?.aborted === true) {
        throw options.exhausted
          ? options.exhausted(error, attempt)
          : new KafkaError(`gave up after ${attempt} attempt(s): ${messageOf(error)}`, {
              cause: error,
              retriable: false,
            });
      }
      const delay = backoffDelay(policy, attempt, random);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
