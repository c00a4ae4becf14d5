/**
 * Publishing to Kafka, at least once. {@link KafkaPublisher} writes records and resolves when the broker has
 * acknowledged them (acks from all in-sync replicas); {@link toKafka} is the operator form, re-emitting each
 * item once its records are written. A pipeline that acknowledges offsets (or checkpoints) only after the
 * write publishes every prediction at least once: a crash before that replays the event, and the duplicate
 * carries the same key (the event id), so consumers can drop it.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { ConfigError, KafkaError } from '../errors.js';
import {
  CompressionTypes,
  openProducer,
  type IHeaders,
  type KafkaClient,
  type Producer,
} from './kafka/client.js';

/** One record to write: the key is what duplicates are recognized by. */
export interface OutgoingMessage {
  key: string;
  value: string | Buffer;
  headers?: IHeaders;
  partition?: number;
}

/**
 * How a {@link KafkaPublisher} writes: what the broker must confirm, how records are packed into produce
 * requests and how many requests may be on the wire at once. The defaults are strict (one request in flight,
 * so records reach the topic in call order even across retries); the live pipeline publishes predictions with
 * {@link PREDICTION_PRODUCER} instead.
 */
export interface ProducerSettings {
  /**
   * `'all'` (default): every in-sync replica has the records before a call resolves; `'leader'`: the partition
   * leader only (a leader lost right after the write loses them). Both keep at-least-once against a crash of
   * this process; fire-and-forget (acks 0) is not offered, since it would not.
   */
  acks?: 'all' | 'leader';
  /** Compression of each produce request: `'none'` (default) or `'gzip'` (less bytes on the wire, more CPU). */
  compression?: 'none' | 'gzip';
  /**
   * How long a partial request (fewer than `batchRecords`) waits for more records when no request is on the
   * wire (default 0: it goes at once, so a quiet topic's predictions are not held back). While a request is
   * on the wire, partial requests wait for its acknowledgement instead and go out with what gathered
   * meanwhile; full ones go whenever a slot is free.
   */
  lingerMs?: number;
  /**
   * Produce requests in flight at once (default 1: records reach the topic in call order). Above 1, requests on
   * the wire together may land in either order (kafkajs prepares each one asynchronously, and retries one
   * alone); each request's records stay together and in order. Keyed records can still be deduplicated.
   */
  maxInFlight?: number;
  /**
   * Most records in one request (default 500; predictions 256). kafkajs groups a request's records per
   * partition in time quadratic in their number, so several requests of a few hundred beat one of thousands.
   */
  batchRecords?: number;
}

/** What `streamnorm run` publishes predictions with, unless told otherwise (README "Performance"). */
export const PREDICTION_PRODUCER: Readonly<Required<ProducerSettings>> = Object.freeze({
  acks: 'all',
  compression: 'none',
  lingerMs: 0,
  maxInFlight: 4,
  batchRecords: 256,
});

const STRICT_PRODUCER: Readonly<Required<ProducerSettings>> = Object.freeze({
  acks: 'all',
  compression: 'none',
  lingerMs: 0,
  maxInFlight: 1,
  batchRecords: 500,
});

