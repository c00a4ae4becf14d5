/**
 * One replica of a group's models (issue 11, "Replicas of one model"): it learns from the partitions it
 * owns and, every K batches or T ms, publishes what it learned since its last publication and folds in what
 * the others published, so every replica converges on one model per variant.
 *
 * The merge (stateDelta.ts) is the parameter-server form of federated averaging: each replica's steps are
 * deltas against the merged model it had, and the merged model is the initial one plus every replica's
 * summed deltas (asynchronous SGD; FedAvg with a server step of one per contribution, so N replicas that
 * learn N disjoint shares of a stream take as many steps as one process learning all of it). Counted
 * statistics (BatchNorm with `momentum: null`, the input scaler) merge exactly by Chan et al.'s formula.
 *
 * Records are cumulative per (variant, replica): a compacted sync topic keeps only the latest, and a
 * replica folds the difference between a record and the last one it folded from that replica. So the model
 * depends only on the records folded, not on when: given the same sync log, replicas are deterministic.
 */
import { modelFromState } from '../models/modelFamilies.js';
import type { ModelState, OnlineModel } from '../models/types.js';
import { modelSlot, type ModelSlot } from './replicatedModel.js';
import { mixStatistics } from '../normalizers/moments.js';
import {
  type Mixtures,
  type StateDelta,
  addDeltas,
  applyDelta,
  readMixtures,
  stateDelta,
  subtractDeltas,
  writeMixtures,
} from './stateDelta.js';
import { type SyncLog, type SyncRecord, syncKey } from './syncLog.js';

/** What a replica's checkpoint keeps besides its model states, to resume (or be adopted) exactly. */
export interface ReplicaSyncState {
  replica: string;
  /** Publications so far. */
  seq: number;
  /** Events learned by this replica itself, in total (published or not). */
  events: number;
  /** Events learned since the last publication. */
  unsyncedEvents: number;
  /** Per variant: this replica's own summed deltas as last published. */
  own: Record<string, StateDelta | undefined>;
  /** Per variant: the state at the last publication or fold (the model minus the unsynced delta). */
  base: Record<string, ModelState>;
  /** Per sync key of another replica: the last record folded (its seq, events and cumulative delta). */
  seen: Record<
    string,
    {
      seq: number;
      events: number;
      delta?: StateDelta;
      publishedAt: number;
      stats?: Mixtures;
      weight?: number;
    }
  >;
  /** Events of this replica's last publication: the weight of its own moving-average statistics. */
  weight?: number;
  /** Per variant: the moving-average statistics of its last publication. */
  stats?: Record<string, Mixtures>;
  /** Wall-clock ms of the last completed sync (poll and publish). */
  syncedAt: number;
}

/** A publication taken by {@link Replica.capture}: its records and the sync state that goes with them. */
export interface SyncCapture {
  seq: number;
  /** Per variant: the replica's own summed deltas once published. */
  own: Record<string, StateDelta | undefined>;
  /** The model states the deltas were computed from (the base once published). */
  states: Record<string, ModelState>;
  /** Unsynced events it publishes. */
  events: number;
  /** Empty when nothing was learned since the previous publication. */
  records: SyncRecord[];
  /** What a checkpoint written together with these records holds (as if they were published). */
  syncState: ReplicaSyncState;
}

export interface ReplicaOptions {
  /** This replica's id (stable across restarts of one process slot: its records and checkpoint key). */
  id: string;
  log: SyncLog;
  /** The variants' models; the replica wraps each (see {@link Replica.models}). */
  models: Record<string, OnlineModel>;
  /** Publish and fold every this many learned batches and/or at most this long after the last sync. */
  every?: { batches?: number; ms?: number };
  /** Rebuilds a model from its state. Default: modelFromState. */
  restore?: (s: ModelState) => OnlineModel;
  /** A checkpoint's sync state to resume from (its `base`, `own`, `seen`...). */
  resume?: ReplicaSyncState;
  now?: () => number;
}

export class Replica {
  readonly id: string;
  private readonly log: SyncLog;
  private readonly slots: Record<string, ModelSlot> = {};
  private readonly restore: (s: ModelState) => OnlineModel;
  private readonly everyBatches: number;
  private readonly everyMs: number;
  private readonly now: () => number;
  private st: ReplicaSyncState;
  private batchesSinceSync = 0;
  /** Publications prepared and not yet durable, oldest first (folds update their states too). */
  private readonly pending: SyncCapture[] = [];

  constructor(opts: ReplicaOptions) {
    this.id = opts.id;
    this.log = opts.log;
    this.restore = opts.restore ?? modelFromState;
    this.everyBatches = opts.every?.batches ?? 10;
    this.everyMs = opts.every?.ms ?? 1000;
    this.now = opts.now ?? Date.now;
    const base: Record<string, ModelState> = {};
    for (const [name, m] of Object.entries(opts.models)) {
      this.slots[name] = modelSlot(m);
      base[name] = m.state();
    }
    this.st = opts.resume
      ? structuredClone({ ...opts.resume, replica: opts.id })
      : {
          replica: opts.id,
          seq: 0,
          events: 0,
          unsyncedEvents: 0,
          own: {},
          base,
          seen: {},
          syncedAt: this.now(),
        };
  }

