import { describe, expect, it } from 'vitest';
import { batchPolicy, DEFAULT_MAX_WAIT_MS, maxWaitMs, withMaxWait } from '../../../src/cli/batchPolicy.js';

describe('batch flags', () => {
  it('--batch parses arrival, counts and poisson means, and refuses anything else', () => {
    expect(batchPolicy('arrival')).toBe('arrival');
    expect(batchPolicy('32')).toEqual({ count: 32 });
    expect(batchPolicy('poisson:4.5')).toEqual({ poisson: 4.5, seed: 1 });
    for (const bad of ['0', '-1', '1.5', 'poisson:0.5', 'count', ''])
      expect(() => batchPolicy(bad)).toThrow(/expected/);
  });

  it('--max-wait-ms takes whole milliseconds (0 = none)', () => {
    expect(maxWaitMs('0')).toBe(0);
    expect(maxWaitMs('250')).toBe(250);
    for (const bad of ['-1', '1.5', 'abc', '', '1e3']) expect(() => maxWaitMs(bad)).toThrow(/milliseconds/);
  });

  it('the flag wins over the config, the config over the default of 100 ms; 0 removes the wait', () => {
    expect(DEFAULT_MAX_WAIT_MS).toBe(100);
    expect(withMaxWait({ count: 32 }, undefined)).toEqual({ count: 32, maxWaitMs: 100 });
    expect(withMaxWait({ count: 32, maxWaitMs: 40 }, undefined)).toEqual({ count: 32, maxWaitMs: 40 });
    expect(withMaxWait({ count: 32, maxWaitMs: 40 }, 7)).toEqual({ count: 32, maxWaitMs: 7 });
    expect(withMaxWait({ count: 32, maxWaitMs: 40, maxAgeMs: 500 }, 0)).toEqual({ count: 32, maxAgeMs: 500 });
    expect(withMaxWait({ poisson: 8, seed: 1 }, undefined)).toEqual({ poisson: 8, seed: 1, maxWaitMs: 100 });
    expect(withMaxWait('arrival', 50)).toBe('arrival');
    expect(withMaxWait({ timeMs: 20 }, 50)).toEqual({ timeMs: 20 });
  });
});
