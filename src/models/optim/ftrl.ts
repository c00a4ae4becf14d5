import type { Optimizer, OptimizerConfig, OptimizerState } from './optimizer.js';
import { packArray, unpackArray } from './optimizer.js';

export interface FtrlOptions {
  /** Per-coordinate rate scale α (default 0.1). */
  alpha?: number;
  /** Rate smoothing β (default 1). */
  beta?: number;
}

/** The model's penalty, handed to FTRL because FTRL-Proximal applies it in closed form. */
export interface FtrlPenalty {
  l1: number;
  l2: number;
  /** Coordinates [0, penalized) are weights; the rest (intercepts) are never penalized. */
  penalized: number;
}

/**
 * FTRL-Proximal (McMahan et al. 2013, "Ad click prediction: a view from the trenches", Algorithm 1):
 * per coordinate z_j and n_j, and w_j = 0 when |z_j| ≤ λ1, else −(z_j − sign(z_j)·λ1) / ((β + √n_j)/α + λ2).
 * L1 gives exact zeros, and a weight is a function of (z_j, n_j, t) only, so sparse steps are lazy for free.
 *
 * Mapping of the model's objective: the paper's λ1‖w‖₁ + (λ2/2)‖w‖² is added once to the SUM of the
 * t losses seen, whereas our objective is the MEAN loss + l1‖w‖₁ + (l2/2)‖w‖₂². Multiplying ours by t,
 * FTRL uses λ1 = t·l1 and λ2 = t·l2 after t steps (the growing regularization of dual averaging,
 * Xiao 2010), so it converges to the same optimum as the other optimizers and the batch solvers.
 *
 * Through the `Optimizer` interface it steps any set of coordinates (`step`). `LinearModel`'s weight store
 * for FTRL (`models/linear/ftrlStore.ts`) holds its own `Ftrl` and also calls the passes only FTRL has
 * (`setPenalty`, `weightAt`, `gather`, `weightsDot`, `stepEvent`).
 */
export class Ftrl implements Optimizer {
  readonly type = 'ftrl' as const;
  readonly uniform = false;
  readonly proximal = true;
  readonly dense = false;
  readonly alpha: number;
  readonly beta: number;
  /**
   * 1/α. Every formula multiplies by it instead of dividing by α: a division costs several multiplications
   * and the sparse step takes three per active feature. Only the last bit of a rounding differs, and every
   * path (`weightAt`, `step`, the sparse event passes) does the same, so they agree bit for bit.
   */
  private readonly inv: number;
  /**
   * z_j at 2j and n_j at 2j + 1, interleaved: a step reads and writes both, so with hashed features
   * (random j over 2^20 coordinates) one cache line miss per active feature instead of two.
   */
  private zn = new Float64Array(0);
  private size = 0;
  private l1 = 0;
  private l2 = 0;
  private penalized = 0;

  constructor(opts: FtrlOptions = {}) {
    this.alpha = opts.alpha ?? 0.1;
    this.beta = opts.beta ?? 1;
    this.inv = 1 / this.alpha;
  }

  setPenalty(p: FtrlPenalty): void {
    this.l1 = p.l1;
    this.l2 = p.l2;
    this.penalized = p.penalized;
  }

  init(size: number): void {
    this.size = size;
    this.zn = new Float64Array(2 * size);
  }

  /** w_j after t steps. */
  weightAt(t: number, j: number): number {
    const z = this.zn[2 * j];
    const pen = j < this.penalized;
    const l1 = pen ? t * this.l1 : 0;
    if (Math.abs(z) <= l1) return 0;
    const l2 = pen ? t * this.l2 : 0;
    return -(z - Math.sign(z) * l1) / ((this.beta + Math.sqrt(this.zn[2 * j + 1])) * this.inv + l2);
  }

  /**
   * Updates z and n. Requires w[j] = weightAt(t − 1, j) for the coordinates stepped, and leaves w[j] stale:
   * a weight is a function of (z_j, n_j, t), so its store (`FtrlStore`) evaluates `weightAt` when it reads one (as
   * Algorithm 1 does at prediction time) instead of paying for it twice per step.
   */
  step(
    t: number,
    w: Float64Array,
    g: Float64Array,
    count: number,
    idx: Int32Array | null,
    off: number,
  ): void {
    const { zn, inv } = this;
    for (let i = 0; i < count; i++) {
      const j = idx === null ? off + i : idx[i];
      const gi = g[i];
      const nOld = zn[2 * j + 1];
      const nNew = nOld + gi * gi;
      const sigma = (Math.sqrt(nNew) - Math.sqrt(nOld)) * inv;
      zn[2 * j] += gi - sigma * w[j];
      zn[2 * j + 1] = nNew;
    }
  }

  /**
   * zAt[i] ← z_j and nAt[i] ← n_j for j = idx[i]. With hashed features every j is a likely cache miss; a
   * loop doing nothing else keeps many of them in flight at once, and the passes that follow
   * (`weightsDot`, `stepEvent`) then read the copies and find z_j's cache line already loaded.
   */
  gather(idx: Int32Array, count: number, zAt: Float64Array, nAt: Float64Array): void {
    const zn = this.zn;
    for (let i = 0; i < count; i++) {
      const j = idx[i];
      zAt[i] = zn[2 * j];
      nAt[i] = zn[2 * j + 1];
    }
  }

