import { describe, expect, it } from 'vitest';
import {
  Adagrad,
  Adam,
  Ftrl,
  Sgd,
  createOptimizer,
  invScalingSchedule,
  optimalSchedule,
} from '../../../src/models/optim/index.js';
import { LinearModel } from '../../../src/models/linear/index.js';

describe('schedules', () => {
  it("invscaling is lr / t^powerT and 'optimal' is sklearn's 1/(alpha·(t0 + t − 1))", () => {
    const inv = invScalingSchedule(0.5, 0.25);
    expect(inv.lr(1)).toBe(0.5);
    expect(inv.lr(16)).toBeCloseTo(0.25, 15);
    // sklearn, alpha = 1e-2, hinge (|dloss(−typw, 1)| = 1): typw = 10^0.5, eta0 = typw, t0 = 1/(eta0·alpha).
    const alpha = 1e-2;
    const typw = Math.sqrt(1 / Math.sqrt(alpha));
    const t0 = 1 / (typw * alpha);
    const opt = optimalSchedule(alpha, -1);
    expect(opt.lr(1)).toBeCloseTo(1 / (alpha * t0), 14);
    expect(opt.lr(101)).toBeCloseTo(1 / (alpha * (t0 + 100)), 14);
    expect(opt.lr(1)).toBeCloseTo(typw, 12); // the first rate is eta0
    // The squared loss's slope at −typw is −(typw + 1), which lowers eta0 to typw / (typw + 1).
    expect(optimalSchedule(alpha, -(typw + 1)).lr(1)).toBeCloseTo(typw / (typw + 1), 12);
  });
});

describe('optimizer steps match their papers', () => {
  const g = Float64Array.from([0.5, -2]);

  it('SGD: w ← w − η·g on the listed coordinates only', () => {
    const w = Float64Array.from([1, 1, 1]);
    new Sgd({ lr: 0.1 }).step(1, w, g, 2, Int32Array.from([2, 0]), 0);
    expect(Array.from(w)).toEqual([1.2, 1, 0.95]);
  });

  it('AdaGrad: G += g², w −= lr·g/(√G + eps)', () => {
    const o = new Adagrad({ lr: 0.1, eps: 0 });
    o.init(2);
    const w = new Float64Array(2);
    o.step(1, w, g, 2, null, 0);
    o.step(2, w, g, 2, null, 0);
    expect(w[0]).toBeCloseTo(-0.1 * (0.5 / 0.5 + 0.5 / Math.sqrt(0.5)), 14);
    expect(o.rate(2, 1)).toBeCloseTo(0.1 / Math.sqrt(8), 14);
  });

  it('Adam: bias-corrected moments (first step moves every coordinate by lr·sign(g))', () => {
    const o = new Adam({ lr: 0.01, eps: 0 });
    o.init(2);
    const w = new Float64Array(2);
    o.step(1, w, g, 2, null, 0);
    expect(w[0]).toBeCloseTo(-0.01, 14);
    expect(w[1]).toBeCloseTo(0.01, 14);
    o.step(2, w, Float64Array.from([1, 1]), 2, null, 0);
    const m = 0.9 * 0.05 + 0.1 * 1;
    const v = 0.999 * 0.00025 + 0.001 * 1;
    const step = (0.01 * Math.sqrt(1 - 0.999 ** 2)) / (1 - 0.9 ** 2);
    expect(w[0]).toBeCloseTo(-0.01 - (step * m) / Math.sqrt(v), 14);
  });

  it('FTRL-Proximal: Algorithm 1 of McMahan et al. 2013 with λ = t·(l1, l2)', () => {
    const o = new Ftrl({ alpha: 0.5, beta: 1 });
    o.init(2);
    o.setPenalty({ l1: 0.1, l2: 0.2, penalized: 1 });
    o.step(1, new Float64Array(2), Float64Array.from([-3, -3]), 2, null, 0);
    // z = g − σ·0 = −3, n = 9; penalized: w = −(z + λ1)/((β + √n)/α + λ2) with λ = 1·(0.1, 0.2).
    expect(o.weightAt(1, 0)).toBeCloseTo(-(-3 + 0.1) / ((1 + 3) / 0.5 + 0.2), 14);
    expect(o.weightAt(1, 1)).toBeCloseTo(3 / 8, 14); // intercept slot: unpenalized
    // A small gradient inside the L1 ball gives an exact zero.
    const o2 = new Ftrl({ alpha: 0.5, beta: 1 });
    o2.init(1);
    o2.setPenalty({ l1: 0.1, l2: 0, penalized: 1 });
    o2.step(1, new Float64Array(1), Float64Array.from([0.05]), 1, null, 0);
    expect(o2.weightAt(1, 0)).toBe(0);
  });

  it('validates its options, naming the bad one', () => {
    expect(() => createOptimizer({ type: 'sgd', lr: -1 })).toThrow(/sgd\.lr=-1/);
    expect(() => createOptimizer({ type: 'adam', beta1: 1 })).toThrow(/adam\.beta1=1/);
    expect(() => createOptimizer({ type: 'ftrl', alpha: NaN })).toThrow(/ftrl\.alpha=NaN/);
    expect(() => createOptimizer({ type: 'rmsprop' } as never)).toThrow(/unknown optimizer type 'rmsprop'/);
    expect(() => createOptimizer({ type: 'sgd', schedule: 'cosine' } as never)).toThrow(
      /unknown sgd schedule 'cosine'/,
    );
    expect(
      () =>
        new LinearModel({
          loss: 'squared',
          regularizer: { lp: { p: 3, lambda: 1 } },
          optimizer: { type: 'ftrl' },
        }),
    ).toThrow(/lp is not supported with the ftrl optimizer/);
  });
});

