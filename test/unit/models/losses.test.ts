import { describe, expect, it } from 'vitest';
import {
  createLoss,
  SoftmaxLoss,
  squaredLoss,
  logisticLoss,
  hingeLoss,
  exponentialLoss,
} from '../../../src/models/losses/index.js';
import type { ScalarLoss } from '../../../src/models/losses/index.js';
import { ModelError } from '../../../src/errors.js';

const h = 1e-6;

describe.each([
  ['squared', squaredLoss, [-2.5, 0, 1, 3.7]],
  ['logistic', logisticLoss, [0, 1]],
  ['hinge', hingeLoss, [0, 1]],
  ['exponential', exponentialLoss, [0, 1]],
] as [string, ScalarLoss, number[]][])('%s loss', (_name, loss, labels) => {
  it('gradient matches central finite differences (away from the hinge kink)', () => {
    for (const y of labels) {
      for (const yhat of [-3.1, -0.7, -0.2, 0.3, 0.45, 2.2, 4.9]) {
        const fd = (loss.value(y, yhat + h) - loss.value(y, yhat - h)) / (2 * h);
        expect(loss.gradient(y, yhat)).toBeCloseTo(fd, 6);
      }
    }
  });

  it('is non-negative and minimal (zero gradient or zero loss) at a perfect prediction', () => {
    for (const y of labels) {
      for (const yhat of [-5, -1, 0, 1, 5]) expect(loss.value(y, yhat)).toBeGreaterThanOrEqual(0);
    }
    if (loss.task === 'regression') expect(loss.gradient(1.5, 1.5)).toBe(0);
  });
});

describe('loss specifics', () => {
  it('squared is ½(y − ŷ)² and logistic is the cross-entropy of σ(ŷ)', () => {
    expect(squaredLoss.value(3, 1)).toBe(2);
    const p = 1 / (1 + Math.exp(-0.8));
    expect(logisticLoss.value(1, 0.8)).toBeCloseTo(-Math.log(p), 14);
    expect(logisticLoss.value(0, 0.8)).toBeCloseTo(-Math.log(1 - p), 14);
    expect(logisticLoss.proba!(0.8)).toBeCloseTo(p, 15);
  });

  it('logistic stays finite and exact at huge margins (softplus form)', () => {
    expect(logisticLoss.value(0, 800)).toBe(800);
    expect(logisticLoss.value(1, 800)).toBe(0);
    expect(logisticLoss.value(1, -800)).toBe(800);
    expect(logisticLoss.gradient(0, 800)).toBe(1);
    expect(logisticLoss.gradient(1, -800)).toBe(-1);
  });

  it('hinge maps y ∈ {0,1} to ±1: zero loss beyond the margin, slope ∓1 inside', () => {
    expect(hingeLoss.value(1, 1.5)).toBe(0);
    expect(hingeLoss.value(0, -1.5)).toBe(0);
    expect(hingeLoss.value(1, 0.25)).toBe(0.75);
    expect(hingeLoss.gradient(1, 0.25)).toBe(-1);
    expect(hingeLoss.gradient(0, 0.25)).toBe(1);
    expect(hingeLoss.gradient(1, 2)).toBe(0);
  });

  it('exponential is e^(−y′ŷ) and its probability σ(2ŷ) is the population minimizer', () => {
    expect(exponentialLoss.value(1, 0.5)).toBeCloseTo(Math.exp(-0.5), 15);
    expect(exponentialLoss.value(0, 0.5)).toBeCloseTo(Math.exp(0.5), 15);
    // For P(y=1) = p, E[loss] = p e^(−f) + (1−p) e^(f) is minimal at f = ½ log(p/(1−p)).
    const p = 0.8;
    const f = 0.5 * Math.log(p / (1 - p));
    const risk = (g: number): number =>
      p * exponentialLoss.value(1, g) + (1 - p) * exponentialLoss.value(0, g);
    expect(risk(f)).toBeLessThan(risk(f + 1e-3));
    expect(risk(f)).toBeLessThan(risk(f - 1e-3));
    expect(exponentialLoss.proba!(f)).toBeCloseTo(p, 12);
  });

  it('binary losses reject labels other than 0 and 1, naming them', () => {
    for (const loss of [logisticLoss, hingeLoss, exponentialLoss]) {
      expect(() => loss.checkLabel(2)).toThrow(/y=2/);
      expect(() => loss.checkLabel(-1)).toThrow(ModelError);
      expect(() => loss.checkLabel(1)).not.toThrow();
    }
    expect(() => squaredLoss.checkLabel(NaN)).toThrow(/y=NaN/);
  });
});

describe('softmax loss', () => {
  const sm = new SoftmaxLoss(4);
  const scores = Float64Array.from([0.3, -1.2, 2.0, 0.7]);

  it('gradient matches finite differences for every class label', () => {
    const g = new Float64Array(4);
    for (let y = 0; y < 4; y++) {
      sm.gradient(y, scores, g);
      for (let k = 0; k < 4; k++) {
        const up = scores.slice();
        const dn = scores.slice();
        up[k] += h;
        dn[k] -= h;
        expect(g[k]).toBeCloseTo((sm.value(y, up) - sm.value(y, dn)) / (2 * h), 7);
      }
    }
  });

  it('probabilities sum to 1 and survive huge scores; value is −log p_y', () => {
    const p = new Float64Array(4);
    sm.probaInto(Float64Array.from([1000, 999, -1000, 0]), p);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
    expect(p[0] / p[1]).toBeCloseTo(Math.E, 10);
    sm.probaInto(scores, p);
    expect(sm.value(2, scores)).toBeCloseTo(-Math.log(p[2]), 14);
  });

  it('validates classes and labels', () => {
    expect(() => new SoftmaxLoss(1)).toThrow(/classes ≥ 2/);
    expect(() => sm.checkLabel(4)).toThrow(/y=4/);
    expect(() => sm.checkLabel(1.5)).toThrow(/y=1.5/);
    expect(() => createLoss('softmax')).toThrow(/classes/);
    expect(() => createLoss('squared', 3)).toThrow(/classes=3/);
  });
});

describe('one softmax cross-entropy for the linear models and the nets', () => {
  it('the batch form is the weighted mean of SoftmaxLoss over rows, and its gradient (w/n)·(p − onehot)', async () => {
    const { softmaxCrossEntropy } = await import('../../../src/models/losses/softmax.js');
    const k = 3;
    const logits = Float64Array.from([0.2, -1, 3, 800, 799, -5]);
    const Y = [2, 1];
    const w = 0.7;
    const d = new Float64Array(6);
    const loss = softmaxCrossEntropy(logits, Y, k, w, d);
    const sm = new SoftmaxLoss(k);
    let expected = 0;
    const g = new Float64Array(k);
    for (let i = 0; i < 2; i++) {
      const row = logits.subarray(i * k, i * k + k);
      expected += (w * sm.value(Y[i], row)) / 2;
      sm.gradient(Y[i], row, g);
      for (let j = 0; j < k; j++) expect(d[i * k + j]).toBeCloseTo((w / 2) * g[j], 15);
    }
    expect(loss).toBeCloseTo(expected, 14);
    expect(Number.isFinite(loss)).toBe(true); // logits near 800 do not overflow
  });
});
