/**
 * The sync log replicas of one model exchange what they learned through: one record per variant and
 * replica (the key), each cumulative, so a compacted topic that keeps only the latest record per key still
 * holds everything (see replica.ts). {@link MemorySyncLog} is the in-process log the unit tests and a
 * single-process run use; syncTopic.ts is the Kafka one.
 */
import type { Mixtures, StateDelta } from './stateDelta.js';

/** What one replica has learned of one variant, in total, as of its `seq`-th publication. */
export interface SyncRecord {
  variant: string;
  replica: string;
  /** Publications of this replica, counted from 1; a record with a lower `seq` than one folded is ignored. */
  seq: number;
  /** Everything this replica learned itself (its own steps, summed); absent before it learned anything. */
  delta?: StateDelta;
  /** Events this replica learned itself, in total. */
  events: number;
  /** Its moving-average statistics by value (stateDelta.ts readMixtures), mixed by `weight`. */
  stats?: Mixtures;
  /** Events learned in the interval this record publishes: the weight of its `stats`. */
  weight?: number;
  /** Wall-clock ms of the publication. */
  publishedAt: number;
}

/** The compaction key of a record. */
export function syncKey(variant: string, replica: string): string {
  return `${variant}/${replica}`;
}

/** A replica's view of the sync log: it appends its own records and reads everyone's in log order. */
export interface SyncLog {
  publish(records: SyncRecord[]): Promise<void>;
  /** Records appended since the last poll (its own included), in log order. */
  poll(): Promise<SyncRecord[]>;
}

/** An in-process sync log: `reader()` gives each replica its own cursor; `compacted()` is what compaction keeps. */
export class MemorySyncLog {
  readonly records: SyncRecord[] = [];

  /** A cursor over this log, starting at its beginning (or at its compacted form with `compacted: true`). */
  reader(opts: { compacted?: boolean } = {}): SyncLog {
    let pending: SyncRecord[] | null = opts.compacted ? this.compacted() : null;
    let cursor = opts.compacted ? this.records.length : 0;
    return {
      publish: async (records) => {
        for (const r of records) this.records.push(structuredClone(r));
      },
      poll: async () => {
        const out = pending ?? [];
        pending = null;
        out.push(...this.records.slice(cursor).map((r) => structuredClone(r)));
        cursor = this.records.length;
        return out;
      },
    };
  }

  /** The latest record per key, in the order of those latest records (what a compacted topic keeps). */
  compacted(): SyncRecord[] {
    const latest = new Map<string, number>();
    this.records.forEach((r, i) => latest.set(syncKey(r.variant, r.replica), i));
    return [...latest.values()].sort((a, b) => a - b).map((i) => structuredClone(this.records[i]));
  }
}
