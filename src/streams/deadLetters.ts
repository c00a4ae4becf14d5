import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DeadLetter } from './event.js';

/** The reasons `decodeEvents`, `fitSchema` and `prequential` give; sinks of other origins may add their own. */
export type DeadLetterReason =
  | 'bad_json'
  | 'not_object'
  | 'missing_field'
  | 'bad_shape'
  | 'non_finite'
  | 'oversized'
  | 'bad_label'
  | 'binary'
  /** A value beyond the stream's input bound (see `fitSchema`): finite, but it would overflow a model. */
  | 'out_of_range'
  /** A model threw on the event; the batch was retried event by event and this one isolated (`prequential`). */
  | 'model_error';

/**
 * Where rejected messages go. `write` is synchronous and must not throw for I/O reasons (buffer and report
 * failures from `close`), so a slow or broken sink never stops the stream; `close` flushes and releases it.
 */
export interface DeadLetterSink {
  write(letter: DeadLetter): void;
  close(): Promise<void>;
}

/** Dead letters counted by reason (for `streamnorm_dead_letters_total{reason}` and the run summary). */
export class DeadLetterCounter implements DeadLetterSink {
  private readonly byReason = new Map<string, number>();
  private count = 0;

  write(letter: DeadLetter): void {
    this.count++;
    this.byReason.set(letter.reason, (this.byReason.get(letter.reason) ?? 0) + 1);
  }

  get total(): number {
    return this.count;
  }

  /** Counts per reason, reasons sorted so that summaries are stable. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const reason of [...this.byReason.keys()].sort()) out[reason] = this.byReason.get(reason)!;
    return out;
  }

  async close(): Promise<void> {}
}

/** Keeps dead letters in memory (tests, small replays). */
export class MemoryDeadLetterSink implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  write(letter: DeadLetter): void {
    this.letters.push(letter);
  }
  async close(): Promise<void> {}
}

/** Sends each dead letter to several sinks (e.g. a file and a counter). */
export class TeeDeadLetterSink implements DeadLetterSink {
  private readonly sinks: DeadLetterSink[];
  constructor(...sinks: DeadLetterSink[]) {
    this.sinks = sinks;
  }
  write(letter: DeadLetter): void {
    for (const s of this.sinks) s.write(letter);
  }
  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }
}

/** One line of a dead-letter file. */
export interface DeadLetterRecord {
  reason: string;
  detail: string;
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: string | null;
  raw: string;
}

/** Flatten a dead letter into the JSON line written by {@link FileDeadLetterSink}. */
export function deadLetterRecord(letter: DeadLetter): DeadLetterRecord {
  const { origin } = letter;
  return {
    reason: letter.reason,
    detail: letter.detail,
    topic: origin.topic,
    partition: origin.partition,
    offset: origin.offset,
    timestamp: origin.timestamp,
    key: letter.key,
    raw: letter.raw,
  };
}

/**
 * Appends dead letters to a JSON Lines file, one {@link DeadLetterRecord} per line. Writes are buffered by a
 * Node write stream (appending, so restarts keep earlier letters); `close` flushes and rejects if any write
 * failed, so I/O errors surface at shutdown instead of stopping the stream. Letters written after `close` are
 * dropped (the stream is shutting down).
 */
export class FileDeadLetterSink implements DeadLetterSink {
  readonly path: string;
  private stream: WriteStream | null = null;
  private failure: unknown = null;
  private closing: Promise<void> | null = null;

  constructor(path: string) {
    this.path = path;
  }

  write(letter: DeadLetter): void {
    if (this.closing) return;
    if (!this.stream) this.stream = this.open();
    this.stream.write(JSON.stringify(deadLetterRecord(letter)) + '\n');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const stream = this.stream;
      if (stream) {
        await new Promise<void>((resolve) => {
          if (stream.destroyed) return resolve();
          stream.end(() => resolve());
          stream.once('error', () => resolve());
        });
      }
      if (this.failure) throw this.failure;
    })();
    return this.closing;
  }

  private open(): WriteStream {
    const stream = createWriteStream(this.path, { flags: 'a' });
    stream.on('error', (err) => {
      this.failure ??= err;
    });
    return stream;
  }

  /** Create the parent directory; call before the first write when it may not exist. */
  static async create(path: string): Promise<FileDeadLetterSink> {
    await mkdir(dirname(path), { recursive: true });
    return new FileDeadLetterSink(path);
  }
}

/** The most characters of a dead letter's detail {@link LoggingDeadLetterSink} logs. */
export const DETAIL_LOG_CHARS = 200;

/** Where {@link LoggingDeadLetterSink} writes (a pino logger fits). */
export interface DeadLetterLogger {
  warn(obj: object, msg?: string): void;
}

/**
 * Reports dead letters on the log, so an operator watching `run` sees a rejected message without a dead-letter
 * topic: each with its reason, partition and offset, at most `burst` per `windowMs` (defaults 10 per minute),
 * so a flood of bad messages cannot flood the log. Beyond that they are counted, and the next line (or
 * `close`) says how many were not shown. The message itself is not logged (a dead-letter topic or file keeps
 * it); the reason's detail is cut at {@link DETAIL_LOG_CHARS} characters.
 */
export class LoggingDeadLetterSink implements DeadLetterSink {
  private readonly burst: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private windowStart = -Infinity;
  private shown = 0;
  private suppressed = 0;

  constructor(
    private readonly log: DeadLetterLogger,
    options: { burst?: number; windowMs?: number; now?: () => number } = {},
  ) {
    this.burst = options.burst ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  write(letter: DeadLetter): void {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.reportSuppressed();
      this.windowStart = t;
      this.shown = 0;
    }
    if (this.shown >= this.burst) {
      this.suppressed++;
      return;
    }
    this.shown++;
    const { origin } = letter;
    this.log.warn(
      {
        reason: letter.reason,
        detail:
          letter.detail.length > DETAIL_LOG_CHARS
            ? `${letter.detail.slice(0, DETAIL_LOG_CHARS)}…`
            : letter.detail,
        topic: origin.topic,
        partition: origin.partition,
        offset: origin.offset,
      },
      'dead letter: message rejected, the stream goes on',
    );
  }

  async close(): Promise<void> {
    this.reportSuppressed();
  }

  private reportSuppressed(): void {
    if (this.suppressed === 0) return;
    this.log.warn(
      { suppressed: this.suppressed, windowMs: this.windowMs },
      'dead letters not logged one by one (over the log limit); streamnorm_dead_letters_total counts them all',
    );
    this.suppressed = 0;
  }
}
