import { Rng, type RngState } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import { ModelError } from '../errors.js';

/** Window augmentation settings; every one defaults to 0 = off. */
export interface AugmentOptions {
  /** Std of additive Gaussian noise per value (jitter). */
  jitter?: number;
  /** Std of a multiplicative factor 1 + N(0, scale²) drawn per window and channel (amplitude scaling). */
  scale?: number;
  /** Largest time shift in steps; each window moves by a uniform integer in [−shift, shift], edges repeated. */
  shift?: number;
  /** Seed of the augmenter's own RNG (kept apart from dropout's so turning augmentation on or off does not move the dropout masks). */
  seed?: number;
}

export interface WindowAugmenterState {
  jitter: number;
  scale: number;
  shift: number;
  rng: RngState;
}

/**
 * Data augmentation for `[C, L]` windows: jitter, amplitude scaling and time shift (Um et al. 2017,
 * "Data augmentation of wearable sensor data"; Iwana & Uchida 2021 survey). It regularizes by showing the
 * model label-preserving variants of each training window; it is off unless a magnitude is set and is
 * applied to training inputs only, never to predictions.
 *
 * @example
 * const aug = new WindowAugmenter({ jitter: 0.05, shift: 2, seed: 1 });
 * const xs = aug.apply(tensor(window.flat(), [1, C, L]));
 */
export class WindowAugmenter {
  readonly jitter: number;
  readonly scale: number;
  readonly shift: number;
  private rng: Rng;

  constructor(opts: AugmentOptions = {}) {
    const num = (field: keyof AugmentOptions, v: number | undefined): number => {
      const x = v ?? 0;
      if (!Number.isFinite(x) || x < 0)
        throw new ModelError(`augment.${field}: expected a finite number >= 0, got ${String(v)}`);
      return x;
    };
    this.jitter = num('jitter', opts.jitter);
    this.scale = num('scale', opts.scale);
    this.shift = num('shift', opts.shift);
    if (!Number.isInteger(this.shift))
      throw new ModelError(`augment.shift: expected an integer, got ${this.shift}`);
    this.rng = new Rng(opts.seed ?? 0);
  }

  /** True when any augmentation is switched on. */
  get enabled(): boolean {
    return this.jitter > 0 || this.scale > 0 || this.shift > 0;
  }

  /** Augmented copy of a batch `[N, C, L]` (the input is not mutated; returned as is when off). */
  apply(x: Tensor): Tensor {
    if (!this.enabled) return x;
    const [n, c, l] = x.shape;
    const src = x.data;
    const out = new Float64Array(src.length);
    const rng = this.rng;
    for (let i = 0; i < n; i++) {
      const s = this.shift > 0 ? rng.int(2 * this.shift + 1) - this.shift : 0;
      for (let ch = 0; ch < c; ch++) {
        const f = this.scale > 0 ? 1 + rng.normal(0, this.scale) : 1;
        const o = (i * c + ch) * l;
        for (let t = 0; t < l; t++) {
          const from = Math.min(l - 1, Math.max(0, t - s));
          let v = src[o + from] * f;
          if (this.jitter > 0) v += rng.normal(0, this.jitter);
          out[o + t] = v;
        }
      }
    }
    return { data: out, shape: [...x.shape] };
  }

  state(): WindowAugmenterState {
    return { jitter: this.jitter, scale: this.scale, shift: this.shift, rng: this.rng.state() };
  }

  static fromState(s: WindowAugmenterState): WindowAugmenter {
    const a = new WindowAugmenter({ jitter: s.jitter, scale: s.scale, shift: s.shift });
    a.rng = Rng.fromState(s.rng);
    return a;
  }
}
