import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import type { Tensor } from '../../../src/core/tensor.js';
import { NormalizationError } from '../../../src/errors.js';
import { BatchNorm, BatchRenorm } from '../../../src/normalizers/index.js';
import { randomTensor } from './gradCheck.js';

/** The paper's training forward with r and d given (constants): y = γ·(x̂_B·r + d) + β. */
function renormWithFixedRD(
  x: Tensor,
  gamma: Float64Array,
  beta: Float64Array,
  r: Float64Array,
  d: Float64Array,
  eps: number,
): Float64Array {
  const [n, c, l] = [x.shape[0], x.shape[1], x.shape[2] ?? 1];
  const y = new Float64Array(x.data.length);
  for (let j = 0; j < c; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) for (let k = 0; k < l; k++) s += x.data[(i * c + j) * l + k];
    const mu = s / (n * l);
    let v = 0;
    for (let i = 0; i < n; i++) for (let k = 0; k < l; k++) v += (x.data[(i * c + j) * l + k] - mu) ** 2;
    const sd = Math.sqrt(v / (n * l) + eps);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < l; k++) {
        const idx = (i * c + j) * l + k;
        y[idx] = gamma[j] * (((x.data[idx] - mu) / sd) * r[j] + d[j]) + beta[j];
      }
    }
  }
  return y;
}

