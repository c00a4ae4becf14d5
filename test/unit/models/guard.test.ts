import { describe, expect, it } from 'vitest';
import { NonFiniteGuard } from '../../../src/models/guard.js';
import { NonFiniteUpdateError } from '../../../src/errors.js';
import { LinearModel } from '../../../src/models/linear/index.js';

describe('NonFiniteGuard', () => {
  it('commits a finite update and restores whole arrays after a non-finite one', () => {
    const g = new NonFiniteGuard();
    const a = Float64Array.from([1, 2, 3]);
    const b = Float64Array.from([4]);
    expect(g.run([a, b], () => a.fill(7))).toBe(true);
    expect(Array.from(a)).toEqual([7, 7, 7]);
    expect(
      g.run([a, b], () => {
        a[0] = 0;
        b[0] = Infinity;
      }),
    ).toBe(false);
    expect(Array.from(a)).toEqual([7, 7, 7]);
    expect(Array.from(b)).toEqual([4]);
    expect(g.rejected).toBe(1);
    expect(() => g.run([b], () => (b[0] = NaN), true)).toThrow(NonFiniteUpdateError);
    expect(b[0]).toBe(4);
  });

  it('guards only the listed coordinates when given indices', () => {
    const g = new NonFiniteGuard();
    const w = Float64Array.from([1, 2, 3, 4]);
    const idx = Int32Array.from([3, 1]);
    g.save([w], idx, 2);
    w[3] = NaN;
    w[1] = 5;
    expect(g.commit()).toBe(false);
    expect(Array.from(w)).toEqual([1, 2, 3, 4]);
  });
});

describe('LinearModel divergence guard', () => {
  it('the exponential loss with a huge rate is rejected, not propagated, on dense and sparse paths', () => {
    for (const sparse of [false, true]) {
      const m = new LinearModel({ loss: 'exponential', optimizer: { type: 'sgd', lr: 1e300 }, dim: 2 });
      const x = (a: number, b: number) => (sparse ? { indices: [0, 1], values: [a, b] } : [a, b]);
      m.learnOne(x(1, 1), 0); // w ≈ −1e300: finite
      const before = [...m.weights, m.bias];
      m.learnOne(x(-1, -1), 0); // margin ≈ 2e300 → e^(2e300) = Infinity: rejected
      expect(m.rejectedUpdates).toBe(1);
      expect([...m.weights, m.bias]).toEqual(before);
      expect(m.steps).toBe(1);
      expect(Number.isFinite(m.predictProbaOne(x(0.5, 0.5))[1])).toBe(true);
    }
  });

  it('an FTRL update whose squared gradient overflows n is rejected and leaves every weight finite', () => {
    const m = new LinearModel({ loss: 'squared', optimizer: { type: 'ftrl', alpha: 1, beta: 1 }, dim: 4 });
    m.learnOne({ indices: [1], values: [1e160] }, 0);
    m.learnOne({ indices: [1], values: [1e160] }, 1e160); // g² overflows n: rejected
    expect(m.rejectedUpdates).toBeGreaterThanOrEqual(1);
    expect(m.weights.every(Number.isFinite)).toBe(true);
  });
});
