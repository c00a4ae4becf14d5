/**
 * The floors of the kafka bench (kafka.bench.ts): bare kafkajs consumers with nothing of `run` in them. In the
 * bench's own process they use the kafkajs producer `run` uses (with src/streams/kafka/producerEncoding.ts's
 * encoders); as a child process, `tsx bench/suites/kafkaFloor.ts BROKERS TOPIC N MODE WARMUP` with
 * `STREAMNORM_KAFKAJS_STOCK=1`, they measure stock kafkajs. The child prints its {@link Timing} as JSON.
 */
import { pathToFileURL } from 'node:url';
import {
  createKafka,
  createProducer,
  ensureTopic,
  silentLogger,
  type KafkaClient,
  type Producer,
} from '../../src/streams/kafka/client.js';
import { PREDICTION_PRODUCER } from '../../src/streams/toKafka.js';
import { floorRecord } from './floorRecord.js';

export const name = (p: string): string =>
  `bench-${p}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

/**
 * Wall time of a reader and the CPU time it spent meanwhile (user + system), over `events` events: its steady
 * state, after a warm-up of `warmupEvents` events that took `warmupSeconds` (both 0 when nothing was excluded).
 */
export interface Timing {
  seconds: number;
  cpuSeconds: number | null;
  events: number;
  warmupSeconds: number;
  warmupEvents: number;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

/** The consumer settings fromKafka uses, so floors and `run` fetch alike. */
const consumerSettings = { maxWaitTimeInMs: 100, maxBytesPerPartition: 1 << 20 };

/**
 * A bare kafkajs eachBatch consumer over the first n messages: touching each value (`raw`), JSON.parse of each
 * (`parse`), or parse and publish one prediction-sized message per event with overlapped sends (`publish`,
 * PREDICTION_PRODUCER settings). Timed from the first fetched batch that starts at or after `warmup` messages
 * (the JIT has compiled the loop by then, as in a long-running consumer) to the n-th message (to the last
 * acknowledgement when publishing).
 */
export async function floor(
  kafka: KafkaClient,
  topic: string,
  n: number,
  mode: 'raw' | 'parse' | 'publish',
  warmup = 0,
): Promise<Timing> {
  const consumer = kafka.consumer({ groupId: name(`floor-${mode}`), ...consumerSettings });
  let producer: Producer | null = null;
  const output = name('floor-out');
  if (mode === 'publish') {
    await ensureTopic(kafka, output, 1);
    producer = createProducer(kafka);
    await producer.connect();
  }
  const s = PREDICTION_PRODUCER;
  const acks = s.acks === 'all' ? -1 : 1;
  const inFlight = new Set<Promise<unknown>>();
  let pending: Array<{ key: string; value: string }> = [];
  const send = (): void => {
    const messages = pending;
    pending = [];
    const p: Promise<unknown> = producer!
      .send({ topic: output, acks, messages })
      .then(() => inFlight.delete(p));
    inFlight.add(p);
  };
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let bytes = 0;
  let first = 0;
  let t0 = 0;
  let seenAtT0 = 0;
  let cpu0 = process.cpuUsage();
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          if (seen >= n) return;
          if (first === 0) first = performance.now();
          if (t0 === 0 && seen >= Math.min(warmup, n - 1)) {
            t0 = performance.now();
            seenAtT0 = seen;
            cpu0 = process.cpuUsage();
          }
          for (const m of batch.messages) {
            if (mode === 'raw') {
              bytes += m.value?.length ?? 0;
              continue;
            }
            const e = JSON.parse(m.value!.toString('utf8')) as { id: string; ts: number; y?: number };
            bytes += e.id.length;
            if (mode === 'publish') {
              pending.push(floorRecord(e, topic, batch.partition, m.offset));
              if (pending.length >= s.batchRecords) send();
              while (inFlight.size >= s.maxInFlight) await Promise.race(inFlight);
            }
          }
          seen += batch.messages.length;
          if (mode === 'publish' && pending.length > 0 && (inFlight.size === 0 || seen >= n)) send();
          if (seen >= n) {
            await Promise.all(inFlight);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  const timing: Timing = {
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: cpuSince(cpu0),
    events: seen - seenAtT0,
    warmupSeconds: (t0 - first) / 1000,
    warmupEvents: seenAtT0,
  };
  await consumer.disconnect();
  await producer?.disconnect();
  if (bytes === 0) throw new Error(`floor-${mode} read no bytes`);
  return timing;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [brokers, topic, n, mode, warmup] = process.argv.slice(2);
  if (mode !== 'raw' && mode !== 'parse' && mode !== 'publish')
    throw new Error(`kafkaFloor: bad mode ${mode}`);
  const kafka = createKafka({ brokers, logger: silentLogger, clientId: 'bench-floor' });
  process.stdout.write(
    JSON.stringify(await floor(kafka, topic, Number(n), mode, Number(warmup ?? 0))) + '\n',
  );
}
