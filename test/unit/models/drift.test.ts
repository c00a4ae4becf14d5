import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { ModelError } from '../../../src/errors.js';
import { ADWIN } from '../../../src/models/drift/adwin.js';
import { createDriftDetector, driftDetectorFromState } from '../../../src/models/drift/driftDetector.js';
import { PageHinkley } from '../../../src/models/drift/pageHinkley.js';

/** A loss-like stream: N(before, sd) for `at` values, then N(after, sd). */
function stream(n: number, at: number, before: number, after: number, sd: number, seed: number): number[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, (_, i) => r.normal(i < at ? before : after, sd));
}

function alarms(det: { update(x: number): boolean }, xs: number[]): number[] {
  const out: number[] = [];
  xs.forEach((x, i) => {
    if (det.update(x)) out.push(i);
  });
  return out;
}

// Page-Hinkley's null walk drifts down by δ per value, so its excursions above the minimum are of order
// σ²/(2δ): with noise σ = 0.3, δ = 0.05 keeps them near 0.9, far below λ = 20, while a rise of 1.0 adds
// about 0.95 per value and crosses λ within ~25 values. (River's δ = 0.005 suits much less noisy streams.)
describe('Page-Hinkley', () => {
  it('detects an abrupt rise of the mean soon after it happens, and not before', () => {
    for (const seed of [1, 2, 3]) {
      const a = alarms(
        new PageHinkley({ threshold: 20, delta: 0.05 }),
        stream(3000, 2000, 0.5, 1.5, 0.3, seed),
      );
      expect(a.length, `seed ${seed}`).toBeGreaterThanOrEqual(1);
      expect(a[0]).toBeGreaterThanOrEqual(2000);
      expect(a[0]).toBeLessThan(2100);
    }
  });

  it('stays quiet on a stationary stream', () => {
    for (const seed of [4, 5, 6]) {
      const ph = new PageHinkley({ threshold: 20, delta: 0.05 });
      expect(alarms(ph, stream(5000, 5000, 0.5, 0.5, 0.3, seed))).toEqual([]);
      expect(ph.seen).toBe(5000);
      expect(ph.detections).toBe(0);
    }
  });

  it("in 'up' mode ignores a fall; in 'both' mode catches it", () => {
    const xs = stream(2000, 1000, 1.5, 0.5, 0.3, 7);
    expect(alarms(new PageHinkley({ threshold: 20, delta: 0.05 }), xs)).toEqual([]);
    const both = alarms(new PageHinkley({ threshold: 20, delta: 0.05, mode: 'both' }), xs);
    expect(both[0]).toBeGreaterThanOrEqual(1000);
    expect(both[0]).toBeLessThan(1100);
  });

  it('continues identically after a state round trip through JSON', () => {
    const xs = stream(3000, 1500, 0.5, 1.5, 0.3, 8);
    const a = new PageHinkley({ threshold: 20, delta: 0.05 });
    xs.slice(0, 1600).forEach((x) => a.update(x));
    const b = PageHinkley.fromState(JSON.parse(JSON.stringify(a.state())));
    expect(alarms(b, xs.slice(1600))).toEqual(alarms(a, xs.slice(1600)));
    expect(b.state()).toEqual(a.state());
  });

  it('rejects bad options and non-finite values, naming them', () => {
    expect(() => new PageHinkley({ threshold: 0 })).toThrow(/threshold/);
    expect(() => new PageHinkley({ alpha: NaN })).toThrow(/alpha/);
    expect(() => new PageHinkley().update(NaN)).toThrow(ModelError);
  });
});

describe('ADWIN', () => {
  it('detects an abrupt change of the mean soon after it happens and shrinks its window to the new regime', () => {
    for (const seed of [1, 2, 3]) {
      const ad = new ADWIN();
      const a = alarms(ad, stream(3000, 2000, 0.2, 0.8, 0.2, seed));
      expect(a.length, `seed ${seed}`).toBeGreaterThanOrEqual(1);
      expect(a[0]).toBeGreaterThanOrEqual(2000);
      expect(a[0]).toBeLessThan(2100);
      // The window now holds (mostly) post-change values.
      expect(ad.width).toBeLessThan(1100);
      expect(Math.abs(ad.estimation - 0.8)).toBeLessThan(0.05);
    }
  });

  it('detects a fall as well', () => {
    const a = alarms(new ADWIN(), stream(2000, 1000, 0.8, 0.3, 0.2, 9));
    expect(a[0]).toBeGreaterThanOrEqual(1000);
    expect(a[0]).toBeLessThan(1100);
  });

  it('stays quiet on a stationary stream and keeps the whole window', () => {
    for (const seed of [4, 5, 6]) {
      const ad = new ADWIN();
      expect(alarms(ad, stream(5000, 5000, 0.5, 0.5, 0.2, seed))).toEqual([]);
      expect(ad.width).toBe(5000);
      expect(Math.abs(ad.estimation - 0.5)).toBeLessThan(0.01);
    }
  });

  it('compresses the window into O(log W) buckets with exact totals', () => {
    const ad = new ADWIN();
    const xs = stream(4096, 4096, 1, 1, 0.1, 10);
    xs.forEach((x) => ad.update(x));
    const s = ad.state();
    const buckets = s.levels.reduce((a, l) => a + l.totals.length, 0);
    expect(buckets).toBeLessThanOrEqual(6 * s.levels.length);
    expect(s.levels.length).toBeLessThanOrEqual(12);
    const total = s.levels.reduce((a, l) => a + l.totals.reduce((p, q) => p + q, 0), 0);
    expect(total).toBeCloseTo(
      xs.reduce((a, b) => a + b, 0),
      6,
    );
    // Bucket variances add up to the window's sum of squared deviations.
    const mean = total / 4096;
    const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
    expect(s.variance).toBeCloseTo(ss, 6);
  });

  it('continues identically after a state round trip through JSON', () => {
    const xs = stream(3000, 1500, 0.2, 0.8, 0.2, 11);
    const a = new ADWIN();
    xs.slice(0, 1400).forEach((x) => a.update(x));
    const b = ADWIN.fromState(JSON.parse(JSON.stringify(a.state())));
    expect(alarms(b, xs.slice(1400))).toEqual(alarms(a, xs.slice(1400)));
    expect(b.state()).toEqual(a.state());
  });

  it('is built from a config spec and restored by kind', () => {
    const d = createDriftDetector({ type: 'adwin', delta: 0.01 });
    d.update(1);
    expect(driftDetectorFromState(JSON.parse(JSON.stringify(d.state()))).seen).toBe(1);
    expect(createDriftDetector({ type: 'page-hinkley' })).toBeInstanceOf(PageHinkley);
    expect(() => createDriftDetector({ type: 'cusum' } as never)).toThrow(/drift\.type/);
    expect(() => new ADWIN({ delta: 2 })).toThrow(/delta/);
  });
});
