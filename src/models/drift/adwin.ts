import { ModelError } from '../../errors.js';

export interface AdwinOptions {
  /** Confidence δ of the cut test (false-alarm bound) [0.002]. */
  delta?: number;
  /** Check for a cut every `clock` values [32]. */
  clock?: number;
  /** Buckets per level of the exponential histogram before two merge [5]. */
  maxBuckets?: number;
  /** Smallest sub-window either side of a cut [5]. */
  minWindowLength?: number;
  /** Values before the first check [10]. */
  gracePeriod?: number;
}

/** One level of the exponential histogram: buckets of 2^level values, oldest first. */
interface Level {
  totals: number[];
  variances: number[];
}

export interface AdwinState {
  kind: 'ADWIN';
  delta: number;
  clock: number;
  maxBuckets: number;
  minWindowLength: number;
  gracePeriod: number;
  levels: Level[];
  width: number;
  total: number;
  variance: number;
  seen: number;
  detections: number;
  lastDetection: number;
}

/**
 * ADWIN, ADaptive WINdowing (Bifet & Gavaldà 2007, "Learning from time-changing data with adaptive
 * windowing"), as in MOA and River: keeps a window of recent values compressed in an exponential histogram
 * (O(M·log W) buckets) and drops its oldest part whenever two sub-windows have means that differ by more
 * than a Hoeffding/Bernstein-style bound at confidence δ. A drop is a drift alarm; the window's mean is
 * then an estimate of the current regime only.
 *
 * Unlike Page-Hinkley it has no magnitude or threshold to tune and detects both directions.
 *
 * @example
 * const adwin = new ADWIN({ delta: 0.002 });
 * for (const loss of losses) if (adwin.update(loss)) console.log('drift; window now', adwin.width);
 */
export class ADWIN {
  readonly delta: number;
  readonly clock: number;
  readonly maxBuckets: number;
  readonly minWindowLength: number;
  readonly gracePeriod: number;
  private levels: Level[] = [];
  /** Values in the current window. */
  width = 0;
  private total = 0;
  /** Sum of squared deviations from the window mean (width × variance). */
  private variance = 0;
  /** Values seen in total. */
  seen = 0;
  /** Alarms raised (values after which the window was cut). */
  detections = 0;
  /** Index (0-based) of the last alarm, −1 if none. */
  lastDetection = -1;

  constructor(opts: AdwinOptions = {}) {
    const check = (field: string, v: number, ok: boolean): number => {
      if (!Number.isFinite(v) || !ok) throw new ModelError(`ADWIN.${field}: invalid value ${String(v)}`);
      return v;
    };
    const delta = opts.delta ?? 0.002;
    this.delta = check('delta', delta, delta > 0 && delta < 1);
    const int = (field: string, v: number, min: number): number =>
      check(field, v, Number.isInteger(v) && v >= min);
    this.clock = int('clock', opts.clock ?? 32, 1);
    this.maxBuckets = int('maxBuckets', opts.maxBuckets ?? 5, 2);
    this.minWindowLength = int('minWindowLength', opts.minWindowLength ?? 5, 1);
    this.gracePeriod = int('gracePeriod', opts.gracePeriod ?? 10, 1);
  }

  /** Mean of the current window (0 when empty). */
  get estimation(): number {
    return this.width === 0 ? 0 : this.total / this.width;
  }

  /** Feeds one value; true when the window was cut (drift). */
  update(x: number): boolean {
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new ModelError(`ADWIN.update: expected a finite number, got ${String(x)}`);
    this.seen++;
    this.insert(x);
    if (this.seen % this.clock !== 0 || this.width <= this.gracePeriod) return false;
    const cut = this.detectAndShrink();
    if (cut) {
      this.detections++;
      this.lastDetection = this.seen - 1;
    }
    return cut;
  }

  private insert(x: number): void {
    this.width++;
    if (this.width > 1) {
      const prevMean = this.total / (this.width - 1);
      this.variance += ((this.width - 1) * (x - prevMean) * (x - prevMean)) / this.width;
    }
    this.total += x;
    if (this.levels.length === 0) this.levels.push({ totals: [], variances: [] });
    this.levels[0].totals.push(x);
    this.levels[0].variances.push(0);
    this.compress();
  }

