/**
 * SyncBN through Kafka (issue 11): a {@link StepExchange} over one topic. Each replica publishes its step-t
 * contribution (keyed by replica, the raw float64 bytes as value, session/step/phase in headers) and reads the
 * topic until it holds all N replicas' contributions to step t, which it returns in replica order, so every replica
 * pools the same bits in the same order and computes bit-identical statistics.
 *
 * Why these choices: one partition, so every replica reads every contribution; raw bytes, so a contribution's bits
 * survive the trip (JSON would lose −0); a consumer group of its own per replica reading from the beginning, so a
 * peer that published before this replica's consumer joined is still read (a session id tells this run's records
 * from an earlier run's on the same topic: use a fresh session per run). A topic this creates keeps its records
 * for `retentionMs` (default one hour, `cleanup.policy=delete`): a contribution is read within one step's
 * timeout, so the topic never grows past an hour of steps. Each replica deletes its consumer group on `close()`.
 */
import { randomUUID } from 'node:crypto';
import { SyncError } from '../errors.js';
import {
  createConsumer,
  createProducer,
  deleteGroup,
  ensureTopic,
  type Consumer,
  type KafkaClient,
  type Producer,
} from '../streams/kafka/client.js';
import type { StepExchange, SyncPhase } from './stepExchange.js';

export interface KafkaExchangeOptions {
  kafka: KafkaClient;
  /** A one-partition topic (created if missing) shared by the replicas of one synchronized layer. */
  topic: string;
  /** Names this run; records of other sessions on the topic are ignored. Every replica must pass the same. */
  session: string;
  replicas: number;
  /** This replica's index in [0, replicas). */
  replica: number;
  /** How long one exchange waits for the other replicas' contributions. Default 10,000 ms. */
  timeoutMs?: number;
  /** `retention.ms` of the topic when this creates it. Default 3,600,000 (one hour). */
  retentionMs?: number;
}

/** Default `retention.ms` of an exchange topic: an hour, far beyond any step's timeout. */
export const EXCHANGE_RETENTION_MS = 3_600_000;

