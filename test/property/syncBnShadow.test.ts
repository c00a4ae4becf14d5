/**
 * Shadow steps of `run --sync-bn` (src/scale/syncBnCoordinator.ts): an idle replica contributes count 0 (moments
 * of zeros) and gradient sums of zeros. Pooling with any number of such contributions, anywhere in the order,
 * must give bit for bit what pooling without them gives, or an idle replica would change its peers' statistics.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { poolGradientSums, poolMoments } from '../../src/normalizers/statisticsReducer.js';

const value = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });

function identical(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** C channels and 1–5 real contributions `[count ≥ 1, means, M2 ≥ 0]`, plus where to put 1–4 count-0 ones. */
const setup = fc.integer({ min: 1, max: 4 }).chain((c) =>
  fc.record({
    c: fc.constant(c),
    real: fc.array(
      fc.record({
        count: fc.integer({ min: 1, max: 64 }),
        mean: fc.array(value, { minLength: c, maxLength: c }),
        m2: fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: c, maxLength: c }),
        sums: fc.array(value, { minLength: 2 * c, maxLength: 2 * c }),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    shadows: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  }),
);

describe('count-0 (shadow) contributions pool exactly', () => {
  it('poolMoments and poolGradientSums with shadows inserted anywhere equal them without', () => {
    fc.assert(
      fc.property(setup, ({ c, real, shadows }) => {
        const moments = real.map((r) => Float64Array.from([r.count, ...r.mean, ...r.m2]));
        const sums = real.map((r) => Float64Array.from(r.sums));
        const withM = [...moments];
        const withS = [...sums];
        for (const at of shadows) {
          const i = at % (withM.length + 1);
          withM.splice(i, 0, new Float64Array(1 + 2 * c));
          withS.splice(i, 0, new Float64Array(2 * c));
        }
        expect(withM.length).toBeGreaterThan(moments.length);
        expect(identical(poolMoments(withM), poolMoments(moments))).toBe(true);
        expect(identical(poolGradientSums(withS), poolGradientSums(sums))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('is not vacuous: a count-1 contribution of zeros does change the pooled moments', () => {
    const a = Float64Array.from([2, 3, 1]);
    expect(identical(poolMoments([a, Float64Array.from([1, 0, 0])]), poolMoments([a]))).toBe(false);
  });
});
