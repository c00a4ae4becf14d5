import { describe, expect, it } from 'vitest';
import {
  klDivergence,
  totalVariation,
  trainInferenceGap,
  trainInferenceKl,
} from '../../../src/evaluation/index.js';
import { fx } from './fixture.js';

describe('train-versus-inference gap', () => {
  it('total variation is ½·Σ|Δp|: |Δp₁| for two classes, symmetric, 0 for equal rows', () => {
    expect(totalVariation([0.3, 0.7], [0.1, 0.9])).toBeCloseTo(0.2, 15);
    expect(totalVariation([0.2, 0.3, 0.5], [0.5, 0.3, 0.2])).toBeCloseTo(0.3, 15);
    expect(totalVariation([0.1, 0.9], [0.3, 0.7])).toBe(totalVariation([0.3, 0.7], [0.1, 0.9]));
    expect(totalVariation([0.25, 0.75], [0.25, 0.75])).toBe(0);
  });

  it('the gap of a batch is the mean total variation over its events', () => {
    const train = [
      [0.3, 0.7],
      [0.5, 0.5],
    ];
    const infer = [
      [0.1, 0.9],
      [0.5, 0.5],
    ];
    expect(trainInferenceGap(train, infer)).toBeCloseTo(0.1, 15);
    expect(trainInferenceGap([], [])).toBeNaN();
    expect(() => trainInferenceGap(train, infer.slice(1))).toThrow(
      /trainInferenceGap: 2 rows but 1 to compare/,
    );
  });

  it.each(fx.kl.map((c) => [c.p.length, c] as const))(
    "KL(p ‖ q) equals SciPy's entropy(p, q) over %i classes",
    (_k, c) => {
      expect(Math.abs(klDivergence(c.p, c.q) - c.kl)).toBeLessThan(1e-14);
    },
  );

  it('the KL variant is 0 for equal rows, finite when inference gives 0, and averages over events', () => {
    expect(klDivergence([0.4, 0.6], [0.4, 0.6])).toBe(0);
    expect(klDivergence([0, 1], [0.5, 0.5])).toBeCloseTo(Math.log(2), 15);
    expect(klDivergence([0.5, 0.5], [1, 0])).toBeCloseTo(
      0.5 * Math.log(0.5) + 0.5 * Math.log(0.5 / 1e-15),
      12,
    );
    expect(
      trainInferenceKl(
        [
          [0, 1],
          [0.5, 0.5],
        ],
        [
          [0.5, 0.5],
          [0.5, 0.5],
        ],
      ),
    ).toBeCloseTo(Math.log(2) / 2, 15);
  });
});
