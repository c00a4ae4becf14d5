import { ModelError, NonFiniteUpdateError } from '../errors.js';

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

/** Options of a {@link StepGuard}. */
export interface StepGuardOptions {
  /** Reject a step whose norm exceeds `factor` times the running average of recent accepted steps. Default 10. */
  factor?: number;
  /** Steps accepted unconditionally while the average forms. Default 20. */
  warmup?: number;
  /** Weight of the newest accepted step in the exponential moving average. Default 0.05. */
  alpha?: number;
}

/** A {@link StepGuard}'s JSON state (for checkpoints). */
export interface StepGuardState {
  factor: number;
  warmup: number;
  alpha: number;
  steps: number;
  average: number;
  rejected: number;
}

/**
 * Rejects an update whose step (the norm of the parameter change) is out of proportion to the model's
 * recent steps: after `warmup` accepted steps, a step larger than `factor` × the exponential moving average
 * of accepted step norms is refused, so one extreme event cannot throw a trained model far from where the
 * stream had taken it. Rejected steps are counted and never enter the average (an outlier cannot raise the
 * bar for the next one). A zero average (a converged or frozen model) accepts any step that is itself 0.
 *
 * @example
 * const g = new StepGuard({ factor: 10 });
 * if (!g.accept(stepNorm)) restorePreviousParameters();
 */
export class StepGuard {
  readonly factor: number;
  readonly warmup: number;
  readonly alpha: number;
  /** Steps rejected so far. */
  rejected = 0;
  private steps = 0;
  private average = 0;

  constructor(options: StepGuardOptions = {}) {
    const factor = options.factor ?? 10;
    const warmup = options.warmup ?? 20;
    const alpha = options.alpha ?? 0.05;
    if (!(Number.isFinite(factor) && factor > 1))
      throw new ModelError(`step guard factor must be a number > 1, got ${factor}`);
    if (!(Number.isInteger(warmup) && warmup >= 1))
      throw new ModelError(`step guard warmup must be an integer >= 1, got ${warmup}`);
    if (!(Number.isFinite(alpha) && alpha > 0 && alpha <= 1))
      throw new ModelError(`step guard alpha must be in (0, 1], got ${alpha}`);
    this.factor = factor;
    this.warmup = warmup;
    this.alpha = alpha;
  }

  /** Running average of accepted step norms. */
  get averageStep(): number {
    return this.average;
  }

  /** True (and the step joins the average) unless `norm` is out of proportion; false counts a rejection. */
  accept(norm: number): boolean {
    if (!(Number.isFinite(norm) && norm >= 0)) {
      this.rejected++;
      return false;
    }
    if (this.steps >= this.warmup && norm > this.factor * this.average) {
      this.rejected++;
      return false;
    }
    this.steps++;
    // Mean of the warm-up steps, then an exponential moving average.
    const a = this.steps <= this.warmup ? 1 / this.steps : this.alpha;
    this.average += a * (norm - this.average);
    return true;
  }

  state(): StepGuardState {
    const { factor, warmup, alpha, steps, average, rejected } = this;
    return { factor, warmup, alpha, steps, average, rejected };
  }

  static fromState(s: StepGuardState): StepGuard {
    const g = new StepGuard({ factor: s.factor, warmup: s.warmup, alpha: s.alpha });
    for (const k of ['steps', 'average', 'rejected'] as const)
      if (!(Number.isFinite(s[k]) && s[k] >= 0))
        throw new ModelError(`step guard state: ${k} must be a finite non-negative number, got ${s[k]}`);
    g.steps = s.steps;
    g.average = s.average;
    g.rejected = s.rejected;
    return g;
  }
}
