import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../../src/core/tensor.js';
import { NormalizationError } from '../../../src/errors.js';
import { MinMaxScaler, StandardScaler } from '../../../src/normalizers/index.js';

describe('StandardScaler', () => {
  it('standardizes with the population statistics seen so far', () => {
    const s = new StandardScaler();
    s.learnOne([1, 10]).learnOne([3, 30]);
    s.partialFit(tensor([2, 20, 2, 20], [2, 2]));
    expect(s.count).toBe(4);
    expect(Array.from(s.mean)).toEqual([2, 20]);
    expect(Array.from(s.variance)).toEqual([0.5, 50]);
    const z = s.transform(tensor([3, 10], [1, 2]));
    expect(z.data[0]).toBeCloseTo(1 / Math.sqrt(0.5), 14);
    expect(z.data[1]).toBeCloseTo(-10 / Math.sqrt(50), 14);
  });

  it('scales a zero-variance feature by 1 and round-trips its state', () => {
    const s = new StandardScaler();
    s.learnOne([5, 1]).learnOne([5, 3]);
    expect(Array.from(s.transformOne([7, 2]))).toEqual([2, 0]);
    const back = StandardScaler.fromState(JSON.parse(JSON.stringify(s.state())));
    expect(Array.from(back.transformOne([7, 2]))).toEqual([2, 0]);
    expect(back.count).toBe(2);
  });

  it('rejects non-finite values and wrong widths, unchanged', () => {
    const s = new StandardScaler();
    s.learnOne([1, 2]);
    const before = JSON.stringify(s.state());
    expect(() => s.learnOne([1, NaN])).toThrow(/non-finite value NaN at feature 1/);
    expect(() => s.learnOne([1, 2, 3])).toThrow(/expected 2 features, got 3/);
    expect(() => s.partialFit(tensor([1, Infinity], [1, 2]))).toThrow(NormalizationError);
    expect(() => s.merge(new StandardScaler().learnOne([1]))).toThrow(/feature counts differ/);
    expect(JSON.stringify(s.state())).toBe(before);
  });
});

describe('MinMaxScaler', () => {
  it('maps the range seen so far to [a, b]', () => {
    const s = new MinMaxScaler({ range: [-1, 1] });
    s.learnOne([0, 5]).learnOne([10, 15]);
    expect(Array.from(s.transformOne([5, 10]))).toEqual([0, 0]);
    expect(Array.from(s.transformOne([10, 5]))).toEqual([1, -1]);
    expect(Array.from(s.transformOne([20, 5]))).toEqual([3, -1]);
    const clipped = new MinMaxScaler({ clip: true }).partialFit(tensor([0, 10], [2, 1]));
    expect(Array.from(clipped.transform(tensor([20, -5, 5], [3, 1])).data)).toEqual([1, 0, 0.5]);
  });

  it('merges exactly and round-trips its state', () => {
    const a = new MinMaxScaler().partialFit(tensor([1, 2, 3, 4], [2, 2]));
    const b = new MinMaxScaler().partialFit(tensor([-1, 9], [1, 2]));
    a.merge(b);
    expect(Array.from(a.dataMin)).toEqual([-1, 2]);
    expect(Array.from(a.dataMax)).toEqual([3, 9]);
    const back = MinMaxScaler.fromState(JSON.parse(JSON.stringify(a.state())));
    expect(Array.from(back.transformOne([1, 5.5]))).toEqual(Array.from(a.transformOne([1, 5.5])));
  });

  it('rejects a bad range naming it', () => {
    expect(() => new MinMaxScaler({ range: [1, 1] })).toThrow(/got \[1,1\]/);
    expect(() => new MinMaxScaler({ range: [0, NaN] })).toThrow(NormalizationError);
  });
});

interface ScalerCase {
  name: string;
  features: number;
  batches: number[][][];
  probe: number[][];
  standard: { mean: number[]; var: number[]; n: number; transform: number[][] };
  minmax: { range: [number, number]; min: number[]; max: number[]; transform: number[][] };
}
const sk = JSON.parse(
  readFileSync(new URL('../../fixtures/normalizers/scalers.json', import.meta.url), 'utf8'),
) as {
  sklearn: string;
  cases: ScalerCase[];
};

/** ‖a − b‖∞ ≤ 1e-9 · max(1, ‖b‖∞). */
function expectClose(a: ArrayLike<number>, b: number[], what: string): void {
  const scale = Math.max(1, ...b.map(Math.abs));
  b.forEach((v, i) => expect(Math.abs(a[i] - v), `${what}[${i}]`).toBeLessThanOrEqual(1e-9 * scale));
}

describe(`scalers vs scikit-learn ${sk.sklearn} partial_fit`, () => {
  it.each(sk.cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const ss = new StandardScaler();
    const mm = new MinMaxScaler({ range: c.minmax.range });
    for (const b of c.batches) {
      const t = tensor(b.flat(), [b.length, c.features]);
      ss.partialFit(t);
      mm.partialFit(t);
    }
    expect(ss.count).toBe(c.standard.n);
    expectClose(ss.mean, c.standard.mean, 'mean');
    expectClose(ss.variance, c.standard.var, 'var');
    const probe = tensor(c.probe.flat(), [c.probe.length, c.features]);
    expectClose(ss.transform(probe).data, c.standard.transform.flat(), 'standard transform');
    expectClose(mm.dataMin, c.minmax.min, 'min');
    expectClose(mm.dataMax, c.minmax.max, 'max');
    expectClose(mm.transform(probe).data, c.minmax.transform.flat(), 'minmax transform');
  });
});
