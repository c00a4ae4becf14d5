/**
 * Publishing to Kafka, at least once. {@link KafkaPublisher} writes records and resolves when the broker has
 * acknowledged them (acks from all in-sync replicas); {@link toKafka} is the operator form, re-emitting each
 * item once its records are written. A pipeline that acknowledges offsets (or checkpoints) only after the
 * write publishes every prediction at least once: a crash before that replays the event, and the duplicate
 * carries the same key (the event id), so consumers can drop it.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { ConfigError, KafkaError } from '../errors.js';
import { openProducer, type IHeaders, type KafkaClient, type Producer } from './kafka/client.js';

/** One record to write: the key is what duplicates are recognized by. */
export interface OutgoingMessage {
  key: string;
  value: string | Buffer;
  headers?: IHeaders;
  partition?: number;
}

export interface PublisherOptions {
  kafka?: KafkaClient;
  brokers?: string[] | string;
  /** A producer to share (it is then neither connected nor disconnected here). */
  producer?: Producer;
  topic: string;
}

/**
 * Writes records to one topic, in call order: one request in flight at a time, and the records of the
 * calls made meanwhile go together in the next request (group commit), so order holds without giving up
 * throughput. Each call's promise settles when its records are acknowledged, or rejects with a
 * {@link KafkaError} (cause attached) once the client's retries are exhausted; after a failure every
 * later call rejects too (nothing is written out of order).
 */
export class KafkaPublisher {
  readonly topic: string;
  private readonly producer: Producer;
  private readonly owned: boolean;
  private readonly connected: Promise<void>;
  private published = 0;
  private queue: OutgoingMessage[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private sending = false;
  private failure: KafkaError | null = null;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: (() => void) | null = null;

  constructor(options: PublisherOptions) {
    if (typeof options.topic !== 'string' || options.topic.length === 0) {
      throw new ConfigError(`output topic must be a non-empty string, got ${JSON.stringify(options.topic)}`);
    }
    this.topic = options.topic;
    ({
      producer: this.producer,
      owned: this.owned,
      connected: this.connected,
    } = openProducer(options, 'publishing to Kafka'));
  }

  /** Records acknowledged so far. */
  get count(): number {
    return this.published;
  }

  publish(records: OutgoingMessage[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (records.length === 0 && !this.sending && this.queue.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      for (const r of records) this.queue.push(r);
      this.waiters.push({ resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  /** Waits until everything published so far is acknowledged, then disconnects an owned producer. */
  async close(): Promise<void> {
    await this.idle;
    if (this.owned) await this.connected.then(() => this.producer.disconnect()).catch(() => undefined);
  }

  private async drain(): Promise<void> {
    this.sending = true;
    this.idle = new Promise<void>((r) => (this.markIdle = r));
    while (this.waiters.length > 0) {
      const records = this.queue;
      const waiters = this.waiters;
      this.queue = [];
      this.waiters = [];
      try {
        await this.connected;
        if (records.length > 0) await this.producer.send({ topic: this.topic, acks: -1, messages: records });
        this.published += records.length;
        for (const w of waiters) w.resolve();
      } catch (error) {
        this.failure = new KafkaError(
          `write to ${this.topic} failed: ${error instanceof Error ? error.message : String(error)}`,
          {
            cause: error,
          },
        );
        for (const w of [...waiters, ...this.waiters]) w.reject(this.failure);
        this.waiters = [];
        this.queue = [];
      }
    }
    this.sending = false;
    this.markIdle?.();
  }
}

export interface ToKafkaOptions<T> extends PublisherOptions {
  /** The records an item becomes (zero, one, or many for a batch). */
  messages: (item: T) => OutgoingMessage[];
}

/**
 * Writes each item's records and emits the item after they are acknowledged, in input order (records
 * reach the topic in input order too). A failed write errors the stream with a {@link KafkaError}.
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