  /** Merges the two oldest buckets of any level that holds more than maxBuckets into the next level. */
  private compress(): void {
    for (let i = 0; i < this.levels.length; i++) {
      const lv = this.levels[i];
      if (lv.totals.length <= this.maxBuckets) break;
      const n = 2 ** i;
      const t1 = lv.totals.shift()!;
      const v1 = lv.variances.shift()!;
      const t2 = lv.totals.shift()!;
      const v2 = lv.variances.shift()!;
      const d = t1 / n - t2 / n;
      const merged = v1 + v2 + (n * n * d * d) / (2 * n);
      if (i + 1 === this.levels.length) this.levels.push({ totals: [], variances: [] });
      this.levels[i + 1].totals.push(t1 + t2);
      this.levels[i + 1].variances.push(merged);
    }
  }

  /** Drops the oldest bucket while some split of the window shows different means. */
  private detectAndShrink(): boolean {
    let changed = false;
    let again = true;
    while (again && this.width > this.gracePeriod) {
      again = false;
      let n0 = 0;
      let u0 = 0;
      let n1 = this.width;
      let u1 = this.total;
      outer: for (let i = this.levels.length - 1; i >= 0; i--) {
        const lv = this.levels[i];
        const size = 2 ** i;
        for (let b = 0; b < lv.totals.length; b++) {
          n0 += size;
          n1 -= size;
          u0 += lv.totals[b];
          u1 -= lv.totals[b];
          if (n1 < this.minWindowLength) break outer;
          if (n0 >= this.minWindowLength && this.cut(n0, n1, u0, u1)) {
            this.dropOldest();
            changed = true;
            again = true;
            break outer;
          }
        }
      }
    }
    return changed;
  }

  private cut(n0: number, n1: number, u0: number, u1: number): boolean {
    const diff = Math.abs(u0 / n0 - u1 / n1);
    const v = this.variance / this.width;
    const m = 1 / (n0 - this.minWindowLength + 1) + 1 / (n1 - this.minWindowLength + 1);
    const dd = Math.log((2 * Math.log(this.width)) / this.delta);
    const eps = Math.sqrt(2 * m * v * dd) + (2 / 3) * dd * m;
    return diff > eps;
  }

  private dropOldest(): void {
    let top = this.levels.length - 1;
    while (top > 0 && this.levels[top].totals.length === 0) top--;
    const lv = this.levels[top];
    const n = 2 ** top;
    const t = lv.totals.shift()!;
    const v = lv.variances.shift()!;
    this.width -= n;
    this.total -= t;
    if (this.width === 0) {
      this.variance = 0;
    } else {
      const d = t / n - this.total / this.width;
      this.variance -= v + (n * this.width * d * d) / (n + this.width);
      if (this.variance < 0) this.variance = 0;
    }
    while (this.levels.length > 0 && this.levels[this.levels.length - 1].totals.length === 0)
      this.levels.pop();
  }

  state(): AdwinState {
    return {
      kind: 'ADWIN',
      delta: this.delta,
      clock: this.clock,
      maxBuckets: this.maxBuckets,
      minWindowLength: this.minWindowLength,
      gracePeriod: this.gracePeriod,
      levels: this.levels.map((l) => ({ totals: [...l.totals], variances: [...l.variances] })),
      width: this.width,
      total: this.total,
      variance: this.variance,
      seen: this.seen,
      detections: this.detections,
      lastDetection: this.lastDetection,
    };
  }

  static fromState(s: AdwinState): ADWIN {
    if (s?.kind !== 'ADWIN')
      throw new ModelError(`ADWIN.fromState: expected kind 'ADWIN', got ${String(s?.kind)}`);
    const a = new ADWIN(s);
    a.levels = s.levels.map((l) => ({ totals: [...l.totals], variances: [...l.variances] }));
    a.width = s.width;
    a.total = s.total;
    a.variance = s.variance;
    a.seen = s.seen;
    a.detections = s.detections;
    a.lastDetection = s.lastDetection;
    return a;
  }
}
