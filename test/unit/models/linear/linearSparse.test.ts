import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../src/core/rng.js';
import { LinearModel, type LinearModelOptions } from '../../../../src/models/linear/index.js';
import type { SparseVector } from '../../../../src/models/types.js';

/**
 * Sparse inputs update only the active weights; owed regularization is paid lazily in closed form. The
 * claim tested here: a sparse run equals a dense run on the same data (every step applied to every
 * weight), within 1e-9, for each optimizer and regularizer.
 */
const DIM = 40;

function sparseStream(seed: number, n: number, classes: number): { xs: SparseVector[]; ys: number[] } {
  const rng = new Rng(seed);
  const xs: SparseVector[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const indices: number[] = [];
    const values: number[] = [];
    const nnz = 1 + rng.int(4);
    for (let q = 0; q < nnz; q++) {
      indices.push(rng.int(DIM));
      values.push(rng.normal());
    }
    xs.push({ indices, values });
    ys.push(classes === 1 ? rng.normal() + values[0] : rng.int(classes));
  }
  return { xs, ys };
}

function densify(x: SparseVector): number[] {
  const d = new Array<number>(DIM).fill(0);
  x.indices.forEach((j, i) => (d[j] += x.values[i]));
  return d;
}

const cases: [string, LinearModelOptions][] = [
  [
    'sgd constant, elastic net',
    { loss: 'squared', regularizer: { l1: 0.02, l2: 0.05 }, optimizer: { type: 'sgd', lr: 0.1 } },
  ],
  [
    'sgd invscaling, lasso',
    {
      loss: 'squared',
      regularizer: { l1: 0.03 },
      optimizer: { type: 'sgd', lr: 0.2, schedule: 'invscaling' },
    },
  ],
  [
    'sgd optimal, ridge (logistic)',
    { loss: 'logistic', regularizer: { l2: 0.05 }, optimizer: { type: 'sgd', schedule: 'optimal' } },
  ],
  [
    'adagrad, elastic net (softmax)',
    {
      loss: 'softmax',
      classes: 3,
      regularizer: { l1: 0.01, l2: 0.05 },
      optimizer: { type: 'adagrad', lr: 0.3 },
    },
  ],
  [
    'adagrad, lasso (hinge)',
    { loss: 'hinge', regularizer: { l1: 0.02 }, optimizer: { type: 'adagrad', lr: 0.2 } },
  ],
  [
    'ftrl, elastic net',
    {
      loss: 'logistic',
      regularizer: { l1: 0.01, l2: 0.02 },
      optimizer: { type: 'ftrl', alpha: 0.5, beta: 1 },
    },
  ],
  [
    'adam (dense semantics), elastic net',
    { loss: 'squared', regularizer: { l1: 0.01, l2: 0.01 }, optimizer: { type: 'adam', lr: 0.05 } },
  ],
  [
    'sgd, lp p=1.5',
    { loss: 'squared', regularizer: { lp: { p: 1.5, lambda: 0.05 } }, optimizer: { type: 'sgd', lr: 0.1 } },
  ],
  ['sgd, l0 k=5', { loss: 'squared', regularizer: { l0: { k: 5 } }, optimizer: { type: 'sgd', lr: 0.1 } }],
  ['sgd, no penalty', { loss: 'squared', optimizer: { type: 'sgd', lr: 0.1 } }],
];

describe.each(cases)('sparse = dense: %s', (_name, opts) => {
  const classes = opts.loss === 'softmax' ? 3 : opts.loss === 'squared' ? 1 : 2;
  const { xs, ys } = sparseStream(7, 400, classes);

  it('learnOne: a sparse run equals the dense run within 1e-9 (weights, intercepts, predictions)', () => {
    const sp = new LinearModel({ ...opts, dim: DIM });
    const dn = new LinearModel({ ...opts, dim: DIM });
    for (let i = 0; i < xs.length; i++) {
      sp.learnOne(xs[i], ys[i]);
      dn.learnOne(densify(xs[i]), ys[i]);
      if (i % 50 === 49) {
        // Pure reads in lazy mode must see the owed steps too.
        expect(sp.decisionFunction(xs[i])[0]).toBeCloseTo(dn.decisionFunction(densify(xs[i]))[0], 9);
      }
    }
    const ws = sp.weights;
    const wd = dn.weights;
    for (let j = 0; j < wd.length; j++) expect(Math.abs(ws[j] - wd[j])).toBeLessThan(1e-9);
    for (let k = 0; k < dn.biases.length; k++)
      expect(Math.abs(sp.biases[k] - dn.biases[k])).toBeLessThan(1e-9);
    expect(sp.steps).toBe(dn.steps);
  });

  it('learnMany: a sparse mini-batch run equals the dense one within 1e-9', () => {
    const sp = new LinearModel({ ...opts, dim: DIM });
    const dn = new LinearModel({ ...opts, dim: DIM });
    for (let i = 0; i + 8 <= xs.length; i += 8) {
      sp.learnMany(xs.slice(i, i + 8), ys.slice(i, i + 8));
      dn.learnMany(xs.slice(i, i + 8).map(densify), ys.slice(i, i + 8));
    }
    const ws = sp.weights;
    const wd = dn.weights;
    for (let j = 0; j < wd.length; j++) expect(Math.abs(ws[j] - wd[j])).toBeLessThan(1e-9);
  });
});

