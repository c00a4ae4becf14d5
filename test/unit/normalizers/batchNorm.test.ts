import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { tensor } from '../../../src/core/tensor.js';
import { NormalizationError } from '../../../src/errors.js';
import { BatchNorm } from '../../../src/normalizers/index.js';
import { randomTensor } from './gradCheck.js';

describe('BatchNorm', () => {
  it.each([
    [{ channels: 0 }, /channels must be a positive integer, got 0/],
    [{ channels: 2.5 }, /got 2.5/],
    [{ channels: 2, eps: NaN }, /eps must be a finite number > 0, got NaN/],
    [{ channels: 2, eps: 0 }, /got 0/],
    [{ channels: 2, momentum: 1.5 }, /momentum must be a number in \[0, 1\] or null, got 1.5/],
    [{ channels: 2, momentum: NaN }, /got NaN/],
  ])('rejects options %j naming the bad value', (opts, msg) => {
    expect(() => new BatchNorm(opts as never)).toThrow(NormalizationError);
    expect(() => new BatchNorm(opts as never)).toThrow(msg);
  });

  it('with momentum null keeps the exact cumulative average of batch means and unbiased variances', () => {
    const bn = new BatchNorm({ channels: 2, momentum: null });
    const rng = new Rng(1);
    const means = [0, 0];
    const vars = [0, 0];
    const k = 5;
    for (let s = 0; s < k; s++) {
      const x = randomTensor(rng, [3, 2, 4], s, 1 + s);
      bn.forward(x);
      for (let j = 0; j < 2; j++) {
        const vals: number[] = [];
        for (let i = 0; i < 3; i++) for (let q = 0; q < 4; q++) vals.push(x.data[(i * 2 + j) * 4 + q]);
        const m = vals.reduce((a, b) => a + b, 0) / vals.length;
        means[j] += m / k;
        vars[j] += vals.reduce((a, b) => a + (b - m) ** 2, 0) / (vals.length - 1) / k;
      }
    }
    expect(bn.numBatchesTracked).toBe(k);
    for (let j = 0; j < 2; j++) {
      expect(bn.runningMean[j]).toBeCloseTo(means[j], 12);
      expect(bn.runningVar[j]).toBeCloseTo(vars[j], 12);
    }
  });

  it('without running statistics normalizes with batch statistics in inference too', () => {
    const bn = new BatchNorm({ channels: 3, trackRunningStats: false });
    const x = randomTensor(new Rng(2), [4, 3], 5, 2);
    const train = bn.forward(x, { training: true }).data;
    expect(Array.from(bn.forward(x, { training: false }).data)).toEqual(Array.from(train));
    expect(bn.state().runningMean).toBeNull();
    expect(() => bn.forward(tensor([1, 2, 3], [1, 3]), { training: false })).toThrow(
      /more than 1 value per channel/,
    );
  });

  it('in inference normalizes with the running statistics and leaves them alone', () => {
    const bn = new BatchNorm({ channels: 1 });
    bn.runningMean[0] = 2;
    bn.runningVar[0] = 4 - 1e-5;
    const y = bn.forward(tensor([2, 4, 0], [3, 1]), { training: false });
    expect(Array.from(y.data).map((v) => +v.toFixed(12))).toEqual([0, 1, -1]);
    const dx = bn.backward(tensor([1, 1, 1], [3, 1]));
    expect(Array.from(dx.data).map((v) => +v.toFixed(12))).toEqual([0.5, 0.5, 0.5]);
    expect(bn.numBatchesTracked).toBe(0);
  });

  it('refuses backward before forward', () => {
    expect(() => new BatchNorm({ channels: 1 }).backward(tensor([1, 2], [2, 1]))).toThrow(
      /before any forward/,
    );
  });
});