  /** The variants as the pipeline uses them: stable objects whose model is swapped on every fold. */
  get models(): Record<string, OnlineModel> {
    const out: Record<string, OnlineModel> = {};
    for (const [name, s] of Object.entries(this.slots)) out[name] = s.model;
    return out;
  }

  /** Counts a learned batch of `events` events; true when a sync is due (every K batches or T ms). */
  learned(events: number): boolean {
    this.st.events += events;
    this.st.unsyncedEvents += events;
    this.batchesSinceSync++;
    return this.batchesSinceSync >= this.everyBatches || this.now() - this.st.syncedAt >= this.everyMs;
  }

  /** Events this replica learned itself, in total. */
  get events(): number {
    return this.st.events;
  }

  /** How long since this replica last caught up with the sync log and published (ms). */
  stalenessMs(): number {
    return Math.max(0, this.now() - this.st.syncedAt);
  }

  /** Events learned by every replica whose records were folded, plus this one's own. */
  groupEvents(): number {
    const perReplica = new Map<string, number>();
    for (const [key, s] of Object.entries(this.st.seen)) {
      const replica = key.slice(key.indexOf('/') + 1);
      perReplica.set(replica, Math.max(perReplica.get(replica) ?? 0, s.events));
    }
    let total = this.st.events;
    for (const n of perReplica.values()) total += n;
    return total;
  }

  /** Folds others' new records, then publishes this replica's (when it learned anything since the last). */
  async sync(): Promise<void> {
    this.fold(await this.log.poll());
    for (const variant of Object.keys(this.slots)) this.mix(variant);
    const records = this.prepare();
    if (records.length > 0) await this.log.publish(records);
    this.published(records);
  }

  /** Folds records of other replicas (its own are skipped; an older or repeated record changes nothing). */
  fold(records: readonly SyncRecord[]): void {
    const touched = new Set<string>();
    for (const r of records) {
      if (r.replica === this.id) continue;
      const slot = this.slots[r.variant];
      if (slot === undefined) continue;
      const key = syncKey(r.variant, r.replica);
      const prev = this.st.seen[key];
      if (prev !== undefined && prev.seq >= r.seq) continue;
      const inc = subtractDeltas(r.delta, prev?.delta);
      this.st.seen[key] = {
        seq: r.seq,
        events: r.events,
        delta: r.delta,
        publishedAt: r.publishedAt,
        ...(r.stats === undefined ? {} : { stats: r.stats, weight: r.weight ?? 0 }),
      };
      touched.add(r.variant);
      if (inc === undefined) continue;
      slot.swap(this.restore(applyDelta(slot.current().state(), inc)));
      this.st.base[r.variant] = applyDelta(this.st.base[r.variant], inc);
      for (const c of this.pending) c.states[r.variant] = applyDelta(c.states[r.variant], inc);
    }
    for (const variant of touched) this.mix(variant);
  }

  /**
   * Sets the variant's moving-average statistics (BatchNorm with a momentum, BatchRenorm, OnlineNorm) to the
   * event-weighted mixture of every replica's latest (this one's current included): inference uses the whole
   * stream's statistics, and this replica keeps averaging its own batches from there.
   */
  mix(variant: string): void {
    const slot = this.slots[variant];
    const current = slot.current().state();
    // At rest (nothing unsynced) a replica mixes what it published, so every replica at rest holds the same
    // statistics: the mixture of the latest records (mergedStates).
    const published = this.st.unsyncedEvents === 0 ? this.st.stats?.[variant] : undefined;
    const own = published ?? readMixtures(current);
    const paths = Object.keys(own);
    if (paths.length === 0) return;
    const ownWeight = this.st.unsyncedEvents > 0 ? this.st.unsyncedEvents : (this.st.weight ?? 0);
    const others = Object.entries(this.st.seen)
      .filter(([key, s]) => key.startsWith(`${variant}/`) && s.stats !== undefined)
      .map(([, s]) => s);
    const mixed: Mixtures = {};
    for (const path of paths) {
      const parts = [{ weight: ownWeight, ...own[path] }];
      for (const s of others) {
        const st = s.stats![path];
        if (st !== undefined && st.mean.length === own[path].mean.length)
          parts.push({ weight: s.weight ?? 0, ...st });
      }
      const m = mixStatistics(parts);
      if (m !== null) mixed[path] = m;
    }
    if (Object.keys(mixed).length > 0) slot.swap(this.restore(writeMixtures(current, mixed)));
  }

  /**
   * Merges, once, what a departed replica learned after its last publication (its checkpoint's unsynced
   * delta, {@link unsynced}): it becomes part of this replica's own learning and of its next publication.
   */
  adopt(unsynced: Record<string, StateDelta | undefined>, events: number): void {
    for (const [variant, d] of Object.entries(unsynced)) {
      const slot = this.slots[variant];
      if (slot === undefined || d === undefined) continue;
      slot.swap(this.restore(applyDelta(slot.current().state(), d)));
    }
    this.st.events += events;
    this.st.unsyncedEvents += events;
  }

