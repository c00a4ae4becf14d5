import type { Regularizer, RegularizerConfig } from './regularizer.js';

/**
 * L0 constraint ‖w‖₀ ≤ k by hard thresholding: after each gradient step keep the k weights of largest
 * magnitude and zero the rest (iterative hard thresholding, Blumensath & Davies 2009). L0 itself is
 * NP-hard to optimize; this is the projection step, not a convex penalty, so `value` is the indicator
 * (0 when feasible, +∞ otherwise) and there is no gradient. Ties keep the lower index. O(n) per step
 * (quickselect), so with hashed features prefer L1.
 */
export class L0Projection implements Regularizer {
  readonly kind = 'l0' as const;
  readonly elastic = null;
  readonly strength = 0;
  private scratch = new Float64Array(0);

  constructor(readonly k: number) {}

  value(w: Float64Array, n: number): number {
    let nz = 0;
    for (let j = 0; j < n; j++) if (w[j] !== 0) nz++;
    return nz <= this.k ? 0 : Infinity;
  }

  addGradient(): void {}

  prox(v: number): number {
    return v;
  }

  project(w: Float64Array, n: number): void {
    let nz = 0;
    for (let j = 0; j < n; j++) if (w[j] !== 0) nz++;
    if (nz <= this.k) return;
    if (this.k === 0) {
      w.fill(0, 0, n);
      return;
    }
    if (this.scratch.length < n) this.scratch = new Float64Array(n);
    const s = this.scratch;
    for (let j = 0; j < n; j++) s[j] = Math.abs(w[j]);
    const thr = quickselectDesc(s, n, this.k - 1);
    let above = 0;
    for (let j = 0; j < n; j++) if (Math.abs(w[j]) > thr) above++;
    let tiesLeft = this.k - above;
    for (let j = 0; j < n; j++) {
      const a = Math.abs(w[j]);
      if (a > thr) continue;
      if (a === thr && tiesLeft > 0) tiesLeft--;
      else w[j] = 0;
    }
  }

  config(): RegularizerConfig {
    return { l0: { k: this.k } };
  }
}

/** The (r+1)-th largest of a[0..n) (a is reordered). Hoare-style selection, bounded by n passes. */
function quickselectDesc(a: Float64Array, n: number, r: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (r <= j) hi = j;
    else if (r >= i) lo = i;
    else return a[r];
  }
  return a[r];
}