interface Pending {
  parts: (Float64Array | undefined)[];
  arrived: number;
  waiter?: { resolve: (parts: Float64Array[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
}

/** Raw float64 bytes of `a` (copied: a Buffer view would alias the caller's array). */
export function encode(a: Float64Array): Buffer {
  return Buffer.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** The float64s of raw bytes (a SyncError when they are not a whole number of float64s). */
export function decode(b: Buffer): Float64Array {
  if (b.byteLength % 8 !== 0) throw new SyncError(`contribution of ${b.byteLength} bytes is not float64s`);
  const out = new Float64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/**
 * One replica's end of the Kafka all-gather. Open it with {@link KafkaExchange.open}, close it with `close()`.
 *
 * @example
 * const ex = await KafkaExchange.open({ kafka, topic: 'g-syncbn', session: runId, replicas: 3, replica: 0 });
 * const bn = new SyncBatchNorm(new BatchNorm({ channels: 16 }), ex);
 */
export class KafkaExchange implements StepExchange {
  readonly replicas: number;
  readonly replica: number;
  private readonly timeoutMs: number;
  private readonly pending = new Map<string, Pending>();
  /** Per phase, the last step resolved: later duplicates of earlier steps are ignored. */
  private readonly done: Record<SyncPhase, number> = { forward: -1, backward: -1 };
  private failure: Error | null = null;

  private constructor(
    private readonly opts: KafkaExchangeOptions,
    private readonly producer: Producer,
    private readonly consumer: Consumer,
    /** This replica's own consumer group, deleted on close so none is left behind on the broker. */
    readonly groupId: string,
  ) {
    this.replicas = opts.replicas;
    this.replica = opts.replica;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  static async open(opts: KafkaExchangeOptions): Promise<KafkaExchange> {
    const { replicas, replica } = opts;
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new SyncError(`KafkaExchange: replicas must be an integer >= 1, got ${String(replicas)}`);
    }
    if (!Number.isInteger(replica) || replica < 0 || replica >= replicas) {
      throw new SyncError(`KafkaExchange: replica ${String(replica)} outside [0, ${replicas})`);
    }
    const timeout = opts.timeoutMs ?? 10_000;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new SyncError(`KafkaExchange: timeoutMs must be a positive number, got ${String(timeout)}`);
    }
    const retentionMs = opts.retentionMs ?? EXCHANGE_RETENTION_MS;
    if (!Number.isInteger(retentionMs) || retentionMs < timeout) {
      throw new SyncError(
        `KafkaExchange: retentionMs must be an integer >= timeoutMs (${timeout}), got ${String(retentionMs)}`,
      );
    }
    await ensureTopic(opts.kafka, opts.topic, 1, {
      'cleanup.policy': 'delete',
      'retention.ms': String(retentionMs),
    });
    const producer = createProducer(opts.kafka, { maxInFlightRequests: 1 });
    const groupId = `streamnorm-syncbn-${opts.session}-${replica}-${randomUUID().slice(0, 8)}`;
    const consumer = createConsumer(opts.kafka, {
      groupId,
      maxWaitTimeInMs: 20,
      minBytes: 1,
    });
    const ex = new KafkaExchange(opts, producer, consumer, groupId);
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        ex.receive(message.key, message.value, message.headers ?? {});
        await Promise.resolve();
      },
    });
    return ex;
  }

  async exchange(step: number, phase: SyncPhase, local: Float64Array): Promise<Float64Array[]> {
    if (this.failure !== null) throw this.failure;
    if (step <= this.done[phase]) throw new SyncError(`${phase} step ${step} was already exchanged`);
    const key = `${phase}/${step}`;
    const p = this.slot(key);
    if (p.waiter !== undefined) throw new SyncError(`${key}: exchanged twice by replica ${this.replica}`);
    const result = new Promise<Float64Array[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        const missing = p.parts.flatMap((x, i) => (x === undefined ? [i] : []));
        this.pending.delete(key);
        reject(
          new SyncError(
            `SyncBN ${key} on topic ${this.opts.topic}: no contribution from replica(s) ${missing.join(', ')} of ${this.replicas} within ${this.timeoutMs} ms`,
            { retriable: true },
          ),
        );
      }, this.timeoutMs);
      p.waiter = { resolve, reject, timer };
    });
    // Own contribution counts at once (the same bits the peers read back from the topic).
    this.accept(phase, step, this.replica, Float64Array.from(local));
    try {
      await this.producer.send({
        topic: this.opts.topic,
        messages: [
          {
            key: String(this.replica),
            value: encode(local),
            headers: { session: this.opts.session, step: String(step), phase },
          },
        ],
      });
    } catch (err) {
      const p2 = this.pending.get(key);
      if (p2?.waiter !== undefined) clearTimeout(p2.waiter.timer);
      this.pending.delete(key);
      throw new SyncError(`SyncBN ${key}: publishing the contribution failed`, {
        cause: err,
        retriable: true,
      });
    }
    return result;
  }

  async close(): Promise<void> {
    for (const p of this.pending.values()) {
      if (p.waiter !== undefined) {
        clearTimeout(p.waiter.timer);
        p.waiter.reject(new SyncError('KafkaExchange closed'));
      }
    }
    this.pending.clear();
    await this.consumer.disconnect();
    await this.producer.disconnect();
    await deleteGroup(this.opts.kafka, this.groupId);
  }

  private slot(key: string): Pending {
    let p = this.pending.get(key);
    if (p === undefined) {
      p = {
        parts: Array.from({ length: this.replicas }, (): Float64Array | undefined => undefined),
        arrived: 0,
      };
      this.pending.set(key, p);
    }
    return p;
  }

  private receive(key: Buffer | null, value: Buffer | null, headers: Record<string, unknown>): void {
    const text = (h: unknown): string | undefined =>
      Buffer.isBuffer(h) ? h.toString() : typeof h === 'string' ? h : undefined;
    if (text(headers.session) !== this.opts.session || key === null || value === null) return;
    const replica = Number(key.toString());
    const step = Number(text(headers.step));
    const phase = text(headers.phase);
    if (phase !== 'forward' && phase !== 'backward') return;
    if (!Number.isInteger(step) || step <= this.done[phase]) return;
    if (!Number.isInteger(replica) || replica < 0 || replica >= this.replicas) {
      this.failure = new SyncError(
        `SyncBN session ${this.opts.session}: a record from replica ${key.toString()}, outside [0, ${this.replicas}): are the replicas configured alike?`,
      );
      for (const p of this.pending.values()) p.waiter?.reject(this.failure);
      return;
    }
    if (replica === this.replica) return; // counted when sent
    this.accept(phase, step, replica, decode(value));
  }

  private accept(phase: SyncPhase, step: number, replica: number, part: Float64Array): void {
    const key = `${phase}/${step}`;
    const p = this.slot(key);
    if (p.parts[replica] !== undefined) return; // a duplicate (at-least-once delivery)
    p.parts[replica] = part;
    p.arrived++;
    if (p.arrived === this.replicas && p.waiter !== undefined) {
      clearTimeout(p.waiter.timer);
      this.pending.delete(key);
      this.done[phase] = Math.max(this.done[phase], step);
      p.waiter.resolve(p.parts as Float64Array[]);
    }
  }
}
