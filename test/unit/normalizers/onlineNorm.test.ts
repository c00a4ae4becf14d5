import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import type { Tensor } from '../../../src/core/tensor.js';
import { NormalizationError } from '../../../src/errors.js';
import { OnlineNorm } from '../../../src/normalizers/index.js';
import { gradCheck, randomTensor } from './gradCheck.js';

const slice = (x: Tensor, i: number): Tensor => {
  const per = x.data.length / x.shape[0];
  return { data: x.data.slice(i * per, (i + 1) * per), shape: [1, ...x.shape.slice(1)] };
};

describe('OnlineNorm', () => {
  it('does not depend on batching: one batch of N equals N batches of one (forward, backward, state)', () => {
    const a = new OnlineNorm({ channels: 3, alphaForward: 0.9, alphaBackward: 0.8 });
    const b = new OnlineNorm({ channels: 3, alphaForward: 0.9, alphaBackward: 0.8 });
    a.params.gamma!.set([1.5, -0.5, 2]);
    b.params.gamma!.set([1.5, -0.5, 2]);
    const rng = new Rng(1);
    for (let s = 0; s < 3; s++) {
      const x = randomTensor(rng, [4, 3, 5], 2, 3);
      const dy = randomTensor(rng, [4, 3, 5]);
      const ya = a.forward(x).data;
      const dxa = a.backward(dy).data;
      const gammaGrad = new Float64Array(3);
      for (let i = 0; i < 4; i++) {
        const yb = b.forward(slice(x, i)).data;
        const dxb = b.backward(slice(dy, i)).data;
        b.grads.gamma!.forEach((g, j) => (gammaGrad[j] += g));
        for (let k = 0; k < yb.length; k++) {
          expect(yb[k]).toBeCloseTo(ya[i * 15 + k], 13);
          expect(dxb[k]).toBeCloseTo(dxa[i * 15 + k], 13);
        }
      }
      for (let j = 0; j < 3; j++) expect(gammaGrad[j]).toBeCloseTo(a.grads.gamma![j], 12);
    }
    const sa = a.state();
    const sb = b.state();
    for (const key of ['mu', 'variance', 'u', 'v'] as const) {
      sa[key].forEach((v, j) => expect(sb[key][j]).toBeCloseTo(v, 13));
    }
  });

  it('forward follows the paper: y_t uses the statistics of the samples before t, which then update', () => {
    const on = new OnlineNorm({ channels: 1, alphaForward: 0.5, affine: false, eps: 1e-5 });
    const y = on.forward({ data: Float64Array.from([2, 4, 6, 8]), shape: [2, 1, 2] }).data;
    // sample 1: μ0 = 0, σ²0 = 1
    expect(y[0]).toBeCloseTo(2 / Math.sqrt(1 + 1e-5), 14);
    expect(y[1]).toBeCloseTo(4 / Math.sqrt(1 + 1e-5), 14);
    // m1 = 3, s²1 = 1: σ²1 = .5·1 + .5·1 + .25·9 = 3.25, μ1 = 1.5
    expect(y[2]).toBeCloseTo((6 - 1.5) / Math.sqrt(3.25 + 1e-5), 14);
    // m2 = 7, s²2 = 1: σ²2 = .5·3.25 + .5 + .25·5.5² = 9.6875, μ2 = 4.25
    expect(on.variance[0]).toBeCloseTo(9.6875, 14);
    expect(on.mu[0]).toBeCloseTo(4.25, 14);
  });

  it('with α_b = 1 backward is the derivative with the previous statistics held constant (finite differences)', () => {
    const on = new OnlineNorm({ channels: 2, alphaBackward: 1, alphaForward: 0.7 });
    const rng = new Rng(2);
    for (let s = 0; s < 3; s++) on.forward(randomTensor(rng, [1, 2, 4], 1, 2));
    on.params.gamma!.set([0.5, 2]);
    on.params.beta!.set([-1, 0.3]);
    const r = gradCheck(on, randomTensor(rng, [1, 2, 4], 1, 2), true, 3);
    expect(r.maxRelError, r.worst).toBeLessThan(1e-7);
  });

  it('the backward control process keeps the gradient orthogonal to 1 and y on average', () => {
    // A stream whose upstream gradient has a constant bias and a component along y: without control
    // (α_b = 1) both projections accumulate linearly; with control they stay bounded.
    const run = (alphaBackward: number): { sumMean: number; sumDotY: number } => {
      const on = new OnlineNorm({ channels: 1, alphaForward: 0.99, alphaBackward, affine: false });
      const rng = new Rng(3);
      let sumMean = 0;
      let sumDotY = 0;
      for (let t = 0; t < 3000; t++) {
        const x = randomTensor(rng, [1, 1, 8], 1, 2);
        const y = on.forward(x).data;
        const dy = randomTensor(rng, [1, 1, 8]);
        for (let k = 0; k < 8; k++) dy.data[k] += 0.5 + 0.3 * y[k];
        const dx = on.backward(dy).data;
        let m = 0;
        let dot = 0;
        for (let k = 0; k < 8; k++) {
          m += dx[k] / 8;
          dot += (dx[k] * y[k]) / 8;
        }
        sumMean += m;
        sumDotY += dot;
      }
      return { sumMean, sumDotY };
    };
    const open = run(1);
    const controlled = run(0.99);
    expect(Math.abs(open.sumMean)).toBeGreaterThan(500);
    expect(Math.abs(open.sumDotY)).toBeGreaterThan(300);
    expect(Math.abs(controlled.sumMean)).toBeLessThan(Math.abs(open.sumMean) / 20);
    expect(Math.abs(controlled.sumDotY)).toBeLessThan(Math.abs(open.sumDotY) / 20);
  });

  it('inference uses the running statistics without updating them or the control state', () => {
    const on = new OnlineNorm({ channels: 2 });
    on.forward(randomTensor(new Rng(4), [3, 2], 1, 2));
    on.backward(randomTensor(new Rng(5), [3, 2]));
    const before = JSON.stringify(on.state());
    on.forward(randomTensor(new Rng(6), [3, 2]), { training: false });
    on.backward(randomTensor(new Rng(7), [3, 2]));
    expect(JSON.stringify(on.state())).toBe(before);
  });

  it.each([
    [{ channels: 2, alphaForward: 1.5 }, /alphaForward must be a number in \[0, 1\], got 1.5/],
    [{ channels: 2, alphaBackward: NaN }, /alphaBackward must be a number in \[0, 1\], got NaN/],
  ])('rejects %j', (opts, msg) => {
    expect(() => new OnlineNorm(opts as never)).toThrow(NormalizationError);
    expect(() => new OnlineNorm(opts as never)).toThrow(msg);
  });
});
