/**
 * Bench suite `kafka`, on the real broker (KAFKA_BROKERS, or deploy/kafka/start.sh when unset): the live
 * consumer as users run it (`streamnorm run` through the CLI, a child process), each configuration beside its
 * floor, all in one run on the same topic (1 partition, small JSON events of 8 features).
 *
 * Throughput (events/s) and CPU per event of:
 * - `kcat`: `kcat -C -e` reading the topic to its end (the wire's reference; process wall time, connection
 *   included; no CPU figure);
 * - `kafkajs-raw`: a bare kafkajs `eachBatch` consumer touching each value;
 * - `floor-parse`: the same plus JSON.parse of each value: the floor under any reader of the events;
 * - `floor-publish`: consume + parse + publish one prediction-sized message per event, sends overlapped
 *   (up to `maxInFlight` requests of `batchRecords` records, acks as `run` by default: PREDICTION_PRODUCER):
 *   the floor under a consumer that publishes. These floors run in this process, whose kafkajs is the one
 *   `run` uses (src/streams/kafka/producerEncoding.ts's encoders, fetchDecoding.ts's record decoder);
 * - `floor-parse-stock-kafkajs`, `floor-publish-stock-kafkajs`: the same floors in a child process on stock
 *   kafkajs (kafkaFloor.ts with STREAMNORM_KAFKAJS_STOCK=1): what a hand-written kafkajs consumer gets;
 * - `run-32`, `run-arrival`: `streamnorm run --batch 32|arrival` (default logistic model, default
 *   `--max-wait-ms`), no output topic;
 * - `run-32-publish`, `run-arrival-publish`: the same with `--output-topic` (default producer settings).
 * `run` rates come from its own `streamnorm_events_total{outcome="learned"}` counter and its CPU from its
 * `process_cpu_*_seconds_total`, scraped every 50 ms; floors are timed in the process, CPU from
 * process.cpuUsage(). Every rate is a steady state: each reader's first WARMUP events (default 200,000 of
 * 1,000,000) are not timed, so start-up, the group join, the exit and V8's compilation of the hot paths are
 * not counted. A fresh `run` spends about its first second there, at a fraction of its steady speed; each
 * case reports that warm-up rate beside it. Floors are timed to their last message (to the last
 * acknowledgement when publishing).
 *
 * Every reader runs ROUNDS times (default 5), the readers interleaved round by round, and each case reports its
 * median round (events/s; CPU per event of that round): one run of a reader on a shared 2-core machine swings by
 * a factor of two.
 *
 * Latency: events produced at a steady 5000/s with `ts` = send time into `streamnorm run --output-topic`
 * (`--batch 32`, and `--batch arrival`); event-to-prediction = arrival of the prediction at a consumer of the
 * output topic − `ts`; then a quiet topic: single events a few hundred ms apart. Target p99 < 50 ms at 5000/s.
 * As for throughput, the steady-rate figures leave out the start: the first LATENCY_WARMUP_SECONDS of the
 * steady rate, when the process meets the load with code V8 has not compiled yet, are reported as their own
 * case ("first seconds").
 * Beside it, the same measurement through the latency floor (`kafkaForwarder.ts`: a bare kafkajs consumer that
 * parses and publishes each fetched batch at once): what the broker, kafkajs and the measuring process give
 * without any of `run`'s work.
 *
 * Nothing is tuned per run: one run of `npm run bench kafka` gives every number and ratio in its JSON.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { floor, name, type Timing } from './kafkaFloor.js';
import { benchBroker, benchDir, header, type Case, type SuiteResult } from '../lib.js';
import {
  createKafka,
  createProducer,
  ensureTopic,
  silentLogger,
  type KafkaClient,
} from '../../src/streams/kafka/client.js';
import type { PredictionRecord } from '../../src/streams/livePipeline.js';
import { PREDICTION_PRODUCER } from '../../src/streams/toKafka.js';

const EVENTS = Number(process.env.BENCH_KAFKA_EVENTS ?? 1_000_000);
/**
 * Every reader's first WARMUP events are not timed: a fresh process runs its first ~200,000 events at a
 * fraction of its steady speed while V8 compiles the hot paths (the JIT warm-up), and a long-running consumer
 * spends all but its first second in the steady state. Each case reports its warm-up rate beside it.
 */
