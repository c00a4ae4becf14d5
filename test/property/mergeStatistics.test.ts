/**
 * Replicas' running statistics merged with Chan et al.'s parallel formula equal one process's statistics
 * over the same events (fast-check): BatchNorm with `momentum: null` (counted moments over batches) and
 * StandardScaler (counted moments over events), for any split of the batches among N replicas and any
 * order; subtracting a part's moments inverts merging it; moving averages (numeric momentum) are not
 * counted moments and name the fields replicas mix by value instead.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/core/tensor.js';
import {
  BatchNorm,
  StandardScaler,
  emptyMoments,
  mergeMoments,
  statisticsMerges,
  subtractMoments,
  type Moments,
} from '../../src/normalizers/index.js';

const TOL = 1e-9;

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = TOL): void {
  expect(a.length).toBe(b.length);
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * scale);
}

const value = fc.double({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true });

/** Batches `[n, c]` (n ≥ 2) of one channel count, each given to one of `replicas` replicas. */
const splitBatches = fc.integer({ min: 1, max: 5 }).chain((c) =>
  fc.record({
    c: fc.constant(c),
    replicas: fc.integer({ min: 1, max: 4 }),
    batches: fc.array(
      fc.integer({ min: 2, max: 6 }).chain((n) =>
        fc.record({
          data: fc.array(value, { minLength: n * c, maxLength: n * c }),
          n: fc.constant(n),
          owner: fc.nat(),
        }),
      ),
      { minLength: 1, maxLength: 12 },
    ),
  }),
);

function merged(parts: Moments[]): Moments {
  return parts.reduce((acc, m) => mergeMoments(acc, m));
}

describe('merged running statistics equal single-process statistics', () => {
  const bnMerge = statisticsMerges().get('batch')!;
  const scMerge = statisticsMerges().get('standard-scaler')!;

  it('BatchNorm(momentum=null): N replicas merged = one process over the same batches, to 1e-9', () => {
    fc.assert(
      fc.property(splitBatches, fc.boolean(), ({ c, replicas, batches }, reverse) => {
        const single = new BatchNorm({ channels: c, momentum: null });
        const reps = Array.from({ length: replicas }, () => new BatchNorm({ channels: c, momentum: null }));
        for (const b of batches) {
          const x = tensor(b.data, [b.n, c]);
          single.forward(x);
          reps[b.owner % replicas].forward(x);
        }
        const states = reps.map((r) => r.state() as unknown as Record<string, unknown>);
        if (reverse) states.reverse();
        expect(states.every((s) => bnMerge.exact(s))).toBe(true);
        const m = merged(states.map((s) => bnMerge.read(s)));
        const out = bnMerge.write(states[0], m);
        expect(out.numBatchesTracked).toBe(single.numBatchesTracked);
        expectClose(out.runningMean as number[], single.runningMean);
        expectClose(out.runningVar as number[], single.runningVar);
        // The merged state is a BatchNorm state that keeps learning like the single process.
        const resumed = BatchNorm.fromState(out as never);
        const next = tensor(batches[0].data, [batches[0].n, c]);
        resumed.forward(next);
        single.forward(next);
        expectClose(resumed.runningMean, single.runningMean);
        expectClose(resumed.runningVar, single.runningVar);
      }),
    );
  });

  it('StandardScaler: N replicas merged = one process over the same events, to 1e-9', () => {
    fc.assert(
      fc.property(splitBatches, ({ c, replicas, batches }) => {
        const single = new StandardScaler({ features: c });
        const reps = Array.from({ length: replicas }, () => new StandardScaler({ features: c }));
        for (const b of batches) {
          const x = tensor(b.data, [b.n, c]);
          single.partialFit(x);
          reps[b.owner % replicas].partialFit(x);
        }
        const states = reps.map((r) => r.state() as unknown as Record<string, unknown>);
        const out = scMerge.write(states[0], merged(states.map((s) => scMerge.read(s))));
        expect(out.count).toBe(single.count);
        expectClose(out.mean as number[], single.mean);
        const back = StandardScaler.fromState(out as never);
        expectClose(back.variance, single.variance);
      }),
    );
  });

  it('subtracting a part inverts merging it (what a replica learned since its base)', () => {
    const moments = fc.integer({ min: 1, max: 4 }).chain((w) =>
      fc.record({
        count: fc.integer({ min: 1, max: 50 }),
        means: fc.tuple(fc.array(value, { minLength: w, maxLength: w })),
        m2: fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: w, maxLength: w }),
      }),
    );
    fc.assert(
      fc.property(moments, moments, (a, b) => {
        fc.pre(a.m2.length === b.m2.length);
        const total = mergeMoments(a, b);
        const back = subtractMoments(total, a);
        expect(back.count).toBe(b.count);
        expectClose(back.means[0], b.means[0], 1e-7);
        expectClose(back.m2!, b.m2, 1e-6);
        expect(mergeMoments(emptyMoments(1, a.m2.length, true), a)).toEqual(a);
      }),
    );
  });

  it('moving-average statistics are not counted moments: they name the fields mixed by value', () => {
    const ema = new BatchNorm({ channels: 2 }).state() as unknown as Record<string, unknown>;
    expect(bnMerge.exact(ema)).toBe(false);
    expect(bnMerge.nonNegative).toEqual(['runningVar']);
    expect(statisticsMerges().get('batchrenorm')!.exact({})).toBe(false);
    expect(statisticsMerges().get('online')!.nonNegative).toEqual(['variance']);
    expect(() => statisticsMerges().get('online')!.read({})).toThrow(RangeError);
    expect(statisticsMerges().get('online')!.mixture).toEqual({ mean: 'mu', variance: 'variance' });
    expect(bnMerge.mixture).toEqual({ mean: 'runningMean', variance: 'runningVar' });
  });
});
