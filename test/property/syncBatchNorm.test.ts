/**
 * Synchronized BatchNorm (issue 11): N replicas with batches b_1..b_N, pooled through the in-process exchange,
 * compute what one BatchNorm computes over the concatenated batch — outputs, input gradients, running statistics
 * (to 1e-9), and γ/β gradients summed over replicas — and every replica's pooled statistics are bit-identical.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/core/tensor.js';
import { NormalizationError, SyncError } from '../../src/errors.js';
import { BatchNorm, poolGradientSums, poolMoments } from '../../src/normalizers/index.js';
import { InMemoryExchange } from '../../src/scale/stepExchange.js';
import { SyncBatchNorm } from '../../src/scale/syncBatchNorm.js';

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-9): void {
  expect(a.length).toBe(b.length);
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * scale);
}

function expectIdentical(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Object.is(a[i], b[i])).toBe(true);
}

const value = fc.double({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true });

/** C channels, L positions, 1–4 replicas with 1–4 rows each (at least 2 values per channel in all), 1–3 steps. */
const setup = fc
  .record({
    c: fc.integer({ min: 1, max: 3 }),
    l: fc.integer({ min: 1, max: 2 }),
    rows: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
    steps: fc.integer({ min: 1, max: 3 }),
    momentum: fc.constantFrom<number | null>(0.1, null),
  })
  .filter(({ rows, l }) => rows.reduce((a, b) => a + b, 0) * l >= 2)
  .chain((s) => {
    const total = s.rows.reduce((a, b) => a + b, 0);
    const size = total * s.c * s.l;
    const step = fc.record({
      x: fc.array(value, { minLength: size, maxLength: size }),
      dy: fc.array(value, { minLength: size, maxLength: size }),
    });
    return fc.record({
      s: fc.constant(s),
      gamma: fc.array(fc.double({ min: 0.1, max: 3, noNaN: true }), { minLength: s.c, maxLength: s.c }),
      beta: fc.array(value, { minLength: s.c, maxLength: s.c }),
      data: fc.array(step, { minLength: s.steps, maxLength: s.steps }),
    });
  });

describe('synchronized BatchNorm', () => {
  it('N replicas pooled = one BatchNorm over the concatenated batch (outputs, dx, Σ dγ/dβ, running stats), to 1e-9', async () => {
    await fc.assert(
      fc.asyncProperty(setup, async ({ s, gamma, beta, data }) => {
        const { c, l, rows, momentum } = s;
        const total = rows.reduce((a, b) => a + b, 0);
        const single = new BatchNorm({ channels: c, momentum });
        single.params.gamma!.set(gamma);
        single.params.beta!.set(beta);
        const group = new InMemoryExchange(rows.length);
        const replicas = rows.map((_, i) => {
          const bn = new BatchNorm({ channels: c, momentum });
          bn.params.gamma!.set(gamma);
          bn.params.beta!.set(beta);
          return new SyncBatchNorm(bn, group.member(i));
        });
        const starts = rows.map((_, i) => rows.slice(0, i).reduce((a, b) => a + b, 0) * c * l);
        const shapeOf = (n: number): number[] => (l === 1 ? [n, c] : [n, c, l]);
        for (const { x, dy } of data) {
          const y = single.forward(tensor(x, shapeOf(total)));
          const dx = single.backward(tensor(dy, shapeOf(total)));
          const slice = (v: number[], i: number): number[] => v.slice(starts[i], starts[i] + rows[i] * c * l);
          const ys = await Promise.all(
            replicas.map((r, i) => r.forward(tensor(slice(x, i), shapeOf(rows[i])))),
          );
          const dxs = await Promise.all(
            replicas.map((r, i) => r.backward(tensor(slice(dy, i), shapeOf(rows[i])))),
          );
          ys.forEach((yr, i) =>
            expectClose(yr.data, y.data.subarray(starts[i], starts[i] + rows[i] * c * l)),
          );
          dxs.forEach((dr, i) =>
            expectClose(dr.data, dx.data.subarray(starts[i], starts[i] + rows[i] * c * l)),
          );
          const sumGrad = (k: 'gamma' | 'beta'): number[] =>
            Array.from({ length: c }, (_, j) => replicas.reduce((a, r) => a + r.bn.grads[k]![j], 0));
          expectClose(sumGrad('gamma'), single.grads.gamma!);
          expectClose(sumGrad('beta'), single.grads.beta!);
        }
        for (const r of replicas) {
          expect(r.bn.numBatchesTracked).toBe(single.numBatchesTracked);
          expectClose(r.bn.runningMean, single.runningMean);
          expectClose(r.bn.runningVar, single.runningVar);
          // Pooled in one replica order, the statistics are the same bits on every replica.
          expectIdentical(r.bn.runningMean, replicas[0].bn.runningMean);
          expectIdentical(r.bn.runningVar, replicas[0].bn.runningVar);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('inference-mode forwards exchange nothing (running statistics, or the own batch without them)', async () => {
    const group = new InMemoryExchange(2, 50);
    const a = new SyncBatchNorm(new BatchNorm({ channels: 2 }), group.member(0));
    const plain = new BatchNorm({ channels: 2 });
    const x = tensor([1, 2, 3, 5], [2, 2]);
    // The peer never calls: a training forward would time out, an inference one must not wait.
    expect(Array.from((await a.forward(x, { training: false })).data)).toEqual(
      Array.from(plain.forward(x, { training: false }).data),
    );
    // Without running statistics, inference normalizes this replica's own batch (PyTorch: no sync outside training).
    const noStats = new SyncBatchNorm(
      new BatchNorm({ channels: 2, trackRunningStats: false }),
      group.member(1),
    );
    expect(Array.from((await noStats.forward(x, { training: false })).data)).toEqual(
      Array.from(
        new BatchNorm({ channels: 2, trackRunningStats: false }).forward(x, { training: false }).data,
      ),
    );
    const err = await a.forward(x).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncError);
    expect((err as Error).message).toContain('replica(s) 1');
  });

  it('a replica may hold one value per channel when the pool holds more; a pool of one still throws', async () => {
    const pair = new InMemoryExchange(2);
    const [a, b] = [0, 1].map((i) => new SyncBatchNorm(new BatchNorm({ channels: 1 }), pair.member(i)));
    const [ya, yb] = await Promise.all([a.forward(tensor([1], [1, 1])), b.forward(tensor([3], [1, 1]))]);
    expectClose(
      [ya.data[0], yb.data[0]],
      new BatchNorm({ channels: 1 }).forward(tensor([1, 3], [2, 1])).data,
    );
    const alone = new SyncBatchNorm(new BatchNorm({ channels: 1 }), new InMemoryExchange(1).member(0));
    await expect(alone.forward(tensor([1], [1, 1]))).rejects.toBeInstanceOf(NormalizationError);
  });

  it('pooling is Chan’s merge and a plain sum, and rejects contributions of different layouts', () => {
    const m = poolMoments([Float64Array.of(2, 1, 2), Float64Array.of(0, 0, 0), Float64Array.of(2, 3, 2)]);
    // Values {0, 2} (mean 1, M2 2) and {2, 4} (mean 3, M2 2): {0, 2, 2, 4} has mean 2 and M2 8.
    expect(Array.from(m)).toEqual([4, 2, 8]);
    expect(Array.from(poolGradientSums([Float64Array.of(1, 2), Float64Array.of(3, 4)]))).toEqual([4, 6]);
    expect(() => poolMoments([Float64Array.of(1, 0, 0), Float64Array.of(1, 0, 0, 0, 0)])).toThrow(RangeError);
  });
});
