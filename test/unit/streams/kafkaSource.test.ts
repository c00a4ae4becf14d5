/**
 * KafkaSource's hand-over logic against a scripted stand-in for the kafkajs consumer (the real broker is in
 * test/integration): the batch handler queues and returns so kafkajs can fetch again while the pipeline
 * works, the in-flight bound counts queued messages, a slow pipeline gets its partition paused, and a
 * rebalance forgets what was queued and seeks back to what was handed over.
 */
import { describe, expect, it } from 'vitest';
import type { RawMessage } from '../../../src/streams/event.js';
import { fromKafka, type KafkaSource } from '../../../src/streams/fromKafka.js';
import { silentLogger, type EachBatchPayload, type KafkaClient } from '../../../src/streams/kafka/client.js';
import { joinLikeKafkajs } from './helpers.js';

const EVENTS = { GROUP_JOIN: 'join', REBALANCING: 'rebalancing', END_BATCH_PROCESS: 'end', CRASH: 'crash' };

type Listener = (e: { payload: Record<string, unknown> }) => void;

/** Just what KafkaSource calls on a kafkajs consumer, recording pauses, resumes and seeks. */
class ScriptedConsumer {
  readonly events = EVENTS;
  readonly listeners = new Map<string, Listener[]>();
  eachBatch: ((p: EachBatchPayload) => Promise<void>) | null = null;
  readonly paused: number[] = [];
  readonly resumed: number[] = [];
  readonly seeks: string[] = [];
  resolved: string | null = null;
  connect = async (): Promise<void> => undefined;
  subscribe = async (): Promise<void> => undefined;
  disconnect = async (): Promise<void> => undefined;
  commitOffsets = async (): Promise<void> => undefined;
  run = async (config: { eachBatch: (p: EachBatchPayload) => Promise<void> }): Promise<void> => {
    this.eachBatch = config.eachBatch;
  };
  on(event: string, listener: Listener): () => void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return () => undefined;
  }
  emit(event: string, payload: Record<string, unknown>): void {
    for (const l of this.listeners.get(event) ?? []) l({ payload });
  }
  pause(tps: Array<{ partitions: number[] }>): void {
    this.paused.push(...tps.flatMap((t) => t.partitions));
  }
  resume(tps: Array<{ partitions: number[] }>): void {
    this.resumed.push(...tps.flatMap((t) => t.partitions));
  }
  seek({ offset }: { offset: string }): void {
    this.seeks.push(offset);
  }

  /** One fetched batch of `count` messages from `from`, as kafkajs hands it to eachBatch. */
  batch(from: number, count: number, highWatermark = from + count): Promise<void> {
    const messages = Array.from({ length: count }, (_, i) => ({
      offset: String(from + i),
      timestamp: '1700000000000',
      key: Buffer.from(`k${from + i}`),
      value: Buffer.from(`{"n":${from + i}}`),
      headers: {},
      attributes: 0,
    }));
    const payload = {
      batch: { topic: 't', partition: 0, highWatermark: String(highWatermark), messages },
      resolveOffset: (o: string) => void (this.resolved = o),
      heartbeat: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload;
    return this.eachBatch!(payload);
  }
}

