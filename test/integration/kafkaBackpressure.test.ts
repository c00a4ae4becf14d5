/**
 * A deliberately slow model: the source never has more than `maxInFlight` unacknowledged messages and
 * pauses the partition instead of buffering; and the broker stopped and restarted mid-stream (its own
 * scripts, SIGTERM then a fresh start) costs no event: every event is learned exactly once (the model
 * equals the offline learnOne loop bit for bit) and has a prediction.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LinearModel } from '../../src/models/linear/index.js';
import { createKafka, silentLogger } from '../../src/streams/kafka/client.js';
import { runLivePipeline } from '../../src/streams/livePipeline.js';
import { startDedicatedBroker, type DedicatedBroker } from './helpers/broker.js';
import { createSlowTestModels, testModelOptions } from './helpers/models.js';
import {
  createTopic,
  eventRecords,
  makeEvents,
  produce,
  readTopic,
  uniqueName,
  waitFor,
} from './helpers/kafka.js';

const N = 2000;
const MAX_IN_FLIGHT = 64;

describe('slow model and broker restart', () => {
  let broker: DedicatedBroker | null = null;
  afterAll(async () => {
    await broker?.destroy();
  });

  it('keeps in-flight bounded by pausing, and loses no event across a broker restart', async () => {
    broker = await startDedicatedBroker(Number(process.env.KAFKA_TEST_RESTART_PORT ?? 19192));
    // Retries (with backoff capped at 10 s) must outlast the broker's restart, which is slow on a loaded machine.
    const kafka = createKafka({ brokers: broker.brokers, logger: silentLogger, retries: 40 });
    const topic = uniqueName('slow');
    const output = uniqueName('slow-out');
    await createTopic(kafka, topic);
    await createTopic(kafka, output);
    const events = makeEvents(N, 5);
    await produce(kafka, topic, eventRecords(events));

    const handle = await runLivePipeline({
      kafka,
      logger: silentLogger,
      topic,
      outputTopic: output,
      groupId: uniqueName('g'),
      checkpoint: mkdtempSync(join(tmpdir(), 'sn-slow-')),
      // 2 ms per event; time-based batches let messages wait, so the in-flight bound is what stops fetching.
      createModels: createSlowTestModels(2),
      learn: 'one',
      rebatch: { timeMs: 30, maxCount: 1000 },
      maxInFlight: MAX_IN_FLIGHT,
      handleSignals: false,
      onCrash: (e) => crashes.push(e.message),
    });

    const crashes: string[] = [];
    // A failed pipeline fails the test at once instead of at the wait's bound.
    const failure = new Promise<never>((_, reject) => handle.done.catch(reject));
    failure.catch(() => undefined);
    const until = (check: () => boolean, ms: number, what: string): Promise<void> =>
      Promise.race([waitFor(check, ms, `${what} (crashes: ${crashes.join('; ')})`), failure]);

    // Mid-stream: stop the broker cleanly, keep it down a moment, start it again.
    await until(
      () => handle.source.stats().acknowledged >= N / 4,
      120_000,
      'a quarter of the events learned',
    );
    await broker.stop();
    const during = handle.source.stats().acknowledged;
    await new Promise((r) => setTimeout(r, 1500));
    await broker.start();
    await until(
      () => handle.source.stats().emitted >= N,
      200_000,
      'every event handed over after the restart',
    );
    const summary = await handle.stop();
    const stats = summary.source;

    expect(during).toBeLessThan(N);
    expect(stats.maxInFlightSeen).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(stats.maxInFlightSeen).toBe(MAX_IN_FLIGHT);
    expect(stats.pauses).toBeGreaterThan(0);
    expect(stats.resumes).toBeGreaterThan(0);

    // No event lost or learned twice.
    expect(summary.messages).toBe(N);
    expect(summary.scores.linear.labeled).toBe(N);
    expect(summary.offsets).toEqual({ [`${topic}:0`]: String(N) });
    const offline = new LinearModel(testModelOptions);
    for (const e of events) offline.learnOne(e.x, e.y!);
    expect(handle.models.linear.state()).toEqual(offline.state());

    // Every event has a prediction (at least once).
    const ids = new Set((await readTopic(kafka, output)).map((m) => m.key));
    expect(ids.size).toBe(N);
    // Starting a broker twice is slow on a loaded 2-CPU machine (each start waits up to 90 s for readiness).
  }, 420_000);
});
