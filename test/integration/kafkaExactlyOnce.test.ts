/**
 * Exactly-once model state: a consumer process killed with SIGKILL at random points (fixed seed) and
 * restarted each time ends with a model identical bit for bit to an uninterrupted run over the same
 * events (count-based batches, one partition), and its event counter equals the number of events.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { parseCheckpoint } from '../../src/streams/checkpointStore.js';
import { committedOffsets } from '../../src/streams/kafka/client.js';
import { spawnConsumer, type ConsumerLine } from './helpers/child.js';
import {
  brokers,
  createTopic,
  eventRecords,
  makeEvents,
  produce,
  testKafka,
  uniqueName,
} from './helpers/kafka.js';
import { offlineModelParams } from './helpers/models.js';

const kafka = testKafka();

describe.each([
  // The README's reliability figures: 20 kills on 6000 events, none lost, none applied twice.
  ['count', { count: 25 }, 6000, 20],
  ['poisson', { poisson: 25, seed: 9 }, 3000, 5],
] as const)('exactly-once model state across kill -9 (%s batches)', (_, policy, N, KILLS) => {
  it(`ends bit-identical to an uninterrupted run after ${KILLS} SIGKILLs at random points`, async () => {
    const topic = uniqueName('eo');
    await createTopic(kafka, topic);
    const events = makeEvents(N, 11);
    await produce(kafka, topic, eventRecords(events));
    const base = {
      brokers: brokers(),
      topic,
      expected: N,
      rebatch: policy,
      maxInFlight: 200,
      // Frequent checkpoints and a slow model, so kills land between, during and after saves.
      checkpointEvery: { messages: 100, ms: 50 },
      slowMs: 10,
    };

    // Uninterrupted run.
    const refDir = mkdtempSync(join(tmpdir(), 'sn-eo-ref-'));
    const ref = spawnConsumer({ ...base, groupId: uniqueName('ref'), checkpointDir: refDir });
    const refDone = await ref.waitLine((l) => l.type === 'done', 120_000);
    expect((await ref.exited).code).toBe(0);

    // Killed run: SIGKILL after a random number of checkpoints plus a random delay, then restart.
    const rng = new Rng(20261127);
    const dir = mkdtempSync(join(tmpdir(), 'sn-eo-kill-'));
    const group = uniqueName('kill');
    let kills = 0;
    let resumedFromNonZero = 0;
    let last: ConsumerLine | null = null;
    for (let attempt = 0; attempt < KILLS + 20 && last === null; attempt++) {
      const c = spawnConsumer({ ...base, groupId: group, checkpointDir: dir });
      const started = await c.waitLine((l) => l.type === 'started', 60_000);
      if ((started.resumedFrom ?? 0) > 0) resumedFromNonZero++;
      if (kills < KILLS) {
        // Random points: before the first checkpoint of the run (0), or after one or two of them, plus a
        // random delay — so kills land before, during and after saves and in the middle of batches.
        const afterCheckpoints = rng.int(3);
        const extraMs = rng.int(80);
        let seen = 0;
        try {
          if (afterCheckpoints > 0)
            await c.waitLine(
              (l) => l.type === 'done' || (l.type === 'checkpoint' && ++seen >= afterCheckpoints),
              60_000,
            );
        } catch {
          // exited early; handled below
        }
        await new Promise((r) => setTimeout(r, extraMs));
        if (c.child.exitCode === null && !c.lines.some((l) => l.type === 'done')) {
          c.child.kill('SIGKILL');
          const { signal } = await c.exited;
          expect(signal).toBe('SIGKILL');
          kills++;
          continue;
        }
      }
      last = await c.waitLine((l) => l.type === 'done', 120_000);
      expect((await c.exited).code).toBe(0);
    }

    expect(kills).toBe(KILLS);
    expect(resumedFromNonZero).toBeGreaterThanOrEqual(KILLS / 2);
    expect(last).not.toBeNull();
    // Event counter: every event counted exactly once across all the restarts.
    expect(last!.summary!.messages).toBe(N);
    expect(last!.summary!.scores.linear.events).toBe(N);
    expect(last!.summary!.scores.linear.labeled).toBe(N);
    // Model state bit for bit: killed run == uninterrupted run == offline batches of 25.
    expect(last!.state!.params).toEqual(refDone.state!.params);
    expect(last!.state!.t).toBe(refDone.state!.t);
    // (A resumed poisson run continues the size sequence from the checkpoint's batch count.)
    if ('count' in policy) expect(refDone.state!.params).toEqual(offlineModelParams(events, 25));
    else expect(last!.summary!.batches).toBe(refDone.summary!.batches);
    // The durable checkpoint agrees, and the group committed the end of the topic.
    const cp = parseCheckpoint(readFileSync(join(dir, 'checkpoint.json')));
    expect(cp.offsets).toEqual({ [`${topic}:0`]: String(N) });
    expect((cp.models.linear as unknown as { params: number[] }).params).toEqual(refDone.state!.params);
    expect((await committedOffsets(kafka, group, topic)).get(0)).toBe(String(N));
  });
});
