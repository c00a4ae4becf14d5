import { ModelError } from '../../errors.js';
import type { Optimizer, OptimizerConfig, OptimizerState, ScheduleName } from './optimizer.js';
import type { Schedule } from './schedules.js';
import { constantSchedule, invScalingSchedule, optimalSchedule } from './schedules.js';

export interface SgdOptions {
  /** Base rate (default 0.01); ignored by the 'optimal' schedule. */
  lr?: number;
  /** Default 'constant'. */
  schedule?: ScheduleName;
  /** Exponent of 'invscaling' (default 0.5). */
  powerT?: number;
}

/**
 * Plain stochastic gradient descent w ← w − η_t·g (Robbins & Monro 1951) with a schedule. Its rate is
 * the same for every coordinate, which is what lets the model apply elastic-net prox steps lazily.
 * 'optimal' needs the regularization strength (sklearn's alpha) and the loss slope for its t0; the
 * model supplies both, since the optimizer itself knows nothing of either.
 */
export class Sgd implements Optimizer {
  readonly type = 'sgd' as const;
  readonly uniform = true;
  readonly proximal = false;
  readonly dense = false;
  readonly lr: number;
  readonly schedule: ScheduleName;
  readonly powerT: number;
  private readonly sched: Schedule;

  constructor(opts: SgdOptions = {}, optimal?: { alpha: number; lossSlope: number }) {
    this.lr = opts.lr ?? 0.01;
    this.schedule = opts.schedule ?? 'constant';
    this.powerT = opts.powerT ?? 0.5;
    if (this.schedule === 'optimal') {
      if (!optimal)
        throw new ModelError(`sgd schedule 'optimal' needs the regularization strength (sklearn's alpha)`);
      this.sched = optimalSchedule(optimal.alpha, optimal.lossSlope);
    } else if (this.schedule === 'invscaling') this.sched = invScalingSchedule(this.lr, this.powerT);
    else this.sched = constantSchedule(this.lr);
  }

  init(): void {}

  step(t: number, w: Float64Array, g: Float64Array, n: number, idx: Int32Array | null, off: number): void {
    const eta = this.sched.lr(t);
    if (idx === null) for (let i = 0; i < n; i++) w[off + i] -= eta * g[i];
    else for (let i = 0; i < n; i++) w[idx[i]] -= eta * g[i];
  }

  rate(t: number): number {
    return this.sched.lr(t);
  }

  stateArrays(): Float64Array[] {
    return [];
  }

  state(): OptimizerState {
    return { type: 'sgd', config: this.config(), arrays: [] };
  }

  restore(): void {}

  config(): OptimizerConfig {
    return { type: 'sgd', lr: this.lr, schedule: this.schedule, powerT: this.powerT };
  }
}
