import { describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.js';
import { EarlyStopping, type EarlyStoppingState } from '../../../src/models/earlyStopping.js';
import { LinearModel, type LinearModelState } from '../../../src/models/linear/index.js';
import { Mlp, type MlpOptions } from '../../../src/models/nets/mlp.js';
import type { NetState } from '../../../src/models/nets/softmaxNet.js';
import type { ModelState } from '../../../src/models/types.js';
import { vectorTask } from './nets/helpers.js';

const opts: MlpOptions = { inputs: 6, hidden: [8], classes: 2, normalizer: 'layer', seed: 3 };
const restore = (s: ModelState): Mlp => Mlp.fromState(s as NetState);

/** A learnable concept for `n1` events, then the same inputs with flipped labels: holdout loss rises. */
function risingLossStream(n1: number, n2: number): { X: number[][]; Y: number[] } {
  const a = vectorTask(n1, 1);
  const b = vectorTask(n2, 2);
  return { X: [...a.X, ...b.X], Y: [...a.Y, ...b.Y.map((y) => 1 - y)] };
}

describe('EarlyStopping', () => {
  it('restores the best weights after `patience` rounds of rising holdout loss', () => {
    const es = new EarlyStopping(new Mlp(opts), restore, { holdoutEvery: 5, evalEvery: 20, patience: 3 });
    const { X, Y } = risingLossStream(1500, 600);
    for (let i = 0; i < 1500; i++) es.learnOne(X[i], Y[i]);
    const bestAfterConcept = es.stats().bestLoss;
    expect(bestAfterConcept).toBeLessThan(0.4);
    // Plateaus while learning the concept may already have restored; count from here.
    const before = es.stats().restored;
    let restoredAt = -1;
    for (let i = 1500; i < 2100 && restoredAt < 0; i++) {
      es.learnOne(X[i], Y[i]);
      if (es.stats().restored === before + 1) {
        restoredAt = i;
        const s = es.state();
        // The live model is exactly the best round's model.
        expect(JSON.stringify(s.inner)).toBe(JSON.stringify(s.bestState));
      }
    }
    expect(restoredAt).toBeGreaterThan(1500);
    // Patience 3 rounds of 20 holdout events (every 5th) = 300 events at most after the rise, plus the round in flight.
    expect(restoredAt).toBeLessThan(1500 + 5 * 20 * 5);
    expect(es.stats().bestLoss).toBe(bestAfterConcept);
    expect(es.stats().badRounds).toBe(0);
    // The restored model fits the first concept again.
    const probe = vectorTask(200, 9);
    const acc = probe.X.filter((x, i) => es.predictOne(x) === probe.Y[i]).length / 200;
    expect(acc).toBeGreaterThan(0.85);
  });

  it("with onPlateau 'lr-drop' lowers the learning rate by the factor instead", () => {
    const es = new EarlyStopping(new Mlp(opts), restore, {
      holdoutEvery: 5,
      evalEvery: 20,
      patience: 2,
      onPlateau: 'lr-drop',
      lrFactor: 0.25,
    });
    const { X, Y } = risingLossStream(1000, 1000);
    es.learnMany(X.slice(0, 1000), Y.slice(0, 1000));
    for (let i = 1000; i < 2000; i += 10) es.learnMany(X.slice(i, i + 10), Y.slice(i, i + 10));
    const st = es.stats();
    expect(st.lrDrops).toBeGreaterThanOrEqual(1);
    expect(st.restored).toBe(0);
    expect((es.inner as Mlp).learningRate).toBeCloseTo(0.01 * 0.25 ** st.lrDrops, 15);
  });

  it('never learns the holdout slice (every k-th event by arrival index), in learnOne and learnMany alike', () => {
    const inner = new Mlp(opts);
    const es = new EarlyStopping(inner, restore, { holdoutEvery: 4, evalEvery: 1000 });
    const { X, Y } = vectorTask(40, 3);
    for (let i = 0; i < 20; i++) es.learnOne(X[i], Y[i]);
    expect(inner.steps).toBe(15);
    es.learnMany(X.slice(20, 40), Y.slice(20, 40));
    expect(inner.steps).toBe(16);
    expect(es.stats().heldOut).toBe(10);
    expect([0, 1, 2, 3, 7, 11].map((i) => es.isHoldout(i))).toEqual([false, false, false, true, true, true]);
  });

  it('round-trips its state (best weights, round progress, counters) through JSON and continues identically', () => {
    const { X, Y } = risingLossStream(800, 800);
    const a = new EarlyStopping(new Mlp(opts), restore, { holdoutEvery: 5, evalEvery: 20, patience: 3 });
    for (let i = 0; i < 1000; i++) a.learnOne(X[i], Y[i]);
    const b = EarlyStopping.fromState(JSON.parse(JSON.stringify(a.state())) as EarlyStoppingState, restore);
    for (let i = 1000; i < 1600; i++) {
      a.learnOne(X[i], Y[i]);
      b.learnOne(X[i], Y[i]);
    }
    expect(a.stats().restored).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(b.state())).toBe(JSON.stringify(a.state()));
    expect(b.predictProbaMany(X.slice(0, 5))).toEqual(a.predictProbaMany(X.slice(0, 5)));
  });

  it('validates its options, naming them', () => {
    const m = new Mlp(opts);
    expect(() => new EarlyStopping(m, restore, { patience: 0 })).toThrow(/patience/);
    expect(() => new EarlyStopping(m, restore, { holdoutEvery: 1 })).toThrow(/holdoutEvery/);
    expect(() => new EarlyStopping(m, restore, { lrFactor: 1.5 })).toThrow(/lrFactor/);
    expect(() => new EarlyStopping(m, restore, { patiense: 3 } as never)).toThrow(/patiense/);
    expect(() => new EarlyStopping(m, restore).learnOne([1, 2, 3, 4, 5, 6], 5)).toThrow(ModelError);
  });
});

