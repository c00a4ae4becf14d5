import { describe, expect, it } from 'vitest';
import { ddot4 } from '../../../../src/core/kernels.js';
import { Rng } from '../../../../src/core/rng.js';
import { NonFiniteGuard } from '../../../../src/models/guard.js';
import { createLoss } from '../../../../src/models/losses/createLoss.js';
import type { ScalarLoss } from '../../../../src/models/losses/loss.js';
import { EagerStore } from '../../../../src/models/linear/eagerStore.js';
import { FtrlStore } from '../../../../src/models/linear/ftrlStore.js';
import { LazyElasticNetStore } from '../../../../src/models/linear/lazyElasticNetStore.js';
import { createWeightStore } from '../../../../src/models/linear/createWeightStore.js';
import { LinearModel, type LinearModelOptions } from '../../../../src/models/linear/index.js';
import { SparseInput } from '../../../../src/models/linear/sparseInput.js';
import { createOptimizer } from '../../../../src/models/optim/createOptimizer.js';
import type { OptimizerConfig } from '../../../../src/models/optim/optimizer.js';
import { createRegularizer } from '../../../../src/models/regularizers/createRegularizer.js';
import type { RegularizerConfig } from '../../../../src/models/regularizers/regularizer.js';

const D = 13; // not a multiple of 4: the unrolled loops' tails run too

/**
 * The fused SGD step as plain loops: score bias + ddot4 (the summation order the model documents), then
 * w ← soft(w − (η·g)·x, η·l1)·1/(1 + η·l2) coordinate by coordinate, the intercept w_b − η·g; an update
 * with a non-finite result is undone and counted.
 */
function plainFusedSgd(
  opts: { loss: 'logistic' | 'squared'; lr: number; l1: number; l2: number; fitIntercept: boolean },
  events: [Float64Array, number][],
): { w: Float64Array; b: number; steps: number; rejected: number } {
  const loss = createLoss(opts.loss) as ScalarLoss;
  const w = new Float64Array(D);
  let b = 0;
  let steps = 0;
  let rejected = 0;
  for (const [x, y] of events) {
    const s = b + ddot4(D, w, 0, x);
    if (!Number.isFinite(s)) {
      rejected++;
      continue;
    }
    const g = loss.gradient(y, s);
    const eta = opts.lr;
    const a = opts.l1 > 0 || opts.l2 > 0 ? eta * opts.l1 : 0;
    const c = opts.l1 > 0 || opts.l2 > 0 ? 1 / (1 + eta * opts.l2) : 1;
    const step = eta * g;
    const next = new Float64Array(D);
    for (let j = 0; j < D; j++) {
      const v = w[j] - step * x[j];
      next[j] = (a === 0 ? v : v > a ? v - a : v < -a ? v + a : 0) * c;
    }
    const nb = opts.fitIntercept ? b - step : b;
    if (!next.every(Number.isFinite) || !Number.isFinite(nb)) {
      rejected++;
      continue;
    }
    w.set(next);
    b = nb;
    steps++;
  }
  return { w, b, steps, rejected };
}

/**
 * Events with a run of huge ones (e in [40, 60), `huge` times N(0, 1)): with the logistic loss their
 * scores overflow; with the squared loss (an unbounded gradient) their steps do. Both must be rejected,
 * the weights kept.
 */
function denseEvents(seed: number, n: number, huge: number): [Float64Array, number][] {
  const rng = new Rng(seed);
  const out: [Float64Array, number][] = [];
  for (let e = 0; e < n; e++) {
    const scale = e >= 40 && e < 60 ? huge : 1;
    const x = Float64Array.from({ length: D }, () => rng.normal() * scale);
    out.push([x, rng.next() < 0.4 ? 1 : 0]);
  }
  return out;
}

