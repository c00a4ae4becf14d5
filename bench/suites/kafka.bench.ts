/**
 * Bench suite `kafka`, on the real broker (KAFKA_BROKERS, or deploy/kafka/start.sh when unset).
 *
 * Throughput, same run, same topic (1 partition, small JSON events), each reader timed from its first
 * message to its last:
 * - `pipeline`: runLivePipeline: fromKafka → decodeEvents → rebatch({count: 32}) → prequential (a
 *   logistic LinearModel) → checkpoint (every 5000 messages / 1 s, and the final one);
 * - `kafkajs-raw`: a bare kafkajs consumer, `eachBatch` touching each message's value;
 * - `kafkajs-parse`: the same, plus JSON.parse of each value (the least any reader of the events pays);
 * - `kcat`: `kcat -C -e` reading the topic to its end (process wall time, connection included).
 * Target: pipeline ≥ 0.7 × kafkajs-raw. Each reader also reports the CPU this process spent per event.
 *
 * Latency: events produced at a steady 5000/s with `ts` = send time, through the live pipeline (time-based
 * batches of ≤ 5 ms) to its prediction topic; event-to-prediction = arrival of the prediction at a
 * consumer of that topic − `ts`. Target p99 < 50 ms.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchBroker, header, type Case, type SuiteResult } from '../lib.js';
import { LinearModel } from '../../src/models/linear/index.js';
import type { OnlineModel } from '../../src/models/types.js';
import type { EventSchema } from '../../src/streams/decodeEvents.js';
import {
  createKafka,
  createProducer,
  ensureTopic,
  silentLogger,
  type KafkaClient,
} from '../../src/streams/kafka/client.js';
import { runLivePipeline, type PredictionRecord } from '../../src/streams/livePipeline.js';

const EVENTS = Number(process.env.BENCH_KAFKA_EVENTS ?? 100_000);
const REPEATS = Number(process.env.BENCH_KAFKA_REPEATS ?? 3);
const RATE = 5000;
const LATENCY_SECONDS = Number(process.env.BENCH_KAFKA_LATENCY_SECONDS ?? 10);
const progress = (msg: string): void => void process.stderr.write(`kafka bench: ${msg}\n`);

const name = (p: string): string =>
  `bench-${p}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

function event(i: number, ts: number): string {
  // Small, deterministic: 4 features, a label from a fixed linear rule.
  const x = [Math.sin(i), Math.cos(i * 0.7), ((i * 37) % 101) / 50 - 1, ((i * 13) % 17) / 8 - 1];
  const y = x[0] - 0.5 * x[1] + x[2] > 0 ? 1 : 0;
  return JSON.stringify({ id: `e${i}`, ts, x: x.map((v) => Math.round(v * 1e4) / 1e4), y });
}

/** What both pipeline runs learn: a logistic LinearModel on the 4 features, binary labels. */
const SCHEMA: EventSchema = { x: { kind: 'vector', dim: 4 }, label: { classes: 2 } };
function benchModels(): Record<string, OnlineModel> {
  return {
    linear: new LinearModel({
      loss: 'logistic',
      regularizer: { l2: 1e-4 },
      optimizer: { type: 'sgd', lr: 0.05 },
      dim: 4,
    }),
  };
}

