import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';

describe('Rng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xa);
  });

  it('continues bit for bit after a state round-trip through JSON', () => {
    const a = new Rng(3);
    a.normal();
    const b = Rng.fromState(JSON.parse(JSON.stringify(a.state())));
    for (let i = 0; i < 100; i++) expect(b.normal()).toBe(a.normal());
  });

  it('draws uniforms in [0, 1) with mean near 1/2 and normals with unit variance', () => {
    const r = new Rng(1);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      s += u;
      const z = r.normal();
      s2 += z * z;
    }
    expect(s / n).toBeCloseTo(0.5, 1);
    expect(s2 / n).toBeCloseTo(1, 1);
  });

  it('poisson draws have the requested mean', () => {
    const r = new Rng(5);
    let s = 0;
    for (let i = 0; i < 5000; i++) s += r.poisson(8);
    expect(s / 5000).toBeGreaterThan(7.7);
    expect(s / 5000).toBeLessThan(8.3);
  });
});
