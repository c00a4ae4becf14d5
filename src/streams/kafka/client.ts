/**
 * The only module that imports kafkajs. Everything Kafka-specific the rest of the project needs
 * (client creation, logging, admin helpers, the few types) goes through here, so a maintained client
 * can replace kafkajs (unmaintained since 2023, tulios/kafkajs#1603) by rewriting one file.
 */
import kafkajs from 'kafkajs';
import type {
  Admin,
  Consumer,
  ConsumerConfig,
  EachBatchPayload,
  IHeaders,
  KafkaConfig,
  LogEntry,
  Producer,
  ProducerConfig,
} from 'kafkajs';
import pino from 'pino';
import { ConfigError } from '../../errors.js';
import { retry } from '../retry.js';

const { Kafka, logLevel, CompressionTypes } = kafkajs;

export type { Admin, Consumer, EachBatchPayload, IHeaders, Producer };
export type KafkaClient = InstanceType<typeof Kafka>;
export { CompressionTypes };

/** The subset of a pino logger kafkajs' messages are forwarded to. */
export interface StreamLogger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** Drops everything: for benchmarks and tests that drive the client without wanting its chatter. */
export const silentLogger: StreamLogger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

let defaultLogger: StreamLogger | undefined;

/** A pino logger on stderr (stdout may carry data), level from LOG_LEVEL, default `warn`. */
export function streamLogger(): StreamLogger {
  defaultLogger ??= pino({ name: 'streamnorm', level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  return defaultLogger;
}

export interface ClientOptions {
  /** `host:port` strings, or one comma-separated string. */
  brokers: string[] | string;
  clientId?: string;
  logger?: StreamLogger;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** kafkajs' own retry of each request (it backs off with jitter like ../retry.ts). */
  retries?: number;
}

/** Parses `"a:9092,b:9092"` (or an array) into broker addresses, rejecting empty or port-less entries. */
export function parseBrokers(brokers: string[] | string): string[] {
  const list = (Array.isArray(brokers) ? brokers : brokers.split(','))
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (list.length === 0)
    throw new ConfigError(`brokers must name at least one host:port, got ${JSON.stringify(brokers)}`);
  for (const b of list) {
    const port = Number(b.slice(b.lastIndexOf(':') + 1));
    if (!b.includes(':') || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new ConfigError(`broker address must be host:port, got ${JSON.stringify(b)}`);
    }
  }
  return list;
}

/** Creates a kafkajs client whose log lines go to a pino-compatible logger. */
export function createKafka(options: ClientOptions): KafkaClient {
  const logger = options.logger ?? streamLogger();
  const config: KafkaConfig = {
    clientId: options.clientId ?? 'streamnorm',
    brokers: parseBrokers(options.brokers),
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: { retries: options.retries ?? 8, initialRetryTime: 200, maxRetryTime: 10_000 },
    logLevel: logLevel.INFO,
    logCreator: () => (entry: LogEntry) => forward(logger, entry),
  };
  return new Kafka(config);
}

function forward(logger: StreamLogger, { namespace, level, log }: LogEntry): void {
  const { message, timestamp: _ts, logger: _l, ...rest } = log as LogEntry['log'] & { logger?: string };
  const obj = { kafkajs: namespace, ...rest };
  if (level === logLevel.ERROR) logger.error(obj, message);
  else if (level === logLevel.WARN) logger.warn(obj, message);
  else if (level === logLevel.INFO)
    logger.debug(obj, message); // kafkajs INFO is chatty (joins, commits)
  else logger.debug(obj, message);
}

export function createConsumer(kafka: KafkaClient, config: ConsumerConfig): Consumer {
  return kafka.consumer(config);
}

export function createProducer(kafka: KafkaClient, config: ProducerConfig = {}): Producer {
  return kafka.producer({ allowAutoTopicCreation: false, ...config });
}

/** Where a sink gets its producer: one it is given (the caller owns it), or one it creates from `kafka` or `brokers`. */
export interface ProducerSource {
  producer?: Producer;
  kafka?: KafkaClient;
  brokers?: string[] | string;
}

export interface OpenedProducer {
  producer: Producer;
  /** True when the sink created the producer and so must disconnect it. */
  owned: boolean;
  /** Resolves once an owned producer is connected (at once for a given one); never an unhandled rejection. */
  connected: Promise<void>;
}

/** Resolves a sink's producer from its options, connecting it when the sink owns it. `who` names the sink in errors. */
export function openProducer(source: ProducerSource, who: string): OpenedProducer {
  if (!source.producer && !source.kafka && source.brokers === undefined) {
    throw new ConfigError(`${who} needs \`producer\`, \`kafka\` or \`brokers\``);
  }
  const owned = !source.producer;
  const producer =
    source.producer ??
    createProducer(source.kafka ?? createKafka({ brokers: source.brokers!, logger: streamLogger() }));
  const connected = owned ? producer.connect() : Promise.resolve();
  connected.catch(() => undefined);
  return { producer, owned, connected };
}

/** Runs `fn` with a connected admin client, always disconnecting it. */
export async function withAdmin<T>(kafka: KafkaClient, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates a topic if it does not exist and waits for its leaders. */
export async function ensureTopic(kafka: KafkaClient, topic: string, partitions = 1): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    const existing = await admin.listTopics();
    if (existing.includes(topic)) return;
    await retry(
      () =>
        admin.createTopics({
          topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
          waitForLeaders: true,
        }),
      { retries: 5 },
    );
  });
}

export async function deleteTopics(kafka: KafkaClient, topics: string[]): Promise<void> {
  await withAdmin(kafka, (admin) => admin.deleteTopics({ topics, timeout: 10_000 }));
}

/** High watermark (next offset to be written) per partition. */
export async function endOffsets(kafka: KafkaClient, topic: string): Promise<Map<number, string>> {
  return withAdmin(kafka, async (admin) => {
    const offs = await admin.fetchTopicOffsets(topic);
    return new Map(offs.map((o) => [o.partition, o.high]));
  });
}

/** The group's committed offsets per partition ('-1' when none). */
export async function committedOffsets(
  kafka: KafkaClient,
  groupId: string,
  topic: string,
): Promise<Map<number, string>> {
  return withAdmin(kafka, async (admin) => {
    const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((res?.partitions ?? []).map((p) => [p.partition, p.offset]));
  });
}

/** Resolves once an admin `listTopics` succeeds (readiness is a client call, not an open port). */
export async function waitForBroker(brokers: string[] | string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const kafka = new Kafka({
      brokers: parseBrokers(brokers),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: 3000,
      retry: { retries: 0 },
    });
    try {
      await withAdmin(kafka, (admin) => admin.listTopics());
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new ConfigError(`no Kafka broker answered at ${String(brokers)} within ${timeoutMs} ms`, {
    cause: last,
  });
}
