import { ConfigError } from '../errors.js';
import { redact } from '../redact.js';

/**
 * What `/readyz` reports: ready only when every named check passes. The check names are part of the
 * response body so an operator sees which condition is failing (e.g. `keepingUp: false`), and `reason` says
 * it in words.
 */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, boolean>;
  /** `live` (a Kafka consumer) or `replay` (a recording fed into the models). */
  mode?: 'live' | 'replay';
  /** Why the process is (not) ready, in one line. */
  reason?: string;
  /** Figures behind the decision (lag, partitions, seconds since progress, replay state). */
  details?: Record<string, number | string | boolean | null>;
}

/** Computes readiness on each `/readyz` request (may be async; a throw counts as not ready). */
export type ReadinessProbe = () => ReadinessReport | Promise<ReadinessReport>;

/** A report that is ready exactly when all the given checks pass. */
export function readinessFromChecks(checks: Record<string, boolean>): ReadinessReport {
  return { ready: Object.values(checks).every((ok) => ok), checks };
}

/** Options for {@link LiveReadiness}. */
export interface LiveReadinessOptions {
  /**
   * A consumer with lag > 0 that made no progress for this long is stalled, and lag above `maxLag` for this
   * long is falling behind (ms, default 60 000).
   */
  windowMs?: number;
  /** Lag (messages, summed over the assigned partitions) tolerated for longer than the window. Default: any. */
  maxLag?: number;
  /** Learned events not covered by a durable checkpoint after this long are not ready (ms, default 300 000). */
  maxUnsavedMs?: number;
  /** Clock in ms (tests inject one). Default `Date.now`. */
  now?: () => number;
}

/**
 * Readiness of a live consumer: "connected, assigned and keeping up".
 *
 * - `connected`: the consumer is connected and running;
 * - `assigned`: it has joined its group since the last rebalance, with partitions or as an idle member (more
 *   members than partitions is a healthy group, not a failure);
 * - `keepingUp`: not stalled, i.e. not (lag > 0 for the whole window and no progress within it). An idle topic
 *   (lag 0) is ready indefinitely, however long ago the last event was;
 * - `lagBounded`: lag has not stayed above `maxLag` for the whole window (only with `maxLag`);
 * - `checkpointing`: learned events are not left without a durable checkpoint for longer than `maxUnsavedMs`
 *   (only once {@link expectCheckpoints} was called). No events, no checkpoint needed.
 *
 * Lag is the consumer's own figure per partition (kafkajs `offsetLag` after each fetched batch); a partition
 * that stops being fetched keeps its last lag, so a consumer stuck with work waiting stays behind.
 *
 * @example
 * const readiness = new LiveReadiness({ windowMs: 60_000 });
 * const server = await startMetricsServer({ registry, readiness: () => readiness.report() });
 */
export class LiveReadiness {
  private readonly windowMs: number;
  private readonly maxLag: number;
  private readonly maxUnsavedMs: number;
  private readonly now: () => number;
  private isConnected = false;
  private member = false;
  private partitions = 0;
  private readonly lags = new Map<string, number>();
  private totalLag = 0;
  /** Since when lag has been > 0 (null while caught up), and > maxLag. */
  private behindSince: number | null = null;
  private overSince: number | null = null;
  private lastProgressAt: number | null = null;
  private checkpoints = false;
  /** The first progress not covered by a durable checkpoint (null when all is saved). */
  private unsavedSince: number | null = null;

  constructor(options: LiveReadinessOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxLag = options.maxLag ?? Infinity;
    this.maxUnsavedMs = options.maxUnsavedMs ?? 300_000;
    for (const [name, v, ok] of [
      ['windowMs', this.windowMs, Number.isFinite(this.windowMs) && this.windowMs > 0],
      ['maxLag', this.maxLag, this.maxLag === Infinity || (Number.isFinite(this.maxLag) && this.maxLag >= 0)],
      ['maxUnsavedMs', this.maxUnsavedMs, Number.isFinite(this.maxUnsavedMs) && this.maxUnsavedMs > 0],
    ] as const) {
      if (!ok) throw new ConfigError(`readiness ${name} must be a positive number, got ${v}`);
    }
    this.now = options.now ?? Date.now;
  }

  /** The consumer connected (or stopped / crashed without restart). */
  connected(connected: boolean): void {
    this.isConnected = connected;
    if (!connected) {
      this.member = false;
      this.setLags(new Map());
    }
  }

  /** The group is rebalancing: not a member until the next join. */
  rebalancing(): void {
    this.member = false;
  }

  /** GROUP_JOIN: the assignment (topic → partitions; empty for an idle member). Lags start afresh. */
  joined(assignment: Record<string, readonly number[]>): void {
    this.isConnected = true;
    this.member = true;
    this.partitions = Object.values(assignment).reduce((n, ps) => n + ps.length, 0);
    const kept = new Map<string, number>();
    for (const [topic, ps] of Object.entries(assignment)) {
      for (const p of ps) {
        const l = this.lags.get(`${topic}:${p}`);
        if (l !== undefined) kept.set(`${topic}:${p}`, l);
      }
    }
    this.setLags(kept);
  }

