import type { Regularizer, RegularizerConfig } from './regularizer.js';
import { softThreshold } from './regularizer.js';

/**
 * Lp penalty (λ/p)·Σ|w_j|^p for p ≥ 1 (a norm only for p ≥ 1, which is why smaller p is refused).
 * The 1/p makes p = 1 exactly `{ l1: λ }` and p = 2 exactly `{ l2: λ }`. For p ∉ {1, 2} the prox
 * solves u + η·λ·u^(p−1) = |v| on [0, |v|] by safeguarded Newton (bisection when Newton leaves the
 * bracket), which converges for every p ≥ 1 including the infinite slope at 0 when 1 < p < 2.
 */
export class LpPenalty implements Regularizer {
  readonly kind = 'lp' as const;
  readonly elastic = null;
  readonly strength: number;

  constructor(
    readonly p: number,
    readonly lambda: number,
  ) {
    this.strength = lambda;
  }

  value(w: Float64Array, n: number): number {
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.abs(w[j]) ** this.p;
    return (this.lambda / this.p) * s;
  }

  addGradient(w: Float64Array, n: number, out: Float64Array): void {
    const q = this.p - 1;
    for (let j = 0; j < n; j++) {
      const a = Math.abs(w[j]);
      out[j] += this.lambda * Math.sign(w[j]) * (q === 0 ? 1 : a ** q);
    }
  }

  prox(v: number, eta: number): number {
    const c = eta * this.lambda;
    if (this.p === 1) return softThreshold(v, c);
    if (this.p === 2) return v / (1 + c);
    const a = Math.abs(v);
    if (a === 0 || c === 0) return v;
    const q = this.p - 1;
    // f(u) = u + c·u^q − a is increasing on [0, a], f(0) = −a < 0, f(a) = c·a^q ≥ 0.
    let lo = 0;
    let hi = a;
    let u = a / (1 + c * a ** (q - 1)); // exact for p = 2, a good start otherwise
    for (let it = 0; it < 100; it++) {
      const f = u + c * u ** q - a;
      if (f > 0) hi = u;
      else lo = u;
      if (Math.abs(f) <= 1e-15 * a || hi - lo <= 1e-16 * a) break;
      const df = 1 + c * q * u ** (q - 1);
      let next = u - f / df;
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      u = next;
    }
    return v > 0 ? u : -u;
  }

  config(): RegularizerConfig {
    return { lp: { p: this.p, lambda: this.lambda } };
  }
}