/** Fills in defaults and validates, naming the bad value. */
export function producerSettings(
  given: ProducerSettings = {},
  defaults: Readonly<Required<ProducerSettings>> = STRICT_PRODUCER,
): Required<ProducerSettings> {
  const s = { ...defaults, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  if (s.acks !== 'all' && s.acks !== 'leader')
    throw new ConfigError(`producer acks must be 'all' or 'leader', got ${JSON.stringify(s.acks)}`);
  if (s.compression !== 'none' && s.compression !== 'gzip')
    throw new ConfigError(
      `producer compression must be 'none' or 'gzip', got ${JSON.stringify(s.compression)}`,
    );
  if (!(Number.isFinite(s.lingerMs) && s.lingerMs >= 0))
    throw new ConfigError(`producer lingerMs must be a number >= 0, got ${s.lingerMs}`);
  for (const k of ['maxInFlight', 'batchRecords'] as const) {
    if (!(Number.isInteger(s[k]) && s[k] >= 1))
      throw new ConfigError(`producer ${k} must be an integer >= 1, got ${s[k]}`);
  }
  return s as Required<ProducerSettings>;
}

export interface PublisherOptions extends ProducerSettings {
  kafka?: KafkaClient;
  brokers?: string[] | string;
  /** A producer to share (it is then neither connected nor disconnected here). */
  producer?: Producer;
  topic: string;
  /** Called after records were acknowledged (what {@link KafkaPublisher.held} counts has dropped). */
  onReleased?: () => void;
}

/** One produce request on the wire: records `[from, to)` of the publisher's sequence. */
interface Send {
  to: number;
  done: boolean;
}

/**
 * Writes records to one topic. Each call's records are queued and handed to requests in call order, of at most
 * `batchRecords`, with up to `maxInFlight` requests on the wire at once; records of calls made while every
 * slot is busy (or within `lingerMs`) go together in the next request (group commit). Each call's promise
 * settles when its records and every earlier call's are acknowledged (so calls resolve in order), or rejects
 * with a {@link KafkaError} (cause attached) once the client's retries are exhausted; after a failure every
 * later call rejects too.
 */
export class KafkaPublisher {
  readonly topic: string;
  readonly settings: Readonly<Required<ProducerSettings>>;
  private readonly producer: Producer;
  private readonly owned: boolean;
  private readonly connected: Promise<void>;
  private readonly onReleased: (() => void) | undefined;
  /** Records not yet handed to a request, from sequence number `queuedFrom`. */
  private queue: OutgoingMessage[] = [];
  private queuedFrom = 0;
  /** Sequence number after the last record published (queued or sent). */
  private seqEnd = 0;
  /** Every record below this is acknowledged. */
  private ackedThrough = 0;
  private readonly sends: Send[] = [];
  private inFlight = 0;
  private waiters: Array<{ end: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  private failure: KafkaError | null = null;
  private linger: ReturnType<typeof setTimeout> | null = null;
  private closing = false;
  private idleWaiters: Array<() => void> = [];

  constructor(options: PublisherOptions, defaults?: Readonly<Required<ProducerSettings>>) {
    if (typeof options.topic !== 'string' || options.topic.length === 0) {
      throw new ConfigError(`output topic must be a non-empty string, got ${JSON.stringify(options.topic)}`);
    }
    this.topic = options.topic;
    this.settings = Object.freeze(producerSettings(options, defaults));
    this.onReleased = options.onReleased;
    ({
      producer: this.producer,
      owned: this.owned,
      connected: this.connected,
    } = openProducer(options, 'publishing to Kafka'));
  }

  /** Records acknowledged so far. */
  get count(): number {
    return this.ackedThrough;
  }

  /** Records published and not yet acknowledged (queued or on the wire). */
  get held(): number {
    return this.seqEnd - this.ackedThrough;
  }

  publish(records: OutgoingMessage[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    for (const r of records) this.queue.push(r);
    this.seqEnd += records.length;
    if (this.ackedThrough >= this.seqEnd) return Promise.resolve();
    const end = this.seqEnd;
    const promise = new Promise<void>((resolve, reject) => this.waiters.push({ end, resolve, reject }));
    this.dispatch();
    return promise;
  }

  /** Sends what is queued right away (instead of after `lingerMs`), then waits until everything is acknowledged. */
  async flush(): Promise<void> {
    if (this.linger !== null) {
      clearTimeout(this.linger);
      this.linger = null;
    }
    this.dispatch(true);
    if (this.failure) throw this.failure;
    if (this.ackedThrough >= this.seqEnd) return;
    await new Promise<void>((resolve, reject) => this.waiters.push({ end: this.seqEnd, resolve, reject }));
  }

  /** Waits until everything published so far is acknowledged (or failed), then disconnects an owned producer. */
  async close(): Promise<void> {
    this.closing = true;
    this.dispatch(true);
    if (this.inFlight > 0 || this.queue.length > 0)
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.owned) await this.connected.then(() => this.producer.disconnect()).catch(() => undefined);
  }

  /** Starts requests while slots are free and records wait (after `lingerMs` unless `now`). */
  private dispatch(now = false): void {
    const s = this.settings;
    while (this.failure === null && this.queue.length > 0 && this.inFlight < s.maxInFlight) {
      if (!now && !this.closing && this.queue.length < s.batchRecords) {
        // A partial request: while another is on the wire, its completion sends what gathered meanwhile
        // (requests stay full under load); on an idle wire it goes at once, or after lingerMs.
        if (this.inFlight > 0) return;
        if (s.lingerMs > 0) {
          this.linger ??= setTimeout(() => {
            this.linger = null;
            this.dispatch(true);
          }, s.lingerMs);
          return;
        }
      }
      const n = Math.min(this.queue.length, s.batchRecords);
      const records = n === this.queue.length ? this.queue : this.queue.slice(0, n);
      this.queue = n === this.queue.length ? [] : this.queue.slice(n);
      this.queuedFrom += n;
      const send: Send = { to: this.queuedFrom, done: false };
      this.sends.push(send);
      this.inFlight++;
      void this.write(records, send);
    }
    if (this.queue.length === 0 && this.linger !== null) {
      clearTimeout(this.linger);
      this.linger = null;
    }
  }

  private async write(records: OutgoingMessage[], send: Send): Promise<void> {
    const s = this.settings;
    try {
      await this.connected;
      if (this.failure) throw this.failure;
      await this.producer.send({
        topic: this.topic,
        acks: s.acks === 'all' ? -1 : 1,
        ...(s.compression === 'gzip' ? { compression: CompressionTypes.GZIP } : {}),
        messages: records,
      });
    } catch (error) {
      this.inFlight--;
      this.fail(error);
      return;
    }
    this.inFlight--;
    send.done = true;
    // Acknowledged in order: the frontier moves over the contiguous run of finished requests.
    let k = 0;
    while (k < this.sends.length && this.sends[k].done) this.ackedThrough = this.sends[k++].to;
    if (k > 0) this.sends.splice(0, k);
    if (k > 0 && this.waiters.length > 0) {
      let w = 0;
      while (w < this.waiters.length && this.waiters[w].end <= this.ackedThrough) this.waiters[w++].resolve();
      if (w > 0) this.waiters.splice(0, w);
    }
    this.dispatch();
    this.settleIdle();
    if (k > 0) this.onReleased?.();
  }

  private fail(error: unknown): void {
    if (this.failure === null) {
      this.failure =
        error instanceof KafkaError
          ? error
          : new KafkaError(
              `write to ${this.topic} failed: ${error instanceof Error ? error.message : String(error)}`,
              { cause: error },
            );
    }
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
    this.queue = [];
    if (this.linger !== null) {
      clearTimeout(this.linger);
      this.linger = null;
    }
    this.settleIdle();
  }

  private settleIdle(): void {
    if (this.inFlight > 0 || (this.queue.length > 0 && this.failure === null)) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

export interface ToKafkaOptions<T> extends PublisherOptions {
  /** The records an item becomes (zero, one, or many for a batch). */
  messages: (item: T) => OutgoingMessage[];
}

/**
 * Writes each item's records and emits the item after they are acknowledged, in input order (records
 * reach the topic in input order too, with one request in flight: the default). A failed write errors the stream with a {@link KafkaError}.
 *
 * @example
 * predictions$.pipe(toKafka({ brokers, topic: 'predictions', messages: (p) => [{ key: p.id, value: JSON.stringify(p) }] }))
 */
export function toKafka<T>(options: ToKafkaOptions<T>): OperatorFunction<T, T> {
  // Validate at construction, not at subscription.
  if (typeof options.topic !== 'string' || options.topic.length === 0) {
    throw new ConfigError(`toKafka topic must be a non-empty string, got ${JSON.stringify(options.topic)}`);
  }
  return (source) =>
    new Observable<T>((destination) => {
      const publisher = new KafkaPublisher(options);
      let chain: Promise<void> = Promise.resolve();
      let failed = false;
      const fail = (error: unknown): void => {
        if (failed) return;
        failed = true;
        destination.error(error);
      };
      const subscription = source.subscribe({
        next(item) {
          if (failed) return;
          let write: Promise<void>;
          try {
            write = publisher.publish(options.messages(item));
          } catch (error) {
            return fail(error);
          }
          write.catch(() => undefined); // reported in order through the chain
          chain = chain.then(async () => {
            if (failed) return;
            try {
              await write;
              destination.next(item);
            } catch (error) {
              fail(error);
            }
          });
        },
        error: fail,
        complete() {
          chain = chain.then(() => {
            if (!failed) destination.complete();
          });
        },
      });
      return () => {
        subscription.unsubscribe();
        void chain.then(() => publisher.close());
      };
    });
}