async function fill(kafka: KafkaClient, topic: string, n: number): Promise<void> {
  const producer = createProducer(kafka, { maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < n; i += 2000) {
    const messages = [];
    for (let j = i; j < Math.min(n, i + 2000); j++)
      messages.push({ key: `e${j}`, value: event(j, 1_700_000_000_000 + j) });
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

/**
 * Seconds from the first message to the last with a bare kafkajs eachBatch consumer that touches each
 * message's value (`parse`: also JSON.parse each value, the floor under any consumer that reads the events).
 */
async function rawKafkajs(kafka: KafkaClient, topic: string, n: number, parse = false): Promise<Timing> {
  const consumer = kafka.consumer({
    groupId: name('raw'),
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 1 << 20,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let bytes = 0;
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  const timing = await new Promise<Timing>((resolve, reject) => {
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          if (t0 === 0) {
            t0 = performance.now();
            cpu0 = process.cpuUsage();
          }
          if (parse)
            for (const m of batch.messages)
              bytes += (JSON.parse(m.value!.toString('utf8')) as { id: string }).id.length;
          else for (const m of batch.messages) bytes += m.value?.length ?? 0;
          seen += batch.messages.length;
          if (seen >= n) resolve({ seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSince(cpu0) });
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  if (bytes === 0) throw new Error('raw consumer read no bytes');
  return timing;
}

/** Wall time of a reader and the CPU time this process spent meanwhile (user + system). */
interface Timing {
  seconds: number;
  cpuSeconds: number;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

/** Seconds from the first handed-over message to the final checkpoint, through the whole pipeline. */
async function pipeline(kafka: KafkaClient, topic: string, n: number): Promise<Timing> {
  const dir = mkdtempSync(join(tmpdir(), 'sn-bench-'));
  let tFinal = 0;
  let cpuFinal = 0;
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  try {
    const handle = await runLivePipeline({
      kafka,
      logger: silentLogger,
      topic,
      groupId: name('pipe'),
      checkpoint: dir,
      createModels: benchModels,
      rebatch: { count: 32 },
      schema: SCHEMA,
      handleSignals: false,
      // The clock stops when the final checkpoint is durable (leaving the group is not part of the work).
      onCheckpointSaved: (ack) => {
        if (ack.final) {
          tFinal = performance.now();
          cpuFinal = cpuSince(cpu0);
        }
      },
    });
    await new Promise<void>((resolve, reject) => {
      handle.done.catch(reject);
      const timer = setInterval(() => {
        const s = handle.source.stats();
        if (t0 === 0 && s.emitted > 0) {
          t0 = performance.now();
          cpu0 = process.cpuUsage();
        }
        // The last partial batch is learned when stop() completes the stream.
        if (s.emitted >= n) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    const tAll = performance.now();
    const summary = await handle.stop();
    const seconds = (tFinal - t0) / 1000;
    progress(
      `pipeline: handed over all in ${((tAll - t0) / 1000).toFixed(3)} s, final checkpoint at ${seconds.toFixed(3)} s, closed at ${((performance.now() - t0) / 1000).toFixed(3)} s`,
    );
    if (summary.messages !== n) throw new Error(`pipeline checkpointed ${summary.messages} of ${n} messages`);
    return { seconds, cpuSeconds: cpuFinal };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wall seconds of `kcat -C -e` reading the whole topic (null when kcat is not installed). */
function kcat(b: string, topic: string, n: number): number | null {
  if (spawnSync('kcat', ['-V']).status !== 0) return null;
  const t0 = performance.now();
  const r = spawnSync('kcat', ['-C', '-e', '-q', '-b', b, '-t', topic, '-o', 'beginning', '-f', '%o\n'], {
    maxBuffer: 256 << 20,
    encoding: 'utf8',
  });
  const seconds = (performance.now() - t0) / 1000;
  const lines = r.stdout.split('\n').filter((l) => l.length > 0).length;
  if (r.status !== 0 || lines !== n)
    throw new Error(`kcat read ${lines} of ${n} (exit ${r.status}): ${r.stderr}`);
  return seconds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Event-to-prediction latencies (ms) at a steady RATE events/s for `seconds`. */
async function latency(kafka: KafkaClient, seconds: number): Promise<number[]> {
  const input = name('lat-in');
  const output = name('lat-out');
  await ensureTopic(kafka, input, 1);
  await ensureTopic(kafka, output, 1);
  const dir = mkdtempSync(join(tmpdir(), 'sn-bench-lat-'));
  const handle = await runLivePipeline({
    kafka,
    logger: silentLogger,
    topic: input,
    outputTopic: output,
    groupId: name('lat'),
    checkpoint: dir,
    createModels: benchModels,
    rebatch: { timeMs: 5, maxCount: 256 },
    schema: SCHEMA,
    handleSignals: false,
  });
  const latencies: number[] = [];
  const total = RATE * seconds;
  const reader = kafka.consumer({ groupId: name('lat-reader'), maxWaitTimeInMs: 100 });
  await reader.connect();
  await reader.subscribe({ topics: [output], fromBeginning: true });
  const allRead = new Promise<void>((resolve, reject) => {
    reader
      .run({
        eachBatch: async ({ batch }) => {
          const now = Date.now();
          for (const m of batch.messages) {
            const rec = JSON.parse(m.value!.toString()) as PredictionRecord;
            latencies.push(now - rec.ts);
          }
          if (latencies.length >= total) resolve();
        },
      })
      .catch(reject);
  });
  // Let both consumers join before the clock starts.
  await new Promise((r) => setTimeout(r, 3000));
  const producer = createProducer(kafka, { maxInFlightRequests: 1 });
  await producer.connect();
  const tickMs = 10;
  const perTick = (RATE * tickMs) / 1000;
  const start = Date.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * RATE) + perTick);
    if (due > sent) {
      const messages = [];
      const ts = Date.now();
      for (let i = sent; i < due; i++) messages.push({ key: `e${i}`, value: event(i, ts) });
      sent = due;
      await producer.send({ topic: input, acks: -1, messages });
    }
    const next = start + Math.ceil((sent / RATE) * 1000) - Date.now();
    if (next > 0) await new Promise((r) => setTimeout(r, Math.min(next, tickMs)));
  }
  await Promise.race([
    allRead,
    new Promise((_, rej) => setTimeout(() => rej(new Error('latency: predictions missing')), 60_000)),
  ]);
  await producer.disconnect();
  await reader.disconnect();
  await handle.stop();
  rmSync(dir, { recursive: true, force: true });
  return latencies;
}

export async function run(): Promise<SuiteResult> {
  const broker = benchBroker();
  const b = broker.brokers;
  const kafka = createKafka({ brokers: b, logger: silentLogger, clientId: 'bench' });
  try {
    const topic = name('tp');
    await ensureTopic(kafka, topic, 1);
    await fill(kafka, topic, EVENTS);
    progress(`produced ${EVENTS} events to ${topic}`);

    const times: Record<string, number[]> = {
      pipeline: [],
      'kafkajs-raw': [],
      'kafkajs-parse': [],
      kcat: [],
    };
    const cpu: Record<string, number[]> = { pipeline: [], 'kafkajs-raw': [], 'kafkajs-parse': [] };
    const readers = [
      ['kafkajs-raw', rawKafkajs],
      ['kafkajs-parse', (k: KafkaClient, t: string, n: number) => rawKafkajs(k, t, n, true)],
      ['pipeline', pipeline],
    ] as const;
    for (let r = 0; r < REPEATS; r++) {
      for (const [reader, read] of readers) {
        const t = await read(kafka, topic, EVENTS);
        times[reader].push(t.seconds);
        cpu[reader].push(t.cpuSeconds);
        progress(`run ${r + 1}: ${reader} ${t.seconds.toFixed(3)} s (cpu ${t.cpuSeconds.toFixed(3)} s)`);
      }
      const k = kcat(b, topic, EVENTS);
      if (k !== null) times.kcat.push(k);
      progress(`run ${r + 1}: kcat ${k === null ? 'n/a' : k.toFixed(3) + ' s'}`);
    }
    const cases: Case[] = [];
    const eps: Record<string, number> = {};
    for (const [n, ts] of Object.entries(times)) {
      if (ts.length === 0) continue;
      const s = median(ts);
      eps[n] = EVENTS / s;
      cases.push({
        name: n,
        medianNs: s * 1e9,
        units: EVENTS,
        perUnitNs: (s * 1e9) / EVENTS,
        eventsPerSecond: Math.round(EVENTS / s),
        runs: ts.length,
        // CPU this process spent per event while reading (median over runs): where the time goes.
        ...(cpu[n] ? { cpuPerEventUs: (median(cpu[n]) * 1e6) / EVENTS } : {}),
      });
    }

    const lat = (await latency(kafka, LATENCY_SECONDS)).sort((x, y) => x - y);
    const p50 = quantile(lat, 0.5);
    const p99 = quantile(lat, 0.99);
    cases.push({
      name: `latency@${RATE}/s`,
      medianNs: p50 * 1e6,
      units: lat.length,
      p50Ms: p50,
      p99Ms: p99,
      maxMs: lat[lat.length - 1],
    });

    const ratios: Record<string, number> = {
      pipeline_over_kafkajs_raw: eps.pipeline / eps['kafkajs-raw'],
      kafkajs_parse_over_kafkajs_raw: eps['kafkajs-parse'] / eps['kafkajs-raw'],
    };
    if (eps.kcat) ratios.kcat_over_kafkajs_raw = eps.kcat / eps['kafkajs-raw'];
    const notes = [
      `${EVENTS} events (~${event(0, 0).length} bytes each), 1 partition, median of ${REPEATS} runs per reader`,
      `targets: pipeline_over_kafkajs_raw >= 0.7 (got ${ratios.pipeline_over_kafkajs_raw.toFixed(2)}); p99 < 50 ms at ${RATE}/s (got ${p99} ms, p50 ${p50} ms)`,
      'kcat time is process wall time including connection setup',
      'kafkajs-parse = raw kafkajs + JSON.parse of every value: what reading the events costs at the least',
      `NODE_OPTIONS=${JSON.stringify(process.env.NODE_OPTIONS ?? '')} (the young generation size moves every reader: --max-semi-space-size=64 is what deploy/ runs with)`,
    ];
    if (!eps.kcat) notes.push('kcat not installed: no kcat case');
    return { ...header('kafka'), cases, ratios, notes };
  } finally {
    broker.stop();
  }
}
