/**
 * Parses the batching flags of the pipelines: --batch (`arrival`, `N` (a count) or `poisson:M` (random sizes of
 * mean M)) and --max-wait-ms (how long a partial count or Poisson batch may wait for more events).
 */
import { InvalidArgumentError } from 'commander';
import type { RebatchPolicy } from '../streams/rebatch.js';

export function batchPolicy(value: string): RebatchPolicy {
  if (value === 'arrival') return 'arrival';
  if (/^\d+$/.test(value) && Number(value) >= 1) return { count: Number(value) };
  const p = /^poisson:(\d+(?:\.\d+)?)$/.exec(value);
  if (p !== null && Number(p[1]) >= 1) return { poisson: Number(p[1]), seed: 1 };
  throw new InvalidArgumentError("expected 'arrival', a positive integer, or poisson:MEAN");
}

/** `--max-wait-ms`: a whole number of milliseconds, 0 = wait for full batches. */
export function maxWaitMs(value: string): number {
  if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  throw new InvalidArgumentError('expected a whole number of milliseconds (0 = wait for full batches)');
}

/** `run`'s maximum wait for a partial batch when neither the flag nor the config file sets one. */
export const DEFAULT_MAX_WAIT_MS = 100;

/**
 * The policy with a maximum wait for a partial batch, for count and Poisson policies: the flag's value if
 * given (0 = none), else the policy's own (from a config file), else {@link DEFAULT_MAX_WAIT_MS}. `'arrival'`
 * and `{ timeMs }` never hold a batch back, so they are returned as they are.
 */
export function withMaxWait(policy: RebatchPolicy, flag: number | undefined): RebatchPolicy {
  if (policy === 'arrival' || 'timeMs' in policy) return policy;
  const ms = flag ?? policy.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const { maxWaitMs: _old, ...rest } = policy;
  return ms === 0 ? rest : { ...rest, maxWaitMs: ms };
}
