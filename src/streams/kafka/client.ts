/**
 * The only module that imports kafkajs, and with txnOffsetCommitV3.ts and offsetFetchV7.ts the only ones that
 * reach into its internals (the group hooks behind {@link beforeRejoin} and {@link joinedGeneration};
 * TxnOffsetCommit version 3 behind {@link sendOffsetsAs}; OffsetFetch version 7 behind {@link createConsumer}
 * and {@link committedOffsets}). Everything Kafka-specific the rest of the project needs (client creation,
 * logging, admin helpers, the few types) goes through here, so a maintained client can replace kafkajs
 * (unmaintained since 2023, tulios/kafkajs#1603) by rewriting these two files. producerEncoding.ts swaps
 * kafkajs's producer internals for faster ones that write the same bytes, fetchDecoding.ts its record decoder
 * for one that reads the same records.
 */
import { createRequire } from 'node:module';
// First: they replace kafkajs internals in the module cache before kafkajs loads their users.
import './producerEncoding.js';
import './fetchDecoding.js';
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
  Transaction,
} from 'kafkajs';
import pino from 'pino';
import { ConfigError, KafkaAuthError, KafkaError } from '../../errors.js';
import { redact, redactBroker, redactingLoggerOptions } from '../../redact.js';
import { retry } from '../retry.js';
import { installOffsetFetchV7 } from './offsetFetchV7.js';
import { installTxnOffsetCommitV3 } from './txnOffsetCommitV3.js';

const { Kafka, logLevel, CompressionTypes, Partitioners } = kafkajs;

export type { Admin, Consumer, EachBatchPayload, IHeaders, Producer, Transaction };
export type KafkaClient = InstanceType<typeof Kafka>;
export { CompressionTypes };
export { producerEncoding, type ProducerEncoding } from './producerEncoding.js';
export { fetchDecoding } from './fetchDecoding.js';

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

/** A pino logger on stderr (stdout may carry data), level from LOG_LEVEL, default `warn`; secrets redacted. */
export function streamLogger(): StreamLogger {
  defaultLogger ??= pino(
    { name: 'streamnorm', level: process.env.LOG_LEVEL ?? 'warn', ...redactingLoggerOptions() },
    pino.destination(2),
  );
  return defaultLogger;
}

/** TLS settings of a Kafka connection: PEM contents (not paths), as Node's `tls.connect` takes them. */
export interface KafkaTls {
  /** Certificate authorities to trust instead of the system's. */
  ca?: string[];
  /** Client certificate chain (PEM) for mutual TLS, with its `key`. */
  cert?: string;
  key?: string;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /** Server name for SNI and the certificate check, when it differs from the broker host. */
  servername?: string;
  /** Verify the broker's certificate (default true). Turning it off is for tests only. */
  rejectUnauthorized?: boolean;
}

/** SASL settings of a Kafka connection. */
export interface KafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
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
  /** TLS: `true` for the system's CAs, or the settings. Off by default (PLAINTEXT). */
  ssl?: boolean | KafkaTls;
  /** SASL authentication (with `ssl` for SASL_SSL, without for SASL_PLAINTEXT). */
  sasl?: KafkaSasl;
}

/** Parses `"a:9092,b:9092"` (or an array) into broker addresses, rejecting empty or port-less entries. */
export function parseBrokers(brokers: string[] | string): string[] {
  const list = (Array.isArray(brokers) ? brokers : brokers.split(','))
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (list.length === 0)
    throw new ConfigError(`brokers must name at least one host:port, got ${redact(JSON.stringify(brokers))}`);
  for (const b of list) {
    if (b.includes('@'))
      throw new ConfigError(
        `broker address must be host:port, got ${JSON.stringify(redactBroker(b))}: credentials go in sasl.username and sasl.password (config file, environment or a file), never in the address`,
      );
    const port = Number(b.slice(b.lastIndexOf(':') + 1));
    if (!b.includes(':') || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new ConfigError(`broker address must be host:port, got ${JSON.stringify(redact(b))}`);
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
    ...securityConfig(options),
  };
  return new Kafka(config);
}

function securityConfig(options: ClientOptions): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (options.ssl !== undefined && options.ssl !== false) {
    out.ssl =
      options.ssl === true
        ? true
        : Object.fromEntries(Object.entries(options.ssl).filter(([, v]) => v !== undefined));
  }
  if (options.sasl !== undefined) {
    const { mechanism, username, password } = options.sasl;
    out.sasl = { mechanism, username, password } as NonNullable<KafkaConfig['sasl']>;
  }
  return out;
}

