/**
 * observeRepeated against the plain loop it replaces: the exported text of two registries, one fed each way,
 * must be identical byte for byte (counts, buckets and the sum's rounding), for values in, between, on and
 * beyond the buckets, several label sets and repeat counts.
 */
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { observeRepeated, observeRepeatedPlain } from '../../../src/metrics/observeRepeated.js';

function histogram(registry: Registry): Histogram<'variant' | 'mode'> {
  return new Histogram({
    name: 'test_latency_seconds',
    help: 'test',
    labelNames: ['variant', 'mode'],
    buckets: [0.001, 0.01, 0.1, 1],
    registers: [registry],
  });
}

describe('observeRepeated', () => {
  it('exports exactly what the plain loop does', async () => {
    const fast = new Registry();
    const plain = new Registry();
    const hf = histogram(fast);
    const hp = histogram(plain);
    // Count what reaches prom-client's observe: the fast path calls it once per run, not once per occurrence.
    let calls = 0;
    const observe = hf.observe.bind(hf);
    hf.observe = ((...args: Parameters<typeof observe>) => {
      calls++;
      return observe(...args);
    }) as typeof hf.observe;
    const values = [0, 0.0005, 0.001, 0.0123456789, 0.1, 0.3333333333333333, 1, 7.77, 1e-9, 0.1 + 0.2];
    const labelSets = [
      { variant: 'a', mode: 'live' },
      { variant: 'b', mode: 'live' },
      { variant: 'a', mode: 'replay' },
    ];
    let k = 0;
    for (const labels of labelSets) {
      for (const v of values) {
        const times = [1, 2, 3, 32, 257][k++ % 5];
        observeRepeated(hf, labels, v, times);
        observeRepeatedPlain(hp, labels, v, times);
      }
    }
    observeRepeated(hf, labelSets[0], 0.5, 0);
    expect(calls).toBe(labelSets.length * values.length);
    expect(await fast.metrics()).toBe(await plain.metrics());
    const text = await fast.metrics();
    expect(text).toMatch(/test_latency_seconds_count\{variant="a",mode="live"\} \d+/);
  });

  it('rejects a non-finite value as observe does', () => {
    const h = histogram(new Registry());
    expect(() => observeRepeated(h, { variant: 'a', mode: 'live' }, NaN, 3)).toThrow();
  });
});
