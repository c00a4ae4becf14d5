import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allFinite, ddot, ddot4 } from '../../../src/core/kernels.js';
import { expectBit, values } from './pinning.js';

describe('core kernels', () => {
  it('ddot4 sums (s0 + s1) + (s2 + s3), s_r over i ≡ r (mod 4), the tail in s0: bit for bit', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 11 })
          .chain((n) => fc.tuple(fc.constant(n), values(n + 3), values(n), fc.integer({ min: 0, max: 3 }))),
        ([n, x, y, o]) => {
          const s = [0, 0, 0, 0];
          const whole = n - (n % 4);
          for (let i = 0; i < whole; i++) s[i % 4] += x[o + i] * y[i];
          for (let i = whole; i < n; i++) s[0] += x[o + i] * y[i];
          const expected = s[0] + s[1] + (s[2] + s[3]);
          expectBit('ddot4, Float64Array y', ddot4(n, x, o, y), expected);
          expectBit('ddot4, number[] y', ddot4(n, x, o, Array.from(y)), expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('ddot sums strided products in index order', () => {
    const x = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const y = Float64Array.from([0.5, -1, 2]);
    expect(ddot(3, x, 2, 1, y, 1, 0)).toBe(2 * 0.5 - 4 + 12);
  });

  it('allFinite finds a NaN or an infinity at any strided position, and only there', () => {
    const x = new Float64Array(9).fill(1);
    expect(allFinite(9, x)).toBe(true);
    x[7] = Infinity;
    expect(allFinite(9, x)).toBe(false);
    expect(allFinite(7, x)).toBe(true);
    expect(allFinite(4, x, 2, 1)).toBe(false);
    expect(allFinite(3, x, 3, 0)).toBe(true);
    x[0] = NaN;
    expect(allFinite(1, x)).toBe(false);
  });
});
