import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { NormalizationError } from '../../../src/errors.js';
import { weightStandardize, weightStandardizeBackward } from '../../../src/normalizers/index.js';
import { randomTensor } from './gradCheck.js';

describe('weight standardization', () => {
  it('gives every fan-in row mean 0 and variance σ²/(σ² + ε)', () => {
    const w = randomTensor(new Rng(1), [3, 6], 2, 0.5).data;
    const s = weightStandardize(w, 3, 6, 1e-5);
    for (let r = 0; r < 3; r++) {
      const row = Array.from(w.subarray(r * 6, r * 6 + 6));
      const mu = row.reduce((a, b) => a + b, 0) / 6;
      const v = row.reduce((a, b) => a + (b - mu) ** 2, 0) / 6;
      const out = Array.from(s.data.subarray(r * 6, r * 6 + 6));
      expect(out.reduce((a, b) => a + b, 0) / 6).toBeCloseTo(0, 13);
      expect(out.reduce((a, b) => a + b * b, 0) / 6).toBeCloseTo(v / (v + 1e-5), 12);
    }
  });

  it('backward matches finite differences', () => {
    const rng = new Rng(2);
    const w = randomTensor(rng, [4, 5], 0.3, 1.2).data;
    const g = randomTensor(rng, [4, 5]).data;
    const loss = (wv: Float64Array): number =>
      weightStandardize(wv, 4, 5).data.reduce((a, v, i) => a + v * g[i], 0);
    const dw = weightStandardizeBackward(g, weightStandardize(w, 4, 5));
    const h = 1e-6;
    for (let i = 0; i < w.length; i++) {
      const wp = w.slice();
      const wm = w.slice();
      wp[i] += h;
      wm[i] -= h;
      expect(dw[i]).toBeCloseTo((loss(wp) - loss(wm)) / (2 * h), 7);
    }
  });

  it('reuses the buffers it is given and rejects bad weights', () => {
    const w = randomTensor(new Rng(3), [2, 3]).data;
    const s = weightStandardize(w, 2, 3);
    expect(weightStandardize(w, 2, 3, 1e-5, s)).toBe(s);
    expect(() => weightStandardize(w, 2, 4)).toThrow(NormalizationError);
    const bad = w.slice();
    bad[4] = Infinity;
    expect(() => weightStandardize(bad, 2, 3)).toThrow(/Infinity at flat index 4/);
  });
});