async function started(options: {
  maxInFlight?: number;
  ackWaitMs?: number;
  yieldEveryMs?: number;
}): Promise<{
  source: KafkaSource;
  consumer: ScriptedConsumer;
  seen: RawMessage[];
  ended: { complete: boolean };
}> {
  const consumer = new ScriptedConsumer();
  const kafka = { consumer: () => consumer } as unknown as KafkaClient;
  // Unless a test is about yielding, drain a whole queue in one turn: with the default 10 ms slice a loaded
  // machine would split it and make the one-turn expectations below depend on timing.
  const source = fromKafka({
    kafka,
    topic: 't',
    groupId: 'g',
    logger: silentLogger,
    yieldEveryMs: 60_000,
    ...options,
  });
  const seen: RawMessage[] = [];
  const ended = { complete: false };
  source.subscribe({ next: (m) => seen.push(m), complete: () => (ended.complete = true) });
  for (let i = 0; i < 100 && consumer.eachBatch === null; i++) await turn();
  expect(consumer.eachBatch).not.toBeNull();
  return { source, consumer, seen, ended };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KafkaSource hand-over', () => {
  it('returns from the batch handler before handing the messages over, then hands them all over in order', async () => {
    const { source, consumer, seen } = await started({});
    await consumer.batch(0, 100);
    // kafkajs may fetch again now: nothing has been handed over yet, the whole batch is queued and in flight.
    expect(seen).toHaveLength(0);
    expect(consumer.resolved).toBe('99');
    expect(source.stats().inFlight).toBe(100);
    await turn();
    expect(seen.map((m) => Number(m.origin.offset))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(seen[3].key).toBe('k3');
    expect(source.stats()).toMatchObject({ emitted: 100, inFlight: 100 });
    source.ackAll(seen.map((m) => m.origin));
    expect(source.stats()).toMatchObject({ acknowledged: 100, inFlight: 0 });
    expect(source.positions()).toEqual({ 't:0': '100' });
  });

  it('counts queued messages against maxInFlight, and pauses the partition when the pipeline makes no room', async () => {
    const { source, consumer, seen } = await started({ maxInFlight: 10, ackWaitMs: 5 });
    await consumer.batch(0, 25);
    // Ten queued, no acknowledgement within ackWaitMs: paused, and kafkajs reads on from offset 10 later.
    expect(consumer.paused).toEqual([0]);
    expect(consumer.resolved).toBe('9');
    expect(source.stats()).toMatchObject({ inFlight: 10, maxInFlightSeen: 10, pauses: 1 });
    await turn();
    expect(seen).toHaveLength(10);
    // Resumed once half the bound is free (hysteresis), not at the first acknowledgement.
    source.ackAll(seen.slice(0, 4).map((m) => m.origin));
    expect(consumer.resumed).toEqual([]);
    source.ack(seen[4].origin);
    expect(consumer.resumed).toEqual([0]);
    await consumer.batch(10, 15);
    await turn();
    expect(seen.map((m) => Number(m.origin.offset))).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(source.stats().maxInFlightSeen).toBe(10);
  });

  it('waits for room inside the handler while a fast pipeline keeps up, without pausing', async () => {
    const { source, consumer, seen } = await started({ maxInFlight: 10, ackWaitMs: 10_000 });
    // A pipeline that acknowledges everything it is handed, a turn later.
    const acker = setInterval(() => source.ackAll(seen.map((m) => m.origin)), 1);
    try {
      await consumer.batch(0, 50);
    } finally {
      clearInterval(acker);
    }
    await turn();
    expect(consumer.paused).toEqual([]);
    expect(seen.map((m) => Number(m.origin.offset))).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(source.stats().maxInFlightSeen).toBeLessThanOrEqual(10);
  });

  it('forgets what was queued on a rebalance and seeks back to what was handed over on the next assignment', async () => {
    const { source, consumer, seen } = await started({ yieldEveryMs: 0 });
    await consumer.batch(0, 100);
    // yieldEveryMs 0: one message per event-loop turn.
    for (let i = 0; i < 30 && seen.length < 7; i++) await turn();
    const handed = seen.length;
    expect(handed).toBeGreaterThan(0);
    expect(handed).toBeLessThan(100);
    consumer.emit(EVENTS.REBALANCING, { groupId: 'g', memberId: 'm' });
    for (let i = 0; i < 5; i++) await turn();
    expect(seen).toHaveLength(handed);
    expect(source.stats().inFlight).toBe(handed);
    await joinLikeKafkajs({ groupId: 'g', memberId: 'm', generationId: 1 }, () =>
      consumer.emit(EVENTS.GROUP_JOIN, {
        groupId: 'g',
        memberId: 'm',
        memberAssignment: { t: [0] },
        duration: 1,
      }),
    );
    // The group's committed offset is behind: the first batch of the assignment is answered with a seek.
    await consumer.batch(0, 100);
    expect(consumer.seeks).toEqual([String(handed)]);
    await consumer.batch(handed, 100 - handed);
    for (let i = 0; i < 200 && seen.length < 100; i++) await turn();
    expect(seen.map((m) => Number(m.origin.offset))).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('drain() completes the stream with what was handed over; what was only queued is not in flight any more', async () => {
    const { source, consumer, seen, ended } = await started({});
    await consumer.batch(0, 100);
    source.drain();
    await turn();
    expect(seen).toHaveLength(0);
    expect(source.stats()).toMatchObject({ inFlight: 0, emitted: 0 });
    expect(source.positions()).toEqual({});
    expect(ended.complete).toBe(true);
  });
});

describe('KafkaSource arrival batches and downstream holds', () => {
  it('with arrivalBatches, hands each fetched run over as one array, in offset order', async () => {
    const consumer = new ScriptedConsumer();
    const kafka = { consumer: () => consumer } as unknown as KafkaClient;
    const source = fromKafka({ kafka, topic: 't', groupId: 'g', logger: silentLogger, arrivalBatches: true });
    const runs: RawMessage[][] = [];
    source.subscribe({ next: (run) => runs.push(run) });
    for (let i = 0; i < 100 && consumer.eachBatch === null; i++) await turn();
    await consumer.batch(0, 7);
    await consumer.batch(7, 3);
    for (let i = 0; i < 5; i++) await turn();
    expect(runs.map((r) => r.length)).toEqual([7, 3]);
    expect(runs.flat().map((m) => Number(m.origin.offset))).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(runs[1][0].key).toBe('k7');
    expect(source.stats()).toMatchObject({ emitted: 10, inFlight: 10 });
    source.ackAll(runs.flat().map((m) => m.origin));
    expect(source.positions()).toEqual({ 't:0': '10' });
  });

  it('with maxRun, cuts each fetched run into arrays of at most maxRun, in offset order', async () => {
    const consumer = new ScriptedConsumer();
    const kafka = { consumer: () => consumer } as unknown as KafkaClient;
    const source = fromKafka({
      kafka,
      topic: 't',
      groupId: 'g',
      logger: silentLogger,
      arrivalBatches: true,
      maxRun: 4,
    });
    const runs: RawMessage[][] = [];
    source.subscribe({ next: (run) => runs.push(run) });
    for (let i = 0; i < 100 && consumer.eachBatch === null; i++) await turn();
    await consumer.batch(0, 10);
    for (let i = 0; i < 5; i++) await turn();
    expect(runs.map((r) => r.length)).toEqual([4, 4, 2]);
    expect(runs.flat().map((m) => Number(m.origin.offset))).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(() => fromKafka({ kafka, topic: 't', groupId: 'g', maxRun: 0 })).toThrow(/maxRun/);
  });

  it('calls onCaughtUp once everything fetched is handed over and the fetch reached the high watermark', async () => {
    const consumer = new ScriptedConsumer();
    const kafka = { consumer: () => consumer } as unknown as KafkaClient;
    let caughtUp = 0;
    let seenWhenCaughtUp = -1;
    const runs: RawMessage[][] = [];
    const source = fromKafka({
      kafka,
      topic: 't',
      groupId: 'g',
      logger: silentLogger,
      arrivalBatches: true,
      onCaughtUp: () => {
        caughtUp++;
        seenWhenCaughtUp = runs.flat().length;
      },
    });
    source.subscribe({ next: (run) => runs.push(run) });
    for (let i = 0; i < 100 && consumer.eachBatch === null; i++) await turn();
    // More is in the log than this fetch brought: not caught up.
    await consumer.batch(0, 5, 20);
    for (let i = 0; i < 5; i++) await turn();
    expect(runs.flat()).toHaveLength(5);
    expect(caughtUp).toBe(0);
    // The rest, up to the high watermark: caught up, after every message was handed over.
    await consumer.batch(5, 15, 20);
    for (let i = 0; i < 5; i++) await turn();
    expect(caughtUp).toBe(1);
    expect(seenWhenCaughtUp).toBe(20);
  });

  it('a run is cut at the room under maxInFlight', async () => {
    const consumer = new ScriptedConsumer();
    const kafka = { consumer: () => consumer } as unknown as KafkaClient;
    const source = fromKafka({
      kafka,
      topic: 't',
      groupId: 'g',
      logger: silentLogger,
      arrivalBatches: true,
      maxInFlight: 4,
      ackWaitMs: 1,
    });
    const runs: RawMessage[][] = [];
    source.subscribe({ next: (run) => runs.push(run) });
    for (let i = 0; i < 100 && consumer.eachBatch === null; i++) await turn();
    await consumer.batch(0, 10);
    await turn();
    expect(runs.map((r) => r.length)).toEqual([4]);
    expect(consumer.paused).toEqual([0]);
  });

  it('counts what is held downstream against maxInFlight, and goes on when it is released', async () => {
    let held = 0;
    const consumer = new ScriptedConsumer();
    const kafka = { consumer: () => consumer } as unknown as KafkaClient;
    const source = fromKafka({
      kafka,
      topic: 't',
      groupId: 'g',
      logger: silentLogger,
      maxInFlight: 10,
      ackWaitMs: 5,
      heldDownstream: () => held,
    });
    const seen: RawMessage[] = [];
    source.subscribe({ next: (m) => seen.push(m) });
    for (let i = 0; i < 100 && consumer.eachBatch === null; i++) await turn();
    await consumer.batch(0, 10);
    await turn();
    // Learned (acknowledged) but still held, e.g. predictions not yet published: no room, so the next batch pauses.
    source.ackAll(seen.map((m) => m.origin));
    held = 10;
    expect(source.stats().inFlight).toBe(10);
    await consumer.batch(10, 5);
    expect(consumer.paused).toEqual([0]);
    expect(source.stats().maxInFlightSeen).toBe(10);
    // Published: the partition resumes.
    held = 0;
    source.released();
    expect(consumer.resumed).toEqual([0]);
    expect(source.stats().inFlight).toBe(0);
  });
});
