import { ModelError } from '../../errors.js';
import type { Optimizer, OptimizerConfig, OptimizerState, ScheduleName } from './optimizer.js';
import { packArray, unpackArray } from './optimizer.js';
import type { Schedule } from './schedules.js';
import { constantSchedule, invScalingSchedule, optimalSchedule } from './schedules.js';

export interface SgdOptions {
  /** Base rate (default 0.01); ignored by the 'optimal' schedule. */
  lr?: number;
  /** Default 'constant'. */
  schedule?: ScheduleName;
  /** Exponent of 'invscaling' (default 0.5). */
  powerT?: number;
  /** Momentum μ in [0, 1) (default 0: plain SGD). */
  momentum?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  nesterov?: boolean;
  /**
   * Decoupled weight decay λ (default 0): each step first shrinks a weight by η_t·λ·w (Loshchilov & Hutter
   * 2019). Set by a net for its decayed tensors; a `LinearModel` applies its penalties as a prox instead.
   */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent w ← w − η_t·g (Robbins & Monro 1951) with a schedule, optionally with
 * PyTorch's momentum v ← μ·v + g, w ← w − η_t·v (Nesterov: w ← w − η_t·(g + μ·v)). Without momentum its rate
 * is the same for every coordinate and an untouched coordinate stays put, which is what lets the model apply
 * elastic-net prox steps lazily; momentum moves a weight whose gradient is zero, so then `uniform` is false
 * and `dense` true. 'optimal' needs the regularization strength (sklearn's alpha) and the loss slope for
 * its t0; the model supplies both, since the optimizer itself knows nothing of either.
 */
export class Sgd implements Optimizer {
  readonly type = 'sgd' as const;
  readonly uniform: boolean;
  readonly proximal = false;
  readonly dense: boolean;
  /** Base rate; `setLearningRate` changes it (early stopping lowers it). */
  lr: number;
  readonly schedule: ScheduleName;
  readonly powerT: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  private readonly optimal: { alpha: number; lossSlope: number } | undefined;
  private sched: Schedule;
  /** Momentum buffer v (empty without momentum). */
  private v = new Float64Array(0);

  constructor(opts: SgdOptions = {}, optimal?: { alpha: number; lossSlope: number }) {
    this.lr = opts.lr ?? 0.01;
    this.schedule = opts.schedule ?? 'constant';
    this.powerT = opts.powerT ?? 0.5;
    this.momentum = opts.momentum ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.weightDecay = opts.weightDecay ?? 0;
    this.uniform = this.momentum === 0;
    this.dense = this.momentum > 0;
    this.optimal = optimal;
    this.sched = this.buildSchedule();
  }

  private buildSchedule(): Schedule {
    if (this.schedule === 'optimal') {
      if (!this.optimal)
        throw new ModelError(`sgd schedule 'optimal' needs the regularization strength (sklearn's alpha)`);
      return optimalSchedule(this.optimal.alpha, this.optimal.lossSlope);
    }
    if (this.schedule === 'invscaling') return invScalingSchedule(this.lr, this.powerT);
    return constantSchedule(this.lr);
  }

  /** Sets the base rate (the 'optimal' schedule has none to set). */
  setLearningRate(lr: number): void {
    if (this.schedule === 'optimal')
      throw new ModelError(`sgd schedule 'optimal' sets its own rate; it cannot be changed`);
    this.lr = lr;
    this.sched = this.buildSchedule();
  }

  init(size: number): void {
    this.v = new Float64Array(this.momentum > 0 ? size : 0);
  }

  step(t: number, w: Float64Array, g: Float64Array, n: number, idx: Int32Array | null, off: number): void {
    const eta = this.sched.lr(t);
    if (this.momentum === 0 && this.weightDecay === 0) {
      if (idx === null) for (let i = 0; i < n; i++) w[off + i] -= eta * g[i];
      else for (let i = 0; i < n; i++) w[idx[i]] -= eta * g[i];
      return;
    }
    const { v, momentum: mu, nesterov } = this;
    const shrink = 1 - eta * this.weightDecay;
    for (let i = 0; i < n; i++) {
      const j = idx === null ? off + i : idx[i];
      if (shrink !== 1) w[j] *= shrink;
      if (mu > 0) {
        v[j] = mu * v[j] + g[i];
        w[j] -= eta * (nesterov ? g[i] + mu * v[j] : v[j]);
      } else w[j] -= eta * g[i];
    }
  }

  rate(t: number): number {
    return this.sched.lr(t);
  }

  stateArrays(): Float64Array[] {
    return this.momentum > 0 ? [this.v] : [];
  }

  state(): OptimizerState {
    return { type: 'sgd', config: this.config(), arrays: this.stateArrays().map(packArray) };
  }

  restore(s: OptimizerState): void {
    if (this.momentum > 0) unpackArray(s.arrays[0], this.v, 'sgd momentum');
  }

  config(): OptimizerConfig {
    return {
      type: 'sgd',
      lr: this.lr,
      schedule: this.schedule,
      powerT: this.powerT,
      ...(this.momentum > 0 && { momentum: this.momentum }),
      ...(this.nesterov && { nesterov: true }),
    };
  }
}
