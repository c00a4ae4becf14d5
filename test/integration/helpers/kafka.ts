/**
 * Helpers for the integration tests against the real broker: unique topics, producing events,
 * reading a topic to its end, offsets. Every wait is bounded.
 */
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import {
  createKafka,
  createProducer,
  endOffsets,
  ensureTopic,
  silentLogger,
  type KafkaClient,
} from '../../../src/streams/kafka/client.js';
import { Rng } from '../../../src/core/rng.js';
import type { StreamEvent } from '../../../src/streams/event.js';

export function brokers(): string {
  // Set by test/integration/globalSetup.ts (workers inherit it) or by whoever runs the tests.
  const b = process.env.KAFKA_BROKERS;
  if (!b) throw new Error('KAFKA_BROKERS is not set and the global setup provided no broker');
  return b;
}

/** A topic name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

export function testKafka(b: string = brokers()): KafkaClient {
  return createKafka({ brokers: b, clientId: 'streamnorm-test', logger: silentLogger });
}

export async function createTopic(kafka: KafkaClient, topic: string, partitions = 1): Promise<void> {
  await ensureTopic(kafka, topic, partitions);
}

/** Synthetic labeled events: x ∈ R^dim standard normal, y = 1 if w·x + noise > 0 (seeded). */
export function makeEvents(n: number, seed: number, dim = 4, idPrefix = 'e'): StreamEvent[] {
  const rng = new Rng(seed);
  const w = Array.from({ length: dim }, (_, i) => (i % 2 === 0 ? 1 : -0.5) * (1 + i / dim));
  const out: StreamEvent[] = [];
  for (let i = 0; i < n; i++) {
    const x = Array.from({ length: dim }, () => rng.normal());
    let s = 0.25 * rng.normal();
    for (let j = 0; j < dim; j++) s += w[j] * x[j];
    out.push({ id: `${idPrefix}${i}`, ts: 1_700_000_000_000 + i, x, y: s > 0 ? 1 : 0 });
  }
  return out;
}

export interface RawRecord {
  key?: string | null;
  value: string | Buffer;
  partition?: number;
}

/** Produces records in order (batches of 500), acks from all replicas. */
export async function produce(kafka: KafkaClient, topic: string, records: RawRecord[]): Promise<void> {
  const producer = createProducer(kafka, { allowAutoTopicCreation: false, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += 500) {
      await producer.send({ topic, acks: -1, messages: records.slice(i, i + 500) });
    }
  } finally {
    await producer.disconnect();
  }
}

export function eventRecords(events: StreamEvent[]): RawRecord[] {
  return events.map((e) => ({ key: e.id, value: JSON.stringify(e) }));
}

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: string;
}

/**
 * Reads a topic from the beginning up to its current end offsets (as they are when called) with a
 * throwaway group; fails after `timeoutMs`.
 */
export async function readTopic(
  kafka: KafkaClient,
  topic: string,
  timeoutMs = 60_000,
): Promise<ReadMessage[]> {
  const ends = await endOffsets(kafka, topic);
  const remaining = new Map(
    [...ends].filter(([, off]) => Number(off) > 0).map(([p, off]) => [p, Number(off)]),
  );
  const out: ReadMessage[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`readTopic ${topic}: timed out with ${out.length} messages`)),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const end = remaining.get(partition);
            if (end === undefined || Number(message.offset) >= end) return;
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {}))
              if (v !== undefined) headers[k] = String(v);
            out.push({
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? null,
              value: message.value,
              headers,
              timestamp: message.timestamp,
            });
            if (Number(message.offset) + 1 >= end) remaining.delete(partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** Polls `check` every 100 ms until it returns true; throws after `timeoutMs` with `what`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export const { logLevel } = kafkajs;