const WARMUP = Number(process.env.BENCH_KAFKA_WARMUP ?? 200_000);
if (!(Number.isInteger(WARMUP) && WARMUP >= 0 && WARMUP <= EVENTS / 2))
  throw new Error(`BENCH_KAFKA_WARMUP must be an integer in [0, BENCH_KAFKA_EVENTS / 2], got ${WARMUP}`);
/** Each reader runs this many times, interleaved with the others; a case reports its median round. */
const ROUNDS = Number(process.env.BENCH_KAFKA_ROUNDS ?? 5);
const RATE = 5000;
const LATENCY_SECONDS = Number(process.env.BENCH_KAFKA_LATENCY_SECONDS ?? 10);
/** Seconds of the steady rate before LATENCY_SECONDS: measured apart (the process's first load). */
const LATENCY_WARMUP_SECONDS = Number(process.env.BENCH_KAFKA_LATENCY_WARMUP_SECONDS ?? 2);
const QUIET_EVENTS = 20;
const QUIET_GAP_MS = 300;
const SCRAPE_MS = 50;
const root = join(benchDir, '..');
const cli = join(root, 'dist', 'cli', 'index.js');
const progress = (msg: string): void => void process.stderr.write(`kafka bench: ${msg}\n`);

function event(i: number, ts: number): string {
  // Small, deterministic: 8 features, a label from a fixed linear rule.
  const x: number[] = [];
  for (let k = 0; k < 8; k++) x.push(Math.round(Math.sin(i * (k + 1) * 0.37) * 1e4) / 1e4);
  const y = x[0] - 0.5 * x[1] + x[2] > 0 ? 1 : 0;
  return JSON.stringify({ id: `e${i}`, ts, x, y });
}

async function fill(kafka: KafkaClient, topic: string, n: number): Promise<void> {
  const producer = createProducer(kafka, { maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < n; i += 500) {
    const messages = [];
    for (let j = i; j < Math.min(n, i + 500); j++)
      messages.push({ key: `e${j}`, value: event(j, 1_700_000_000_000 + j) });
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Learned events and CPU seconds of a running `streamnorm run`, from its /metrics (null until it answers). */
async function scrape(port: number): Promise<{ learned: number; cpu: number } | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    let learned = 0;
    let cpu = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('streamnorm_events_total{') && line.includes('outcome="learned"'))
        learned += Number(line.slice(line.lastIndexOf(' ') + 1));
      else if (
        line.startsWith('process_cpu_user_seconds_total ') ||
        line.startsWith('process_cpu_system_seconds_total ')
      )
        cpu += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return { learned, cpu };
  } catch {
    return null;
  }
}

interface CliRun {
  child: ReturnType<typeof spawn>;
  port: number;
  exited: Promise<number | null>;
  stderr: () => string;
  cleanup: () => void;
}

async function startRun(b: string, topic: string, args: string[]): Promise<CliRun> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sn-bench-run-'));
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      '--brokers',
      b,
      '--topic',
      topic,
      '--group',
      name('run'),
      '--checkpoint-dir',
      dir,
      '--metrics-port',
      String(port),
      '--metrics-snapshot-ms',
      String(SCRAPE_MS),
      '--log-level',
      'warn',
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    port,
    exited,
    stderr: () => err,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * `streamnorm run` over the first n events: rate and CPU between the first scrape that saw at least WARMUP
 * learned events and the last one that saw learning; the warm-up from the first scrape that saw any.
 */
