/**
 * `streamnorm run` holds no event back: with --batch 32, a burst of 5,000 events (156 full batches and 8 left
 * over) gives 5,000 predictions, and an event on an idle topic is predicted within a second (the default
 * --max-wait-ms of 100 ms flushes the partial batch). Real broker, the command as a user runs it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createProducer } from '../../src/streams/kafka/client.js';
import {
  createTopic,
  eventRecords,
  makeEvents,
  produce,
  testKafka,
  uniqueName,
  waitFor,
} from '../integration/helpers/kafka.js';
import { cleanEnv, runCli } from './cliHelpers.js';

describe('run: bounded waiting for partial batches', () => {
  const brokers = inject('kafkaBrokers');
  const dir = mkdtempSync(join(tmpdir(), 'streamnorm-tail-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('predicts all 5,000 events of a burst with --batch 32, and an idle topic’s tail within a second', async () => {
    const kafka = testKafka(brokers);
    const topic = uniqueName('tail-in');
    const predictions = uniqueName('tail-pred');
    await createTopic(kafka, topic);
    await createTopic(kafka, predictions);
    const burst = makeEvents(5000, 11, 4, 'b');
    await produce(kafka, topic, eventRecords(burst));
    const tail = makeEvents(3, 12, 4, 'tail');

    // Every prediction's arrival time, by event id (predictions are keyed by event id).
    const arrived = new Map<string, number>();
    const reader = kafka.consumer({ groupId: uniqueName('tail-reader'), maxWaitTimeInMs: 20 });
    await reader.connect();
    await reader.subscribe({ topics: [predictions], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const id = message.key?.toString() ?? '';
        if (!arrived.has(id)) arrived.set(id, Date.now());
      },
    });
    try {
      const run = runCli(
        [
          'run',
          '--topic',
          topic,
          '--group',
          uniqueName('tail-group'),
          '--output-topic',
          predictions,
          '--variants',
          'linear',
          '--batch',
          '32',
          '--max-events',
          String(burst.length + tail.length),
          '--metrics-port',
          '0',
          '--checkpoint-dir',
          join(dir, 'ck'),
          '--log-level',
          'warn',
        ],
        { env: cleanEnv({ KAFKA_BROKERS: brokers }), timeoutMs: 170_000 },
      );
      let exited = false;
      void run.then(() => (exited = true));
      await waitFor(() => exited || arrived.size >= burst.length, 120_000, 'the burst’s 5,000 predictions');
      expect(exited).toBe(false);
      for (const e of burst) expect(arrived.has(e.id), e.id).toBe(true);

      // The topic is idle now; each tail event is alone in its batch of 32.
      const producer = createProducer(kafka, { allowAutoTopicCreation: false });
      await producer.connect();
      const latencies: number[] = [];
      try {
        for (const e of tail) {
          await new Promise((r) => setTimeout(r, 300));
          const sent = Date.now();
          await producer.send({ topic, acks: -1, messages: [{ key: e.id, value: JSON.stringify(e) }] });
          await waitFor(() => arrived.has(e.id), 10_000, `the prediction of ${e.id}`);
          latencies.push(arrived.get(e.id)! - sent);
        }
      } finally {
        await producer.disconnect();
      }
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      expect(arrived.size).toBe(burst.length + tail.length);
      // A correctness bound (the tail is not held back until 31 more events arrive), not a speed target.
      console.log(`event-to-prediction latency of idle-topic events (ms): ${latencies.join(', ')}`);
      for (const ms of latencies) expect(ms).toBeLessThan(1000);
    } finally {
      await reader.disconnect();
    }
  });
});