/** TLS error codes of Node that mean "this certificate is not trusted here": retrying cannot help. */
const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
]);

/** Walks an error and its causes (kafkajs keeps them in `cause` or `originalError`). */
function* causes(err: unknown): Generator<Error & { code?: unknown }> {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e instanceof Error && !seen.has(e)) {
    seen.add(e);
    yield e;
    const next = e as { cause?: unknown; originalError?: unknown };
    e = next.cause ?? next.originalError;
  }
}

/**
 * What kind of security failure `err` is, if any: `'sasl'` (kafkajs' KafkaJSSASLAuthenticationError: bad
 * credentials or mechanism) or `'tls'` (the broker's certificate is not trusted, or the broker wants a client
 * certificate). Neither is retried: the same credentials fail the same way.
 */
export function securityFailure(err: unknown): 'sasl' | 'tls' | null {
  if (err instanceof KafkaAuthError) return err.kind;
  for (const e of causes(err)) {
    if (e.name === 'KafkaJSSASLAuthenticationError') return 'sasl';
    if (typeof e.code === 'string' && TLS_TRUST_CODES.has(e.code)) return 'tls';
  }
  return null;
}

/**
 * Connects once (no retry) with the client's settings and disconnects: a bad password or an untrusted
 * certificate becomes one {@link KafkaAuthError} within the connection timeout, instead of kafkajs' retries.
 * Other failures are rethrown as they are (the caller's retry policy decides).
 */