async function runCli(b: string, topic: string, n: number, extra: string[]): Promise<Timing> {
  const run = await startRun(b, topic, ['--max-events', String(n), ...extra]);
  type Sample = { t: number; learned: number; cpu: number };
  let started: Sample | null = null;
  let first: Sample | null = null;
  let last: Sample | null = null;
  let code: number | null | undefined;
  void run.exited.then((c) => (code = c));
  try {
    const deadline = Date.now() + 300_000;
    while (code === undefined && Date.now() < deadline) {
      const s = await scrape(run.port);
      const t = performance.now();
      if (s !== null && s.learned > 0) {
        started ??= { t, ...s };
        if (first === null) {
          if (s.learned >= WARMUP) first = last = { t, ...s };
        } else if (s.learned > last!.learned) last = { t, ...s };
        if (s.learned >= n) break;
      }
      await new Promise((r) => setTimeout(r, SCRAPE_MS));
    }
    const exit = await run.exited;
    if (exit !== 0) throw new Error(`streamnorm run exited ${exit}: ${run.stderr()}`);
    if (started === null || first === null || last === null || last.learned <= first.learned)
      throw new Error(`streamnorm run: too few metric samples to time it (${run.stderr()})`);
    return {
      seconds: (last.t - first.t) / 1000,
      cpuSeconds: last.cpu - first.cpu,
      events: last.learned - first.learned,
      warmupSeconds: (first.t - started.t) / 1000,
      warmupEvents: first.learned - started.learned,
    };
  } finally {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
    run.cleanup();
  }
}

/** The round with the median rate (the upper middle one of an even count). */
function medianRound(ts: Timing[]): Timing {
  return [...ts].sort((x, y) => x.events / x.seconds - y.events / y.seconds)[Math.floor(ts.length / 2)];
}

/**
 * A floor in a child process on stock kafkajs (STREAMNORM_KAFKAJS_STOCK=1: none of producerEncoding.ts and
 * fetchDecoding.ts).
 */
async function stockFloor(b: string, topic: string, n: number, mode: 'parse' | 'publish'): Promise<Timing> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(benchDir, 'suites', 'kafkaFloor.ts'), b, topic, String(n), mode, String(WARMUP)],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: root, env: { ...process.env, STREAMNORM_KAFKAJS_STOCK: '1' } },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`stock kafkajs floor exited ${code}: ${err}`);
  return JSON.parse(out) as Timing;
}

/** The latency floor (kafkaForwarder.ts) as a child process, stopped like `run` (SIGTERM). */
async function startForwarder(b: string, input: string, output: string): Promise<CliRun> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(benchDir, 'suites', 'kafkaForwarder.ts'), b, input, output],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: root },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, port: 0, exited, stderr: () => err, cleanup: () => undefined };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface Latencies {
  /** The first LATENCY_WARMUP_SECONDS of the steady rate. */
  first: number[];
  steady: number[];
  quiet: number[];
}

/**
 * Event-to-prediction latencies (ms) through `streamnorm run --output-topic`: a steady RATE events/s for
 * LATENCY_WARMUP_SECONDS (`first`) and then `seconds` (`steady`), then QUIET_EVENTS single events QUIET_GAP_MS
 * apart.
 */
