import { describe, expect, it } from 'vitest';
import {
  createRegularizer,
  ElasticNet,
  L0Projection,
  LpPenalty,
  LazyElasticNet,
} from '../../../src/models/regularizers/index.js';
import type { Regularizer } from '../../../src/models/regularizers/index.js';
import { Rng } from '../../../src/core/rng.js';

const h = 1e-6;
const w0 = Float64Array.from([0.8, -1.3, 0.25, -0.05, 2.1]);

/** argmin_u ½(u − v)² + η·J(u) by golden-section search on [−|v|−1, |v|+1] (J separable, 1-D). */
function proxBySearch(reg: Regularizer, v: number, eta: number): number {
  const f = (u: number): number => 0.5 * (u - v) ** 2 + eta * reg.value(Float64Array.of(u), 1);
  let a = -Math.abs(v) - 1;
  let b = Math.abs(v) + 1;
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 200; i++) {
    const c = b - g * (b - a);
    const d = a + g * (b - a);
    if (f(c) < f(d)) b = d;
    else a = c;
  }
  return (a + b) / 2;
}

describe.each([
  ['elastic net', new ElasticNet(0.3, 0.7)],
  ['lasso', new ElasticNet(0.5, 0)],
  ['ridge', new ElasticNet(0, 1.2)],
  ['lp p=1.5', new LpPenalty(1.5, 0.4)],
  ['lp p=3', new LpPenalty(3, 0.4)],
  ['lp p=2 (= ridge)', new LpPenalty(2, 1.2)],
])('%s', (_name, reg) => {
  it('gradient matches finite differences where differentiable (w ≠ 0)', () => {
    const g = new Float64Array(w0.length);
    reg.addGradient(w0, w0.length, g);
    for (let j = 0; j < w0.length; j++) {
      const up = w0.slice();
      const dn = w0.slice();
      up[j] += h;
      dn[j] -= h;
      expect(g[j]).toBeCloseTo((reg.value(up, 5) - reg.value(dn, 5)) / (2 * h), 6);
    }
  });

  it('prox is the minimizer of ½(u − v)² + η·J(u)', () => {
    for (const v of [-2.3, -0.4, -0.05, 0, 0.1, 0.9, 3.3]) {
      for (const eta of [0.01, 0.3, 2]) expect(reg.prox(v, eta)).toBeCloseTo(proxBySearch(reg, v, eta), 6);
    }
  });
});

describe('regularizer specifics', () => {
  it('elastic net value is l1·‖w‖₁ + (l2/2)·‖w‖₂² and its prox gives exact zeros', () => {
    const r = new ElasticNet(0.3, 0.7);
    const l1 = w0.reduce((s, v) => s + Math.abs(v), 0);
    const l2 = w0.reduce((s, v) => s + v * v, 0);
    expect(r.value(w0, 5)).toBeCloseTo(0.3 * l1 + 0.35 * l2, 14);
    expect(r.prox(0.02, 0.1)).toBe(0);
    expect(r.prox(-0.03, 0.1)).toBe(0);
  });

  it('lp with p=1 and p=2 equal l1 and l2 exactly', () => {
    expect(new LpPenalty(1, 0.4).value(w0, 5)).toBeCloseTo(new ElasticNet(0.4, 0).value(w0, 5), 14);
    expect(new LpPenalty(2, 0.4).value(w0, 5)).toBeCloseTo(new ElasticNet(0, 0.4).value(w0, 5), 14);
    for (const v of [-1, 0.02, 3])
      expect(new LpPenalty(1, 0.4).prox(v, 0.5)).toBe(new ElasticNet(0.4, 0).prox(v, 0.5));
  });

  it('l0 keeps exactly the k largest magnitudes (ties to the lower index)', () => {
    const w = Float64Array.from([0.5, -3, 0.5, 2, -0.1, 0.5]);
    new L0Projection(3).project(w, 6);
    expect(Array.from(w)).toEqual([0.5, -3, 0, 2, 0, 0]);
    const r = new L0Projection(2);
    expect(r.value(Float64Array.from([1, 0, 2]), 3)).toBe(0);
    expect(r.value(Float64Array.from([1, 3, 2]), 3)).toBe(Infinity);
    const rng = new Rng(3);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + rng.int(40);
      const k = rng.int(n + 1);
      const v = Float64Array.from({ length: n }, () => rng.normal());
      const want = [...v]
        .map(Math.abs)
        .sort((a, b) => b - a)
        .slice(0, k);
      new L0Projection(k).project(v, n);
      const kept = [...v]
        .filter((x) => x !== 0)
        .map(Math.abs)
        .sort((a, b) => b - a);
      expect(kept).toEqual(want);
    }
  });

  it('rejects bad configs loudly, naming the value', () => {
    expect(() => createRegularizer({ lp: { p: 0.5, lambda: 1 } })).toThrow(/lp\.p=0\.5.*not a norm/);
    expect(() => createRegularizer({ lp: { p: 2, lambda: NaN } })).toThrow(/lp\.lambda=NaN/);
    expect(() => createRegularizer({ l0: { k: 1.5 } })).toThrow(/l0\.k=1\.5/);
    expect(() => createRegularizer({ l2: Infinity })).toThrow(/l2=Infinity/);
    expect(() => createRegularizer({ l3: 1 } as never)).toThrow(/unknown regularizer option 'l3'/);
    expect(createRegularizer(undefined).kind).toBe('none');
    expect(createRegularizer({ l1: 0.1, l2: 0.2 }).strength).toBeCloseTo(0.3, 15);
  });
});

describe('LazyElasticNet closed forms', () => {
  it('equal applying every owed prox step one by one (uniform and per-weight rates)', () => {
    const rng = new Rng(5);
    for (const uniform of [true, false]) {
      for (const [l1, l2] of [
        [0.1, 0.2],
        [0.05, 0],
        [0, 0.3],
      ]) {
        const reg = new ElasticNet(l1, l2);
        const lazy = new LazyElasticNet(l1, l2, uniform, 4);
        const w = Float64Array.from([1.7, -0.9, 0.05, -2.4]);
        const eager = w.slice();
        lazy.start(0);
        const rate = 0.07;
        for (let t = 1; t <= 40; t++) {
          const eta = uniform ? 0.2 / Math.sqrt(t) + 0.01 * rng.next() : rate;
          for (let j = 0; j < 4; j++) eager[j] = reg.prox(eager[j], eta);
          if (uniform) lazy.advance(eta);
        }
        for (let j = 0; j < 4; j++) expect(lazy.peek(w, j, 40, rate)).toBeCloseTo(eager[j], 12);
      }
    }
  });
});
