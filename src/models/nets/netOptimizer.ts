import { ModelError } from '../../errors.js';
import type { Param } from './param.js';

/** SGD with (optionally Nesterov) momentum, PyTorch's formulation: v ← μ·v + g, w ← w − lr·v. */
export interface NetSgdSpec {
  type: 'sgd';
  lr: number;
  /** Default 0 (plain SGD). */
  momentum?: number;
  nesterov?: boolean;
}

/** Adam (Kingma & Ba 2015) with bias correction. */
export interface NetAdamSpec {
  type: 'adam';
  lr: number;
  /** Defaults 0.9, 0.999, 1e-8. */
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export type NetOptimizerSpec = NetSgdSpec | NetAdamSpec;

export interface NetOptimizerState {
  spec: NetOptimizerSpec;
  lr: number;
  t: number;
  sizes: number[];
  m: number[][];
  v: number[][];
}

/**
 * The parameter-tensor optimizer of the nets. It knows nothing of the loss or its penalties (the model
 * adds those to the gradients) except decoupled weight decay, which by definition is not a gradient:
 * AdamW (Loshchilov & Hutter 2019) shrinks the weights by lr·λ·w outside the adaptive scaling, which
 * for Adam is not the same as an L2 term in the loss.
 *
 * The model runs `step` under the shared NonFiniteGuard over the parameters and `moments()`; when the
 * guard restores them, `rewind()` puts the step counter back too, so a rejected step leaves no trace.
 */
export class NetOptimizer {
  readonly spec: NetOptimizerSpec;
  lr: number;
  private t = 0;
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private readonly sizes: number[];

  constructor(spec: NetOptimizerSpec, sizes: readonly number[]) {
    this.sizes = [...sizes];
    this.spec = validateNetOptimizer(spec);
    this.lr = spec.lr;
    const adam = spec.type === 'adam';
    const moments = spec.type === 'sgd' ? (spec.momentum ?? 0) > 0 : true;
    this.m = sizes.map((s) => new Float64Array(moments ? s : 0));
    this.v = sizes.map((s) => new Float64Array(adam ? s : 0));
  }

  /** Number of steps taken (Adam's t). */
  get steps(): number {
    return this.t;
  }

  /**
   * One update of every parameter from its `grad`. `weightDecay` is the decoupled decay rate applied to
   * parameters with `decay` (0 for none).
   */
  step(params: readonly Param[], weightDecay: number): void {
    if (params.length !== this.m.length) {
      throw new ModelError(`optimizer: expected ${this.m.length} parameter tensors, got ${params.length}`);
    }
    this.t++;
    const lr = this.lr;
    const spec = this.spec;
    for (let p = 0; p < params.length; p++) {
      const w = params[p].value;
      const g = params[p].grad;
      const n = w.length;
      if (weightDecay > 0 && params[p].decay) {
        const shrink = 1 - lr * weightDecay;
        for (let i = 0; i < n; i++) w[i] *= shrink;
      }
      if (spec.type === 'adam') {
        const b1 = spec.beta1 ?? 0.9;
        const b2 = spec.beta2 ?? 0.999;
        const eps = spec.eps ?? 1e-8;
        const c1 = 1 - Math.pow(b1, this.t);
        const c2 = 1 - Math.pow(b2, this.t);
        const m = this.m[p];
        const v = this.v[p];
        for (let i = 0; i < n; i++) {
          const gi = g[i];
          m[i] = b1 * m[i] + (1 - b1) * gi;
          v[i] = b2 * v[i] + (1 - b2) * gi * gi;
          w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
        }
      } else {
        const mu = spec.momentum ?? 0;
        if (mu > 0) {
          const buf = this.m[p];
          const nesterov = spec.nesterov === true;
          for (let i = 0; i < n; i++) {
            buf[i] = mu * buf[i] + g[i];
            w[i] -= lr * (nesterov ? g[i] + mu * buf[i] : buf[i]);
          }
        } else {
          for (let i = 0; i < n; i++) w[i] -= lr * g[i];
        }
      }
    }
  }

  /** The optimizer's per-parameter statistics (for the guard to snapshot with the parameters). */
  moments(): Float64Array[] {
    return [...this.m, ...this.v].filter((a) => a.length > 0);
  }

  /** Undoes the step counter of a step whose values the guard restored. */
  rewind(): void {
    this.t--;
  }

  state(): NetOptimizerState {
    return {
      spec: { ...this.spec },
      lr: this.lr,
      t: this.t,
      sizes: [...this.sizes],
      m: this.m.map((a) => Array.from(a)),
      v: this.v.map((a) => Array.from(a)),
    };
  }

  static fromState(s: NetOptimizerState): NetOptimizer {
    const o = new NetOptimizer(s.spec, s.sizes);
    o.lr = s.lr;
    o.t = s.t;
    s.m.forEach((a, i) => o.m[i].set(a));
    s.v.forEach((a, i) => o.v[i].set(a));
    return o;
  }
}

/** Checks a spec, naming the bad field; returns it unchanged. */
export function validateNetOptimizer(spec: NetOptimizerSpec): NetOptimizerSpec {
  if (spec === null || typeof spec !== 'object')
    throw new ModelError(`optimizer: expected an object, got ${String(spec)}`);
  const bad = (field: string, v: unknown, want: string): never => {
    throw new ModelError(`optimizer.${field}: ${want}, got ${String(v)}`);
  };
  if (!Number.isFinite(spec.lr) || spec.lr <= 0) bad('lr', spec.lr, 'expected a finite number > 0');
  if (spec.type === 'sgd') {
    const mu = spec.momentum ?? 0;
    if (!Number.isFinite(mu) || mu < 0 || mu >= 1)
      bad('momentum', spec.momentum, 'expected a number in [0, 1)');
    if (spec.nesterov === true && mu === 0) bad('nesterov', spec.nesterov, 'Nesterov needs momentum > 0');
  } else if (spec.type === 'adam') {
    for (const f of ['beta1', 'beta2'] as const) {
      const b = spec[f];
      if (b !== undefined && (!Number.isFinite(b) || b < 0 || b >= 1))
        bad(f, b, 'expected a number in [0, 1)');
    }
    if (spec.eps !== undefined && (!Number.isFinite(spec.eps) || spec.eps <= 0))
      bad('eps', spec.eps, 'expected > 0');
  } else {
    bad('type', (spec as { type?: unknown }).type, "expected 'sgd' or 'adam'");
  }
  return spec;
}
