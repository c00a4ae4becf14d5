/**
 * Bench suite `syncBn`, on the real broker (KAFKA_BROKERS, or deploy/kafka/start.sh when unset): the per-step
 * latency cost of synchronized BatchNorm's Kafka all-gather. N in-process replicas (N = 2, 3) each run a
 * BatchNorm training step (forward + backward, batch 2 per replica, C channels) per step:
 * - `unsynced`: plain per-replica BatchNorm (no exchange);
 * - `in-memory`: SyncBatchNorm over the in-process exchange (the pooling arithmetic, no transport);
 * - `kafka`: SyncBatchNorm over KafkaExchange (two round trips through the broker per step: moments before the
 *   forward, gradient sums before the backward).
 * A step's latency is the wall time until every replica finished it; reported as p50/p99 ms and steps/s.
 * The replicas share one Node process (one event loop) and the machine's cores with the broker: separate processes
 * on separate hosts would add network time and remove the shared event loop.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { benchBroker, header, type Case, type SuiteResult } from '../lib.js';
import { Rng } from '../../src/core/rng.js';
import { tensor, type Tensor } from '../../src/core/tensor.js';
import { BatchNorm } from '../../src/normalizers/index.js';
import { KafkaExchange } from '../../src/scale/kafkaExchange.js';
import { InMemoryExchange, type StepExchange } from '../../src/scale/stepExchange.js';
import { SyncBatchNorm } from '../../src/scale/syncBatchNorm.js';
import { createKafka, deleteTopics, silentLogger, type KafkaClient } from '../../src/streams/kafka/client.js';

const STEPS = Number(process.env.BENCH_SYNCBN_STEPS ?? 500);
const WARMUP = 20;
const CHANNELS = Number(process.env.BENCH_SYNCBN_CHANNELS ?? 16);
const BATCH = 2;
const progress = (msg: string): void => void process.stderr.write(`syncBn bench: ${msg}\n`);

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function batches(replicas: number, steps: number): { x: Tensor; dy: Tensor }[][] {
  const rng = new Rng(1);
  return Array.from({ length: steps }, () =>
    Array.from({ length: replicas }, (_, r) => ({
      x: tensor(
        Array.from({ length: BATCH * CHANNELS }, () => r + rng.normal()),
        [BATCH, CHANNELS],
      ),
      dy: tensor(
        Array.from({ length: BATCH * CHANNELS }, () => rng.normal()),
        [BATCH, CHANNELS],
      ),
    })),
  );
}

type Step = (replica: number, x: Tensor, dy: Tensor) => Promise<void> | void;

async function timeSteps(name: string, replicas: number, step: Step): Promise<Case> {
  const data = batches(replicas, STEPS + WARMUP);
  const ms: number[] = [];
  const start = process.hrtime.bigint();
  let measuredFrom = start;
  for (let t = 0; t < data.length; t++) {
    if (t === WARMUP) measuredFrom = process.hrtime.bigint();
    const t0 = process.hrtime.bigint();
    await Promise.all(data[t].map((b, r) => step(r, b.x, b.dy)));
    if (t >= WARMUP) ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const seconds = Number(process.hrtime.bigint() - measuredFrom) / 1e9;
  ms.sort((a, b) => a - b);
  const p50 = quantile(ms, 0.5);
  const p99 = quantile(ms, 0.99);
  const perSecond = STEPS / seconds;
  const c: Case = {
    name: `${name} ×${replicas}`,
    transport: name,
    replicas,
    steps: STEPS,
    medianNs: p50 * 1e6,
    p50Ms: p50,
    p99Ms: p99,
    maxMs: ms[ms.length - 1],
    stepsPerSecond: perSecond,
  };
  progress(`${c.name}: p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, ${perSecond.toFixed(0)} steps/s`);
  return c;
}

function synced(exchanges: StepExchange[]): Step {
  const bns = exchanges.map((ex) => new SyncBatchNorm(new BatchNorm({ channels: CHANNELS }), ex));
  return async (r, x, dy) => {
    await bns[r].forward(x);
    await bns[r].backward(dy);
  };
}

async function kafkaCase(kafka: KafkaClient, replicas: number): Promise<Case> {
  const topic = `bench-syncbn-${randomUUID().slice(0, 8)}`;
  const session = randomUUID();
  const exchanges = await Promise.all(
    Array.from({ length: replicas }, (_, replica) =>
      KafkaExchange.open({ kafka, topic, session, replicas, replica, timeoutMs: 30_000 }),
    ),
  );
  try {
    return await timeSteps('kafka', replicas, synced(exchanges));
  } finally {
    await Promise.all(exchanges.map((ex) => ex.close()));
    await deleteTopics(kafka, [topic]).catch(() => undefined);
  }
}

export async function run(): Promise<SuiteResult> {
  const broker = benchBroker();
  const kafka = createKafka({ brokers: broker.brokers, logger: silentLogger, clientId: 'bench-syncbn' });
  try {
    const cases: Case[] = [];
    const ratios: Record<string, number> = {};
    for (const replicas of [2, 3]) {
      const bns = Array.from({ length: replicas }, () => new BatchNorm({ channels: CHANNELS }));
      const plain = await timeSteps('unsynced', replicas, (r, x, dy) => {
        bns[r].forward(x);
        bns[r].backward(dy);
      });
      const group = new InMemoryExchange(replicas);
      const memory = await timeSteps(
        'in-memory',
        replicas,
        synced(Array.from({ length: replicas }, (_, r) => group.member(r))),
      );
      const viaKafka = await kafkaCase(kafka, replicas);
      cases.push(plain, memory, viaKafka);
      ratios[`kafka-over-unsynced-p50-${replicas}`] = (viaKafka.p50Ms as number) / (plain.p50Ms as number);
    }
    return {
      ...header('syncBn'),
      cases,
      ratios,
      notes: [
        `${STEPS} measured steps after ${WARMUP} warm-up steps; BatchNorm over ${CHANNELS} channels, batch ${BATCH} per replica`,
        `replicas in one process, ${availableParallelism()} cores shared with the broker (and anything else running)`,
        'a step = every replica done with forward + backward; kafka: 2 exchanges (moments, gradient sums) per step',
      ],
    };
  } finally {
    broker.stop();
  }
}