export async function verifyConnection(options: ClientOptions): Promise<void> {
  const kafka = createKafka({ ...options, logger: silentLogger, retries: 0 });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
  } catch (err) {
    const kind = securityFailure(err);
    if (kind === null) throw err;
    const brokers = parseBrokers(options.brokers).join(',');
    const detail = redact([...causes(err)].pop()?.message ?? String(err));
    const how =
      kind === 'sasl'
        ? `SASL ${options.sasl?.mechanism.toUpperCase() ?? ''} authentication as '${options.sasl?.username ?? ''}' failed at ${brokers}: ${detail} (check sasl.username and the password; not retried)`
        : `TLS with ${brokers} failed: ${detail} (check ssl.ca.location, ssl.servername and the client certificate; not retried)`;
    throw new KafkaAuthError(kind, how, { cause: err });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
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

/**
 * A consumer whose reads of the group's committed offsets wait out pending transactional offsets: from here on
 * kafkajs's OffsetFetch is version 7 with require_stable (offsetFetchV7.ts), so a partition's next owner does not
 * start from an offset that a transaction still open is about to move (it retries UNSTABLE_OFFSET_COMMIT with
 * its `retry` policy; a crashed transaction ends by the producer's transaction timeout).
 */
export function createConsumer(kafka: KafkaClient, config: ConsumerConfig): Consumer {
  installOffsetFetchV7();
  return kafka.consumer(config);
}

/**
 * Work a group member must finish before it rejoins its group (see {@link beforeRejoin}), by group and member id.
 */
const rejoinHooks = new Map<string, () => Promise<void>>();
/** Consumer groups inside kafkajs's `joinAndSync` right now: where {@link joinedGeneration} looks. */
const joining = new Set<KafkajsConsumerGroup>();
let groupHooksInstalled = false;

/**
 * Runs `hook` (and waits for it) before the member `memberId` of `groupId` rejoins its group, on every path
 * kafkajs rejoins by: a rebalance noticed inside a batch handler, one noticed between fetches (kafkajs then
 * rejoins at once, without waiting for the application), stale metadata. Under the eager protocol kafkajs
 * speaks, the coordinator hands this member's partitions to another only after this member rejoined (or its
 * session expired), so what the hook commits — a checkpoint with its offsets — lands before any next owner
 * reads the committed offsets. Without the gate, a checkpoint still in flight when kafkajs rejoined could
 * commit after the next owner had started from the older offset, and both learned the events in between.
 *
 * kafkajs has no hook for this; the gate wraps `ConsumerGroup.prototype.joinAndSync` of kafkajs 2.2.4 (pinned
 * exactly, unmaintained since 2023), and `test/unit/streams/kafka/rejoinGate.test.ts` fails if that internal
 * moves. A member whose session expired (a paused process: kafkajs clears its member id and joins as a new
 * member) lost its partitions before it knew, and no hook runs for it; it is fenced instead: a transaction
 * commits offsets as the generation and member id they were read under ({@link sendOffsetsAs}), which the group
 * coordinator then refuses, and fromKafka (`positionsFromGroup`) stops a consumer that comes back under a new
 * member id. Returns the unregistration.
 */
export function beforeRejoin(groupId: string, memberId: string, hook: () => Promise<void>): () => void {
  installGroupHooks();
  const key = `${groupId}\u0000${memberId}`;
  rejoinHooks.set(key, hook);
  return () => {
    if (rejoinHooks.get(key) === hook) rejoinHooks.delete(key);
  };
}

interface KafkajsConsumerGroup {
  groupId: string;
  memberId: string | null;
  generationId: number | null;
  joinAndSync(): Promise<unknown>;
}

/**
 * Wraps kafkajs's `ConsumerGroup.prototype.joinAndSync` once per process: the rejoin gate ({@link beforeRejoin})
 * runs first, and while the join runs the group is findable by {@link joinedGeneration}. Call it before a
 * consumer first joins (its first GROUP_JOIN needs it too); idempotent.
 */
export function installGroupHooks(): void {
  if (groupHooksInstalled) return;
  const require = createRequire(import.meta.url);
  const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as {
    prototype: KafkajsConsumerGroup;
  };
  const original = ConsumerGroup.prototype.joinAndSync;
  if (typeof original !== 'function')
    throw new Error('kafkajs internals changed: ConsumerGroup.prototype.joinAndSync is gone');
  ConsumerGroup.prototype.joinAndSync = async function (this: KafkajsConsumerGroup): Promise<unknown> {
    const hook =
      this.memberId === null ? undefined : rejoinHooks.get(`${this.groupId}\u0000${this.memberId}`);
    if (hook !== undefined) await hook();
    joining.add(this);
    try {
      return await original.call(this);
    } finally {
      joining.delete(this);
    }
  };
  groupHooksInstalled = true;
}

/**
 * The generation member `memberId` of `groupId` joined with, read inside its consumer's GROUP_JOIN listener
 * (kafkajs emits GROUP_JOIN from within `joinAndSync`, after the JoinGroup and SyncGroup round trips, and its
 * payload has no generation); null anywhere else, or before {@link installGroupHooks}. Keyed by member, not
 * group: several consumers of one group may live in one process.
 */
export function joinedGeneration(groupId: string, memberId: string): number | null {
  for (const g of joining)
    if (g.groupId === groupId && g.memberId === memberId && typeof g.generationId === 'number')
      return g.generationId;
  return null;
}

/** A consumer's membership in its group as it last joined: what a fenced offset commit carries. */
export interface GroupMembership {
  groupId: string;
  memberId: string;
  generationId: number;
}

/** The membership each transactional id's offsets are being committed as (set only inside {@link sendOffsetsAs}). */
const committingAs = new Map<string, GroupMembership>();

/**
 * `txn.sendOffsets(offsets)` as the group member `member`: the TxnOffsetCommit carries its generation and member
 * id (version 3, KIP-447; txnOffsetCommitV3.ts), so the group coordinator refuses it (ILLEGAL_GENERATION,
 * UNKNOWN_MEMBER_ID) when the group has moved on without that member, and the caller aborts the transaction.
 * `member` null commits as no member (generation −1, member id ''), which the coordinator does not check, as
 * for versions 0–2: for offsets not read through a group membership. On a broker below Kafka 2.5 (no version 3)
 * the commit is unchecked too.
 *
 * kafkajs passes the TxnOffsetCommit only what versions 0 and 1 know, so the membership is looked up by
 * transactional id while this call runs; a transactional id has one transaction at a time (a second producer
 * with the same id fences the first, whose requests fail on its producer epoch whatever they carry).
 */
export async function sendOffsetsAs(
  txn: Transaction,
  transactionalId: string,
  offsets: Parameters<Transaction['sendOffsets']>[0],
  member: GroupMembership | null,
): Promise<void> {
  if (member !== null && member.groupId !== offsets.consumerGroupId)
    throw new ConfigError(
      `sendOffsetsAs: member ${member.memberId} is of group '${member.groupId}', the offsets are for '${offsets.consumerGroupId}'`,
    );
  installTxnOffsetCommitV3((id, groupId) => {
    const m = committingAs.get(id);
    return m !== undefined && m.groupId === groupId ? m : null;
  });
  if (member === null) committingAs.delete(transactionalId);
  else committingAs.set(transactionalId, member);
  try {
    await txn.sendOffsets(offsets);
  } finally {
    committingAs.delete(transactionalId);
  }
}

/**
 * kafkajs' default partitioner (murmur2 of the key, as the Java client), skipping the hash when the topic has
 * one partition: where a key lands is unchanged, and a single-partition topic costs no hashing per record.
 */
export const keyedPartitioner: NonNullable<ProducerConfig['createPartitioner']> = () => {
  const hashed = Partitioners.DefaultPartitioner();
  return (args) =>
    args.partitionMetadata.length === 1 && args.message.partition === undefined
      ? args.partitionMetadata[0].partitionId
      : hashed(args);
};

export function createProducer(kafka: KafkaClient, config: ProducerConfig = {}): Producer {
  return kafka.producer({ allowAutoTopicCreation: false, createPartitioner: keyedPartitioner, ...config });
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
export async function ensureTopic(
  kafka: KafkaClient,
  topic: string,
  partitions = 1,
  /** Topic configs set when this call creates it (e.g. `retention.ms`); an existing topic is left as it is. */
  configs: Record<string, string> = {},
): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    const existing = await admin.listTopics();
    if (existing.includes(topic)) return;
    const configEntries = Object.entries(configs).map(([name, value]) => ({ name, value }));
    await retry(
      () =>
        admin.createTopics({
          topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries }],
          waitForLeaders: true,
        }),
      { retries: 5 },
    );
  });
}

