/**
 * The same identity through the generic state arithmetic replicas use (src/scale/stateDelta.ts): N replicas
 * that start from one state and learn disjoint batches, merged as `initial + Σ (replica − initial)`, hold the
 * statistics one process would hold after all the batches (BatchNorm with `momentum: null`, to 1e-9; counters
 * add up; γ/β are parameters and add as steps), for any split and any order of merging; moving averages are
 * exchanged by value and mixed by events.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/core/tensor.js';
import { BatchNorm, mixStatistics, type BatchNormState } from '../../src/normalizers/index.js';
import {
  addDeltas,
  applyDelta,
  readMixtures,
  stateDelta,
  writeMixtures,
  type StateDelta,
} from '../../src/scale/stateDelta.js';

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
      fc.integer({ min: 2, max: 5 }).chain((n) =>
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

  it('moving averages are exchanged by value and mixed by events (law of total variance), never by delta', () => {
    const start = new BatchNorm({ channels: 1, momentum: 0.9 });
    const initial = start.state();
    const r = BatchNorm.fromState(initial as BatchNormState);
    r.forward(tensor([5, 5, 5, 5], [4, 1]));
    const d = stateDelta(r.state(), initial) as Record<string, unknown>;
    expect(d.runningMean).toBeUndefined();
    expect(d.runningVar).toBeUndefined();
    expect(d.numBatchesTracked).toBe(1);
    const mixtures = readMixtures(r.state());
    expect(Object.keys(mixtures)).toEqual(['']);
    expect(mixtures[''].mean[0]).toBeCloseTo(4.5, 12);
    expect(mixtures[''].variance[0]).toBeCloseTo(0.1, 12);
    // Two replicas: (w 2, mean 0, var 1) and (w 2, mean 2, var 1): the pooled mean 1 and variance 1 + 1 = 2.
    expect(
      mixStatistics([
        { weight: 2, mean: [0], variance: [1] },
        { weight: 2, mean: [2], variance: [1] },
      ]),
    ).toEqual({
      mean: [1],
      variance: [2],
    });
    // No replica has seen an event: there is nothing to mix (found by fast-check, kept as an example).
    expect(mixStatistics([{ weight: 0, mean: [0], variance: [0] }])).toBeNull();
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            weight: fc.integer({ min: 0, max: 50 }),
            mean: fc.tuple(value),
            variance: fc.tuple(fc.double({ min: 0, max: 1e3, noNaN: true })),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        (parts) => {
          const m = mixStatistics(parts);
          const live = parts.filter((p) => p.weight > 0);
          if (live.length === 0) {
            expect(m).toBeNull();
            return;
          }
          const lo = Math.min(...live.map((p) => p.mean[0]));
          const hi = Math.max(...live.map((p) => p.mean[0]));
          expect(m!.mean[0]).toBeGreaterThanOrEqual(lo - 1e-9 * (1 + Math.abs(lo)));
          expect(m!.mean[0]).toBeLessThanOrEqual(hi + 1e-9 * (1 + Math.abs(hi)));
          expect(m!.variance[0]).toBeGreaterThanOrEqual(Math.min(...live.map((p) => p.variance[0])) - 1e-9);
          const written = writeMixtures(initial, { '': m! }) as BatchNormState;
          expect(written.runningMean).toEqual(m!.mean);
        },
      ),
    );
  });
});