async function latency(
  kafka: KafkaClient,
  seconds: number,
  start: (input: string, output: string) => Promise<CliRun>,
): Promise<Latencies> {
  const input = name('lat-in');
  const output = name('lat-out');
  await ensureTopic(kafka, input, 1);
  await ensureTopic(kafka, output, 1);
  const producer = createProducer(kafka, { maxInFlightRequests: 1 });
  await producer.connect();
  const arrivals = new Map<string, number>();
  const reader = kafka.consumer({ groupId: name('lat-reader'), maxWaitTimeInMs: 20 });
  await reader.connect();
  await reader.subscribe({ topics: [output], fromBeginning: true });
  void reader.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        const rec = JSON.parse(m.value!.toString()) as PredictionRecord;
        if (!arrivals.has(rec.id)) arrivals.set(rec.id, now - rec.ts);
      }
    },
  });
  const run = await start(input, output);
  const waitFor = async (id: string, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!arrivals.has(id)) {
      if (Date.now() > deadline) throw new Error(`latency: prediction of ${id} missing (${run.stderr()})`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  try {
    // Warm up: the run peeks the first event for its shape, joins the group and learns; the clock starts after.
    for (let i = 0; i < 10; i++)
      await producer.send({ topic: input, acks: -1, messages: [{ key: `w${i}`, value: warm(i) }] });
    await waitFor('w9', 120_000);
    const firstEvents = RATE * LATENCY_WARMUP_SECONDS;
    const total = firstEvents + RATE * seconds;
    const tickMs = 10;
    const start = Date.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * RATE) + 1);
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
    await waitFor(`e${total - 1}`, 60_000);
    const first: number[] = [];
    const steady: number[] = [];
    for (let i = 0; i < total; i++) {
      const l = arrivals.get(`e${i}`);
      if (l === undefined) throw new Error(`latency: prediction of e${i} missing`);
      (i < firstEvents ? first : steady).push(l);
    }
    const quiet: number[] = [];
    for (let q = 0; q < QUIET_EVENTS; q++) {
      await new Promise((r) => setTimeout(r, QUIET_GAP_MS));
      const id = `e${total + q}`;
      await producer.send({
        topic: input,
        acks: -1,
        messages: [{ key: id, value: event(total + q, Date.now()) }],
      });
      await waitFor(id, 10_000);
      quiet.push(arrivals.get(id)!);
    }
    return { first, steady, quiet };
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
    run.cleanup();
    await producer.disconnect();
    await reader.disconnect();
  }

  function warm(i: number): string {
    return JSON.stringify({ ...(JSON.parse(event(i, Date.now())) as object), id: `w${i}` });
  }
}

function latencyCase(label: string, ms: number[]): Case {
  const s = [...ms].sort((x, y) => x - y);
  const p50 = quantile(s, 0.5);
  return {
    name: label,
    medianNs: p50 * 1e6,
    units: s.length,
    p50Ms: p50,
    p99Ms: quantile(s, 0.99),
    maxMs: s[s.length - 1],
  };
}

