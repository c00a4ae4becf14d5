/**
 * Bench suite `metricsLoad` (a benchmark, not a test): the event-loop delay of a live `streamnorm run` while
 * 2,000 concurrent `/metrics` scrapes hit it on loopback and events keep arriving, on the real broker
 * (KAFKA_BROKERS, or deploy/kafka/start.sh when unset). The CLI runs as a child process, as a user runs it;
 * the delay is its own `streamnorm_event_loop_delay_seconds` histogram (perf_hooks.monitorEventLoopDelay),
 * differenced between a scrape before the flood and one after. A quiet baseline of the same length (no flood,
 * same events) is measured first, so the flood's cost can be read against it.
 *
 * Environment: BENCH_METRICS_SCRAPES (default 2000), BENCH_METRICS_EVENTS (events during each phase,
 * default 6000).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchBroker, benchDir, header, type Case, type SuiteResult } from '../lib.js';
import { createKafka, createProducer, ensureTopic, silentLogger } from '../../src/streams/kafka/client.js';
import { delayBetween, floodScrapes } from '../../test/integration/helpers/metricsFlood.js';
import { httpGet } from '../../test/integration/helpers/runProcess.js';

const SCRAPES = Number(process.env.BENCH_METRICS_SCRAPES ?? 2000);
const EVENTS = Number(process.env.BENCH_METRICS_EVENTS ?? 6000);
const progress = (msg: string): void => void process.stderr.write(`metricsLoad bench: ${msg}\n`);

function event(i: number): string {
  const x = [Math.sin(i), Math.cos(i * 0.7), ((i * 37) % 101) / 50 - 1, ((i * 13) % 17) / 8 - 1];
  return JSON.stringify({ id: `e${i}`, ts: Date.now(), x, y: x[0] - 0.5 * x[1] + x[2] > 0 ? 1 : 0 });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function counted(page: string): number {
  let n = 0;
  for (const l of page.split('\n'))
    if (l.startsWith('streamnorm_events_total{') && /outcome="(learned|predicted)"/.test(l))
      n += Number(l.split(' ').pop());
  return n;
}

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function run(): Promise<SuiteResult> {
  const broker = benchBroker();
  const dir = mkdtempSync(join(tmpdir(), 'streamnorm-bench-mload-'));
  const kafka = createKafka({
    brokers: broker.brokers.split(','),
    clientId: 'bench-mload',
    logger: silentLogger,
  });
  const topic = `bench-mload-${process.pid}-${Date.now()}`;
  await ensureTopic(kafka, topic);
  const producer = createProducer(kafka, { allowAutoTopicCreation: false });
  await producer.connect();
  let next = 0;
  const produce = async (n: number): Promise<void> => {
    for (let done = 0; done < n; done += 500) {
      const k = Math.min(500, n - done);
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: k }, () => ({ key: null, value: event(next++) })),
      });
    }
  };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(benchDir, '..', 'src', 'cli', 'index.ts'),
      'run',
      '--topic',
      topic,
      '--group',
      `${topic}-g`,
      '--variant',
      'linear',
      '--metrics-port',
      String(port),
      '--checkpoint-dir',
      join(dir, 'ck'),
      '--log-level',
      'warn',
    ],
    { env: { ...process.env, KAFKA_BROKERS: broker.brokers }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const scrape = async (): Promise<string> => {
    const r = await httpGet(`${url}/metrics`);
    if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
    return r.body;
  };
  try {
    await produce(1000);
    await until(async () => counted(await scrape()) >= 1000, 120_000, 'the first events');

    // Baseline: the same events, no flood, over a comparable time.
    const quietBefore = await scrape();
    const t0 = Date.now();
    await produce(EVENTS);
    await until(async () => counted(await scrape()) >= next, 120_000, 'the baseline events');
    await new Promise((r) => setTimeout(r, 1100));
    const quiet = delayBetween(quietBefore, await scrape());
    const quietMs = Date.now() - t0;
    progress(`baseline: p99 ${(quiet.p99 * 1000).toFixed(1)} ms over ${quietMs} ms`);

    const floodBefore = await scrape();
    const t1 = Date.now();
    const producing = produce(EVENTS);
    const flood = await floodScrapes(`${url}/metrics`, SCRAPES);
    await producing;
    await until(async () => counted(await scrape()) >= next, 120_000, 'the flood-phase events');
    await new Promise((r) => setTimeout(r, 1100));
    const loaded = delayBetween(floodBefore, await scrape());
    const floodMs = Date.now() - t1;
    progress(`flood: ${JSON.stringify(flood.statuses)}, p99 ${(loaded.p99 * 1000).toFixed(1)} ms`);
    const ms = (s: number): number => Math.round(s * 1e4) / 10;
    const cases: Case[] = [
      {
        name: 'event loop delay, no scrapes (baseline)',
        medianNs: quiet.p50 * 1e9,
        delayP50Ms: ms(quiet.p50),
        delayP99Ms: ms(quiet.p99),
        delayMaxAtMostMs: ms(quiet.maxAtMost),
        ticks: quiet.samples,
        phaseMs: quietMs,
        events: EVENTS,
      },
      {
        name: `event loop delay, ${SCRAPES} concurrent scrapes`,
        medianNs: loaded.p50 * 1e9,
        delayP50Ms: ms(loaded.p50),
        delayP99Ms: ms(loaded.p99),
        delayMaxAtMostMs: ms(loaded.maxAtMost),
        ticks: loaded.samples,
        phaseMs: floodMs,
        events: EVENTS,
        floodWallMs: flood.wallMs,
        answers: flood.statuses,
        unanswered: flood.failures,
      },
    ];
    return {
      ...header('metricsLoad'),
      cases,
      notes: [
        `streamnorm run (CLI child process, --variant linear, default metrics server: 64 connections, 1 s snapshot) on ${broker.brokers}; ${EVENTS} events produced during each phase`,
        'delay = streamnorm_event_loop_delay_seconds of the run process (monitorEventLoopDelay, 10 ms resolution), increase between a scrape before and one after the phase; quantiles interpolated inside histogram buckets, max as the upper bound of the highest bucket that gained a tick',
        'the scraper runs in this process on the same 2-core machine, so the figures include CPU contention with it',
      ],
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await producer.disconnect();
    rmSync(dir, { recursive: true, force: true });
    broker.stop();
  }
}