  /** The lag of one partition after a fetched batch. */
  lag(topic: string, partition: number, lag: number): void {
    if (!Number.isFinite(lag)) return;
    const next = new Map(this.lags);
    next.set(`${topic}:${partition}`, Math.max(0, lag));
    this.setLags(next);
  }

  /** The pipeline learned (or dead-lettered) `messages` messages. */
  progress(messages: number): void {
    if (!(messages > 0)) return;
    const t = this.now();
    this.lastProgressAt = t;
    if (this.checkpoints && this.unsavedSince === null) this.unsavedSince = t;
  }

  /** Checkpointing is on: learned events must become durable within `maxUnsavedMs`. */
  expectCheckpoints(): void {
    this.checkpoints = true;
  }

  /** A checkpoint became durable: everything learned so far is saved. */
  checkpointed(): void {
    this.unsavedSince = null;
  }

  report(): ReadinessReport {
    const t = this.now();
    const behindFor = this.behindSince === null ? 0 : t - this.behindSince;
    const sinceProgress = this.lastProgressAt === null ? null : t - this.lastProgressAt;
    const stalled =
      this.totalLag > 0 &&
      behindFor >= this.windowMs &&
      (sinceProgress === null || sinceProgress >= this.windowMs);
    const overFor = this.overSince === null ? 0 : t - this.overSince;
    const unsavedFor = this.unsavedSince === null ? 0 : t - this.unsavedSince;
    const checks: Record<string, boolean> = {
      connected: this.isConnected,
      assigned: this.member,
      keepingUp: !stalled,
    };
    if (this.maxLag !== Infinity) checks.lagBounded = !(this.overSince !== null && overFor >= this.windowMs);
    if (this.checkpoints) checks.checkpointing = unsavedFor < this.maxUnsavedMs;
    const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    let reason: string;
    if (!checks.connected) reason = 'consumer not connected';
    else if (!checks.assigned) reason = 'waiting for the group to assign partitions (joining or rebalancing)';
    else if (!checks.keepingUp)
      reason = `stalled: lag ${this.totalLag} and no progress for ${s(sinceProgress ?? behindFor)} (window ${s(this.windowMs)})`;
    else if (checks.lagBounded === false)
      reason = `falling behind: lag ${this.totalLag} above ${this.maxLag} for ${s(overFor)} (window ${s(this.windowMs)})`;
    else if (checks.checkpointing === false)
      reason = `learned events without a durable checkpoint for ${s(unsavedFor)} (limit ${s(this.maxUnsavedMs)})`;
    else if (this.partitions === 0) reason = 'idle group member: no partitions assigned to this consumer';
    else if (this.totalLag === 0) reason = `caught up on ${this.partitions} partition(s) (lag 0)`;
    else reason = `consuming ${this.partitions} partition(s), lag ${this.totalLag}, progressing`;
    return {
      ...readinessFromChecks(checks),
      mode: 'live',
      reason,
      details: {
        partitions: this.partitions,
        lag: this.totalLag,
        secondsSinceProgress: sinceProgress === null ? null : sinceProgress / 1000,
        windowSeconds: this.windowMs / 1000,
      },
    };
  }

  private setLags(next: Map<string, number>): void {
    this.lags.clear();
    let total = 0;
    for (const [k, v] of next) {
      this.lags.set(k, v);
      total += v;
    }
    this.totalLag = total;
    const t = this.now();
    if (total > 0) this.behindSince ??= t;
    else this.behindSince = null;
    if (total > this.maxLag) this.overSince ??= t;
    else this.overSince = null;
  }
}

/** Where a replay is: reading its schema, replaying, finished or failed. */
export type ReplayState = 'starting' | 'replaying' | 'finished' | 'failed';

/**
 * Readiness of a replay into the models, stated honestly: ready (200) while replaying; not ready (503) while
 * it is still reading the recording's schema, and after it ended, `finished` (nothing more will be learned:
 * do not count on this process) or `failed`. The body names the state and the events replayed so far.
 */
export class ReplayReadiness {
  private state: ReplayState = 'starting';
  private events = 0;
  private failure = '';

  constructor(private readonly recording: string) {}

  started(): void {
    this.state = 'replaying';
  }

  progress(messages: number): void {
    if (messages > 0) this.events += messages;
  }

  finished(): void {
    this.state = 'finished';
  }

  failed(reason: string): void {
    this.state = 'failed';
    this.failure = redact(reason).split('\n')[0].slice(0, 300);
  }

  report(): ReadinessReport {
    const replaying = this.state === 'replaying';
    const reason =
      this.state === 'starting'
        ? `reading the schema of ${this.recording}`
        : replaying
          ? `replaying ${this.recording}: ${this.events} messages so far`
          : this.state === 'finished'
            ? `replay of ${this.recording} finished after ${this.events} messages: nothing more will be learned`
            : `replay of ${this.recording} failed: ${this.failure}`;
    return {
      ready: replaying,
      checks: { replaying },
      mode: 'replay',
      reason,
      details: { state: this.state, messages: this.events },
    };
  }
}
