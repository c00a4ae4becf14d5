/**
 * What `streamnorm status` reports about a scale-out group, from its state topic's latest record per replica:
 * the replicas, the partitions each holds, the events each learned and how stale its state is.
 */
import type { KafkaClient } from '../streams/kafka/client.js';
import { parseStateRecord, readLatest, type StateRecord } from './kafkaState.js';

export interface ReplicaStatus {
  id: string;
  /** Partitions held at its latest checkpoint (a partition a newer checkpoint of another replica holds is not listed). */
  partitions: number[];
  /** Events this replica learned itself, as of its latest checkpoint (each checkpoint is also a sync). */
  eventsLearned: number;
  /** Time since its latest checkpoint, i.e. since its learning last reached the merged model (ms). */
  stalenessMs: number;
}

export interface GroupStatus {
  replicas: ReplicaStatus[];
  /** Events learned over all replicas: every event of the group's input, once. */
  eventsLearned: number;
}

/** The status of a group from its state records (pure: `now` is the reading time). */
export function groupStatus(records: readonly StateRecord[], now: number): GroupStatus {
  const newest = new Map<number, { id: string; savedAt: number }>();
  for (const r of records) {
    for (const p of r.partitions) {
      const cur = newest.get(p);
      if (cur === undefined || cur.savedAt < r.checkpoint.savedAt)
        newest.set(p, { id: r.replica, savedAt: r.checkpoint.savedAt });
    }
  }
  const replicas = [...records]
    .sort((a, b) => (a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0))
    .map((r) => ({
      id: r.replica,
      partitions: r.partitions.filter((p) => newest.get(p)?.id === r.replica),
      eventsLearned: r.eventsLearned,
      stalenessMs: Math.max(0, now - r.checkpoint.savedAt),
    }));
  return { replicas, eventsLearned: replicas.reduce((n, r) => n + r.eventsLearned, 0) };
}

/** Reads a group's state topic and returns its status. */
export async function readGroupStatus(kafka: KafkaClient, stateTopic: string): Promise<GroupStatus> {
  const latest = await readLatest(kafka, stateTopic);
  const records: StateRecord[] = [];
  for (const v of latest.values()) {
    const r = parseStateRecord(v);
    if (r !== null) records.push(r);
  }
  return groupStatus(records, Date.now());
}