export async function run(): Promise<SuiteResult> {
  progress('building dist/ (the CLI runs from it)');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  const loadAtStart = loadavg();
  const broker = benchBroker();
  const b = broker.brokers;
  const kafka = createKafka({ brokers: b, logger: silentLogger, clientId: 'bench' });
  try {
    const topic = name('tp');
    await ensureTopic(kafka, topic, 1);
    await fill(kafka, topic, EVENTS);
    progress(`produced ${EVENTS} events to ${topic}`);

    const timings: Record<string, Timing> = {};
    const k = kcat(b, topic, EVENTS);
    if (k !== null)
      timings.kcat = { seconds: k, cpuSeconds: null, events: EVENTS, warmupSeconds: 0, warmupEvents: 0 };
    progress(`kcat ${k === null ? 'n/a' : `${k.toFixed(3)} s`}`);
    const readers: Array<[string, () => Promise<Timing>]> = [
      ['kafkajs-raw', () => floor(kafka, topic, EVENTS, 'raw', WARMUP)],
      ['floor-parse', () => floor(kafka, topic, EVENTS, 'parse', WARMUP)],
      ['floor-publish', () => floor(kafka, topic, EVENTS, 'publish', WARMUP)],
      ['floor-parse-stock-kafkajs', () => stockFloor(b, topic, EVENTS, 'parse')],
      ['floor-publish-stock-kafkajs', () => stockFloor(b, topic, EVENTS, 'publish')],
      ['run-32', () => runCli(b, topic, EVENTS, ['--batch', '32'])],
      ['run-arrival', () => runCli(b, topic, EVENTS, ['--batch', 'arrival'])],
      ['run-32-publish', () => publishRun(kafka, b, topic, '32')],
      ['run-arrival-publish', () => publishRun(kafka, b, topic, 'arrival')],
    ];
    const rounds: Record<string, Timing[]> = {};
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [reader, read] of readers) {
        // A run that learned everything between two scrapes cannot be timed: run it again (once).
        const t = await read().catch((error: unknown) => {
          if (!String(error).includes('too few metric samples')) throw error;
          progress(`round ${round}/${ROUNDS} ${reader}: too few metric samples, running it again`);
          return read();
        });
        (rounds[reader] ??= []).push(t);
        progress(
          `round ${round}/${ROUNDS} ${reader}: ${Math.round(t.events / t.seconds)} events/s${t.cpuSeconds === null ? '' : `, ${((t.cpuSeconds * 1e6) / t.events).toFixed(2)} µs CPU/event`}${t.warmupSeconds > 0 ? ` (warm-up: ${Math.round(t.warmupEvents / t.warmupSeconds)} events/s)` : ''}`,
        );
      }
    }
    for (const [reader, ts] of Object.entries(rounds)) timings[reader] = medianRound(ts);
    const cases: Case[] = [];
    const eps: Record<string, number> = {};
    for (const [n, t] of Object.entries(timings)) {
      eps[n] = t.events / t.seconds;
      cases.push({
        name: n,
        medianNs: t.seconds * 1e9,
        units: t.events,
        perUnitNs: (t.seconds * 1e9) / t.events,
        eventsPerSecond: Math.round(eps[n]),
        ...(t.cpuSeconds === null ? {} : { cpuPerEventUs: (t.cpuSeconds * 1e6) / t.events }),
        ...(t.warmupEvents > 0 && t.warmupSeconds > 0
          ? { warmupEventsPerSecond: Math.round(t.warmupEvents / t.warmupSeconds) }
          : {}),
      });
    }

    const floorLatency = await latency(kafka, LATENCY_SECONDS, (input, output) =>
      startForwarder(b, input, output),
    );
    cases.push(latencyCase(`latency@${RATE}/s floor (kafkajs consume-parse-publish)`, floorLatency.steady));
    cases.push(
      latencyCase(
        `latency@${RATE}/s floor, first ${LATENCY_WARMUP_SECONDS} s of the load`,
        floorLatency.first,
      ),
    );
    progress('latency floor done');
    const lat: Record<string, Latencies> = {};
    for (const batch of ['32', 'arrival']) {
      lat[batch] = await latency(kafka, LATENCY_SECONDS, (input, output) =>
        startRun(b, input, ['--output-topic', output, '--batch', batch]),
      );
      cases.push(latencyCase(`latency@${RATE}/s run --batch ${batch} --output-topic`, lat[batch].steady));
      cases.push(
        latencyCase(
          `latency@${RATE}/s run --batch ${batch}, first ${LATENCY_WARMUP_SECONDS} s of the load`,
          lat[batch].first,
        ),
      );
      cases.push(
        latencyCase(`latency quiet (1 event / ${QUIET_GAP_MS} ms) --batch ${batch}`, lat[batch].quiet),
      );
      progress(`latency --batch ${batch} done`);
    }

    const ratios: Record<string, number> = {
      run_32_publish_over_floor_publish: eps['run-32-publish'] / eps['floor-publish'],
      run_arrival_publish_over_floor_publish: eps['run-arrival-publish'] / eps['floor-publish'],
      run_32_over_floor_parse: eps['run-32'] / eps['floor-parse'],
      run_arrival_over_floor_parse: eps['run-arrival'] / eps['floor-parse'],
      arrival_over_32: eps['run-arrival'] / eps['run-32'],
      arrival_over_32_publish: eps['run-arrival-publish'] / eps['run-32-publish'],
      floor_parse_over_kafkajs_raw: eps['floor-parse'] / eps['kafkajs-raw'],
      floor_parse_over_stock_kafkajs: eps['floor-parse'] / eps['floor-parse-stock-kafkajs'],
      run_32_over_stock_kafkajs_floor_parse: eps['run-32'] / eps['floor-parse-stock-kafkajs'],
      run_arrival_over_stock_kafkajs_floor_parse: eps['run-arrival'] / eps['floor-parse-stock-kafkajs'],
      floor_publish_over_stock_kafkajs: eps['floor-publish'] / eps['floor-publish-stock-kafkajs'],
      run_32_publish_over_stock_kafkajs_floor_publish:
        eps['run-32-publish'] / eps['floor-publish-stock-kafkajs'],
    };
    if (eps.kcat) ratios.floor_parse_over_kcat = eps['floor-parse'] / eps.kcat;
    const targets: Record<string, string> = {
      run_32_publish_over_floor_publish: '>= 0.9',
      run_arrival_publish_over_floor_publish: '>= 0.9',
      run_32_over_floor_parse: '>= 0.8',
      run_arrival_over_floor_parse: '>= 0.8',
      arrival_over_32: '>= 0.9 (within 10 %)',
      arrival_over_32_publish: '>= 0.9 (within 10 %)',
    };
    const p99Of = (ms: number[]): number =>
      quantile(
        [...ms].sort((x, y) => x - y),
        0.99,
      );
    const notes = [
      `${EVENTS} events (~${event(1, 1_700_000_000_000).length} bytes each), 1 partition; rates and CPU are each reader's steady state: its first ${WARMUP} events (the JIT warm-up of a fresh process) are not timed, and warmupEventsPerSecond is the rate over them (for run: from the first scrape that saw learning); each reader ${ROUNDS} times, the readers interleaved round by round in this order: ${readers.map(([r]) => r).join(', ')} (kcat once, first); every case is its median round`,
      `events/s per round: ${Object.entries(rounds)
        .map(([r, ts]) => `${r} ${ts.map((t) => Math.round(t.events / t.seconds)).join('/')}`)
        .join('; ')}`,
      `run = node dist/cli/index.js run (default logistic model, default producer settings: ${JSON.stringify(PREDICTION_PRODUCER)}); rates from its streamnorm_events_total{outcome="learned"} counter, CPU from its process_cpu_*_seconds_total, between the first scrape (${SCRAPE_MS} ms apart) that saw ${WARMUP} learned events and the last that saw learning`,
      `target p99 < 50 ms at ${RATE}/s with predictions published: got ${p99Of(lat['32'].steady)} ms with --batch 32 and ${p99Of(lat.arrival.steady)} ms with --batch arrival, over the ${LATENCY_SECONDS} s after the first ${LATENCY_WARMUP_SECONDS} s of the load (p99 over those first seconds: ${p99Of(lat['32'].first)} and ${p99Of(lat.arrival.first)} ms); the latency floor's p99 in the same run: ${p99Of(floorLatency.steady)} ms`,
      'kcat time is process wall time including connection setup',
      `the machine is shared (load average ${loadAtStart} at the start, ${loadavg()} at the end; 2 cores): numbers are one run's, not tuned`,
      `NODE_OPTIONS=${JSON.stringify(process.env.NODE_OPTIONS ?? '')} (inherited by the run children; deploy/ runs with --max-semi-space-size=64)`,
    ];
    if (!eps.kcat) notes.push('kcat not installed: no kcat case');
    return { ...header('kafka'), cases, ratios, targets, notes };
  } finally {
    broker.stop();
  }
}

async function publishRun(kafka: KafkaClient, b: string, topic: string, batch: string): Promise<Timing> {
  const output = name('run-out');
  await ensureTopic(kafka, output, 1);
  return runCli(b, topic, EVENTS, ['--batch', batch, '--output-topic', output]);
}

function loadavg(): string {
  try {
    return execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}
