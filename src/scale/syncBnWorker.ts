/**
 * The worker thread of `run --sync-bn` (started by syncBn.ts): its own Kafka client, a {@link SyncBnCoordinator},
 * and the contributions of every replica on one one-partition topic, `<group>-syncbn`. The learner, blocked in
 * `Atomics.wait`, gets its answers through the shared slot (syncBnSlot.ts); everything else arrives as messages.
 *
 * Wire format (the encoding of KafkaExchange): value = the raw float64 bytes of a contribution (bits survive the
 * trip); headers `gen`, `member`, `ch` (channel: `<variant>/<layer>`), `step`, `phase`; a goodbye has `bye` and no
 * value. The topic is read from its end as of the worker's start: a generation that includes this replica forms only
 * after its learner joins the group, which is after the worker is ready.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import {
  createConsumer,
  createKafka,
  createProducer,
  deleteGroup,
  endOffsets,
  ensureTopic,
  silentLogger,
  type Admin,
  type ClientOptions,
  type IHeaders,
} from '../streams/kafka/client.js';
import { decode, encode } from './kafkaExchange.js';
import { SyncBnCoordinator, type SyncBnMessage, type SyncBnOutcome } from './syncBnCoordinator.js';
import { CTRL, OUTCOME, answer, slotViews } from './syncBnSlot.js';
import type { SyncPhase } from './stepExchange.js';

export interface SyncBnWorkerData {
  client: Omit<ClientOptions, 'logger'>;
  topic: string;
  /** The learner's consumer group (whose members are the roster). */
  groupId: string;
  timeoutMs: number;
  idleMs: number;
  /** `retention.ms` of the topic when this creates it. */
  retentionMs: number;
  sab: SharedArrayBuffer;
}

/** Messages from the learner's thread. */
export type ToWorker =
  | { type: 'request'; id: number; channel: string; phase: SyncPhase; part: Float64Array; wait: boolean }
  | { type: 'abandon'; channel: string }
  | { type: 'join'; memberId: string; generationId: number }
  | { type: 'close' };

