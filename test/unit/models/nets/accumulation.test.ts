import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../src/core/rng.js';
import { Mlp } from '../../../../src/models/nets/mlp.js';
import { WindowNet } from '../../../../src/models/nets/windowNet.js';
import { windowTask } from './helpers.js';

function vectors(n: number, seed: number): { X: number[][]; Y: number[] } {
  const rng = new Rng(seed);
  const X = Array.from({ length: n }, () => Array.from({ length: 5 }, () => rng.normal()));
  return { X, Y: X.map((x) => (x[0] - x[1] + 0.3 * x[2] > 0 ? 1 : 0)) };
}

const mlp = (normalizer: string): Mlp =>
  new Mlp({
    inputs: 5,
    hidden: [6],
    classes: 2,
    normalizer,
    seed: 3,
    l1: 0.01,
    l2: 0.02,
    optimizer: { type: 'adam', lr: 0.01 },
  });

function maxAbsDiff(a: Record<string, number[]>, b: Record<string, number[]>): number {
  let d = 0;
  for (const k of Object.keys(a))
    for (let i = 0; i < a[k].length; i++) d = Math.max(d, Math.abs(a[k][i] - b[k][i]));
  return d;
}

describe('gradient accumulation (accumulateMany, then one stepAccumulated)', () => {
  it('with a per-sample normalizer, any split of a batch into arrival batches takes the step learnMany takes on the whole', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.array(fc.integer({ min: 1, max: 11 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('layer', 'none'),
        (n, rawCuts, normalizer) => {
          const { X, Y } = vectors(n, n);
          const cuts = [...new Set(rawCuts.filter((c) => c < n))].sort((a, b) => a - b);
          const whole = mlp(normalizer);
          whole.learnMany(X, Y);
          const parts = mlp(normalizer);
          let from = 0;
          for (const c of [...cuts, n]) {
            parts.accumulateMany(X.slice(from, c), Y.slice(from, c));
            from = c;
          }
          expect(parts.pendingEvents).toBe(n);
          expect(parts.steps).toBe(0);
          expect(parts.stepAccumulated()).toBe(true);
          expect(parts.steps).toBe(1);
          expect(parts.pendingEvents).toBe(0);
          expect(maxAbsDiff(parts.state().params, whole.state().params)).toBeLessThan(1e-12);
          expect(parts.lastLoss).toBeCloseTo(whole.lastLoss, 12);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('leaves the weights untouched until the step, while BatchNorm sees each arrival batch as its batch', () => {
    const { X, Y } = windowTask(8, 4);
    const net = new WindowNet({
      inChannels: 2,
      length: 16,
      hidden: 4,
      kernel: 3,
      classes: 2,
      normalizer: 'batch',
      seed: 1,
    });
    const before = net.state();
    net.accumulateMany(X.slice(0, 4), Y.slice(0, 4));
    net.accumulateMany(X.slice(4), Y.slice(4));
    const mid = net.state();
    expect(mid.params).toEqual(before.params);
    // two training-mode batches moved the running statistics twice
    expect((mid.normalizers[0] as unknown as { numBatchesTracked: number }).numBatchesTracked).toBe(2);
    expect(net.stepAccumulated()).toBe(true);
    expect(net.state().params).not.toEqual(before.params);
    expect(net.stepAccumulated()).toBe(false);
    expect(net.steps).toBe(1);
  });

  it('keeps pending gradients across state() / fromState()', () => {
    const { X, Y } = vectors(6, 9);
    const a = mlp('layer');
    a.accumulateMany(X.slice(0, 3), Y.slice(0, 3));
    const b = Mlp.fromState(a.state());
    expect(b.pendingEvents).toBe(3);
    a.accumulateMany(X.slice(3), Y.slice(3));
    b.accumulateMany(X.slice(3), Y.slice(3));
    a.stepAccumulated();
    b.stepAccumulated();
    expect(b.state().params).toEqual(a.state().params);
  });
});