describe('EarlyStopping pass-through', () => {
  it('exposes the wrapped net normalizer statistics and counts rejections across restores', () => {
    const es = new EarlyStopping(new Mlp({ ...opts, normalizer: 'batch' }), restore);
    const { X, Y } = vectorTask(20, 4);
    es.learnMany(X, Y);
    expect(es.normalizerStats().normalizer).toBe('batch');
    expect(es.normalizerStats().layers?.[0].numBatchesTracked).toBe(1);
    expect(es.rejectedUpdates).toBe(0);
  });
});

describe('EarlyStopping around a LinearModel', () => {
  it('wraps any model with state()/fromState(); lr-drop needs scaleLearningRate', () => {
    const make = (): LinearModel =>
      new LinearModel({ loss: 'logistic', optimizer: { type: 'sgd', lr: 0.1 }, dim: 6 });
    const back = (s: ModelState): LinearModel => LinearModel.fromState(s as LinearModelState);
    expect(() => new EarlyStopping(make(), back, { onPlateau: 'lr-drop' })).toThrow(/scaleLearningRate/);
    const es = new EarlyStopping(make(), back, { holdoutEvery: 5, evalEvery: 20, patience: 3 });
    const { X, Y } = risingLossStream(1000, 1000);
    for (let i = 0; i < 2000; i++) es.learnOne(X[i], Y[i]);
    expect(es.stats().rounds).toBe(20);
    expect(es.stats().restored).toBeGreaterThanOrEqual(1);
    expect(es.inner.kind).toBe('LinearModel');
    const b = EarlyStopping.fromState(JSON.parse(JSON.stringify(es.state())) as EarlyStoppingState, back);
    expect(b.predictProbaMany(X.slice(0, 5))).toEqual(es.predictProbaMany(X.slice(0, 5)));
  });
});
