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
 * | 5 | Kafka security: SASL authentication refused, or the broker's TLS certificate not trusted (never retried) |
 * | 130 | interrupted before finishing (SIGINT) |
 */
import { CommanderError } from 'commander';
import { CheckpointError, ConfigError, DatasetError, KafkaError, StreamnormError } from '../errors.js';
import { redact } from '../redact.js';
import { securityFailure } from '../streams/kafka/client.js';

export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  IO: 3,
  KAFKA: 4,
  KAFKA_AUTH: 5,
  INTERRUPTED: 130,
} as const;

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
  if (securityFailure(err) !== null) return EXIT.KAFKA_AUTH;
  if (err instanceof KafkaError) return EXIT.KAFKA;
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
