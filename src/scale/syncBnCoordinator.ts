/**
 * The bookkeeping of `run --sync-bn` (synchronized BatchNorm in the live consumer): which replicas meet at a step,
 * which step a contribution belongs to, when a replica without data stands in with an empty contribution, and
 * when a step gives up on its peers. Pure: messages in and out through a {@link SyncBnTransport}, timers through
 * `setTimeout` (fake timers in tests), no Kafka (syncBnWorker.ts puts it on a topic).
 *
 * - Roster: the members of the consumer group's current generation, in member-id order; it changes at rebalances
 *   only ({@link SyncBnCoordinator.join}). Every contribution names its generation; one of an older generation is
 *   dropped, one of a newer one is kept for when this replica joins it (and meanwhile every step falls back: the
 *   group is rebalancing).
 * - Steps: per channel (a BatchNorm layer of a variant), every member contributes exactly once to each step number
 *   0, 1, 2... of a generation, forward (moments) then backward (gradient sums), so the numbers agree on every
 *   replica without a coordinator: a replica's learning step takes the next number it has not contributed to.
 * - Shadow steps (PyTorch's `Join` context manager): when a peer opened a step this replica has not reached and
 *   this replica's learner has asked for nothing for `idleMs`, it contributes count 0 (moments and sums of zeros)
 *   to that step and to every later one while it stays idle. A count-0 contribution changes no pooled value
 *   (`poolMoments` skips it; zeros add nothing), so the peers pool exactly what they would pool without it.
 * - Leaving: a member that says goodbye counts as count 0 for every step it had not contributed to when its
 *   goodbye was read; every replica reads the one partition in the same order, so all agree on which steps.
 * - Timeouts: a step whose peers do not all answer within `timeoutMs` resolves as a fallback (the learner then
 *   normalizes with its local statistics); it never waits longer.
 */
import { poolGradientSums, poolMoments } from '../normalizers/statisticsReducer.js';
import type { SyncPhase } from './stepExchange.js';

/** One contribution on the wire. `part` is raw float64 (moments for forward, sums for backward). */
export interface SyncBnContribution {
  kind: 'part';
  gen: number;
  member: string;
  channel: string;
  step: number;
  phase: SyncPhase;
  part: Float64Array;
}

/** A member's goodbye: it contributes to nothing more in generation `gen`. */
export interface SyncBnBye {
  kind: 'bye';
  gen: number;
  member: string;
}

export type SyncBnMessage = SyncBnContribution | SyncBnBye;

export interface SyncBnTransport {
  /** Sends to every replica (this one excluded or not: its own messages are ignored on receipt). */
  publish(m: SyncBnMessage): void;
}

/** One generation of the group, as this replica sees it. */
export interface SyncBnSession {
  gen: number;
  /** Member ids of the generation (any order: sorted here). */
  roster: readonly string[];
  /** This replica's member id (must be in the roster). */
  self: string;
}

export type SyncBnFallbackReason = 'timeout' | 'rebalance' | 'no-roster' | 'no-forward' | 'mismatch';

export type SyncBnOutcome =
  /** Pooled over the roster: the pooled array (layout of the request's phase). */
  | { kind: 'pooled'; pooled: Float64Array; step: number }
  /** This replica is the whole roster: its own statistics are the group's. */
  | { kind: 'alone'; pooled: Float64Array; step: number }
  /** The peers did not all answer: use the local statistics. */
  | { kind: 'fallback'; reason: SyncBnFallbackReason };

export interface SyncBnCoordinatorOptions {
  transport: SyncBnTransport;
  /** How long a step waits for its peers before it falls back. */
  timeoutMs: number;
  /** How long without a request from this replica's learner before it stands in with count-0 (shadow) steps. */
  idleMs: number;
  now?: () => number;
  /** Called once per shadow step contributed (forward and backward together). */
  onShadow?: () => void;
}

interface Waiter {
  channel: string;
  phase: SyncPhase;
  step: number;
  local: Float64Array;
  resolve: (o: SyncBnOutcome) => void;
  timer: NodeJS.Timeout;
}

