import { describe, expect, it } from 'vitest';
import { Adagrad, Adam, ParamOptimizer, Sgd, validateNetOptimizer } from '../../../src/models/optim/index.js';
import { Mlp } from '../../../src/models/nets/mlp.js';
import { LinearModel } from '../../../src/models/linear/index.js';

/** The one optimizer stack: what the nets need beyond LinearModel (momentum, decoupled decay, rate changes). */
describe('SGD momentum (PyTorch formulation) through the Optimizer interface', () => {
  it('v ← μ·v + g, w ← w − lr·v; Nesterov w ← w − lr·(g + μ·v)', () => {
    const g1 = Float64Array.from([1, -2]);
    const g2 = Float64Array.from([0.5, 0.5]);
    for (const nesterov of [false, true]) {
      const o = new Sgd({ lr: 0.1, momentum: 0.9, nesterov });
      o.init(2);
      const w = Float64Array.from([1, 1]);
      o.step(1, w, g1, 2, null, 0);
      o.step(2, w, g2, 2, null, 0);
      const v1 = 1;
      const v2 = 0.9 * v1 + 0.5;
      const step1 = nesterov ? 1 + 0.9 * v1 : v1;
      const step2 = nesterov ? 0.5 + 0.9 * v2 : v2;
      expect(w[0]).toBeCloseTo(1 - 0.1 * step1 - 0.1 * step2, 15);
      expect(o.stateArrays()).toHaveLength(1);
    }
  });

  it('momentum moves a weight whose gradient is zero, so it is neither uniform nor lazy', () => {
    const plain = new Sgd({ lr: 0.1 });
    const heavy = new Sgd({ lr: 0.1, momentum: 0.5 });
    expect([plain.uniform, plain.dense]).toEqual([true, false]);
    expect([heavy.uniform, heavy.dense]).toEqual([false, true]);
    heavy.init(1);
    const w = new Float64Array(1);
    heavy.step(1, w, Float64Array.from([1]), 1, null, 0);
    heavy.step(2, w, Float64Array.from([0]), 1, null, 0);
    expect(w[0]).toBeCloseTo(-0.1 - 0.05, 15);
  });
});

describe('decoupled weight decay (AdamW)', () => {
  it('each optimizer first shrinks w by lr·λ·w, then takes its usual step', () => {
    const g = Float64Array.from([0.3]);
    for (const [decayed, plain] of [
      [new Sgd({ lr: 0.1, weightDecay: 0.5 }), new Sgd({ lr: 0.1 })],
      [new Adagrad({ lr: 0.1, weightDecay: 0.5 }), new Adagrad({ lr: 0.1 })],
      [new Adam({ lr: 0.1, weightDecay: 0.5 }), new Adam({ lr: 0.1 })],
    ] as const) {
      decayed.init(1);
      plain.init(1);
      const a = Float64Array.from([2]);
      const b = Float64Array.from([2 * (1 - 0.1 * 0.5)]);
      decayed.step(1, a, g, 1, null, 0);
      plain.step(1, b, g, 1, null, 0);
      expect(a[0]).toBe(b[0]);
    }
  });

  it('Adam is Algorithm 1 of Kingma & Ba: eps is added to the bias-corrected √v̂', () => {
    const o = new Adam({ lr: 0.01, eps: 0.1 });
    o.init(1);
    const w = new Float64Array(1);
    o.step(1, w, Float64Array.from([0.5]), 1, null, 0);
    // m̂ = 0.5, v̂ = 0.25: w = −0.01·0.5/(0.5 + 0.1).
    expect(w[0]).toBeCloseTo((-0.01 * 0.5) / 0.6, 15);
    // rate is the factor on the raw m = 0.05 (m̂ = m/(1 − β1)).
    expect(o.rate(1, 0) * 0.05).toBeCloseTo((0.01 * 0.5) / 0.6, 15);
  });
});

