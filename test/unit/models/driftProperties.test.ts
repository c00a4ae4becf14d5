import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { ADWIN } from '../../../src/models/drift/adwin.js';
import { PageHinkley } from '../../../src/models/drift/pageHinkley.js';

describe('drift detector invariants (property tests)', () => {
  it('ADWIN: the window is always the most recent `width` values, its bucket totals and variance exact', () => {
    let cutRuns = 0;
    fc.assert(
      fc.property(
        // Regimes of random length at level 0 or 5 with uniform noise: cuts happen at the switches.
        fc.array(fc.tuple(fc.constantFrom(0, 5), fc.integer({ min: 1, max: 150 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 8 }),
        (regimes, seed, clock) => {
          const rng = new Rng(seed);
          const xs = regimes.flatMap(([level, n]) => Array.from({ length: n }, () => level + rng.next()));
          const ad = new ADWIN({ clock, delta: 0.05 });
          xs.forEach((x) => ad.update(x));
          const s = ad.state();
          const window = xs.slice(xs.length - s.width);
          const sum = window.reduce((a, b) => a + b, 0);
          const mean = sum / window.length;
          const ss = window.reduce((a, x) => a + (x - mean) ** 2, 0);
          let bucketTotal = 0;
          let count = 0;
          s.levels.forEach((l, i) => {
            expect(l.totals.length).toBeLessThanOrEqual(s.maxBuckets);
            bucketTotal += l.totals.reduce((a, b) => a + b, 0);
            count += l.totals.length * 2 ** i;
          });
          expect(count).toBe(s.width);
          expect(Math.abs(s.total - sum)).toBeLessThan(1e-9 * Math.max(1, Math.abs(sum)));
          expect(Math.abs(bucketTotal - sum)).toBeLessThan(1e-9 * Math.max(1, Math.abs(sum)));
          expect(Math.abs(s.variance - ss)).toBeLessThan(1e-7 * Math.max(1, ss));
          expect(s.seen).toBe(xs.length);
          if (s.width < xs.length) cutRuns++;
        },
      ),
      { numRuns: 150, seed: 7 },
    );
    // The invariant was exercised across cuts, not only on growing windows.
    expect(cutRuns).toBeGreaterThan(20);
  });

  it('Page-Hinkley: a constant stream never alarms, whatever the constant and options', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('up', 'down', 'both') as fc.Arbitrary<'up' | 'down' | 'both'>,
        (c, delta, mode) => {
          const ph = new PageHinkley({ delta, threshold: 1, minInstances: 1, mode });
          for (let i = 0; i < 300; i++) expect(ph.update(c)).toBe(false);
        },
      ),
      { numRuns: 100, seed: 8 },
    );
  });
});