describe('lazy regularization details', () => {
  it('L1 on a sparse stream gives exact zeros and weights of never-seen features stay exactly 0', () => {
    const m = new LinearModel({
      loss: 'squared',
      regularizer: { l1: 0.01 },
      optimizer: { type: 'sgd', lr: 0.1 },
      dim: 1000,
    });
    const rng = new Rng(2);
    for (let i = 0; i < 500; i++) {
      const j = rng.int(20);
      m.learnOne({ indices: [j, 999], values: [1, 0.1 * rng.normal()] }, j < 3 ? 2 : 0);
    }
    const w = m.weights;
    for (let j = 0; j < 3; j++) expect(w[j]).toBeGreaterThan(1);
    for (let j = 20; j < 999; j++) expect(w[j]).toBe(0);
    expect(m.weightStats().sparsity).toBeGreaterThan(0.975);
  });

  it('renormalizes the cumulative shrink factor before it overflows and still matches the dense run', () => {
    // (1 + η·l2)^t with η·l2 = 0.6 passes 1e150 after ~735 steps.
    const opts: LinearModelOptions = {
      loss: 'squared',
      regularizer: { l1: 0.001, l2: 1.2 },
      optimizer: { type: 'sgd', lr: 0.5 },
      dim: DIM,
    };
    const sp = new LinearModel(opts);
    const dn = new LinearModel(opts);
    const { xs, ys } = sparseStream(3, 2000, 1);
    for (let i = 0; i < xs.length; i++) {
      sp.learnOne(xs[i], ys[i]);
      dn.learnOne(densify(xs[i]), ys[i]);
    }
    const ws = sp.weights;
    const wd = dn.weights;
    for (let j = 0; j < DIM; j++) expect(Math.abs(ws[j] - wd[j])).toBeLessThan(1e-9);
    expect(ws.every(Number.isFinite)).toBe(true);
  });

  it('coalesces duplicate sparse indices (hash collisions) by summing their values', () => {
    const a = new LinearModel({
      loss: 'squared',
      regularizer: { l1: 0.01 },
      optimizer: { type: 'adagrad', lr: 0.1 },
      dim: 5,
    });
    const b = new LinearModel({
      loss: 'squared',
      regularizer: { l1: 0.01 },
      optimizer: { type: 'adagrad', lr: 0.1 },
      dim: 5,
    });
    a.learnOne({ indices: [2, 4, 2], values: [0.5, 1, 0.25] }, 1);
    b.learnOne({ indices: [2, 4], values: [0.75, 1] }, 1);
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
  });

  it('switching between sparse and dense inputs keeps the equivalence', () => {
    const opts: LinearModelOptions = {
      loss: 'squared',
      regularizer: { l1: 0.02, l2: 0.05 },
      optimizer: { type: 'sgd', lr: 0.1 },
      dim: DIM,
    };
    const mixed = new LinearModel(opts);
    const dn = new LinearModel(opts);
    const { xs, ys } = sparseStream(9, 300, 1);
    for (let i = 0; i < xs.length; i++) {
      mixed.learnOne(i % 3 === 0 ? densify(xs[i]) : xs[i], ys[i]);
      dn.learnOne(densify(xs[i]), ys[i]);
    }
    const wm = mixed.weights;
    const wd = dn.weights;
    for (let j = 0; j < DIM; j++) expect(Math.abs(wm[j] - wd[j])).toBeLessThan(1e-9);
  });
});
