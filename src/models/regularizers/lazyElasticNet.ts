/**
 * Lazy elastic-net proximal steps for sparse inputs: a weight untouched for k steps still owes k prox
 * steps w ← soft(w, η_t·l1) / (1 + η_t·l2). Applying them only when the weight is next read gives the
 * same result as applying every step to every weight (the "just-in-time" updates of Carpenter 2008 and
 * Langford, Li & Zhang 2009), so a sparse step costs O(active features), not O(dim).
 *
 * Two closed forms, because the owed steps either share a global rate or a per-weight one:
 * - uniform (SGD with any schedule): keep D_t = Π(1 + η_i·l2) and A_t = Σ η_i·l1·D_(i−1). While w stays
 *   on one side of 0, u = |w|·D evolves as u_t = u_s − (A_t − A_s); w reaches 0 and stays there
 *   otherwise, so w_t = sign(w_s)·max(|w_s|·D_s − (A_t − A_s), 0) / D_t. Each weight stores (D_s, A_s);
 *   D is renormalized (after a full flush) before it can overflow.
 * - per-weight (AdaGrad): an untouched weight's rate η_j is constant, so with c = 1/(1 + η_j·l2),
 *   k owed steps give |w|·c^k − η_j·l1·(1 − c^k)/(η_j·l2) (or |w| − k·η_j·l1 when l2 = 0), clipped at 0.
 */
export class LazyElasticNet {
  private D = 1;
  private A = 0;
  /** uniform: D at the weight's last sync; per-weight: the step the weight is current through. */
  private sD: Float64Array;
  private sA: Float64Array;

  constructor(
    readonly l1: number,
    readonly l2: number,
    readonly uniform: boolean,
    size: number,
  ) {
    this.sD = new Float64Array(size);
    this.sA = new Float64Array(uniform ? size : 0);
  }

  /** Starts lazy mode at step t: every weight is current. */
  start(t: number): void {
    if (this.uniform) {
      this.D = 1;
      this.A = 0;
      this.sD.fill(1);
      this.sA.fill(0);
    } else {
      this.sD.fill(t);
    }
  }

  /** Records that step t (uniform rate eta) owes every weight one prox step. */
  advance(eta: number): void {
    this.A += eta * this.l1 * this.D;
    this.D *= 1 + eta * this.l2;
  }

  /** True when D or A should be renormalized (after a full flush) to stay far from overflow. */
  needsRescale(): boolean {
    return this.D > 1e150 || this.A > 1e150;
  }

  /** The value weight j would have after every owed step through t; `rate` is its current rate (per-weight mode). */
  peek(w: Float64Array, j: number, t: number, rate: number): number {
    const v = w[j];
    if (v === 0) return 0;
    const a = Math.abs(v);
    let u: number;
    if (this.uniform) {
      u = (a * this.sD[j] - (this.A - this.sA[j])) / this.D;
    } else {
      const k = t - this.sD[j];
      if (k === 0) return v;
      const b = rate * this.l2;
      if (b === 0) u = a - k * rate * this.l1;
      else {
        const logc = -k * Math.log1p(b);
        u = a * Math.exp(logc) - ((rate * this.l1) / b) * -Math.expm1(logc);
      }
    }
    return u > 0 ? (v > 0 ? u : -u) : 0;
  }

  /** Applies weight j's owed steps through t in place and marks it current. */
  sync(w: Float64Array, j: number, t: number, rate: number): void {
    w[j] = this.peek(w, j, t, rate);
    if (this.uniform) {
      this.sD[j] = this.D;
      this.sA[j] = this.A;
    } else {
      this.sD[j] = t;
    }
  }
}