describe('every optimizer keeps its state across a JSON round trip', () => {
  it.each([
    { type: 'sgd', lr: 0.05, schedule: 'invscaling' },
    { type: 'adagrad', lr: 0.1 },
    { type: 'adam', lr: 0.01 },
    { type: 'ftrl', alpha: 0.2, beta: 1 },
  ] as const)('%o', (optimizer) => {
    const m = new LinearModel({ loss: 'logistic', regularizer: { l1: 0.01 }, optimizer, dim: 3 });
    for (let i = 0; i < 20; i++) m.learnOne([Math.sin(i), Math.cos(i), 1], i % 2);
    const r = LinearModel.fromState(JSON.parse(JSON.stringify(m.state())));
    for (let i = 20; i < 40; i++) {
      m.learnOne([Math.sin(i), Math.cos(i), 1], i % 2);
      r.learnOne([Math.sin(i), Math.cos(i), 1], i % 2);
    }
    expect(Array.from(r.weights)).toEqual(Array.from(m.weights));
    expect(r.steps).toBe(40);
  });
});

describe('state packing', () => {
  it('packs mostly-zero arrays as index/value pairs and restores them exactly', async () => {
    const { packArray, unpackArray } = await import('../../../src/models/optim/optimizer.js');
    const a = new Float64Array(1000);
    a[3] = 0.1 + 0.2;
    a[999] = -1e-300;
    const p = JSON.parse(JSON.stringify(packArray(a)));
    expect(Array.isArray(p)).toBe(false);
    const b = new Float64Array(1000);
    unpackArray(p, b, 'test');
    expect(Array.from(b)).toEqual(Array.from(a));
    const dense = Float64Array.from([1, 2, 0, 3]);
    expect(packArray(dense)).toEqual([1, 2, 0, 3]);
    expect(() => unpackArray([1, 2], new Float64Array(3), 'x')).toThrow(/x has 2 values; expected 3/);
  });

  it('a hashed FTRL model (2^16 weights, few active) has a compact state that restores bit for bit', () => {
    const m = new LinearModel({
      loss: 'logistic',
      regularizer: { l1: 1e-4 },
      optimizer: { type: 'ftrl' },
      dim: 1 << 16,
    });
    for (let i = 0; i < 200; i++) m.learnOne({ indices: [(i * 7919) % (1 << 16), 5], values: [1, 1] }, i % 2);
    const json = JSON.stringify(m.state());
    expect(json.length).toBeLessThan(2 * (1 << 16) + 40_000); // params: two bytes per zero; z and n packed
    const r = LinearModel.fromState(JSON.parse(json));
    expect(Array.from(r.weights)).toEqual(Array.from(m.weights));
    expect(() => LinearModel.fromState({ ...JSON.parse(json), params: [1, 2] })).toThrow(
      /corrupt LinearModel state/,
    );
  });
});
