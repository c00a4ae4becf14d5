import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LinearModel, type LinearModelOptions } from '../../src/models/linear/index.js';
import { ElasticNet, LpPenalty } from '../../src/models/regularizers/index.js';

const D = 4;
const losses: [LinearModelOptions['loss'], number][] = [
  ['squared', 1],
  ['logistic', 2],
  ['hinge', 2],
  ['exponential', 2],
  ['softmax', 3],
];

const vec = fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: D, maxLength: D });

function label(loss: string, u: number): number {
  if (loss === 'squared') return 4 * u - 2;
  if (loss === 'softmax') return Math.min(2, Math.floor(3 * u));
  return u < 0.5 ? 0 : 1;
}

function params(m: LinearModel): number[] {
  return [...m.weights, ...m.biases];
}

describe.each(losses)('LinearModel with %s loss', (loss, classes) => {
  const opts: LinearModelOptions = {
    loss,
    optimizer: { type: 'sgd', lr: 0.05 },
    dim: D,
    ...(loss === 'softmax' ? { classes } : {}),
  };

  it('learnMany takes the mean of the per-sample gradient steps (unregularized SGD, any warm start)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(vec, fc.double({ min: 0, max: 0.999, noNaN: true })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.array(fc.tuple(vec, fc.double({ min: 0, max: 0.999, noNaN: true })), {
          minLength: 0,
          maxLength: 5,
        }),
        (batch, warm) => {
          const base = new LinearModel(opts);
          for (const [x, u] of warm) base.learnOne(x, label(loss, u));
          const state = JSON.parse(JSON.stringify(base.state()));
          const p0 = params(base);
          const many = LinearModel.fromState(state);
          many.learnMany(
            batch.map(([x]) => x),
            batch.map(([, u]) => label(loss, u)),
          );
          const mean = new Array<number>(p0.length).fill(0);
          for (const [x, u] of batch) {
            const one = LinearModel.fromState(state);
            one.learnOne(x, label(loss, u));
            params(one).forEach((v, i) => (mean[i] += (v - p0[i]) / batch.length));
          }
          params(many).forEach((v, i) => expect(v - p0[i]).toBeCloseTo(mean[i], 10));
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });

  it("the model's step is −lr × the finite-difference gradient of its mean loss", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(vec, fc.double({ min: 0, max: 0.999, noNaN: true })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), {
          minLength: classes === 3 ? 3 * D + 3 : D + 1,
          maxLength: classes === 3 ? 3 * D + 3 : D + 1,
        }),
        (batch, start) => {
          const X = batch.map(([x]) => x);
          const Y = batch.map(([, u]) => label(loss, u));
          const m = new LinearModel(opts);
          const nW = m.weights.length;
          m.weights.set(start.slice(0, nW));
          m.biases.set(start.slice(nW));
          // The hinge loss has a kink at margin 1: skip draws that sit within the FD step of it.
          if (
            loss === 'hinge' &&
            X.some((x, i) => Math.abs((2 * Y[i] - 1) * m.decisionFunction(x)[0] - 1) < 1e-4)
          )
            return;
          const h = 1e-6;
          const fd: number[] = [];
          for (let i = 0; i < start.length; i++) {
            const view = i < nW ? m.weights : m.biases;
            const j = i < nW ? i : i - nW;
            const v = view[j];
            view[j] = v + h;
            const up = m.meanLoss(X, Y);
            view[j] = v - h;
            const dn = m.meanLoss(X, Y);
            view[j] = v;
            fd.push((up - dn) / (2 * h));
          }
          const before = params(m);
          m.learnMany(X, Y);
          params(m).forEach((v, i) => {
            const g = (before[i] - v) / 0.05;
            expect(Math.abs(g - fd[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd[i])));
          });
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });
});

describe('prox operators', () => {
  it('are non-expansive and shrink toward 0 (|prox(v)| ≤ |v|, same sign)', () => {
    const regs = [
      new ElasticNet(0.3, 0.2),
      new ElasticNet(0.5, 0),
      new LpPenalty(1.5, 0.4),
      new LpPenalty(3, 0.7),
    ];
    fc.assert(
      fc.property(
        fc.double({ min: -50, max: 50, noNaN: true }),
        fc.double({ min: -50, max: 50, noNaN: true }),
        fc.double({ min: 1e-4, max: 3, noNaN: true }),
        fc.integer({ min: 0, max: regs.length - 1 }),
        (a, b, eta, r) => {
          const reg = regs[r];
          const pa = reg.prox(a, eta);
          const pb = reg.prox(b, eta);
          expect(Math.abs(pa - pb)).toBeLessThanOrEqual(Math.abs(a - b) * (1 + 1e-12) + 1e-12);
          expect(Math.abs(pa)).toBeLessThanOrEqual(Math.abs(a) + 1e-15);
          expect(pa * a).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 500, seed: 3 },
    );
  });
});
