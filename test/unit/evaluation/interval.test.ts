import { describe, expect, it } from 'vitest';
import { mean, sampleStd, studentTCdf, studentTQuantile, tHalfWidth } from '../../../src/evaluation/index.js';
import { fx } from './fixture.js';

describe('intervals over seeds', () => {
  it.each(fx.tQuantile.map((c) => [c.p, c.df, c] as const))(
    "t quantile p=%d, df=%d equals SciPy's t.ppf",
    (_p, _df, c) => {
      // SciPy 1.10's t.ppf inverts numerically to a relative 5e-9 or so (e.g. 0.28867513468800 for p = 0.6,
      // df = 2, where the closed form gives 1/√12 = 0.28867513459481); the closed forms below pin 1e-13.
      const t = studentTQuantile(c.p, c.df);
      expect(Math.abs(t - c.t) / c.t).toBeLessThan(1e-8);
      expect(studentTQuantile(1 - c.p, c.df)).toBe(-t);
      expect(Math.abs(studentTCdf(t, c.df) - c.p)).toBeLessThan(1e-12);
    },
  );

  it('equals the closed forms for df = 1 (Cauchy: tan π(p − ½)) and df = 2 ((2p − 1)/√(2p(1 − p)))', () => {
    for (const p of [0.6, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995]) {
      const t1 = Math.tan(Math.PI * (p - 0.5));
      const t2 = (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
      expect(Math.abs(studentTQuantile(p, 1) - t1) / t1).toBeLessThan(1e-13);
      expect(Math.abs(studentTQuantile(p, 2) - t2) / t2).toBeLessThan(1e-13);
    }
  });

  it('approaches the normal quantile 1.959964 for many degrees of freedom (no table that stops at some n)', () => {
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959964, 5);
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706204736, 8);
    expect(studentTQuantile(0.5, 7)).toBe(0);
  });

  it.each(fx.tHalfWidth.map((c) => [c.xs.length, c] as const))(
    '95 %% half-width over %i seeds equals t.ppf(0.975, n−1)·s/√n',
    (_n, c) => {
      expect(Math.abs(tHalfWidth(c.xs) - c.halfWidth) / c.halfWidth).toBeLessThan(1e-8);
    },
  );

  it('a known case: 1, 2, 3, 4, 5 gives 2.776445·√2.5/√5', () => {
    expect(mean([1, 2, 3, 4, 5])).toBe(3);
    expect(sampleStd([1, 2, 3, 4, 5])).toBeCloseTo(Math.sqrt(2.5), 15);
    expect(tHalfWidth([1, 2, 3, 4, 5])).toBeCloseTo((2.7764451051977934 * Math.sqrt(2.5)) / Math.sqrt(5), 10);
  });

  it('one seed has no interval; mean and std keep the comparison placeholders', () => {
    expect(tHalfWidth([0.3])).toBeNaN();
    expect(sampleStd([0.3])).toBe(0);
    expect(mean([])).toBe(0);
    expect(() => tHalfWidth([1, 2], 1)).toThrow(/level must be in \(0, 1\)/);
    expect(() => studentTQuantile(0.9, 0)).toThrow(/df must be/);
  });
});