describe('BatchRenorm', () => {
  it('with rMax = 1 and dMax = 0 is BatchNorm (outputs, gradients, running statistics)', () => {
    const brn = new BatchRenorm({ channels: 3, rMax: 1, dMax: 0, momentum: 0.1 });
    const bn = new BatchNorm({ channels: 3 });
    const rng = new Rng(1);
    for (let s = 0; s < 4; s++) {
      const x = randomTensor(rng, [4, 3, 2], 2, 3);
      const dy = randomTensor(rng, [4, 3, 2]);
      const training = s !== 3;
      const a = brn.forward(x, { training });
      const b = bn.forward(x, { training });
      for (let i = 0; i < a.data.length; i++) expect(a.data[i]).toBeCloseTo(b.data[i], 12);
      const da = brn.backward(dy);
      const db = bn.backward(dy);
      for (let i = 0; i < da.data.length; i++) expect(da.data[i]).toBeCloseTo(db.data[i], 12);
      for (let j = 0; j < 3; j++) {
        expect(brn.grads.gamma![j]).toBeCloseTo(bn.grads.gamma![j], 11);
        expect(brn.runningVar[j]).toBeCloseTo(bn.runningVar[j], 12);
      }
    }
  });

  it('while r and d are not clipped, training output equals inference output with the pre-step running statistics', () => {
    const brn = new BatchRenorm({ channels: 2, rMax: 100, dMax: 100 });
    brn.runningMean.set([1, -2]);
    brn.runningVar.set([4, 0.25]);
    const x = randomTensor(new Rng(2), [5, 2, 3], 0.5, 1.5);
    const evalOut = BatchRenorm.fromState(brn.state()).forward(x, { training: false }).data;
    const trainOut = brn.forward(x, { training: true }).data;
    for (let i = 0; i < x.data.length; i++) expect(trainOut[i]).toBeCloseTo(evalOut[i], 12);
  });

  it('backward is the derivative with r and d held constant (finite differences, unclipped and clipped)', () => {
    for (const [rMax, dMax] of [
      [100, 100],
      [1.2, 0.1],
    ]) {
      const brn = new BatchRenorm({ channels: 3, rMax, dMax });
      brn.runningMean.set([0.3, -1, 2]);
      brn.runningVar.set([2, 0.5, 9]);
      brn.params.gamma!.set([0.7, 1.3, -0.4]);
      brn.params.beta!.set([0.1, 0, -0.5]);
      const rng = new Rng(3);
      const x = randomTensor(rng, [4, 3, 2], 0.2, 1.1);
      const w = randomTensor(rng, [4, 3, 2]);
      brn.forward(x);
      const r = brn.r.slice();
      const d = brn.d.slice();
      const dx = brn.backward(w).data;
      const g = brn.params.gamma!;
      const b = brn.params.beta!;
      const loss = (xv: Tensor, gm = g, bt = b): number =>
        renormWithFixedRD(xv, gm, bt, r, d, brn.eps).reduce((s, v, i) => s + v * w.data[i], 0);
      const h = 1e-6;
      for (let i = 0; i < x.data.length; i++) {
        const xp = { data: x.data.slice(), shape: x.shape };
        const xm = { data: x.data.slice(), shape: x.shape };
        xp.data[i] += h;
        xm.data[i] -= h;
        expect(dx[i]).toBeCloseTo((loss(xp) - loss(xm)) / (2 * h), 6);
      }
      for (let j = 0; j < 3; j++) {
        const gp = g.slice();
        const gm = g.slice();
        gp[j] += h;
        gm[j] -= h;
        expect(brn.grads.gamma![j]).toBeCloseTo((loss(x, gp) - loss(x, gm)) / (2 * h), 6);
        const bp = b.slice();
        const bm = b.slice();
        bp[j] += h;
        bm[j] -= h;
        expect(brn.grads.beta![j]).toBeCloseTo((loss(x, g, bp) - loss(x, g, bm)) / (2 * h), 6);
      }
      if (rMax === 1.2)
        expect(Array.from(r).some((v) => Math.abs(v - 1.2) < 1e-15 || Math.abs(v - 1 / 1.2) < 1e-15)).toBe(
          true,
        );
    }
  });

  it('ramps rMax from 1 and dMax from 0 over the warm-up schedule, and the position survives a state round trip', () => {
    const brn = new BatchRenorm({
      channels: 1,
      schedule: { rMaxEnd: 3, dMaxEnd: 5, warmupSteps: 4, startStep: 2 },
    });
    const seen: { rMax: number; dMax: number }[] = [];
    const rng = new Rng(4);
    for (let s = 0; s < 8; s++) {
      seen.push(brn.limits());
      brn.forward(randomTensor(rng, [3, 1]));
      brn.forward(randomTensor(rng, [3, 1]), { training: false }); // inference does not advance the schedule
    }
    expect(seen.map((v) => v.rMax)).toEqual([1, 1, 1, 1.5, 2, 2.5, 3, 3]);
    expect(seen.map((v) => v.dMax)).toEqual([0, 0, 0, 1.25, 2.5, 3.75, 5, 5]);
    const back = BatchRenorm.fromState(JSON.parse(JSON.stringify(brn.state())));
    expect(back.steps).toBe(8);
    expect(back.limits()).toEqual({ rMax: 3, dMax: 5 });
  });

  it('at the start of the schedule (rMax = 1, dMax = 0) clips r to 1 and d to 0', () => {
    const brn = new BatchRenorm({ channels: 2, schedule: { rMaxEnd: 3, dMaxEnd: 5, warmupSteps: 10 } });
    brn.forward(randomTensor(new Rng(5), [4, 2], 3, 5));
    expect(Array.from(brn.r)).toEqual([1, 1]);
    expect(Array.from(brn.d).map(Math.abs)).toEqual([0, 0]);
  });

  it.each([
    [{ channels: 2, rMax: 0.5 }, /rMax must be a finite number >= 1, got 0.5/],
    [{ channels: 2, dMax: -1 }, /dMax must be a finite number >= 0, got -1/],
    [{ channels: 2, rMax: 2, schedule: { rMaxEnd: 3, dMaxEnd: 5, warmupSteps: 10 } }, /not both/],
    [
      { channels: 2, schedule: { rMaxEnd: 3, dMaxEnd: 5, warmupSteps: 1.5 } },
      /warmupSteps must be an integer >= 0, got 1.5/,
    ],
    [{ channels: 2, momentum: null }, /momentum/],
  ])('rejects %j', (opts, msg) => {
    expect(() => new BatchRenorm(opts as never)).toThrow(NormalizationError);
    expect(() => new BatchRenorm(opts as never)).toThrow(msg);
  });
});
