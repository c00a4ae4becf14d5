import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allFinite, ddot, ddot4 } from '../../../src/core/kernels.js';

const vec = (n: number) =>
  fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: n, maxLength: n });

describe('core kernels', () => {
  it('ddot4 sums (s0 + s1) + (s2 + s3), s_r over i ≡ r (mod 4), the tail in s0: bit for bit', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 11 })
          .chain((n) => fc.tuple(fc.constant(n), vec(n + 3), vec(n), fc.integer({ min: 0, max: 3 }))),
        ([n, x, y, o]) => {
          const xa = Float64Array.from(x);
          const s = [0, 0, 0, 0];
          const whole = n - (n % 4);
          for (let i = 0; i < whole; i++) s[i % 4] += xa[o + i] * y[i];
          for (let i = whole; i < n; i++) s[0] += xa[o + i] * y[i];
          expect(Object.is(ddot4(n, xa, o, y), s[0] + s[1] + (s[2] + s[3]))).toBe(true);
        },
      ),
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
