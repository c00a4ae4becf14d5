import { describe, expect, it } from 'vitest';
import { ConfigError, KafkaError } from '../../../src/errors.js';
import { backoffDelay, isRetriable, resolvePolicy, retry } from '../../../src/streams/retry.js';

describe('retry', () => {
  it('retries a retriable failure with exponential backoff and then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const v = await retry(
      async () => {
        if (++calls < 4) throw new Error('connection refused');
        return 42;
      },
      { retries: 5, initialDelayMs: 1, factor: 2, jitter: 0, onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(v).toBe(42);
    expect(calls).toBe(4);
    expect(delays).toEqual([1, 2, 4]);
  });

  it('does not retry programmer errors or errors flagged non-retriable', async () => {
    for (const err of [
      new TypeError('x is undefined'),
      new ConfigError('bad'),
      Object.assign(new Error('k'), { retriable: false }),
    ]) {
      let calls = 0;
      await expect(
        retry(
          async () => {
            calls++;
            throw err;
          },
          { retries: 3, initialDelayMs: 0 },
        ),
      ).rejects.toBe(err);
      expect(calls).toBe(1);
      expect(isRetriable(err)).toBe(false);
    }
  });

  it('gives up after the retries with an error whose cause is the last failure', async () => {
    const last = new Error('broker down');
    let calls = 0;
    const p = retry(
      async () => {
        calls++;
        throw last;
      },
      { retries: 2, initialDelayMs: 0, maxDelayMs: 0 },
    );
    await expect(p).rejects.toBeInstanceOf(KafkaError);
    await p.catch((e: KafkaError) => {
      expect(e.cause).toBe(last);
      expect(e.retriable).toBe(false);
    });
    expect(calls).toBe(3);
  });

  it('caps delays and keeps jitter within its fraction', () => {
    const policy = resolvePolicy({ initialDelayMs: 100, maxDelayMs: 1000, factor: 3, jitter: 0.5 });
    expect(backoffDelay(policy, 10, () => 0)).toBe(500);
    expect(backoffDelay(policy, 10, () => 1)).toBe(1000);
    expect(backoffDelay(policy, 2, () => 0.5)).toBeCloseTo(225, 12);
  });

  it('rejects invalid policies naming the value', () => {
    expect(() => resolvePolicy({ retries: -1 })).toThrow(/retries.*-1/);
    expect(() => resolvePolicy({ jitter: NaN })).toThrow(/jitter.*NaN/);
  });
});