  /**
   * Pass 1 of Algorithm 1 for one sparse event, from the statistics `gather` copied: out[i] ← weightAt(t,
   * idx[i]) and returns s0 + Σ out[i]·vals[i], summed in index order (bit for bit what a `weightAt` loop
   * gives), and roots[i] ← √n_j for `stepEvent`. Every coordinate must be a weight (< `penalized`: the
   * features of a sparse event are). The square root and the weight are taken for every coordinate and
   * `stepEvent` has no branch: on 2^20 hashed weights a branch on the data in these loops cost more than
   * the arithmetic it skipped.
   */
  weightsDot(
    t: number,
    zAt: Float64Array,
    nAt: Float64Array,
    vals: Float64Array,
    count: number,
    out: Float64Array,
    roots: Float64Array,
    s0: number,
  ): number {
    const { inv, beta } = this;
    const l1 = t * this.l1;
    const l2 = t * this.l2;
    let s = s0;
    for (let i = 0; i < count; i++) {
      const zj = zAt[i];
      const root = Math.sqrt(nAt[i]);
      roots[i] = root;
      const wj = Math.abs(zj) <= l1 ? 0 : -(zj - Math.sign(zj) * l1) / ((beta + root) * inv + l2);
      out[i] = wj;
      s += wj * vals[i];
    }
    return s;
  }

  /**
   * Pass 2 of Algorithm 1 for one sparse event: the step for the rank-one gradient g_i = scale·vals[i] at
   * the distinct coordinates idx[i], given their pre-step statistics (zAt, nAt from `gather`), weights
   * (wAt[i] = weightAt(t − 1, idx[i])) and roots (√n_j, from `weightsDot`); then, when bias ≥ 0, the step
   * for gradient `scale` at coordinate bias, whose pre-step weight is wb. The values `step` would write,
   * bit for bit. Returns false when a new z or n is not finite, with every coordinate put back as it was.
   */
  stepEvent(
    zAt: Float64Array,
    nAt: Float64Array,
    wAt: Float64Array,
    roots: Float64Array,
    idx: Int32Array,
    vals: Float64Array,
    count: number,
    scale: number,
    bias: number,
    wb: number,
  ): boolean {
    const { zn, inv } = this;
    // x·0 is ±0 for a finite x and NaN otherwise: one test after the loop instead of a branch per value.
    let check = 0;
    for (let i = 0; i < count; i++) {
      const j = idx[i];
      const gi = scale * vals[i];
      const nNew = nAt[i] + gi * gi;
      const zNew = zAt[i] + (gi - (Math.sqrt(nNew) - roots[i]) * inv * wAt[i]);
      zn[2 * j] = zNew;
      zn[2 * j + 1] = nNew;
      check += zNew * 0 + nNew * 0;
    }
    let zb = 0;
    let nb = 0;
    if (bias >= 0) {
      zb = zn[2 * bias];
      nb = zn[2 * bias + 1];
      const nNew = nb + scale * scale;
      const zNew = zb + (scale - (Math.sqrt(nNew) - Math.sqrt(nb)) * inv * wb);
      zn[2 * bias] = zNew;
      zn[2 * bias + 1] = nNew;
      check += zNew * 0 + nNew * 0;
    }
    if (check === 0) return true;
    for (let i = 0; i < count; i++) {
      const j = idx[i];
      zn[2 * j] = zAt[i];
      zn[2 * j + 1] = nAt[i];
    }
    if (bias >= 0) {
      zn[2 * bias] = zb;
      zn[2 * bias + 1] = nb;
    }
    return false;
  }

  rate(_t: number, j: number): number {
    return this.alpha / (this.beta + Math.sqrt(this.zn[2 * j + 1]));
  }

  /** One interleaved array: coordinate j's statistics sit at 2j and 2j + 1 (guard with doubled indices). */
  stateArrays(): Float64Array[] {
    return [this.zn];
  }

  state(): OptimizerState {
    const { zn, size } = this;
    const z = new Float64Array(size);
    const n = new Float64Array(size);
    for (let j = 0; j < size; j++) {
      z[j] = zn[2 * j];
      n[j] = zn[2 * j + 1];
    }
    return { type: 'ftrl', config: this.config(), arrays: [packArray(z), packArray(n)] };
  }

  restore(s: OptimizerState): void {
    const { zn, size } = this;
    const z = new Float64Array(size);
    const n = new Float64Array(size);
    unpackArray(s.arrays[0], z, 'ftrl z');
    unpackArray(s.arrays[1], n, 'ftrl n');
    for (let j = 0; j < size; j++) {
      zn[2 * j] = z[j];
      zn[2 * j + 1] = n[j];
    }
  }

  config(): OptimizerConfig {
    return { type: 'ftrl', alpha: this.alpha, beta: this.beta };
  }
}
