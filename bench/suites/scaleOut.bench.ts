/**
 * Bench suite `scaleOut`, on the real broker (KAFKA_BROKERS, or deploy/kafka/start.sh when unset): events per
 * second with 1, 2 and 3 `streamnorm run --state kafka` processes in one group on a 6-partition topic (this
 * machine's cores are shared, so per-core scaling efficiency is reported as measured), sync traffic per event
 * (bytes written to the sync topic / events) and the replicas' staleness as `streamnorm status` samples it.
 *
 * Timing: the processes start on a topic holding one warm-up event per partition (they pick the default model
 * from the first event and join the group); once those are learned, the clock starts, EVENTS events are
 * produced (the replicas consume meanwhile: `produceSeconds` says how long producing alone took, a floor under
 * `seconds`) and the clock runs until the group's committed offsets (written in the checkpoint transactions)
 * cover them all, polled every 100 ms, so a figure includes up to one checkpoint interval (1 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { benchBroker, benchDir, header, type Case, type SuiteResult } from '../lib.js';
import { readGroupStatus } from '../../src/scale/groupStatus.js';
import { scaleTopics } from '../../src/scale/scaleOut.js';
import {
  committedOffsets,
  createConsumer,
  createKafka,
  createProducer,
  ensureTopic,
  silentLogger,
  type KafkaClient,
} from '../../src/streams/kafka/client.js';

const EVENTS = Number(process.env.BENCH_SCALE_EVENTS ?? 60_000);
const PROCESSES = (process.env.BENCH_SCALE_PROCESSES ?? '1,2,3').split(',').map(Number);
const PARTITIONS = 6;
const progress = (msg: string): void => void process.stderr.write(`scaleOut bench: ${msg}\n`);
const cli = join(benchDir, '..', 'src', 'cli', 'index.ts');

function event(i: number): string {
  const x = [Math.sin(i), Math.cos(i * 0.7), ((i * 37) % 101) / 50 - 1, ((i * 13) % 17) / 8 - 1];
  const y = x[0] - 0.5 * x[1] + x[2] > 0 ? 1 : 0;
  return JSON.stringify({
    id: `e${i}`,
    ts: 1_700_000_000_000 + i,
    x: x.map((v) => Math.round(v * 1e4) / 1e4),
    y,
  });
}

async function produce(
  kafka: KafkaClient,
  topic: string,
  from: number,
  n: number,
  perPartition = false,
): Promise<void> {
  const producer = createProducer(kafka, { maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = from; i < from + n; i += 2000) {
    const messages = [];
    for (let j = i; j < Math.min(from + n, i + 2000); j++)
      messages.push({
        key: `e${j}`,
        value: event(j),
        ...(perPartition ? { partition: j % PARTITIONS } : {}),
      });
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

async function committedTotal(kafka: KafkaClient, group: string, topic: string): Promise<number> {
  let n = 0;
  for (const off of (await committedOffsets(kafka, group, topic)).values())
    if (Number(off) > 0) n += Number(off);
  return n;
}

/** Bytes and records in a topic, read to its end (stops 2 s after the last message, at most 60 s). */
async function topicBytes(kafka: KafkaClient, topic: string): Promise<{ bytes: number; records: number }> {
  const consumer = createConsumer(kafka, { groupId: `bench-bytes-${Date.now()}`, maxWaitTimeInMs: 100 });
  let bytes = 0;
  let records = 0;
  let last = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      bytes += (message.value?.length ?? 0) + (message.key?.length ?? 0);
      records++;
      last = Date.now();
    },
  });
  const start = Date.now();
  while (Date.now() - last < 2000 && Date.now() - start < 60_000)
    await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  return { bytes, records };
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function runGroup(kafka: KafkaClient, brokers: string, processes: number): Promise<Case> {
  const stamp = `${Date.now().toString(36)}-${processes}`;
  const topic = `bench-scale-${stamp}`;
  const group = `bench-scale-g-${stamp}`;
  await ensureTopic(kafka, topic, PARTITIONS);
  await produce(kafka, topic, 0, PARTITIONS, true);
  const children: ChildProcess[] = [];
  try {
    for (let p = 0; p < processes; p++) {
      children.push(
        spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            cli,
            'run',
            '--brokers',
            brokers,
            '--topic',
            topic,
            '--group',
            group,
            '--state',
            'kafka',
            '--replica-id',
            `r${p}`,
            '--metrics-port',
            '0',
            '--log-level',
            'error',
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    for (let i = 0; i < 1200 && (await committedTotal(kafka, group, topic)) < PARTITIONS; i++)
      await new Promise((r) => setTimeout(r, 100));
    progress(`${processes} process(es) up`);
    const t0 = performance.now();
    await produce(kafka, topic, PARTITIONS, EVENTS);
    const produceSeconds = (performance.now() - t0) / 1000;
    const staleness: number[] = [];
    let done = false;
    const sampler = (async () => {
      for (let i = 0; i < 600 && !done; i++) {
        const s = await readGroupStatus(kafka, scaleTopics(group).stateTopic);
        for (const r of s.replicas) if (r.partitions.length > 0) staleness.push(r.stalenessMs);
      }
    })();
    let seconds = NaN;
    for (let i = 0; i < 6000; i++) {
      if ((await committedTotal(kafka, group, topic)) >= PARTITIONS + EVENTS) {
        seconds = (performance.now() - t0) / 1000;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    done = true;
    await sampler;
    const sync = await topicBytes(kafka, scaleTopics(group).syncTopic);
    const eventsPerSecond = EVENTS / seconds;
    progress(
      `${processes} process(es): ${eventsPerSecond.toFixed(0)} events/s, ${(sync.bytes / EVENTS).toFixed(1)} sync bytes/event`,
    );
    return {
      name: `processes-${processes}`,
      medianNs: (seconds * 1e9) / EVENTS,
      units: EVENTS,
      perUnitNs: (seconds * 1e9) / EVENTS,
      processes,
      seconds,
      produceSeconds,
      eventsPerSecond,
      syncRecords: sync.records,
      syncBytesPerEvent: sync.bytes / EVENTS,
      stalenessMs: {
        samples: staleness.length,
        p50: quantile(staleness, 0.5),
        p90: quantile(staleness, 0.9),
        max: quantile(staleness, 1),
      },
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on('exit', r)))),
    );
  }
}

export async function run(): Promise<SuiteResult> {
  const broker = benchBroker();
  const kafka = createKafka({ brokers: broker.brokers, logger: silentLogger, clientId: 'bench' });
  try {
    const cases: Case[] = [];
    for (const p of PROCESSES) cases.push(await runGroup(kafka, broker.brokers, p));
    const one = cases.find((c) => c.processes === 1)?.eventsPerSecond as number | undefined;
    const ratios: Record<string, number> = {};
    const cores = availableParallelism();
    for (const c of cases) {
      if (one === undefined || c.processes === 1) continue;
      const speedup = (c.eventsPerSecond as number) / one;
      ratios[`speedup-${c.processes}`] = speedup;
      // Per-core efficiency: speedup over the cores the processes can actually use.
      ratios[`efficiency-${c.processes}`] = speedup / Math.min(c.processes as number, cores);
    }
    return {
      ...header('scaleOut'),
      cases,
      ratios,
      notes: [
        `${EVENTS} events on a ${PARTITIONS}-partition topic, ${cores} cores shared with the broker (and anything else running)`,
        'seconds: from starting to produce the events to the group offsets covering them (includes up to one 1 s checkpoint interval); produceSeconds: the producing part',
        'syncBytesPerEvent: bytes written to the sync topic (all records, before compaction) / events',
        'stalenessMs: streamnorm status samples of replicas holding partitions (age of their latest checkpoint = sync)',
      ],
    };
  } finally {
    broker.stop();
  }
}
