/**
 * Bench suite `soak` (a benchmark, not a test): at least 5 million events through the live pipeline on the
 * real broker (KAFKA_BROKERS, or deploy/kafka/start.sh when unset), with checkpoints (the file store, every
 * 5000 messages / 1 s) and metrics on (the /metrics server, scraped once a second as Prometheus would, and the
 * live metric hooks).
 *
 * A producer in this process keeps the topic ahead of the consumer by at most BACKLOG events, so the broker
 * holds the stream as it arrives rather than all at once. Every SAMPLE_MS the suite records events learned,
 * RSS, V8 heap used, external + array buffers and the open handles (`process.getActiveResourcesInfo()`).
 *
 * The figure that matters is the memory slope after warm-up: a least-squares fit of heap used (and RSS)
 * against events learned over the second half of the run, in bytes per million events. Flat means the
 * pipeline holds no per-event state beyond its bounded buffers.
 *
 * Environment: BENCH_SOAK_EVENTS (default 5 000 000), BENCH_SOAK_PARTITIONS (default 2).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchBroker, header, type Case, type SuiteResult } from '../lib.js';
import {
  LinearModel,
  createRegistry,
  liveMetricsHooks,
  pipelineMetricsFor,
  runLivePipeline,
  startMetricsServer,
  type EventSchema,
  type OnlineModel,
} from '../../src/index.js';
import {
  createKafka,
  createProducer,
  ensureTopic,
  silentLogger,
  type KafkaClient,
} from '../../src/streams/kafka/client.js';

const EVENTS = Number(process.env.BENCH_SOAK_EVENTS ?? 5_000_000);
const PARTITIONS = Number(process.env.BENCH_SOAK_PARTITIONS ?? 2);
const BACKLOG = 200_000;
const SAMPLE_MS = 2000;
const progress = (msg: string): void => void process.stderr.write(`soak bench: ${msg}\n`);

function event(i: number): string {
  const x = [Math.sin(i), Math.cos(i * 0.7), ((i * 37) % 101) / 50 - 1, ((i * 13) % 17) / 8 - 1];
  const y = x[0] - 0.5 * x[1] + x[2] > 0 ? 1 : 0;
  return JSON.stringify({ id: `e${i}`, ts: Date.now(), x: x.map((v) => Math.round(v * 1e4) / 1e4), y });
}

const SCHEMA: EventSchema = { x: { kind: 'vector', dim: 4 }, label: { classes: 2 } };
function models(): Record<string, OnlineModel> {
  return {
    linear: new LinearModel({
      loss: 'logistic',
      regularizer: { l2: 1e-4 },
      optimizer: { type: 'sgd', lr: 0.05 },
      dim: 4,
    }),
  };
}

/** One memory sample. */
export interface SoakSample {
  seconds: number;
  events: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  openHandles: number;
}

