/**
 * A zombie replica on the real broker (issue 11, "a zombie cannot overwrite a newer state"): two
 * `streamnorm run --state kafka` processes with a 6 s session; one is frozen with SIGSTOP while it learns, with
 * events it has learned and not yet checkpointed. Its session expires, the other replica takes its partitions,
 * learns them from the group's committed offsets and checkpoints. Then SIGCONT: the woken process still holds
 * its old partitions' positions and a checkpoint due, which its transaction commits as its old membership (TxnOffsetCommit
 * version 3): the group refuses it, the transaction aborts, and the process stops. Checked: it exits with the
 * Kafka exit code, saying why; the group's committed offsets did not go backwards; every event id is in exactly one
 * durable checkpoint's audit log (none learned twice into the published state, none lost); the replicas'
 * states count every event once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGroupStatus } from '../../src/scale/groupStatus.js';
import { scaleTopics } from '../../src/scale/scaleOut.js';
import { committedOffsets, endOffsets, withAdmin } from '../../src/streams/kafka/client.js';
import { createTopic, eventRecords, makeEvents, produce, testKafka, uniqueName } from './helpers/kafka.js';
import { killAll, learnedIds, startRun, until, type Proc } from './helpers/replicas.js';

const kafka = testKafka();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('a zombie replica on the real broker', () => {
  it('a replica paused past its session timeout cannot commit its stale checkpoint when it wakes', async () => {
    const topic = uniqueName('zombie');
    const group = uniqueName('zombie-g');
    const { stateTopic } = scaleTopics(group);
    const PARTITIONS = 4;
    await createTopic(kafka, topic, PARTITIONS);
    const events = makeEvents(3200, 31, 4, 'z');
    const [warm, first, second, third] = [
      events.slice(0, 200),
      events.slice(200, 1200),
      events.slice(1200, 2200),
      events.slice(2200),
    ];
    const dir = mkdtempSync(join(tmpdir(), 'sn-zombie-'));
    const idsFile = (id: string): string => join(dir, `learned-${id}.jsonl`);
    const replica = (id: string, extra: string[] = []): Proc =>
      startRun([
        '--topic',
        topic,
        '--group',
        group,
        '--state',
        'kafka',
        '--replica-id',
        id,
        '--learned-ids',
        idsFile(id),
        '-X',
        'session.timeout.ms=6000',
        ...extra,
      ]);
    const learnedTotal = async (): Promise<number> =>
      (await readGroupStatus(kafka, stateTopic)).eventsLearned;
    /** The group's committed offset per partition, and whether each has reached the topic's end. */
    const offsets = async (): Promise<{ committed: Map<number, number>; atEnd: boolean }> => {
      const [committed, ends] = await Promise.all([
        committedOffsets(kafka, group, topic),
        endOffsets(kafka, topic),
      ]);
      const c = new Map([...committed].map(([p, o]) => [p, Number(o)]));
      return { committed: c, atEnd: [...ends].every(([p, end]) => c.get(p) === Number(end)) };
    };
    const members = async (): Promise<number> =>
      withAdmin(kafka, async (admin) => {
        const { groups } = await admin.describeGroups([group]);
        return groups[0]?.state === 'Stable' ? groups[0].members.length : 0;
      });
    const procs: Proc[] = [];
    try {
      // The zombie-to-be checkpoints every 3 s at most: while events arrive it nearly always holds learning it
      // has not checkpointed, so waking up it has a checkpoint to attempt.
      // (A first start waits for an event to learn the stream's shape from.)
      await produce(kafka, topic, eventRecords(warm));
      const a = replica('a', ['--checkpoint-interval-ms', '3000']);
      const b = replica('b');
      procs.push(a, b);
      const seen = (what: string) => `${what}\na: ${a.stderr()}\nb: ${b.stderr()}`;
      await until(seen('a and b to share the partitions'), 120, async () => (await members()) === 2);
      await produce(kafka, topic, eventRecords(first));
      await until(
        seen('a and b to checkpoint events'),
        120,
        async () =>
          learnedIds(idsFile('a')).length > 0 &&
          learnedIds(idsFile('b')).length > 0 &&
          (await learnedTotal()) >= warm.length + first.length,
      );

      // Events keep arriving; a is frozen in the middle of them.
      const trickle = (async () => {
        for (let i = 0; i < second.length; i += 50) {
          await produce(kafka, topic, eventRecords(second.slice(i, i + 50)));
          await sleep(100);
        }
      })();
      await sleep(1000);
      a.child.kill('SIGSTOP');
      await trickle;
      // a's session expires; b takes every partition and learns (and commits) everything.
      await until(seen('b to learn every event, a frozen'), 180, async () => (await offsets()).atEnd);
      const before = (await offsets()).committed;
      const statusBefore = await readGroupStatus(kafka, stateTopic);
      expect(statusBefore.replicas.find((r) => r.id === 'b')?.partitions).toEqual([0, 1, 2, 3]);

      a.child.kill('SIGCONT');
      const woke = await Promise.race([a.exited, sleep(120_000).then(() => null)]);
      expect(woke, 'the woken replica did not stop').not.toBeNull();
      // Kafka's exit code, and the reason: its checkpoint refused by the group (or, had kafkajs rejoined before
      // the checkpoint went out, its membership found lost: the checkpoint then never leaves).
      expect(woke!.code, a.stderr()).toBe(4);
      expect(a.stderr()).toMatch(/refused by group|was dropped by the group/);
      const after = (await offsets()).committed;
      for (const [p, o] of before) expect(after.get(p), `partition ${p}`).toBeGreaterThanOrEqual(o);

      // b goes on alone.
      await produce(kafka, topic, eventRecords(third));
      await until(seen('b to learn the last events'), 180, async () => (await offsets()).atEnd);
      b.child.kill('SIGTERM');
      expect((await b.exited).code, b.stderr()).toBe(0);

      // No event learned twice into the published state, none missing: the durable checkpoints' audit logs.
      const ids = ['a', 'b'].flatMap((id) => learnedIds(idsFile(id)));
      expect(ids.length).toBe(events.length);
      expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
      // The replicas' latest states count each event once (a's: its last checkpoint before the pause).
      expect((await readGroupStatus(kafka, stateTopic)).eventsLearned).toBe(events.length);
    } finally {
      killAll(procs);
    }
  }, 600_000);
});
