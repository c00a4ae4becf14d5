import { describe, expect, it } from 'vitest';
import { LinearModel } from '../../../../src/models/linear/index.js';
import { ModelError } from '../../../../src/errors.js';
import { Rng } from '../../../../src/core/rng.js';

function linearData(
  seed: number,
  n: number,
  w: number[],
  b: number,
  noise = 0,
): { X: number[][]; Y: number[] } {
  const rng = new Rng(seed);
  const X: number[][] = [];
  const Y: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = w.map(() => rng.normal());
    X.push(x);
    Y.push(x.reduce((s, v, j) => s + v * w[j], b) + noise * rng.normal());
  }
  return { X, Y };
}

describe('LinearModel', () => {
  it('learns a noiseless linear regression with SGD to 1e-6', () => {
    const { X, Y } = linearData(1, 200, [1.5, -2, 0.5], 0.7);
    const m = new LinearModel({ loss: 'squared', optimizer: { type: 'sgd', lr: 0.05 } });
    for (let e = 0; e < 60; e++) for (let i = 0; i < X.length; i++) m.learnOne(X[i], Y[i]);
    expect(Array.from(m.weights)).toEqual([1.5, -2, 0.5].map((v) => expect.closeTo(v, 6)));
    expect(m.bias).toBeCloseTo(0.7, 6);
    expect(m.predictOne([1, 1, 1])).toBeCloseTo(1.5 - 2 + 0.5 + 0.7, 6);
  });

  it('separates a logistic problem and gives probabilities summing to 1', () => {
    const rng = new Rng(2);
    const m = new LinearModel({ loss: 'logistic', optimizer: { type: 'sgd', lr: 0.1 } });
    const data: [number[], number][] = [];
    for (let i = 0; i < 500; i++) {
      const x = [rng.normal(), rng.normal()];
      data.push([x, x[0] + 2 * x[1] > 0 ? 1 : 0]);
    }
    for (let e = 0; e < 20; e++) for (const [x, y] of data) m.learnOne(x, y);
    const acc = data.filter(([x, y]) => m.predictOne(x) === y).length / data.length;
    expect(acc).toBeGreaterThan(0.97);
    const p = m.predictProbaOne([1, 1]);
    expect(p[0] + p[1]).toBeCloseTo(1, 12);
    expect(p[1]).toBeGreaterThan(0.9);
  });

  it('learnMany takes one step on the mean gradient, not B steps', () => {
    const X = [
      [1, 0],
      [0, 2],
      [1, 1],
    ];
    const Y = [1, -1, 2];
    const batch = new LinearModel({ loss: 'squared', optimizer: { type: 'sgd', lr: 0.1 } });
    batch.learnMany(X, Y);
    // At w = 0, b = 0 the gradient is (ŷ − y)·x = −y·x; mean over the batch, times lr.
    const g = [(-1 * 1 + 1 * 0 - 2 * 1) / 3, (-1 * 0 + 1 * 2 - 2 * 1) / 3];
    expect(Array.from(batch.weights)).toEqual([-0.1 * g[0], -0.1 * g[1]].map((v) => expect.closeTo(v, 14)));
    expect(batch.bias).toBeCloseTo(0.1 * ((1 - 1 + 2) / 3), 14);
    expect(batch.steps).toBe(1);
    const loop = new LinearModel({ loss: 'squared', optimizer: { type: 'sgd', lr: 0.1 } });
    for (let i = 0; i < 3; i++) loop.learnOne(X[i], Y[i]);
    expect(loop.steps).toBe(3);
    expect(loop.weights[0]).not.toBeCloseTo(batch.weights[0], 6);
  });

  it('rejects bad input with errors naming it', () => {
    const m = new LinearModel({ loss: 'logistic', dim: 3 });
    expect(() => m.learnOne([1, 2], 1)).toThrow(/dimension 2.*dim=3/);
    expect(() => m.learnOne([1, NaN, 2], 1)).toThrow(/x\[1\]=NaN/);
    expect(() => m.learnOne([1, 2, 3], 2)).toThrow(/y=2 .*logistic/);
    expect(() => m.learnOne({ indices: [5], values: [1] }, 1)).toThrow(/indices\[0\]=5/);
    expect(() => m.learnOne({ indices: [1], values: [Infinity] }, 1)).toThrow(/values\[0\]=Infinity/);
    expect(() => new LinearModel({ loss: 'logistic', lr: 0.1 } as never)).toThrow(
      /unknown LinearModel option 'lr'/,
    );
    expect(
      () => new LinearModel({ loss: 'logistic', optimizer: { type: 'sgd', momentum: 0.9 } as never }),
    ).toThrow(/unknown sgd optimizer option 'momentum'/);
    expect(() => new LinearModel({ loss: 'squared', regularizer: { lp: { p: 0.5, lambda: 1 } } })).toThrow(
      /lp\.p=0\.5/,
    );
    expect(() => new LinearModel({ loss: 'squared', regularizer: { l1: -1 } })).toThrow(/l1=-1/);
    expect(
      () => new LinearModel({ loss: 'squared', regularizer: { l0: { k: 2 } }, optimizer: { type: 'ftrl' } }),
    ).toThrow(/l0 is not supported with the ftrl/);
    expect(
      () => new LinearModel({ loss: 'squared', optimizer: { type: 'sgd', schedule: 'optimal' } }),
    ).toThrow(/optimal/);
    expect(() => new LinearModel({ loss: 'nope' as never })).toThrow(/unknown loss 'nope'/);
    const sparseNoDim = new LinearModel({ loss: 'squared' });
    expect(() => sparseNoDim.learnOne({ indices: [0], values: [1] }, 1)).toThrow(/'dim' option is required/);
    expect(() => m.learnOne([1, 2, 3], 1)).not.toThrow();
    expect(() => m.learnOne([1, 2, 3], 1)).not.toThrow(ModelError);
  });

  it('rejects an update that would make a weight non-finite and keeps its last good state', () => {
    const m = new LinearModel({ loss: 'squared', optimizer: { type: 'sgd', lr: 1 } });
    m.learnOne([1, 1], 1);
    const before = Array.from(m.weights);
    const bias = m.bias;
    m.learnOne([1e200, 1e200], -1e200);
    expect(m.rejectedUpdates).toBe(1);
    expect(Array.from(m.weights)).toEqual(before);
    expect(m.bias).toBe(bias);
    expect(m.steps).toBe(1);
  });
});