describe('EagerStore fused dense SGD step', () => {
  const cases = [
    { lr: 0.05, l1: 0, l2: 0 },
    { lr: 0.05, l1: 0, l2: 0.01 },
    { lr: 0.05, l1: 0.01, l2: 0 },
    { lr: 0.2, l1: 0.003, l2: 0.02 },
  ];
  const losses = [
    { loss: 'logistic', huge: 5e307 },
    { loss: 'squared', huge: 1e160 },
  ] as const;
  for (const { loss, huge } of losses)
    for (const c of cases) {
      for (const fitIntercept of [true, false]) {
        it(`equals the plain loops bit for bit (${loss}, l1=${c.l1}, l2=${c.l2}, intercept ${fitIntercept})`, () => {
          const events = denseEvents(3, 120, huge);
          const regularizer = c.l1 === 0 && c.l2 === 0 ? null : { l1: c.l1, l2: c.l2 };
          const opts: LinearModelOptions = {
            loss,
            regularizer,
            optimizer: { type: 'sgd', lr: c.lr },
            fitIntercept,
            dim: D,
          };
          const f64 = new LinearModel(opts); // learnFloat64: the inlined one-output path
          const arr = new LinearModel(opts); // number[]: scoreDense + the shrinkStep / softStep kernels
          for (const [x, y] of events) {
            f64.learnOne(x, y);
            arr.learnOne(Array.from(x), y);
          }
          const ref = plainFusedSgd({ ...c, loss, fitIntercept }, events);
          expect(ref.rejected).toBeGreaterThan(0);
          expect(ref.steps).toBeGreaterThan(80);
          for (const m of [f64, arr]) {
            expect(Array.from(m.weights)).toEqual(Array.from(ref.w));
            expect(Object.is(m.bias, ref.b)).toBe(true);
            expect(m.steps).toBe(ref.steps);
            expect(m.rejectedUpdates).toBe(ref.rejected);
          }
        });
      }
    }
});

describe('createWeightStore', () => {
  const parts = (optimizer: OptimizerConfig) => ({
    loss: createLoss('logistic'),
    opt: createOptimizer(optimizer, { alpha: 0.01, lossSlope: -1 }),
    fitIntercept: true,
    guard: new NonFiniteGuard(),
  });
  const cases: [OptimizerConfig, RegularizerConfig | null, unknown][] = [
    [{ type: 'ftrl' }, { l1: 0.01 }, FtrlStore],
    [{ type: 'ftrl' }, null, FtrlStore],
    [{ type: 'sgd' }, { l1: 0.01, l2: 0.01 }, LazyElasticNetStore],
    [{ type: 'adagrad' }, { l2: 0.01 }, LazyElasticNetStore],
    [{ type: 'adam' }, { l1: 0.01 }, EagerStore],
    [{ type: 'sgd' }, null, EagerStore],
    [{ type: 'sgd' }, { lp: { p: 1.5, lambda: 0.01 } }, EagerStore],
    [{ type: 'adagrad' }, { l0: { k: 2 } }, EagerStore],
  ];
  it.each(cases)('%o with %o', (optimizer, reg, kind) => {
    const s = createWeightStore(parts(optimizer), createRegularizer(reg));
    expect(s.constructor).toBe(kind);
  });
});

describe('every store: a pure read equals the materialized value', () => {
  const configs: [string, OptimizerConfig, RegularizerConfig | null][] = [
    ['ftrl', { type: 'ftrl', alpha: 0.3 }, { l1: 0.01, l2: 0.01 }],
    ['lazy sgd', { type: 'sgd', lr: 0.1, schedule: 'invscaling' }, { l1: 0.01, l2: 0.02 }],
    ['lazy adagrad', { type: 'adagrad', lr: 0.2 }, { l1: 0.01, l2: 0.02 }],
    ['eager adam', { type: 'adam', lr: 0.05 }, { l1: 0.01 }],
  ];
  it.each(configs)('%s', (_name, optimizer, reg) => {
    const guard = new NonFiniteGuard();
    const store = createWeightStore(
      { loss: createLoss('logistic'), opt: createOptimizer(optimizer), fitIntercept: true, guard },
      createRegularizer(reg),
    );
    const dim = 20;
    store.allocate(dim);
    const input = new SparseInput();
    const rng = new Rng(5);
    let t = 0;
    for (let e = 0; e < 200; e++) {
      const indices = Array.from({ length: 1 + rng.int(5) }, () => rng.int(dim));
      input.parse({ indices, values: indices.map(() => rng.normal()) }, 'x', dim);
      if (store.learnSparse(t, input, rng.next() < 0.5 ? 1 : 0, 1)) t++;
    }
    const x = Array.from({ length: dim }, () => rng.normal());
    const read = Array.from({ length: dim + 1 }, (_, j) => store.read(t, j));
    store.readScores(t, x, 'x');
    const scoreRead = store.scores[0];
    store.materialize(t);
    expect(read).toEqual(Array.from(store.params));
    expect(read.some((v) => v !== 0)).toBe(true);
    store.readScores(t, x, 'x');
    expect(store.scores[0]).toBeCloseTo(scoreRead, 12);
  });
});