/** Least-squares slope and intercept of y against x. */
export function leastSquares(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const n = xs.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Keeps the topic at most BACKLOG events ahead of `learned()`, until `total` are sent. */
async function produce(
  kafka: KafkaClient,
  topic: string,
  total: number,
  learned: () => number,
  stopped: () => boolean,
): Promise<void> {
  const producer = createProducer(kafka, { maxInFlightRequests: 1 });
  await producer.connect();
  try {
    let sent = 0;
    while (sent < total && !stopped()) {
      if (sent - learned() >= BACKLOG) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const n = Math.min(2000, total - sent);
      const messages = [];
      for (let j = sent; j < sent + n; j++) messages.push({ key: `e${j}`, value: event(j) });
      await producer.send({ topic, acks: -1, messages });
      sent += n;
    }
  } finally {
    await producer.disconnect();
  }
}

export async function run(): Promise<SuiteResult> {
  const broker = benchBroker();
  const b = broker.brokers;
  const kafka = createKafka({ brokers: b, logger: silentLogger, clientId: 'bench-soak' });
  const dir = mkdtempSync(join(tmpdir(), 'sn-soak-'));
  const topic = `bench-soak-${Date.now().toString(36)}`;
  const registry = createRegistry();
  const metrics = pipelineMetricsFor(registry);
  const server = await startMetricsServer({ registry, port: 0, readiness: () => metrics.readiness() });
  const samples: SoakSample[] = [];
  let learned = 0;
  let scrapes = 0;
  let failedScrapes = 0;
  let ended = false;
  const gc = (globalThis as { gc?: () => void }).gc;
  try {
    await ensureTopic(kafka, topic, PARTITIONS);
    const groupId = `${topic}-g`;
    const hooks = liveMetricsHooks(metrics, { groupId });
    const handle = await runLivePipeline({
      kafka,
      logger: silentLogger,
      topic,
      groupId,
      checkpoint: dir,
      createModels: models,
      rebatch: { count: 32 },
      schema: SCHEMA,
      handleSignals: false,
      ...hooks,
      onResult: (r) => {
        hooks.onResult(r);
        learned += r.envelopes.length;
      },
    });
    const producing = produce(
      kafka,
      topic,
      EVENTS,
      () => learned,
      () => ended,
    );
    producing.catch(() => undefined);
    const t0 = performance.now();
    // A full collection before each sample (the bench runner passes --expose-gc): heap used is then what
    // is live, not wherever the young generation's sawtooth happens to be, so the slope measures retention.
    const sample = (): void => {
      gc?.();
      const m = process.memoryUsage();
      samples.push({
        seconds: (performance.now() - t0) / 1000,
        events: learned,
        rssBytes: m.rss,
        heapUsedBytes: m.heapUsed,
        externalBytes: m.external,
        arrayBuffersBytes: m.arrayBuffers,
        openHandles: process.getActiveResourcesInfo().length,
      });
    };
    const scraper = setInterval(() => {
      fetch(`${server.url}/metrics`).then(
        async (res) => {
          await res.text();
          if (res.ok) scrapes++;
          else failedScrapes++;
        },
        () => failedScrapes++,
      );
    }, 1000);
    let lastReport = 0;
    await new Promise<void>((resolve, reject) => {
      handle.done.catch(reject);
      producing.catch(reject);
      const timer = setInterval(() => {
        sample();
        const s = samples[samples.length - 1];
        if (s.seconds - lastReport >= 30) {
          lastReport = s.seconds;
          progress(
            `${s.events} events in ${s.seconds.toFixed(0)} s, rss ${(s.rssBytes / 2 ** 20).toFixed(0)} MiB, heap ${(s.heapUsedBytes / 2 ** 20).toFixed(0)} MiB, handles ${s.openHandles}`,
          );
        }
        if (handle.source.stats().emitted >= EVENTS) {
          clearInterval(timer);
          resolve();
        }
      }, SAMPLE_MS);
    });
    ended = true;
    clearInterval(scraper);
    await producing;
    const summary = await handle.stop();
    sample();
    metrics.consumerConnectedChanged(false, groupId);
    if (summary.messages !== EVENTS) throw new Error(`soak checkpointed ${summary.messages} of ${EVENTS}`);

    const wall = samples[samples.length - 1].seconds;
    const half = samples.filter((s) => s.events >= EVENTS / 2);
    const ev = half.map((s) => s.events);
    const perMillion = (ys: number[]): number => leastSquares(ev, ys).slope * 1e6;
    const heapSlope = perMillion(half.map((s) => s.heapUsedBytes));
    const rssSlope = perMillion(half.map((s) => s.rssBytes));
    const handlesSlope = perMillion(half.map((s) => s.openHandles));
    const mib = (x: number): string => (x / 2 ** 20).toFixed(2);
    const range = (k: keyof SoakSample): [number, number] => [
      Math.min(...half.map((s) => s[k])),
      Math.max(...half.map((s) => s[k])),
    ];
    const cases: Case[] = [
      {
        name: 'soak',
        medianNs: (wall * 1e9) / EVENTS,
        units: EVENTS,
        perUnitNs: (wall * 1e9) / EVENTS,
        eventsPerSecond: Math.round(EVENTS / wall),
        wallSeconds: wall,
        checkpoints: summary.checkpoints,
        scrapes,
        failedScrapes,
        heapSlopeBytesPerMillionEvents: heapSlope,
        rssSlopeBytesPerMillionEvents: rssSlope,
        openHandlesSlopePerMillionEvents: handlesSlope,
        heapUsedRangeSecondHalfBytes: range('heapUsedBytes'),
        rssRangeSecondHalfBytes: range('rssBytes'),
        openHandlesRangeSecondHalf: range('openHandles'),
      },
    ];
    return {
      ...header('soak'),
      cases,
      notes: [
        `${EVENTS} events, ${PARTITIONS} partitions, logistic LinearModel, count 32 batches, checkpoints every 5000 messages / 1 s, /metrics scraped every second`,
        `memory slope over the second half (least squares against events): heap ${mib(heapSlope)} MiB and RSS ${mib(rssSlope)} MiB per million events; open handles ${handlesSlope.toFixed(2)} per million events`,
        'the producer runs in this process (at most 200k events ahead of the consumer), so its buffers are part of the figures',
        `samples every ${SAMPLE_MS} ms in \`samples\`${gc === undefined ? ' (no --expose-gc: heap used includes garbage)' : ', each after a full collection (--expose-gc)'}`,
      ],
      samples,
    } as SuiteResult;
  } finally {
    ended = true;
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    broker.stop();
  }
}