/** Messages to the learner's thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'roster'; gen: number; members: number }
  | { type: 'warn'; message: string }
  | { type: 'closed' };

function post(m: FromWorker): void {
  parentPort!.postMessage(m);
}

function text(h: unknown): string | undefined {
  return Buffer.isBuffer(h) ? h.toString() : typeof h === 'string' ? h : undefined;
}

function parse(headers: IHeaders, value: Buffer | null): SyncBnMessage | null {
  const gen = Number(text(headers.gen));
  const member = text(headers.member);
  if (!Number.isInteger(gen) || member === undefined) return null;
  if (text(headers.bye) !== undefined) return { kind: 'bye', gen, member };
  const channel = text(headers.ch);
  const step = Number(text(headers.step));
  const phase = text(headers.phase);
  if (channel === undefined || !Number.isInteger(step) || value === null) return null;
  if (phase !== 'forward' && phase !== 'backward') return null;
  return { kind: 'part', gen, member, channel, step, phase, part: decode(value) };
}

function record(m: SyncBnMessage): { value: Buffer | null; headers: IHeaders } {
  if (m.kind === 'bye') return { value: null, headers: { gen: String(m.gen), member: m.member, bye: '1' } };
  return {
    value: encode(m.part),
    headers: { gen: String(m.gen), member: m.member, ch: m.channel, step: String(m.step), phase: m.phase },
  };
}

/** The members of the group's current generation, once it is stable (bounded: ~5 s, then null). */
async function roster(admin: Admin, groupId: string, self: string): Promise<string[] | null> {
  for (let i = 0; i < 50; i++) {
    const { groups } = await admin.describeGroups([groupId]);
    const g = groups[0];
    if (g !== undefined && g.state === 'Stable') {
      const members = g.members.map((m) => m.memberId);
      if (members.includes(self)) return members;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

async function main(): Promise<void> {
  const d = workerData as SyncBnWorkerData;
  const views = slotViews(d.sab);
  const kafka = createKafka({ ...d.client, logger: silentLogger });
  await ensureTopic(kafka, d.topic, 1, { 'cleanup.policy': 'delete', 'retention.ms': String(d.retentionMs) });
  const producer = createProducer(kafka, { maxInFlightRequests: 1 });
  const groupId = `streamnorm-syncbn-${randomUUID()}`;
  const consumer = createConsumer(kafka, { groupId, maxWaitTimeInMs: 5, minBytes: 1 });
  const admin = kafka.admin();
  await Promise.all([producer.connect(), consumer.connect(), admin.connect()]);

  // Publishing: in order (a goodbye after every contribution it follows), many per request when they queue up.
  const queue: SyncBnMessage[] = [];
  let flushing: Promise<void> | null = null;
  const flush = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.splice(0);
      try {
        await producer.send({ topic: d.topic, acks: 1, messages: batch.map(record) });
      } catch (err) {
        // The peers time out on these steps and fall back; so does this replica.
        post({ type: 'warn', message: `sync-bn: publishing failed: ${(err as Error).message}` });
      }
    }
    flushing = null;
  };
  const coordinator = new SyncBnCoordinator({
    transport: {
      publish: (m) => {
        queue.push(m);
        flushing ??= flush();
      },
    },
    timeoutMs: d.timeoutMs,
    idleMs: d.idleMs,
    onShadow: () => Atomics.add(views.ctrl, CTRL.SHADOWS, 1),
  });

  const start = (await endOffsets(kafka, d.topic)).get(0) ?? '0';
  await consumer.subscribe({ topic: d.topic, fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message }) => {
      const m = parse(message.headers ?? {}, message.value);
      if (m !== null) coordinator.receive(m);
      await Promise.resolve();
    },
  });
  consumer.seek({ topic: d.topic, partition: 0, offset: start });

  let joining = 0;
  const reply = (id: number, o: SyncBnOutcome): void => {
    if (o.kind === 'fallback') answer(views, id, OUTCOME.FALLBACK, null);
    else answer(views, id, o.kind === 'alone' ? OUTCOME.ALONE : OUTCOME.POOLED, o.pooled);
  };
  let closing = false;
  parentPort!.on('message', (msg: ToWorker) => {
    switch (msg.type) {
      case 'request': {
        const done = coordinator.request(msg.channel, msg.phase, msg.part, msg.wait);
        if (msg.wait) void done.then((o) => reply(msg.id, o));
        break;
      }
      case 'abandon':
        coordinator.abandon(msg.channel);
        break;
      case 'join': {
        const attempt = ++joining;
        void roster(admin, d.groupId, msg.memberId)
          .then((members) => {
            if (attempt !== joining || closing) return;
            if (members === null) {
              post({ type: 'warn', message: `sync-bn: no stable roster for generation ${msg.generationId}` });
              return;
            }
            coordinator.join({ gen: msg.generationId, roster: members, self: msg.memberId });
            Atomics.store(views.ctrl, CTRL.ROSTER, coordinator.rosterSize);
            post({ type: 'roster', gen: msg.generationId, members: coordinator.rosterSize });
          })
          .catch((err: unknown) =>
            post({
              type: 'warn',
              message: `sync-bn: describing the group failed: ${(err as Error).message}`,
            }),
          );
        break;
      }
      case 'close':
        closing = true;
        void (async () => {
          coordinator.close();
          await (flushing ?? Promise.resolve());
          await consumer.disconnect().catch(() => undefined);
          await producer.disconnect().catch(() => undefined);
          await admin.disconnect().catch(() => undefined);
          await deleteGroup(kafka, groupId, 'sync-bn').catch(() => undefined);
          post({ type: 'closed' });
          parentPort!.close();
        })();
        break;
    }
  });
  post({ type: 'ready' });
}

main().catch((err: unknown) => {
  post({ type: 'warn', message: `sync-bn worker failed: ${(err as Error).message}` });
  process.exit(1);
});