describe('LinearModel conventions', () => {
  it('never penalizes the intercept: a huge L2 zeroes the weights but the bias still learns the mean', () => {
    const m = new LinearModel({
      loss: 'squared',
      regularizer: { l2: 1e6 },
      optimizer: { type: 'sgd', lr: 0.1 },
    });
    const { X, Y } = linearData(4, 100, [1, 2], 5);
    for (let it = 0; it < 300; it++) m.learnMany(X, Y);
    const meanY = Y.reduce((a, b) => a + b, 0) / Y.length;
    expect(Math.abs(m.weights[0])).toBeLessThan(1e-5);
    expect(m.bias).toBeCloseTo(meanY, 5); // w ≈ 1e-6, so b = ȳ − x̄·w ≈ ȳ
  });

  it('penalty() is l1·‖w‖₁ + (l2/2)·‖w‖₂²', () => {
    const m = new LinearModel({ loss: 'squared', regularizer: { l1: 0.3, l2: 0.5 }, dim: 3 });
    m.weights.set([1, -2, 0.5]);
    expect(m.penalty()).toBeCloseTo(0.3 * 3.5 + 0.25 * (1 + 4 + 0.25), 14);
  });

  it('softmax weights are row-major [classes × dim] with one bias per class; row k scores class k', () => {
    const m = new LinearModel({ loss: 'softmax', classes: 3, dim: 2 });
    expect(m.weights.length).toBe(6);
    expect(m.biases.length).toBe(3);
    m.weights.set([1, 0, 0, 1, 0, 0]);
    m.biases.set([0, 0, 0.5]);
    expect(m.decisionFunction([2, 3])).toEqual([2, 3, 0.5]);
    expect(m.predictOne([2, 3])).toBe(1);
    expect(m.predictProbaOne([2, 3]).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    expect(() => m.bias).toThrow(/biases/);
  });

  it('a sample weight scales the gradient of learnOne (w = 2 doubles the step)', () => {
    const a = new LinearModel({ loss: 'logistic', optimizer: { type: 'sgd', lr: 0.1 }, dim: 2 });
    a.learnOne([1, -1], 1, 2);
    // At w = 0: gradient 2·(σ(0) − 1)·x = −x, so w = 0.1·x and b = 0.1.
    expect(Array.from(a.weights)).toEqual([expect.closeTo(0.1, 15), expect.closeTo(-0.1, 15)]);
    expect(a.bias).toBeCloseTo(0.1, 15);
    expect(() => a.learnOne([1, 1], 1, -1)).toThrow(/sample weight w=-1/);
  });
});
