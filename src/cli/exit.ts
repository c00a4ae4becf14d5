/**
 * Exit codes of the `streamnorm` command, and the one line a failure prints. Scripts branch on the code:
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | internal error (a bug: please report it with `STREAMNORM_DEBUG=1` output) |
 * | 2 | usage or configuration: unknown flag, missing or bad value, bad config file field |
 * | 3 | input/output: missing or unreadable file, dataset, recording, checkpoint, metrics port in use |
 * | 4 | Kafka: broker unreachable, topic missing, client failure |
 * | 5 | Kafka security: SASL authentication or authorization refused, or the broker's TLS certificate not trusted (never retried) |
 * | 6 | checkpoint refused or damaged beyond its fallback (another topic, partitions, variants, schema, format version, or parameters out of bounds): a person must decide |
 * | 130 / 143 | stopped by a second SIGINT / SIGTERM, or a graceful stop past its time bound (nothing durable is lost) |
 *
 * `streamnorm run` never exits because of a message: whatever does not fit the stream is a dead letter.
 */
import { CommanderError } from 'commander';
import {
  CheckpointError,
  CheckpointRefusedError,
  ConfigError,
  DatasetError,
  KafkaError,
  StreamnormError,
} from '../errors.js';
import { redact } from '../redact.js';
import { securityFailure } from '../streams/kafka/client.js';

export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  IO: 3,
  KAFKA: 4,
  KAFKA_AUTH: 5,
  CHECKPOINT: 6,
  INTERRUPTED: 130,
  TERMINATED: 143,
} as const;

/** `streamnorm run --help`: the exit codes a supervisor (systemd, Kubernetes) can branch on. */
export const RUN_EXIT_CODES_HELP = `
Exit codes (no single message can stop run: what does not fit the stream is a dead letter):
  0    stopped gracefully (SIGTERM/SIGINT, --max-events): final checkpoint written
  2    usage or configuration error
  3    disk or file I/O (checkpoint write failed, metrics port in use)
  4    Kafka unreachable or client failure
  5    Kafka authentication or authorization refused, or the broker's TLS certificate not trusted
  6    checkpoint refused: it does not fit this run (topic, partitions, variants, schema, format,
       parameters) or it is damaged and so is the previous one; the line says what differs and what to do
  130  second SIGINT, or a graceful stop that took longer than its bound (10 s)
  143  second SIGTERM, or a graceful stop that took longer than its bound (10 s)
  1    internal error (a bug)`;

/** kafkajs error types of refused credentials or permissions (KafkaJSProtocolError.type, error class names). */
const KAFKA_AUTH = new Set([
  'KafkaJSSASLAuthenticationError',
  'SASL_AUTHENTICATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
]);

/** True when `err` or one of its causes is a refused authentication or authorization. */
function isAuthFailure(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 8; depth++) {
    const x = e as { name?: unknown; type?: unknown; cause?: unknown };
    if (KAFKA_AUTH.has(String(x.name)) || KAFKA_AUTH.has(String(x.type))) return true;
    e = x.cause;
  }
  return false;
}

const IO_CODES = new Set([
  'ENOENT',
  'EACCES',
  'EISDIR',
  'ENOTDIR',
  'EEXIST',
  'ENOSPC',
  'EROFS',
  'EADDRINUSE',
  'EADDRNOTAVAIL',
  'EPERM',
]);

/** Maps an error to its exit code. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  if (err instanceof ConfigError) return EXIT.USAGE;
  if (isAuthFailure(err) || securityFailure(err) !== null) return EXIT.KAFKA_AUTH;
  if (err instanceof KafkaError) return EXIT.KAFKA;
  // A refused or damaged checkpoint needs a person; a failed write (retriable: disk full may clear) is I/O.
  if (err instanceof CheckpointRefusedError) return EXIT.CHECKPOINT;
  if (err instanceof CheckpointError && !err.retriable) return EXIT.CHECKPOINT;
  if (err instanceof DatasetError || err instanceof CheckpointError) return EXIT.IO;
  if (err instanceof StreamnormError && err.code === 'METRICS') return EXIT.IO;
  if (err instanceof StreamnormError && err.code === 'DECODE') return EXIT.IO;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && IO_CODES.has(code)) return EXIT.IO;
  if (err instanceof StreamnormError && (err.code === 'MODEL' || err.code === 'NORMALIZATION'))
    return EXIT.USAGE;
  return EXIT.INTERNAL;
}

/** The single line printed on stderr for a failure (no stack trace unless STREAMNORM_DEBUG is set). */
export function errorLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const first = msg.split('\n').find((l) => l.trim() !== '') ?? msg;
  const kind = exitCodeFor(err) === EXIT.INTERNAL ? 'internal error: ' : '';
  return redact(`streamnorm: ${kind}${first.trim()}`);
}
