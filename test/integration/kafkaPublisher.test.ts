/**
 * KafkaPublisher on the real broker: several produce requests in flight, records per request bounded, calls
 * resolving in call order only once their records (and every earlier call's) are acknowledged, what is held
 * counted until then, linger, gzip, and a failed write rejecting that call and every later one.
 */
import { describe, expect, it } from 'vitest';
import { KafkaError, ConfigError } from '../../src/errors.js';
import { createKafka, silentLogger } from '../../src/streams/kafka/client.js';
import { KafkaPublisher, PREDICTION_PRODUCER, producerSettings } from '../../src/streams/toKafka.js';
import { brokers, createTopic, readTopic, testKafka, uniqueName } from './helpers/kafka.js';

const records = (from: number, n: number): Array<{ key: string; value: string }> =>
  Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `{"n":${from + i}}` }));

describe('KafkaPublisher', () => {
  it('overlaps bounded requests, resolves calls in order once acknowledged, and writes every record in order', async () => {
    const kafka = testKafka();
    const topic = uniqueName('pub');
    await createTopic(kafka, topic);
    const releases: number[] = [];
    const publisher = new KafkaPublisher({
      kafka,
      topic,
      maxInFlight: 3,
      batchRecords: 7,
      onReleased: () => releases.push(publisher.count),
    });
    expect(publisher.settings).toMatchObject({ maxInFlight: 3, batchRecords: 7, acks: 'all', lingerMs: 0 });
    const sizes = [1, 30, 0, 5, 12, 3, 50, 2];
    const resolved: number[] = [];
    const calls: Array<Promise<void>> = [];
    let total = 0;
    sizes.forEach((n, i) => {
      calls.push(publisher.publish(records(total, n)).then(() => void resolved.push(i)));
      total += n;
    });
    // Nothing is acknowledged yet: everything published is held (counted by the pipeline as in flight).
    expect(publisher.held).toBe(total);
    await Promise.all(calls);
    expect(resolved).toEqual(sizes.map((_, i) => i));
    expect(publisher.held).toBe(0);
    expect(publisher.count).toBe(total);
    // Released as requests were acknowledged, in several steps (requests of at most 7 records).
    expect(releases.length).toBeGreaterThanOrEqual(Math.ceil(total / 7 / 3));
    expect(releases.at(-1)).toBe(total);
    await publisher.close();
    // Every record once. Requests in flight together may land in either order (kafkajs prepares each one
    // asynchronously); each request's records stay together and in order.
    const written = await readTopic(kafka, topic);
    const keys = written.map((m) => m.key!);
    expect([...keys].sort()).toEqual(
      records(0, total)
        .map((r) => r.key)
        .sort(),
    );
    expect(written.map((m) => m.value!.toString()).sort()).toEqual(
      records(0, total)
        .map((r) => r.value)
        .sort(),
    );
    const n = keys.map((k) => Number(k.slice(1)));
    let runs = 1;
    for (let i = 1; i < n.length; i++) if (n[i] !== n[i - 1] + 1) runs++;
    expect(runs).toBeLessThanOrEqual(Math.ceil(total / 7) + sizes.length);
  });

  it('with one request in flight (the default), records reach the topic in call order', async () => {
    const kafka = testKafka();
    const topic = uniqueName('pub-order');
    await createTopic(kafka, topic);
    const publisher = new KafkaPublisher({ kafka, topic, batchRecords: 5 });
    expect(publisher.settings.maxInFlight).toBe(1);
    let total = 0;
    const calls: Array<Promise<void>> = [];
    for (const n of [3, 11, 1, 7, 20]) {
      calls.push(publisher.publish(records(total, n)));
      total += n;
    }
    await Promise.all(calls);
    await publisher.close();
    const written = await readTopic(kafka, topic);
    expect(written.map((m) => m.key)).toEqual(records(0, total).map((r) => r.key));
  });

  it('with lingerMs and gzip, a lone partial request still goes out and close() waits for it', async () => {
    const kafka = testKafka();
    const topic = uniqueName('pub-linger');
    await createTopic(kafka, topic);
    const publisher = new KafkaPublisher({ kafka, topic, lingerMs: 20, compression: 'gzip', acks: 'leader' });
    const first = publisher.publish(records(0, 3));
    const second = publisher.publish(records(3, 2));
    await Promise.all([first, second]);
    const third = publisher.publish(records(5, 1));
    await publisher.close();
    await third;
    const written = await readTopic(kafka, topic);
    expect(written.map((m) => m.key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
  });

  it('a failed write rejects its call and every later one with a KafkaError', async () => {
    // No retries, and a topic that does not exist (topics are never created by a write).
    const kafka = createKafka({ brokers: brokers(), logger: silentLogger, retries: 0 });
    const publisher = new KafkaPublisher({ kafka, topic: uniqueName('missing'), maxInFlight: 2 });
    const first = publisher.publish(records(0, 3));
    await expect(first).rejects.toBeInstanceOf(KafkaError);
    await expect(publisher.publish(records(3, 1))).rejects.toBeInstanceOf(KafkaError);
    await publisher.close();
  });

  it('validates its settings, naming the bad value', () => {
    expect(producerSettings({}, PREDICTION_PRODUCER)).toEqual(PREDICTION_PRODUCER);
    expect(() => producerSettings({ acks: 'none' as never })).toThrow(ConfigError);
    expect(() => producerSettings({ maxInFlight: 0 })).toThrow(/maxInFlight must be an integer >= 1, got 0/);
    expect(() => producerSettings({ lingerMs: Number.NaN })).toThrow(/lingerMs/);
    expect(() => producerSettings({ compression: 'lz4' as never })).toThrow(/compression/);
  });
});
