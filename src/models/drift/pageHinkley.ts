import { ModelError } from '../../errors.js';

export interface PageHinkleyOptions {
  /** Observations before a detection may fire [30]. */
  minInstances?: number;
  /** Magnitude of change tolerated, subtracted from every deviation [0.005]. */
  delta?: number;
  /** λ: alarm when the cumulative deviation exceeds it [50]. */
  threshold?: number;
  /** Fading factor of the cumulative sum [1 − 1e-4]. */
  alpha?: number;
  /** Detect increases ('up': a loss getting worse), decreases, or both ['up']. */
  mode?: 'up' | 'down' | 'both';
}

export interface PageHinkleyState {
  kind: 'PageHinkley';
  minInstances: number;
  delta: number;
  threshold: number;
  alpha: number;
  mode: 'up' | 'down' | 'both';
  n: number;
  mean: number;
  sumUp: number;
  minUp: number;
  sumDown: number;
  maxDown: number;
  seen: number;
  detections: number;
  lastDetection: number;
}

/**
 * The Page-Hinkley test (Page 1954; Mouss et al. 2004; as in River's `drift.PageHinkley`) on a scalar
 * stream such as the prequential loss: it accumulates the deviations of each value from the running
 * mean (minus a tolerance δ, faded by α) and alarms when the cumulative sum rises more than λ above its
 * minimum. After an alarm the statistics restart, so the detector follows the new regime.
 *
 * Why on the loss: a model that stops fitting its stream shows up as a sustained rise of its
 * prequential loss before any accuracy dashboard moves; the alarm count is a metric.
 *
 * @example
 * const ph = new PageHinkley({ threshold: 20 });
 * if (ph.update(loss)) console.log('drift at', ph.lastDetection);
 */
export class PageHinkley {
  readonly minInstances: number;
  readonly delta: number;
  readonly threshold: number;
  readonly alpha: number;
  readonly mode: 'up' | 'down' | 'both';
  /** Values seen since the last reset. */
  private n = 0;
  private mean = 0;
  private sumUp = 0;
  private minUp = 0;
  private sumDown = 0;
  private maxDown = 0;
  /** Values seen in total. */
  seen = 0;
  /** Alarms raised. */
  detections = 0;
  /** Index (0-based, over all values seen) of the last alarm, −1 if none. */
  lastDetection = -1;

  constructor(opts: PageHinkleyOptions = {}) {
    const num = (field: string, v: number, ok: boolean): number => {
      if (!Number.isFinite(v) || !ok)
        throw new ModelError(`PageHinkley.${field}: invalid value ${String(v)}`);
      return v;
    };
    const minInstances = opts.minInstances ?? 30;
    this.minInstances = num(
      'minInstances',
      minInstances,
      Number.isInteger(minInstances) && minInstances >= 1,
    );
    const delta = opts.delta ?? 0.005;
    this.delta = num('delta', delta, delta >= 0);
    const threshold = opts.threshold ?? 50;
    this.threshold = num('threshold', threshold, threshold > 0);
    const alpha = opts.alpha ?? 1 - 1e-4;
    this.alpha = num('alpha', alpha, alpha > 0 && alpha <= 1);
    const mode = opts.mode ?? 'up';
    if (mode !== 'up' && mode !== 'down' && mode !== 'both') {
      throw new ModelError(`PageHinkley.mode: expected 'up' | 'down' | 'both', got ${JSON.stringify(mode)}`);
    }
    this.mode = mode;
  }

  /** Feeds one value; true when it triggers a drift alarm. Non-finite values are an error (never silently skipped). */
  update(x: number): boolean {
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new ModelError(`PageHinkley.update: expected a finite number, got ${String(x)}`);
    this.seen++;
    this.n++;
    this.mean += (x - this.mean) / this.n;
    const dev = x - this.mean;
    this.sumUp = this.alpha * this.sumUp + dev - this.delta;
    this.sumDown = this.alpha * this.sumDown + dev + this.delta;
    if (this.sumUp < this.minUp) this.minUp = this.sumUp;
    if (this.sumDown > this.maxDown) this.maxDown = this.sumDown;
    if (this.n < this.minInstances) return false;
    const up = this.mode !== 'down' && this.sumUp - this.minUp > this.threshold;
    const down = this.mode !== 'up' && this.maxDown - this.sumDown > this.threshold;
    if (!up && !down) return false;
    this.detections++;
    this.lastDetection = this.seen - 1;
    this.reset();
    return true;
  }

  /** Current test statistic for increases (the value compared with the threshold). */
  get statistic(): number {
    return Math.max(
      this.mode !== 'down' ? this.sumUp - this.minUp : 0,
      this.mode !== 'up' ? this.maxDown - this.sumDown : 0,
    );
  }

  private reset(): void {
    this.n = 0;
    this.mean = 0;
    this.sumUp = 0;
    this.minUp = 0;
    this.sumDown = 0;
    this.maxDown = 0;
  }

  state(): PageHinkleyState {
    return {
      kind: 'PageHinkley',
      minInstances: this.minInstances,
      delta: this.delta,
      threshold: this.threshold,
      alpha: this.alpha,
      mode: this.mode,
      n: this.n,
      mean: this.mean,
      sumUp: this.sumUp,
      minUp: this.minUp,
      sumDown: this.sumDown,
      maxDown: this.maxDown,
      seen: this.seen,
      detections: this.detections,
      lastDetection: this.lastDetection,
    };
  }

  static fromState(s: PageHinkleyState): PageHinkley {
    if (s?.kind !== 'PageHinkley')
      throw new ModelError(`PageHinkley.fromState: expected kind 'PageHinkley', got ${String(s?.kind)}`);
    const p = new PageHinkley(s);
    p.n = s.n;
    p.mean = s.mean;
    p.sumUp = s.sumUp;
    p.minUp = s.minUp;
    p.sumDown = s.sumDown;
    p.maxDown = s.maxDown;
    p.seen = s.seen;
    p.detections = s.detections;
    p.lastDetection = s.lastDetection;
    return p;
  }
}