interface Channel {
  /** The next step number this replica has not contributed to. */
  next: number;
  /** The forward step whose backward this replica still owes (−1: none). */
  open: number;
  /** Length of that forward's moments (its backward sums are one shorter). */
  openLength: number;
  /** Per phase, the contributions received per step: member → part. */
  parts: Record<SyncPhase, Map<number, Map<string, Float64Array>>>;
  /** Per phase, every step at or below this is settled here (late contributions to it are dropped). */
  settled: Record<SyncPhase, number>;
}

function newChannel(): Channel {
  return {
    next: 0,
    open: -1,
    openLength: 0,
    parts: { forward: new Map(), backward: new Map() },
    settled: { forward: -1, backward: -1 },
  };
}

/** Contributions of a newer generation kept until this replica joins it (bounded: a rebalance is short). */
const MAX_EARLY = 10_000;

export class SyncBnCoordinator {
  private session: { gen: number; roster: string[]; self: string } | null = null;
  private channels = new Map<string, Channel>();
  private byes = new Set<string>();
  /**
   * Members that missed a step's timeout in this generation and have sent nothing since (killed, most likely: the
   * group drops them only at their session timeout). A step that waits for nobody else waits for them only a short
   * while, so a `kill -9` costs the survivors one full timeout, not one per step until the rebalance.
   */
  private suspects = new Set<string>();
  private readonly waiters = new Set<Waiter>();
  private early: SyncBnMessage[] = [];
  /** The newest generation seen on the wire; newer than the session's: rebalancing, every step falls back. */
  private newestGen = -1;
  private lastActivity: number;
  private recheck: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly o: SyncBnCoordinatorOptions) {
    if (!(o.timeoutMs > 0))
      throw new RangeError(`SyncBnCoordinator: timeoutMs must be > 0, got ${o.timeoutMs}`);
    if (!(o.idleMs >= 0)) throw new RangeError(`SyncBnCoordinator: idleMs must be >= 0, got ${o.idleMs}`);
    this.now = o.now ?? Date.now;
    this.lastActivity = this.now();
  }

  /** The roster size of the current generation (0 before the first). */
  get rosterSize(): number {
    return this.session?.roster.length ?? 0;
  }

  get generation(): number {
    return this.session?.gen ?? -1;
  }

  /**
   * Enters a generation: steps restart at 0 on every channel, waiting steps fall back (their peers moved on),
   * and contributions already received for this generation are applied.
   */
  join(s: SyncBnSession): void {
    if (this.session !== null && s.gen <= this.session.gen) return;
    if (!s.roster.includes(s.self)) throw new RangeError(`SyncBnCoordinator: ${s.self} is not in the roster`);
    this.failWaiting('rebalance');
    this.session = { gen: s.gen, roster: [...s.roster].sort(), self: s.self };
    this.newestGen = Math.max(this.newestGen, s.gen);
    this.channels = new Map();
    this.byes = new Set();
    this.suspects = new Set();
    const early = this.early.filter((m) => m.gen >= s.gen);
    this.early = [];
    for (const m of early) this.receive(m);
  }

  /**
   * This replica's learner contributes `local` to its next step on `channel` (forward) or to the backward of the
   * forward it last pooled there. With `wait: false` (the forward fell back here; or `abandon`) it only publishes.
   */
  request(channel: string, phase: SyncPhase, local: Float64Array, wait = true): Promise<SyncBnOutcome> {
    this.lastActivity = this.now();
    const s = this.session;
    if (s === null) return Promise.resolve({ kind: 'fallback', reason: 'no-roster' });
    if (this.newestGen > s.gen) return Promise.resolve({ kind: 'fallback', reason: 'rebalance' });
    const ch = this.channel(channel);
    let step: number;
    if (phase === 'forward') {
      step = ch.next++;
      ch.open = step;
      ch.openLength = local.length;
    } else {
      if (ch.open < 0) return Promise.resolve({ kind: 'fallback', reason: 'no-forward' });
      step = ch.open;
      ch.open = -1;
    }
    if (s.roster.length === 1) {
      this.settle(ch, phase, step);
      return Promise.resolve({ kind: 'alone', pooled: Float64Array.from(local), step });
    }
    this.transport({ kind: 'part', gen: s.gen, member: s.self, channel, step, phase, part: local });
    this.store(ch, phase, step, s.self, Float64Array.from(local));
    if (!wait) {
      this.settle(ch, phase, step);
      return Promise.resolve({ kind: 'fallback', reason: 'no-forward' });
    }
    return new Promise((resolve) => {
      const w: Waiter = {
        channel,
        phase,
        step,
        local,
        resolve: (o) => {
          clearTimeout(w.timer);
          this.waiters.delete(w);
          this.lastActivity = this.now();
          resolve(o);
        },
        timer: setTimeout(
          () => {
            for (const member of this.missing(w)) this.suspects.add(member);
            this.settle(ch, phase, step);
            w.resolve({ kind: 'fallback', reason: 'timeout' });
          },
          this.waitFor(channel, phase, step),
        ),
      };
      this.waiters.add(w);
      this.tryComplete(w);
    });
  }

  /** The learner pooled a forward on `channel` and will not run its backward (a rejected step): owe count 0. */
  abandon(channel: string): void {
    const ch = this.session === null ? undefined : this.channels.get(channel);
    if (ch === undefined || ch.open < 0) return;
    const len = Math.max(0, ch.openLength - 1);
    void this.request(channel, 'backward', new Float64Array(len), false);
  }

  /** A message from the wire (this replica's own are ignored). */
  receive(m: SyncBnMessage): void {
    if (this.closed) return;
    this.newestGen = Math.max(this.newestGen, m.gen);
    const s = this.session;
    if (s === null || m.gen > s.gen) {
      if (this.early.length < MAX_EARLY) this.early.push(m);
      // A newer generation exists: the peers have moved on, nothing waiting here will complete.
      if (s !== null) this.failWaiting('rebalance');
      return;
    }
    if (m.gen < s.gen || m.member === s.self || !s.roster.includes(m.member)) return;
    if (m.kind === 'bye') {
      this.byes.add(m.member);
      for (const w of [...this.waiters]) this.tryComplete(w);
      return;
    }
    if (this.byes.has(m.member)) return;
    this.suspects.delete(m.member);
    const ch = this.channel(m.channel);
    if (m.step <= ch.settled[m.phase]) return;
    this.store(ch, m.phase, m.step, m.member, m.part);
    for (const w of [...this.waiters]) {
      if (w.channel === m.channel && w.phase === m.phase && w.step === m.step) this.tryComplete(w);
    }
    if (m.phase === 'forward' && m.step >= ch.next) this.maybeShadow();
  }

  /** Says goodbye (the peers stop waiting for this replica in this generation); answers waiting steps with fallback. */
  close(): void {
    if (this.closed) return;
    const s = this.session;
    if (s !== null && s.roster.length > 1) this.transport({ kind: 'bye', gen: s.gen, member: s.self });
    this.failWaiting('rebalance');
    this.closed = true;
    if (this.recheck !== null) clearTimeout(this.recheck);
    this.recheck = null;
  }

  private transport(m: SyncBnMessage): void {
    if (!this.closed) this.o.transport.publish(m);
  }

  private channel(name: string): Channel {
    let ch = this.channels.get(name);
    if (ch === undefined) {
      ch = newChannel();
      this.channels.set(name, ch);
    }
    return ch;
  }

  private store(ch: Channel, phase: SyncPhase, step: number, member: string, part: Float64Array): void {
    let at = ch.parts[phase].get(step);
    if (at === undefined) {
      at = new Map();
      ch.parts[phase].set(step, at);
    }
    if (!at.has(member)) at.set(member, part);
  }

  /** Steps at or below `step` of this phase are done here: their contributions go, late ones are dropped. */
  private settle(ch: Channel, phase: SyncPhase, step: number): void {
    ch.settled[phase] = Math.max(ch.settled[phase], step);
    for (const k of ch.parts[phase].keys()) if (k <= step) ch.parts[phase].delete(k);
  }

  /** The members (besides this one and those who said goodbye) whose contribution to the waiter's step is missing. */
  private missing(w: { channel: string; phase: SyncPhase; step: number }): string[] {
    const s = this.session!;
    const at = this.channels.get(w.channel)?.parts[w.phase].get(w.step);
    return s.roster.filter((m) => m !== s.self && !this.byes.has(m) && at?.has(m) !== true);
  }

  /** The full timeout, or a short one when only suspects are missing (see {@link suspects}). */
  private waitFor(channel: string, phase: SyncPhase, step: number): number {
    const missing = this.missing({ channel, phase, step });
    const onlySuspects = missing.length > 0 && missing.every((m) => this.suspects.has(m));
    return onlySuspects ? Math.min(this.o.timeoutMs, Math.max(50, 2 * this.o.idleMs)) : this.o.timeoutMs;
  }

  private tryComplete(w: Waiter): void {
    const s = this.session!;
    const ch = this.channels.get(w.channel)!;
    const at = ch.parts[w.phase].get(w.step);
    if (at === undefined) return;
    const parts: Float64Array[] = [];
    for (const member of s.roster) {
      const p = at.get(member);
      if (p !== undefined) parts.push(p);
      else if (!this.byes.has(member)) return;
    }
    this.settle(ch, w.phase, w.step);
    if (parts.some((p) => p.length !== w.local.length)) {
      // Replicas configured unlike (another layer width under this channel): never pool mismatched shapes.
      w.resolve({ kind: 'fallback', reason: 'mismatch' });
      return;
    }
    const pooled = w.phase === 'forward' ? poolMoments(parts) : poolGradientSums(parts);
    w.resolve({ kind: 'pooled', pooled, step: w.step });
  }

  /**
   * Stands in with count-0 contributions for the steps peers opened that this replica has not reached, once its
   * learner has been idle for `idleMs` (checked again then, when it is not yet).
   */
  private maybeShadow(): void {
    if (this.closed || this.session === null) return;
    const idleFor = this.now() - this.lastActivity;
    if (this.waiters.size > 0 || idleFor < this.o.idleMs) {
      if (this.recheck === null) {
        // While a step of this replica waits, it is not idle: look again one idle interval later.
        const wait =
          this.waiters.size > 0 ? Math.max(1, this.o.idleMs) : Math.max(1, this.o.idleMs - idleFor);
        this.recheck = setTimeout(() => {
          this.recheck = null;
          this.maybeShadow();
        }, wait);
      }
      return;
    }
    const s = this.session;
    for (const [name, ch] of this.channels) {
      let last = -1;
      let len = 0;
      for (const [step, at] of ch.parts.forward) {
        if (step >= ch.next && step > last) {
          last = step;
          for (const p of at.values()) len = p.length;
        }
      }
      if (last < 0 || ch.open >= 0) continue;
      for (let step = ch.next; step <= last; step++) {
        const moments = new Float64Array(len);
        const sums = new Float64Array(len - 1);
        this.transport({
          kind: 'part',
          gen: s.gen,
          member: s.self,
          channel: name,
          step,
          phase: 'forward',
          part: moments,
        });
        this.transport({
          kind: 'part',
          gen: s.gen,
          member: s.self,
          channel: name,
          step,
          phase: 'backward',
          part: sums,
        });
        this.o.onShadow?.();
      }
      ch.next = last + 1;
      this.settle(ch, 'forward', last);
      this.settle(ch, 'backward', last);
    }
  }

  private failWaiting(reason: SyncBnFallbackReason): void {
    for (const w of [...this.waiters]) {
      const ch = this.channels.get(w.channel);
      if (ch !== undefined) this.settle(ch, w.phase, w.step);
      w.resolve({ kind: 'fallback', reason });
    }
  }
}
