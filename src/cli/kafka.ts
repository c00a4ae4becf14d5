/**
 * Kafka helpers of the CLI: fail fast and clearly when no broker answers (kafkajs would retry for tens of
 * seconds and then print a stack), and build the client with the CLI's logger.
 */
import { connect } from 'node:net';
import { KafkaError } from '../errors.js';
import { createKafka, parseBrokers, type KafkaClient } from '../streams/kafka/client.js';
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
  throw new KafkaError(`cannot reach Kafka broker ${errors.join(', ')}`, { retriable: true });
}

/** A kafkajs client for the CLI (checked reachable first). */
export async function cliKafka(
  brokers: string[] | string,
  logger: Logger,
  clientId = 'streamnorm-cli',
): Promise<KafkaClient> {
  await ensureBrokersReachable(brokers);
  return createKafka({ brokers, clientId, logger, retries: 5 });
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
