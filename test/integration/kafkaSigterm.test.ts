/**
 * Stopping a live consumer by signal (issue 10): SIGTERM finishes within its bound (10 s, livePipeline's
 * stopTimeoutMs) with a final checkpoint covering everything learned; a second signal exits at once (code 143)
 * and still loses nothing — the restart resumes from the last durable checkpoint and ends bit-identical to an
 * uninterrupted run, every event counted exactly once.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCheckpoint } from '../../src/streams/checkpointStore.js';
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
import { offlineModelParams, testModelOptions } from './helpers/models.js';
import { LinearModel } from '../../src/models/linear/index.js';
import type { StreamEvent } from '../../src/streams/event.js';

/**
 * Offline parameters of a run stopped gracefully after `m` events: the stop learned the batch in hand (the
 * last one partial), the restart cut the rest in batches of 25 from there.
 */
function splitParams(events: StreamEvent[], m: number): number[] {
  const model = new LinearModel(testModelOptions);
  for (const [from, to] of [
    [0, m],
    [m, events.length],
  ]) {
    for (let i = from; i < to; i += 25) {
      const b = events.slice(i, Math.min(i + 25, to));
      model.learnMany(
        b.map((e) => e.x),
        b.map((e) => e.y!),
      );
    }
  }
  return model.state().params;
}

const kafka = testKafka();
const N = 3000;
/** livePipeline's default stopTimeoutMs: a graceful stop past it exits anyway. */
const STOP_BOUND_MS = 10_000;

async function setup(slowMs: number): Promise<{
  base: Parameters<typeof spawnConsumer>[0];
  expected: number[];
  events: StreamEvent[];
}> {
  const topic = uniqueName('sig');
  await createTopic(kafka, topic);
  const events = makeEvents(N, 5);
  await produce(kafka, topic, eventRecords(events));
  return {
    base: {
      brokers: brokers(),
      topic,
      groupId: uniqueName('sig'),
      checkpointDir: mkdtempSync(join(tmpdir(), 'sn-sig-')),
      expected: N,
      rebatch: { count: 25 },
      maxInFlight: 200,
      checkpointEvery: { messages: 200, ms: 100 },
      slowMs,
    },
    expected: offlineModelParams(events, 25),
    events,
  };
}

/** Restarts the consumer on the same group and directory and lets it finish the topic. */
async function finish(base: Parameters<typeof spawnConsumer>[0]): Promise<ConsumerLine> {
  const c = spawnConsumer(base);
  const started = await c.waitLine((l) => l.type === 'started', 60_000);
  expect(started.resumedFrom).toBeGreaterThan(0);
  const done = await c.waitLine((l) => l.type === 'done', 120_000);
  expect((await c.exited).code).toBe(0);
  return done;
}

describe('signals', () => {
  it(`SIGTERM stops within ${STOP_BOUND_MS} ms with a final checkpoint; the restart learns the rest once`, async () => {
    const { base, events } = await setup(10);
    const c = spawnConsumer(base);
    await c.waitLine((l) => l.type === 'started', 60_000);
    let seen = 0;
    await c.waitLine((l) => l.type === 'checkpoint' && ++seen >= 2, 60_000);
    const t0 = Date.now();
    c.child.kill('SIGTERM');
    const { code } = await c.exited;
    const took = Date.now() - t0;
    expect(code).toBe(0);
    expect(took).toBeLessThan(STOP_BOUND_MS);
    const done = c.lines.find((l) => l.type === 'done')!;
    expect(done).toBeDefined();
    expect(done.summary!.messages).toBeLessThan(N);
    // The final checkpoint is durable and covers exactly what was learned.
    const cp = parseCheckpoint(readFileSync(join(base.checkpointDir, 'checkpoint.json')));
    expect(cp.messages).toBe(done.summary!.messages);
    expect(cp.offsets).toEqual(done.summary!.offsets);
    expect((cp.models.linear as unknown as { params: number[] }).params).toEqual(done.state!.params);
    const last = c.lines.filter((l) => l.type === 'checkpoint').at(-1)!;
    expect(last.messages).toBe(done.summary!.messages);

    const end = await finish(base);
    expect(end.summary!.messages).toBe(N);
    expect(end.summary!.scores.linear.events).toBe(N);
    expect(end.summary!.scores.linear.labeled).toBe(N);
    expect(end.state!.params).toEqual(splitParams(events, done.summary!.messages));
    console.log(
      `SIGTERM: stopped in ${took} ms with a final checkpoint at ${done.summary!.messages} messages`,
    );
  }, 240_000);

  it('a second signal exits at once (143) and loses nothing: the restart ends bit-identical', async () => {
    const { base, expected } = await setup(40);
    const c = spawnConsumer(base);
    await c.waitLine((l) => l.type === 'started', 60_000);
    let seen = 0;
    await c.waitLine((l) => l.type === 'checkpoint' && ++seen >= 2, 60_000);
    const t0 = Date.now();
    c.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 5));
    c.child.kill('SIGTERM');
    const { code } = await c.exited;
    const took = Date.now() - t0;
    expect(code).toBe(143);
    expect(took).toBeLessThan(2000);
    expect(c.lines.some((l) => l.type === 'done')).toBe(false);

    const end = await finish(base);
    expect(end.summary!.messages).toBe(N);
    expect(end.summary!.scores.linear.events).toBe(N);
    expect(end.summary!.scores.linear.labeled).toBe(N);
    expect(end.state!.params).toEqual(expected);
    console.log(`second SIGTERM: exited in ${took} ms with code ${code}`);
  }, 240_000);
});