/**
 * Deletes a consumer group, retrying while the broker still counts the member that just left (`who` names the
 * caller in the error when it cannot).
 */
export async function deleteGroup(kafka: KafkaClient, groupId: string, who = 'streamnorm'): Promise<void> {
  await retry(() => withAdmin(kafka, (admin) => admin.deleteGroups([groupId])), {
    retries: 5,
    retriable: () => true,
    exhausted: (err) =>
      new KafkaError(`${who}: could not delete its consumer group '${groupId}'; delete it by hand`, {
        cause: err,
      }),
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

/**
 * The group's committed offsets per partition ('-1' when none), once no transaction holding offsets for them is
 * open (OffsetFetch require_stable, offsetFetchV7.ts): admin.fetchOffsets does not retry, so the broker's
 * UNSTABLE_OFFSET_COMMIT is retried here, for about as long as a transaction may stay open (the brokers' default
 * timeout, 60 s, and its abort check after).
 */
export async function committedOffsets(
  kafka: KafkaClient,
  groupId: string,
  topic: string,
): Promise<Map<number, string>> {
  installOffsetFetchV7();
  return withAdmin(kafka, async (admin) => {
    const [res] = await retry(() => admin.fetchOffsets({ groupId, topics: [topic] }), {
      retries: 12,
      initialDelayMs: 200,
      maxDelayMs: 10_000,
      retriable: isUnstableOffsetCommit,
      exhausted: (err) =>
        new KafkaError(
          `the offsets of group '${groupId}' on '${topic}' stayed unstable (a transaction open)`,
          {
            cause: err,
          },
        ),
    });
    return new Map((res?.partitions ?? []).map((p) => [p.partition, p.offset]));
  });
}

/** The group coordinator's answer to OffsetFetch require_stable while a transaction holds offsets (code 88). */
export function isUnstableOffsetCommit(err: unknown): boolean {
  return (
    typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'UNSTABLE_OFFSET_COMMIT'
  );
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
