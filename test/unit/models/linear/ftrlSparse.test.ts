import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../src/core/rng.js';
import { LinearModel } from '../../../../src/models/linear/index.js';
import { Ftrl } from '../../../../src/models/optim/index.js';
import { createLoss } from '../../../../src/models/losses/createLoss.js';
import type { ScalarLoss } from '../../../../src/models/losses/loss.js';
import type { SparseVector } from '../../../../src/models/types.js';

/**
 * The one-output sparse FTRL path of LinearModel (gather, weights from the copies, guarded z/n step) against
 * the optimizer's general `step` driven by hand: the same state bit for bit.
 */
describe('LinearModel sparse FTRL step', () => {
  const dim = 64;
  const opts = { alpha: 0.3, beta: 1 };
  const pen = { l1: 0.01, l2: 0.02 };

  function events(): [SparseVector, number][] {
    const rng = new Rng(11);
    const out: [SparseVector, number][] = [];
    for (let e = 0; e < 300; e++) {
      const m = 1 + rng.int(12);
      const indices = Array.from({ length: m }, () => rng.int(dim));
      // Repeats now and then (a hashed collision), summed by the model before the step.
      if (e % 7 === 0) indices.push(indices[0], indices[m - 1]);
      const values = indices.map(() => rng.normal());
      out.push([{ indices, values }, rng.next() < 0.4 ? 1 : 0]);
    }
    // |g·x| > 1e100 (the finite-by-construction bound an earlier version fell back on): still accepted.
    out.push([{ indices: [5, 9], values: [1e120, 2] }, 1]);
    out.push([{ indices: [5, 3], values: [0.5, -1] }, 0]);
    return out;
  }

  /** Algorithm 1 with `Ftrl.step` on the coalesced event plus the intercept at coordinate dim. */
  function reference(evs: [SparseVector, number][], dim = 64) {
    const o = new Ftrl(opts);
    o.init(dim + 1);
    o.setPenalty({ ...pen, penalized: dim });
    const loss = createLoss('logistic') as ScalarLoss;
    const w = new Float64Array(dim + 1);
    let t = 0;
    for (const [x, y] of evs) {
      const idx: number[] = [];
      const val: number[] = [];
      const at = new Map<number, number>();
      x.indices.forEach((j, i) => {
        const p = at.get(j);
        if (p === undefined) {
          at.set(j, idx.length);
          idx.push(j);
          val.push(x.values[i]);
        } else val[p] += x.values[i];
      });
      let s = o.weightAt(t, dim);
      idx.forEach((j, i) => {
        w[j] = o.weightAt(t, j);
        s += w[j] * val[i];
      });
      w[dim] = o.weightAt(t, dim);
      const g = loss.gradient(y, s);
      const grad = Float64Array.from([...val.map((v) => g * v), g]);
      o.step(t + 1, w, grad, idx.length + 1, Int32Array.from([...idx, dim]), 0);
      t++;
    }
    return { state: o.state(), t };
  }

  it('leaves z and n exactly where Ftrl.step on the coalesced event leaves them', () => {
    const evs = events();
    const m = new LinearModel({
      loss: 'logistic',
      regularizer: pen,
      optimizer: { type: 'ftrl', ...opts },
      dim,
    });
    for (const [x, y] of evs) m.learnOne(x, y);
    const ref = reference(evs);
    expect(m.rejectedUpdates).toBe(0);
    expect(m.steps).toBe(ref.t);
    expect(m.state().optimizer).toEqual(ref.state);
  });

  it('events of more than 1024 features (per-model buffers, not the shared ones) give the same state', () => {
    const big = 4096;
    const rng = new Rng(5);
    const evs: [SparseVector, number][] = [];
    for (let e = 0; e < 40; e++) {
      const m = e % 3 === 0 ? 1500 + rng.int(500) : 1 + rng.int(50);
      const indices = Array.from({ length: m }, () => rng.int(big));
      evs.push([{ indices, values: indices.map(() => rng.normal()) }, rng.next() < 0.5 ? 1 : 0]);
    }
    const m = new LinearModel({
      loss: 'logistic',
      regularizer: pen,
      optimizer: { type: 'ftrl', ...opts },
      dim: big,
    });
    for (const [x, y] of evs) m.learnOne(x, y);
    const ref = reference(evs, big);
    expect(m.steps).toBe(ref.t);
    expect(m.state().optimizer).toEqual(ref.state);
  });

  it('an update that overflows n is rejected with every touched z, n and the intercept as they were', () => {
    const m = new LinearModel({ loss: 'squared', optimizer: { type: 'ftrl', alpha: 1, beta: 1 }, dim: 4 });
    m.learnOne({ indices: [1, 2], values: [1, 3] }, 2);
    m.learnOne({ indices: [3], values: [-1] }, 1);
    const before = m.state();
    // g ≈ −1e160: (g·1e160)² and g² overflow n for feature 2 and for the intercept.
    m.learnOne({ indices: [2, 1], values: [1e160, 1] }, 1e160);
    const after = m.state();
    expect(m.rejectedUpdates).toBe(1);
    expect(after.t).toBe(before.t);
    expect(after.optimizer).toEqual(before.optimizer);
    expect(after.params).toEqual(before.params);
    // The model goes on from its last good state.
    m.learnOne({ indices: [1], values: [1] }, 0);
    expect(m.steps).toBe(before.t + 1);
    expect([...m.weights, m.bias].every(Number.isFinite)).toBe(true);
  });

  it('indices that share a parser filter bit (dim > 2^20) stay apart; true repeats are summed', () => {
    const big = (1 << 20) + 8;
    const make = () =>
      new LinearModel({
        loss: 'squared',
        optimizer: { type: 'sgd', lr: 0.1 },
        dim: big,
        fitIntercept: false,
      });
    const a = make();
    a.learnOne({ indices: [3, 3 + (1 << 20), 3], values: [1, 2, 4] }, 1);
    const b = make();
    b.learnOne({ indices: [3, 3 + (1 << 20)], values: [5, 2] }, 1);
    // One SGD step from zero: w_j = −lr·(0 − 1)·x_j, so the two features keep their own values.
    expect(a.weights[3]).toBe(0.5);
    expect(a.weights[3 + (1 << 20)]).toBe(0.2);
    expect(Array.from(a.weights.subarray(0, 8))).toEqual(Array.from(b.weights.subarray(0, 8)));
    expect(a.weights[3 + (1 << 20)]).toBe(b.weights[3 + (1 << 20)]);
  });

  it('an invalid entry after valid ones names the entry, and the next input parses as if none came before', () => {
    const m = new LinearModel({ loss: 'squared', optimizer: { type: 'ftrl' }, dim: 10 });
    expect(() => m.learnOne({ indices: [5, 7, 10], values: [1, 1, 1] }, 1)).toThrow(
      /x\.indices\[2\]=10 is out of range \[0, 10\)/,
    );
    expect(() => m.learnOne({ indices: [5, 7], values: [1, NaN] }, 1)).toThrow(
      /x\.values\[1\]=NaN is not a finite number \(feature 7\)/,
    );
    expect(m.steps).toBe(0);
    const fresh = new LinearModel({ loss: 'squared', optimizer: { type: 'ftrl' }, dim: 10 });
    m.learnOne({ indices: [5, 7], values: [1, 2] }, 1);
    fresh.learnOne({ indices: [5, 7], values: [1, 2] }, 1);
    expect(m.state().optimizer).toEqual(fresh.state().optimizer);
  });
});
