import { NonFiniteUpdateError } from '../errors.js';

/**
 * Guard against divergence, shared by every model: snapshot what an update is about to touch, run it,
 * and if any touched value became non-finite (overflow from a huge gradient, exp() in the exponential
 * loss, ...) restore the snapshot and count a rejection. The model keeps its last good state and the
 * stream goes on; the count is exported as a metric. Buffers are reused, so a guarded step allocates
 * nothing once warm.
 *
 * @example
 * guard.save([weights, bias]);           // whole arrays
 * applyUpdate();
 * if (!guard.commit()) { ... }          // rejected: arrays are back to their saved values
 */
export class NonFiniteGuard {
  /** Updates rejected so far. */
  rejected = 0;
  private arrays: readonly Float64Array[] = [];
  private saved: Float64Array[] = [];
  private idx: Int32Array | null = null;
  private n = 0;

  /**
   * Snapshots `arrays` whole (idx omitted) or at the coordinates idx[0..n) (the same coordinates in each
   * array, e.g. weights and the optimizer's per-weight statistics).
   */
  save(arrays: readonly Float64Array[], idx: Int32Array | null = null, n = 0): void {
    this.arrays = arrays;
    this.idx = idx;
    this.n = n;
    for (let a = 0; a < arrays.length; a++) {
      const src = arrays[a];
      const need = idx === null ? src.length : n;
      if (this.saved.length <= a || this.saved[a].length < need) this.saved[a] = new Float64Array(need);
      const dst = this.saved[a];
      if (idx === null) dst.set(src);
      else for (let i = 0; i < n; i++) dst[i] = src[idx[i]];
    }
  }

  /** True when every saved coordinate is finite now; otherwise restores them all and counts a rejection. */
  commit(): boolean {
    const { arrays, idx, n } = this;
    let ok = true;
    for (let a = 0; a < arrays.length && ok; a++) {
      const x = arrays[a];
      if (idx === null) {
        for (let i = 0; i < x.length; i++) {
          if (!Number.isFinite(x[i])) {
            ok = false;
            break;
          }
        }
      } else {
        for (let i = 0; i < n; i++) {
          if (!Number.isFinite(x[idx[i]])) {
            ok = false;
            break;
          }
        }
      }
    }
    if (ok) return true;
    this.reject();
    return false;
  }

  /**
   * Restores everything `save` copied and counts a rejection: for callers that checked finiteness
   * themselves (fused into their update loop) instead of calling `commit`.
   */
  reject(): void {
    const { arrays, idx, n } = this;
    for (let a = 0; a < arrays.length; a++) {
      const x = arrays[a];
      const s = this.saved[a];
      if (idx === null) x.set(s.subarray(0, x.length));
      else for (let i = 0; i < n; i++) x[idx[i]] = s[i];
    }
    this.rejected++;
  }

  /** Runs `update` under the guard; with `throwOnReject` a rejection throws NonFiniteUpdateError instead. */
  run(arrays: readonly Float64Array[], update: () => void, throwOnReject = false): boolean {
    this.save(arrays);
    update();
    const ok = this.commit();
    if (!ok && throwOnReject)
      throw new NonFiniteUpdateError('update rejected: it would have made a weight non-finite');
    return ok;
  }
}
