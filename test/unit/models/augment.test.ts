import { describe, expect, it } from 'vitest';
import { tensor } from '../../../src/core/tensor.js';
import { WindowAugmenter } from '../../../src/models/augment.js';
import { WindowNet } from '../../../src/models/nets/windowNet.js';
import { windowTask } from './nets/helpers.js';

const ramp = (n: number, c: number, l: number) =>
  tensor(
    Array.from({ length: n * c * l }, (_, i) => i % l),
    [n, c, l],
  );

describe('WindowAugmenter', () => {
  it('is off by default and then returns its input untouched', () => {
    const a = new WindowAugmenter();
    const x = ramp(2, 2, 5);
    expect(a.enabled).toBe(false);
    expect(a.apply(x)).toBe(x);
  });

  it('jitter adds zero-mean noise of the given std', () => {
    const x = tensor(new Float64Array(20_000), [100, 2, 100]);
    const y = new WindowAugmenter({ jitter: 0.3, seed: 1 }).apply(x);
    const mean = y.data.reduce((a, b) => a + b, 0) / y.data.length;
    const sd = Math.sqrt(y.data.reduce((a, b) => a + b * b, 0) / y.data.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(sd - 0.3)).toBeLessThan(0.01);
    expect(x.data.every((v) => v === 0)).toBe(true);
  });

  it('scaling multiplies each window channel by one factor 1 + N(0, s²)', () => {
    const x = tensor(new Float64Array(2 * 3 * 4).fill(2), [2, 3, 4]);
    const y = new WindowAugmenter({ scale: 0.2, seed: 2 }).apply(x);
    for (let r = 0; r < 6; r++) {
      const row = Array.from(y.data.slice(r * 4, r * 4 + 4));
      expect(new Set(row).size).toBe(1);
    }
    expect(new Set(Array.from(y.data)).size).toBeGreaterThan(1);
  });

  it('time shift moves each window by at most `shift` steps, repeating the edge value', () => {
    const x = ramp(200, 1, 10);
    const y = new WindowAugmenter({ shift: 2, seed: 3 }).apply(x);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const row = Array.from(y.data.slice(i * 10, i * 10 + 10));
      // ramp 0..9 shifted by s: value at t is clamp(t − s, 0, 9).
      const s = 5 - row[5];
      seen.add(s);
      expect(Math.abs(s)).toBeLessThanOrEqual(2);
      row.forEach((v, t) => expect(v).toBe(Math.min(9, Math.max(0, t - s))));
    }
    expect([...seen].sort()).toEqual([-1, -2, 0, 1, 2].sort());
  });

  it('is seeded: same seed, same augmentation; the state round trip continues identically', () => {
    const x = ramp(4, 2, 8);
    const opts = { jitter: 0.1, scale: 0.1, shift: 1, seed: 7 };
    expect(new WindowAugmenter(opts).apply(x)).toEqual(new WindowAugmenter(opts).apply(x));
    const a = new WindowAugmenter(opts);
    a.apply(x);
    const b = WindowAugmenter.fromState(JSON.parse(JSON.stringify(a.state())));
    expect(b.apply(x)).toEqual(a.apply(x));
  });

  it('validates its options, naming them', () => {
    expect(() => new WindowAugmenter({ jitter: -1 })).toThrow(/augment\.jitter/);
    expect(() => new WindowAugmenter({ shift: 1.5 })).toThrow(/augment\.shift/);
    expect(() => new WindowAugmenter({ scale: NaN })).toThrow(/augment\.scale/);
  });

  it('in WindowNet it changes training only: predictions never see it, and off means bit-identical training', () => {
    const { X, Y } = windowTask(16, 4);
    const base = { inChannels: 2, length: 16, classes: 2, seed: 1 };
    const plain = new WindowNet(base);
    const off = new WindowNet({ ...base, augment: {} });
    const on = new WindowNet({ ...base, augment: { jitter: 0.5 } });
    expect(on.predictProbaMany(X)).toEqual(plain.predictProbaMany(X));
    for (const n of [plain, off, on]) n.learnMany(X, Y);
    expect(off.state().params).toEqual(plain.state().params);
    expect(on.state().params).not.toEqual(plain.state().params);
  });
});
