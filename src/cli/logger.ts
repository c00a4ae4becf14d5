/**
 * The CLI's structured logger: pino, JSON lines on stderr (stdout stays for tables and data), level from
 * --log-level, STREAMNORM_LOG_LEVEL or 'info'. Synchronous writes, so nothing is lost when the process
 * exits right after a failure. Every line goes through the redaction (../redact.ts): no secret is logged.
 */
import pino, { type Logger } from 'pino';
import { redactingLoggerOptions } from '../redact.js';

export type { Logger };

export function createLogger(
  level: string = process.env.STREAMNORM_LOG_LEVEL ?? 'info',
  name = 'streamnorm',
): Logger {
  return pino(
    { name, level, base: { pid: process.pid }, ...redactingLoggerOptions() },
    pino.destination({ fd: 2, sync: true }),
  );
}
