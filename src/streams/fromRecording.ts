import { createReadStream } from 'node:fs';
import { Observable } from 'rxjs';
import { ConfigError } from '../errors.js';
import { OversizedValue } from './decodeEvents.js';
import type { EventOrigin, RawMessage } from './event.js';
import { LineSplitter, type SplitLine } from './lineSplitter.js';
import { compareOffsets } from './offsets.js';
import { parseRecordingLine } from './recordedMessage.js';

export interface FromRecordingOptions {
  /**
   * `'max'` (default): as fast as the pipeline takes them. A number: original timing sped up by that factor
   * (1 = the gaps between message timestamps as recorded, 2 = twice as fast).
   */
  speed?: 'max' | number;
  /** Skip messages before these next offsets (`"topic:partition"` → offset), e.g. a checkpoint's. */
  startOffsets?: Readonly<Record<string, string>>;
  /** Topic named in the origin of lines that are not recorded messages (default `'_recording'`). */
  badLineTopic?: string;
  /**
   * Longest line read, in characters (default 8 MiB, eight times the decoder's default message size). A
   * longer line is not accumulated: it is skipped as it streams by and handed on as an {@link OversizedValue},
   * which the decoder turns into an `oversized` dead letter naming the line number.
   */
  maxLineChars?: number;
  /** The line splitter's work counters once the file is read (for tests: the work is linear in the file). */
  onStats?: (stats: { scanned: number; joined: number; lines: number }) => void;
}

/** Default {@link FromRecordingOptions.maxLineChars}. */
export const DEFAULT_MAX_LINE_CHARS = 8 << 20;

/** The recording line (1-based) each message read by fromRecording came from, by its origin object. */
const lineNumbers = new WeakMap<EventOrigin, number>();

/**
 * The 1-based line of the recording a message (or the dead letter or envelope it became: they share its
 * origin object) was read from; undefined for messages that did not come from {@link fromRecording}.
 */
export function recordingLineOf(origin: EventOrigin): number | undefined {
  return lineNumbers.get(origin);
}

function validate(options: FromRecordingOptions): number {
  const maxLine = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  if (!(Number.isInteger(maxLine) && maxLine >= 1))
    throw new ConfigError(`fromRecording maxLineChars must be an integer >= 1, got ${maxLine}`);
  const speed = options.speed ?? 'max';
  if (speed === 'max') return Infinity;
  if (!(typeof speed === 'number' && Number.isFinite(speed) && speed > 0))
    throw new ConfigError(`fromRecording speed must be 'max' or a positive number, got ${String(speed)}`);
  return speed;
}

/**
 * Read a recording (JSON Lines of {@link RecordedMessage}) as a stream of {@link RawMessage}s, one per line, in
 * file order. With a numeric speed, message i is emitted (tᵢ − t₀)/speed after the first (tᵢ = its recorded
 * timestamp), on an absolute schedule so delays do not accumulate; timestamps that go backwards emit at once.
 *
 * A line that is not a recorded message (bad JSON, missing fields) is not skipped: it becomes a RawMessage
 * whose value is the line's text, so decoding turns it into a dead letter (or, for a bare event line, an event)
 * and it is counted. Its origin is `{ topic: badLineTopic, partition: 0, offset: <0-based line number> }`,
 * which `startOffsets` honours like any other, so a resumed replay does not count it twice.
 * Lines are split in linear time, and a line longer than `maxLineChars` becomes an `oversized` dead letter
 * (see {@link FromRecordingOptions.maxLineChars}); {@link recordingLineOf} gives any message's line number.
 * Unsubscribing stops reading, closes the file and cancels the pending timer. A missing file errors the stream.
 *
 * @example
 * fromRecording('data/sensor.jsonl', { speed: 10 }).pipe(decodeEvents(), rebatch({ count: 8 }), prequential(model))
 */
export function fromRecording(path: string, options: FromRecordingOptions = {}): Observable<RawMessage> {
  const speed = validate(options);
  const start = options.startOffsets ?? {};
  const badTopic = options.badLineTopic ?? '_recording';
  return new Observable<RawMessage>((subscriber) => {
    const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 16 });
    let timer: ReturnType<typeof setTimeout> | null = null;
    let wake: (() => void) | null = null;
    let stopped = false;
    let lineNo = 0;
    let wallStart = 0;
    let tsStart = NaN;
    let lastTs = 0;
    /** Whether the last message came from a recorded line (damaged lines carry no timing of their own). */
    let timed = false;

    const sleep = (ms: number): Promise<void> =>
      new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(() => {
          timer = null;
          wake = null;
          resolve();
        }, ms);
      });

    const maxLine = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
    const splitter = new LineSplitter({ maxChars: maxLine });

    /** A line that is not a recorded message, in the origin of damaged lines. */
    const badLine = (lineNo: number, value: unknown): RawMessage => ({
      origin: { topic: badTopic, partition: 0, offset: String(lineNo - 1), timestamp: lastTs },
      key: null,
      value,
      receivedAt: 0,
    });

    const toRaw = (line: SplitLine): RawMessage | null => {
      lineNo = line.lineNo;
      let m: RawMessage;
      if ('tooLong' in line) {
        const detail = `recording line ${line.lineNo} is ${line.chars} characters > maxLineChars ${maxLine}`;
        m = badLine(line.lineNo, new OversizedValue(line.chars, detail, line.head));
        timed = false;
      } else {
        if (line.text.trim().length === 0) return null;
        const rec = parseRecordingLine(line.text, 0);
        m = rec ?? badLine(line.lineNo, line.text);
        if (rec) lastTs = rec.origin.timestamp;
        timed = rec !== null;
      }
      lineNumbers.set(m.origin, line.lineNo);
      const from = start[`${m.origin.topic}:${m.origin.partition}`];
      if (from !== undefined && compareOffsets(m.origin.offset, from) < 0) return null;
      return m;
    };

    /** Delay before `m` is due (0 in 'max' mode or when late). */
    const delayOf = (m: RawMessage): number => {
      if (speed === Infinity || !timed) return 0;
      const ts = m.origin.timestamp;
      if (Number.isNaN(tsStart)) {
        tsStart = ts;
        wallStart = performance.now();
        return 0;
      }
      return Math.max(0, wallStart + (ts - tsStart) / speed - performance.now());
    };

    const send = (m: RawMessage): void => {
      m.receivedAt = Date.now();
      subscriber.next(m);
    };

    (async () => {
      const emit = async (line: SplitLine): Promise<boolean> => {
        const m = toRaw(line);
        if (!m) return true;
        const wait = delayOf(m);
        if (wait > 0) await sleep(wait);
        if (stopped) return false;
        send(m);
        return true;
      };
      for await (const chunk of stream as AsyncIterable<string>) {
        if (stopped) return;
        for (const line of splitter.push(chunk)) if (!(await emit(line))) return;
      }
      const last = splitter.end();
      if (last !== null && !(await emit(last))) return;
      options.onStats?.({ scanned: splitter.scanned, joined: splitter.joined, lines: lineNo });
      if (!stopped) subscriber.complete();
    })().catch((err: unknown) => {
      if (!stopped) subscriber.error(err);
    });

    return () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      const w = wake as (() => void) | null;
      wake = null;
      w?.();
      stream.destroy();
    };
  });
}