describe('ParamOptimizer (the nets over src/models/optim)', () => {
  const tensors = () => [
    { value: Float64Array.from([1, 2, 3]), grad: Float64Array.from([0.1, -0.2, 0.3]), decay: true },
    { value: Float64Array.from([0.5]), grad: Float64Array.from([1]), decay: false },
  ];

  it('decays only the tensors marked decay, counts steps, and restores its state exactly', () => {
    const p = tensors();
    const o = new ParamOptimizer({ type: 'adam', lr: 0.01 }, p, 0.1);
    o.step(p);
    o.step(p);
    expect(o.steps).toBe(2);
    const q = tensors();
    const o2 = new ParamOptimizer({ type: 'adam', lr: 0.01 }, q, 0.1);
    o2.restore(JSON.parse(JSON.stringify(o.state())));
    q.forEach((t, i) => t.value.set(p[i].value));
    o.step(p);
    o2.step(q);
    expect(Array.from(q[0].value)).toEqual(Array.from(p[0].value));
    expect(Array.from(q[1].value)).toEqual(Array.from(p[1].value));
    // Undecayed tensor: same as an optimizer without decay.
    const r = tensors();
    const o3 = new ParamOptimizer({ type: 'adam', lr: 0.01 }, r, 0);
    for (let s = 0; s < 3; s++) o3.step(r);
    expect(r[1].value[0]).toBe(p[1].value[0]);
    expect(r[0].value[0]).not.toBe(p[0].value[0]);
  });

  it('refuses a state of another type or shape, and a rewind undoes the step count', () => {
    const p = tensors();
    const o = new ParamOptimizer({ type: 'sgd', lr: 0.1, momentum: 0.9 }, p);
    o.step(p);
    o.rewind();
    expect(o.steps).toBe(0);
    const other = new ParamOptimizer({ type: 'adam', lr: 0.1 }, p);
    expect(() => other.restore(o.state())).toThrow(/does not match adam/);
    expect(() => new ParamOptimizer({ type: 'sgd', lr: 0.1 }, p.slice(1)).restore(o.state())).toThrow(
      /does not match/,
    );
  });

  it('a net validates its spec through the shared checks: the rate is required, FTRL and "optimal" do not apply', () => {
    expect(() => validateNetOptimizer({ type: 'adam', lr: NaN })).toThrow(/optimizer\.lr/);
    expect(() => validateNetOptimizer({ type: 'ftrl', lr: 0.1 } as never)).toThrow(
      /optimizer type 'ftrl' is not supported here \(expected sgd, adagrad, adam\)/,
    );
    expect(() => validateNetOptimizer({ type: 'sgd', lr: 0.1, schedule: 'optimal' })).toThrow(
      /'optimal' needs a positive regularization strength/,
    );
    expect(() => validateNetOptimizer({ type: 'sgd', lr: 0.1, nesterov: true })).toThrow(
      /nesterov needs momentum > 0/,
    );
    expect(() => validateNetOptimizer({ type: 'adam', lr: 0.1, beta2: 1 })).toThrow(/adam\.beta2=1/);
    expect(() => validateNetOptimizer({ type: 'adam', lr: 0.1, momentum: 0.9 } as never)).toThrow(
      /unknown adam optimizer option 'momentum'/,
    );
  });

  it('a net trains with AdaGrad and with a scheduled SGD, and early stopping can lower its rate', () => {
    for (const optimizer of [
      { type: 'adagrad', lr: 0.1 },
      { type: 'sgd', lr: 0.2, schedule: 'invscaling', powerT: 0.5, momentum: 0.5 },
    ] as const) {
      const net = new Mlp({ inputs: 2, hidden: [4], classes: 2, optimizer, seed: 1 });
      for (let i = 0; i < 200; i++)
        net.learnMany(
          [
            [1, 0.1 * (i % 3)],
            [-1, 0.2],
          ],
          [1, 0],
        );
      expect(
        net.predictMany([
          [1, 0],
          [-1, 0],
        ]),
      ).toEqual([1, 0]);
      net.scaleLearningRate(0.5);
      expect(net.learningRate).toBeCloseTo(optimizer.lr / 2, 15);
      const r = Mlp.fromState(JSON.parse(JSON.stringify(net.state())));
      expect(r.learningRate).toBe(net.learningRate);
    }
  });

  it('LinearModel keeps plain SGD: momentum is not one of its options', () => {
    expect(
      () => new LinearModel({ loss: 'squared', optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 } as never }),
    ).toThrow(/unknown sgd optimizer option 'momentum'/);
  });
});