  /** What this replica learned since its last publication, per variant (a checkpoint stores it). */
  unsynced(): Record<string, StateDelta | undefined> {
    const out: Record<string, StateDelta | undefined> = {};
    for (const [name, slot] of Object.entries(this.slots)) {
      out[name] = stateDelta(slot.current().state(), this.st.base[name]);
    }
    return out;
  }

  /** The records of the next publication (nothing changes until {@link published}); empty when nothing is new. */
  prepare(): SyncRecord[] {
    return this.capture().records;
  }

  /**
   * The next publication, taken now (synchronously, with the checkpoint's model states): its records and the
   * sync state a checkpoint written with them in one transaction must hold. It becomes this replica's
   * published state with {@link published}; several may be pending, and are published in order.
   */
  capture(): SyncCapture {
    const prev = this.pending.at(-1);
    const own = prev ? prev.own : this.st.own;
    const base = prev ? prev.states : this.st.base;
    const seq = prev ? prev.seq : this.st.seq;
    const unsyncedEvents = this.st.unsyncedEvents - this.pending.reduce((n, c) => n + c.events, 0);
    const states: Record<string, ModelState> = {};
    for (const [name, slot] of Object.entries(this.slots)) states[name] = slot.current().state();
    const capture: SyncCapture = { seq, own, states, events: 0, records: [], syncState: this.syncState() };
    if (unsyncedEvents > 0) {
      const publishedAt = this.now();
      capture.seq = seq + 1;
      capture.events = unsyncedEvents;
      capture.own = {};
      capture.records = Object.keys(this.slots).map((variant) => {
        const delta = addDeltas(own[variant], stateDelta(states[variant], base[variant]));
        capture.own[variant] = delta;
        return {
          variant,
          replica: this.id,
          seq: capture.seq,
          ...(delta === undefined ? {} : { delta }),
          events: this.st.events,
          publishedAt,
          stats: readMixtures(states[variant]),
          weight: unsyncedEvents,
        };
      });
    }
    capture.syncState = {
      ...this.syncState(),
      seq: capture.seq,
      own: structuredClone(capture.own),
      base: structuredClone(states),
      unsyncedEvents: 0,
      ...(capture.events > 0
        ? {
            weight: capture.events,
            stats: Object.fromEntries(capture.records.map((r) => [r.variant, r.stats ?? {}])),
          }
        : {}),
    };
    this.pending.push(capture);
    return capture;
  }

  /**
   * Records from {@link prepare} / {@link capture} are durable: they become this replica's published state
   * (what it learned after the capture stays unsynced). Captures are published in the order they were taken.
   */
  published(records: readonly SyncRecord[] | SyncCapture): void {
    const capture = Array.isArray(records) ? this.pending[0] : (records as SyncCapture);
    const at = this.pending.indexOf(capture);
    if (at < 0) throw new RangeError('Replica.published: not a pending capture');
    for (const c of this.pending.splice(0, at + 1)) {
      this.st.own = c.own;
      this.st.base = c.states;
      this.st.seq = c.seq;
      this.st.unsyncedEvents -= c.events;
      if (c.events > 0) {
        this.st.weight = c.events;
        this.st.stats = Object.fromEntries(c.records.map((r) => [r.variant, r.stats ?? {}]));
      }
    }
    this.st.syncedAt = this.now();
    this.batchesSinceSync = 0;
  }

  /** A copy of the sync state, for a checkpoint. */
  syncState(): ReplicaSyncState {
    return structuredClone(this.st);
  }
}

/**
 * The group's merged model per variant from a sync log's records (latest per key): `initial` plus every
 * replica's cumulative delta, in record order. What `streamnorm status` and the tests compare replicas to.
 */
export function mergedStates(
  initial: Record<string, ModelState>,
  records: readonly SyncRecord[],
): Record<string, ModelState> {
  const latest = new Map<string, SyncRecord>();
  for (const r of records) {
    const key = syncKey(r.variant, r.replica);
    const prev = latest.get(key);
    if (prev === undefined || prev.seq < r.seq) latest.set(key, r);
  }
  const out = { ...initial };
  for (const r of latest.values()) {
    if (out[r.variant] !== undefined) out[r.variant] = applyDelta(out[r.variant], r.delta);
  }
  for (const variant of Object.keys(out)) {
    const parts = [...latest.values()].filter((r) => r.variant === variant && r.stats !== undefined);
    const mixed: Mixtures = {};
    for (const path of Object.keys(readMixtures(out[variant]))) {
      const m = mixStatistics(
        parts.flatMap((r) =>
          r.stats![path] === undefined ? [] : [{ weight: r.weight ?? 0, ...r.stats![path] }],
        ),
      );
      if (m !== null) mixed[path] = m;
    }
    if (Object.keys(mixed).length > 0) out[variant] = writeMixtures(out[variant], mixed);
  }
  return out;
}
