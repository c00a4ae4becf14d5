/**
 * The same identity through the generic state arithmetic replicas use (src/scale/stateDelta.ts): N replicas
 * that start from one state and learn disjoint batches, merged as `initial + Σ (replica − initial)`, hold the
 * statistics one process would hold after all the batches (BatchNorm with `momentum: null`, to 1e-9; counters
 * add up; γ/β are parameters and add as steps), for any split and any order of merging.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/core/tensor.js';
import { BatchNorm, type BatchNormState } from '../../src/normalizers/index.js';
import { addDeltas, applyDelta, stateDelta, type StateDelta } from '../../src/scale/stateDelta.js';

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-9): void {
  expect(a.length).toBe(b.length);
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * scale);
}

const value = fc.double({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true });
const split = fc.integer({ min: 1, max: 4 }).chain((c) =>
  fc.record({
    c: fc.constant(c),
    replicas: fc.integer({ min: 1, max: 4 }),
    warmup: fc.array(value, { minLength: 3 * c, maxLength: 3 * c }),
    batches: fc.array(
      fc
        .integer({ min: 2, max: 5 })
        .chain((n) =>
          fc.record({
            data: fc.array(value, { minLength: n * c, maxLength: n * c }),
            n: fc.constant(n),
            owner: fc.nat(),
          }),
        ),
      { minLength: 1, maxLength: 10 },
    ),
  }),
);

describe('replicas merged through state deltas', () => {
  it('BatchNorm(momentum=null) statistics: initial + Σ deltas = one process over all batches, to 1e-9', () => {
    fc.assert(
      fc.property(split, fc.boolean(), ({ c, replicas, warmup, batches }, reverse) => {
        // A shared starting point that already learned something (the merged model of an earlier round).
        const start = new BatchNorm({ channels: c, momentum: null });
        start.forward(tensor(warmup, [3, c]));
        const initial = start.state();
        const single = BatchNorm.fromState(initial as BatchNormState);
        const reps = Array.from({ length: replicas }, () => BatchNorm.fromState(initial as BatchNormState));
        for (const b of batches) {
          const x = tensor(b.data, [b.n, c]);
          single.forward(x);
          reps[b.owner % replicas].forward(x);
        }
        const deltas = reps.map((r) => stateDelta(r.state(), initial));
        if (reverse) deltas.reverse();
        const total = deltas.reduce<StateDelta | undefined>((acc, d) => addDeltas(acc, d), undefined);
        const merged = applyDelta(initial, total) as BatchNormState;
        expect(merged.numBatchesTracked).toBe(single.numBatchesTracked);
        expectClose(merged.runningMean!, single.runningMean);
        expectClose(merged.runningVar!, single.runningVar);
        // Folding the replicas one at a time gives the same statistics as folding their sum.
        let folded = initial;
        for (const d of deltas) folded = applyDelta(folded, d);
        expectClose((folded as BatchNormState).runningMean!, single.runningMean);
        expect(() => BatchNorm.fromState(merged)).not.toThrow();
      }),
    );
  });

  it('moving averages merge as summed deltas with variances kept >= 0', () => {
    const start = new BatchNorm({ channels: 1, momentum: 0.9 });
    const initial = start.state();
    // Each replica alone moves the variance from 1 toward ~0; summing their deltas would overshoot below 0.
    const reps = [0, 1, 2].map(() => {
      const r = BatchNorm.fromState(initial as BatchNormState);
      r.forward(tensor([5, 5, 5, 5], [4, 1]));
      return stateDelta(r.state(), initial);
    });
    const merged = applyDelta(
      initial,
      reps.reduce<StateDelta | undefined>((a, d) => addDeltas(a, d), undefined),
    ) as BatchNormState;
    expect(merged.runningVar![0]).toBe(0);
    expect(merged.numBatchesTracked).toBe(3);
    expect(merged.runningMean![0]).toBeCloseTo(3 * 0.9 * 5, 10);
  });
});
