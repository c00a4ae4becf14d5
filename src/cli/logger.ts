/**
 * The CLI's structured logger: pino on stderr (stdout stays for tables and data), level from --log-level,
 * STREAMNORM_LOG_LEVEL or 'info'. JSON lines when stderr is not a terminal (files, journald, CI, log
 * shippers); human-readable lines (pino-pretty) on a terminal. STREAMNORM_LOG_FORMAT=json|pretty overrides
 * the choice. Synchronous writes, so nothing is lost when the process exits right after a failure. Every
 * line goes through the redaction (../redact.ts) before either format: no secret is logged.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { ConfigError } from '../errors.js';
import { redactingLoggerOptions } from '../redact.js';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/** The log format: STREAMNORM_LOG_FORMAT, else pretty on a terminal and JSON otherwise. */
export function logFormat(
  env: NodeJS.ProcessEnv = process.env,
  isTTY: boolean = process.stderr.isTTY === true,
): LogFormat {
  const f = env.STREAMNORM_LOG_FORMAT;
  if (f === undefined || f === '') return isTTY ? 'pretty' : 'json';
  if (f === 'json' || f === 'pretty') return f;
  throw new ConfigError(
    `environment: bad value for STREAMNORM_LOG_FORMAT = ${JSON.stringify(f)}: expected json or pretty`,
  );
}

export function createLogger(
  level: string = process.env.STREAMNORM_LOG_LEVEL ?? 'info',
  name = 'streamnorm',
): Logger {
  const destination: DestinationStream =
    logFormat() === 'pretty'
      ? pretty({
          destination: 2,
          sync: true,
          colorize: process.stderr.isTTY === true,
          ignore: 'pid,hostname',
          translateTime: 'SYS:HH:MM:ss.l',
        })
      : pino.destination({ fd: 2, sync: true });
  return pino({ name, level, base: { pid: process.pid }, ...redactingLoggerOptions() }, destination);
}
