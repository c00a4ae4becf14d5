/**
 * The unrolled dense SGD kernels of the eager weight store (src/models/linear/eagerStore.ts:
 * `learnFloat64`, the one-output path with the dot product and the L2 step inlined, and `shrinkStep` /
 * `softStep`, the fused step + elastic-net prox per output row) equal plain loops bit for bit for every
 * weight count 1–9 (the unrolled loops' tails 0–3 and none, one or two full iterations), one output
 * (logistic, squared) and three (softmax), every elastic-net case and with or without an intercept.
 * test/unit/models/linear/weightStores.test.ts pins the same at 13 weights with overflowing events.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLoss } from '../../src/models/losses/createLoss.js';
import type { ScalarLoss, VectorLoss } from '../../src/models/losses/loss.js';
import { LinearModel, type LinearModelOptions } from '../../src/models/linear/index.js';
import { finiteValue } from '../unit/core/pinning.js';

type Case = { loss: 'logistic' | 'squared' | 'softmax'; l1: number; l2: number; fitIntercept: boolean };
type Event = { x: Float64Array; y: number; w: number };

const LR = 0.05;
const K_SOFTMAX = 3;

/**
 * Plain SGD on K outputs: score_k = b_k + Σ_j w_kj·x_j summed in four chains (j mod 4, the tail in chain
 * 0, (c0 + c1) + (c2 + c3): the order the model documents), g = sample weight × ∂L/∂score (the loss's
 * own gradient), then per weight w ← soft(w − (η·g_k)·x_j, η·l1)·1/(1 + η·l2) (soft the identity and the
 * factor 1 without a penalty), b_k ← b_k − η·g_k. A step with a non-finite score or result is undone.
 */
function plainSgd(c: Case, d: number, events: Event[]) {
  const K = c.loss === 'softmax' ? K_SOFTMAX : 1;
  const loss = createLoss(c.loss, c.loss === 'softmax' ? K : undefined);
  const penalized = c.l1 > 0 || c.l2 > 0;
  const a = penalized ? LR * c.l1 : 0;
  const shrink = penalized ? 1 / (1 + LR * c.l2) : 1;
  const w = new Float64Array(K * d);
  const b = new Float64Array(K);
  const scores = new Float64Array(K);
  const g = new Float64Array(K);
  let steps = 0;
  let rejected = 0;
  for (const { x, y, w: sw } of events) {
    for (let k = 0; k < K; k++) {
      const chains = [0, 0, 0, 0];
      const whole = d - (d % 4);
      for (let j = 0; j < whole; j++) chains[j % 4] += w[k * d + j] * x[j];
      for (let j = whole; j < d; j++) chains[0] += w[k * d + j] * x[j];
      scores[k] = b[k] + (chains[0] + chains[1] + (chains[2] + chains[3]));
    }
    if (!scores.every(Number.isFinite)) {
      rejected++;
      continue;
    }
    if (K > 1) {
      (loss as VectorLoss).gradient(y, scores, g);
      if (sw !== 1) for (let k = 0; k < K; k++) g[k] *= sw;
    } else g[0] = sw * (loss as ScalarLoss).gradient(y, scores[0]);
    const next = new Float64Array(K * d);
    const nb = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const step = LR * g[k];
      for (let j = 0; j < d; j++) {
        const v = w[k * d + j] - step * x[j];
        next[k * d + j] = (a === 0 ? v : v > a ? v - a : v < -a ? v + a : 0) * shrink;
      }
      nb[k] = c.fitIntercept ? b[k] - step : b[k];
    }
    if (!next.every(Number.isFinite) || !nb.every(Number.isFinite)) {
      rejected++;
      continue;
    }
    w.set(next);
    b.set(nb);
    steps++;
  }
  return { w, b, steps, rejected };
}

/** Features mostly of order one, sometimes awkward or huge (their steps overflow and are undone). */
const feature = fc.oneof(
  { arbitrary: fc.double({ min: -3, max: 3, noNaN: true }), weight: 10 },
  { arbitrary: finiteValue, weight: 1 },
);

function eventsOf(d: number, loss: Case['loss']): fc.Arbitrary<Event[]> {
  const y =
    loss === 'squared'
      ? fc.double({ min: -5, max: 5, noNaN: true })
      : fc.integer({ min: 0, max: loss === 'softmax' ? K_SOFTMAX - 1 : 1 });
  const event = fc.record({
    x: fc.array(feature, { minLength: d, maxLength: d }).map((v) => Float64Array.from(v)),
    y,
    w: fc.constantFrom(1, 1, 0.5, 3),
  });
  return fc.array(event, { minLength: 1, maxLength: 40 });
}

const PENALTIES = [
  { l1: 0, l2: 0 },
  { l1: 0, l2: 0.01 },
  { l1: 0.01, l2: 0 },
  { l1: 0.003, l2: 0.02 },
];

describe('EagerStore fused dense SGD equals plain loops bit for bit (weights 1–9)', () => {
  for (const loss of ['logistic', 'squared', 'softmax'] as const) {
    for (const { l1, l2 } of PENALTIES) {
      for (const fitIntercept of [true, false]) {
        const c: Case = { loss, l1, l2, fitIntercept };
        it(`${loss}, l1=${l1}, l2=${l2}, intercept ${fitIntercept}`, () => {
          let steps = 0;
          for (let d = 1; d <= 9; d++) {
            fc.assert(
              fc.property(eventsOf(d, loss), (events) => {
                const opts: LinearModelOptions = {
                  loss,
                  regularizer: l1 === 0 && l2 === 0 ? null : { l1, l2 },
                  optimizer: { type: 'sgd', lr: LR },
                  fitIntercept,
                  dim: d,
                  ...(loss === 'softmax' ? { classes: K_SOFTMAX } : {}),
                };
                const f64 = new LinearModel(opts); // Float64Array events: learnFloat64 (one output)
                const arr = new LinearModel(opts); // number[] events: scoreDense + shrinkStep / softStep
                for (const { x, y, w } of events) {
                  f64.learnOne(x, y, w);
                  arr.learnOne(Array.from(x), y, w);
                }
                const ref = plainSgd(c, d, events);
                steps += ref.steps;
                for (const m of [f64, arr]) {
                  const got = [...m.weights, ...m.biases];
                  const want = [...ref.w, ...ref.b];
                  for (let i = 0; i < want.length; i++) {
                    if (!Object.is(got[i], want[i]))
                      expect.fail(`d=${d}: parameter ${i} ${got[i]} ≠ ${want[i]}`);
                  }
                  expect(m.steps).toBe(ref.steps);
                  expect(m.rejectedUpdates).toBe(ref.rejected);
                }
              }),
              { numRuns: 15 },
            );
          }
          expect(steps).toBeGreaterThan(0);
        });
      }
    }
  }
});
