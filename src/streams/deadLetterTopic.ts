/**
 * A dead-letter sink that writes each rejected message to a Kafka topic: the value is the JSON
 * {@link DeadLetterRecord} (reason, detail, origin, raw text), and the reason and origin are repeated in
 * headers so tools can filter without parsing. Keyed by the original key (or `topic:partition:offset`).
 */
import { KafkaError } from '../errors.js';
import { deadLetterRecord, type DeadLetterSink } from './deadLetters.js';
import type { DeadLetter } from './event.js';
import { openProducer, type KafkaClient, type Producer } from './kafka/client.js';

export interface DeadLetterTopicOptions {
  kafka?: KafkaClient;
  brokers?: string[] | string;
  producer?: Producer;
  topic: string;
}

/**
 * `write` is synchronous (the DeadLetterSink contract: a slow sink never stops the stream); letters are
 * sent in order in the background. `flush()` resolves when everything written so far is on the broker,
 * so a pipeline can acknowledge a dead letter's offset only once it is durable. A failed send is kept
 * and rethrown by `flush` and `close` as a {@link KafkaError} with the cause attached.
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  readonly topic: string;
  private readonly producer: Producer;
  private readonly owned: boolean;
  private connected: Promise<void>;
  private chain: Promise<void> = Promise.resolve();
  private queue: DeadLetter[] = [];
  private failure: KafkaError | null = null;
  private closing: Promise<void> | null = null;
  private sent = 0;

  constructor(options: DeadLetterTopicOptions) {
    this.topic = options.topic;
    ({
      producer: this.producer,
      owned: this.owned,
      connected: this.connected,
    } = openProducer(options, 'the dead-letter topic sink'));
  }

  get written(): number {
    return this.sent;
  }

  write(letter: DeadLetter): void {
    if (this.closing) return;
    this.queue.push(letter);
    if (this.queue.length === 1) this.chain = this.chain.then(() => this.sendQueued());
  }

  /** Resolves once every letter written before the call is acknowledged by the broker. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.flush();
      } finally {
        if (this.owned) await this.connected.then(() => this.producer.disconnect()).catch(() => undefined);
      }
    })();
    return this.closing;
  }

  private async sendQueued(): Promise<void> {
    const letters = this.queue;
    this.queue = [];
    if (letters.length === 0 || this.failure) return;
    try {
      await this.connected;
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: letters.map((l) => ({
          key: l.key ?? `${l.origin.topic}:${l.origin.partition}:${l.origin.offset}`,
          value: JSON.stringify(deadLetterRecord(l)),
          headers: {
            'streamnorm-reason': l.reason,
            'streamnorm-source': `${l.origin.topic}:${l.origin.partition}:${l.origin.offset}`,
          },
        })),
      });
      this.sent += letters.length;
    } catch (error) {
      this.failure = new KafkaError(
        `dead letters to ${this.topic} failed: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}

/** A dead-letter sink writing to a Kafka topic; see {@link KafkaDeadLetterSink}. */
export function deadLetterTopic(options: DeadLetterTopicOptions): KafkaDeadLetterSink {
  return new KafkaDeadLetterSink(options);
}
