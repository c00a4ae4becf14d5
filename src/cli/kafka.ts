/**
 * Kafka helpers of the CLI: fail fast and clearly when no broker answers (kafkajs would retry for tens of
 * seconds and then print a stack) or when it refuses our credentials or we refuse its certificate (one
 * line, exit code 5, no retry), and build the client with the CLI's logger and security settings.
 */
import { connect } from 'node:net';
import { KafkaError } from '../errors.js';
import { redact } from '../redact.js';
import {
  createKafka,
  parseBrokers,
  verifyConnection,
  type ClientOptions,
  type KafkaClient,
} from '../streams/kafka/client.js';
import { kafkaConnection, type KafkaProperties } from './kafkaSettings.js';
import type { Logger } from './logger.js';

/** Resolves when at least one broker accepts a TCP connection within `timeoutMs`; otherwise a KafkaError naming them. */
export async function ensureBrokersReachable(
  brokers: string[] | string,
  timeoutMs = 3000,
): Promise<string[]> {
  const list = parseBrokers(brokers);
  const errors: string[] = [];
  for (const b of list) {
    const i = b.lastIndexOf(':');
    const host = b.slice(0, i);
    const port = Number(b.slice(i + 1));
    const ok = await new Promise<string | null>((resolve) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve('timed out');
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.end();
        resolve(null);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(err.code ?? err.message);
      });
    });
    if (ok === null) return list;
    errors.push(`${b} (${ok})`);
  }
  throw new KafkaError(redact(`cannot reach Kafka broker ${errors.join(', ')}`), { retriable: true });
}

/**
 * A kafkajs client for the CLI: checked reachable first and, when TLS or SASL is configured, connected once
 * without retries so that a bad password or an untrusted certificate fails at once with one line
 * (KafkaAuthError, exit code 5). `settings` are the `kafka` settings of the config (kafkaSettings.ts).
 */
export async function cliKafka(
  brokers: string[] | string,
  logger: Logger,
  clientId = 'streamnorm-cli',
  settings?: KafkaProperties,
): Promise<KafkaClient> {
  const connection = kafkaConnection(settings);
  await ensureBrokersReachable(brokers, connection.connectionTimeoutMs ?? 3000);
  const options: ClientOptions = { brokers, clientId, logger, retries: 5, ...connection };
  if (options.ssl !== undefined || options.sasl !== undefined) await verifyConnection(options);
  return createKafka(options);
}

/** Splits records into consecutive groups of at most `maxBytes` of values each (a record larger than that goes alone). */
export function chunkByBytes<T extends { value: string | Buffer }>(
  records: T[],
  maxBytes = 512 * 1024,
): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const r of records) {
    const n = r.value.length;
    if (cur.length > 0 && bytes + n > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
