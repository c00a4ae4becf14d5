import { createReadStream } from 'node:fs';
import { Observable } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { RawMessage } from './event.js';
import { compareOffsets } from './offsets.js';
import { asRecordedMessage, fromRecordedMessage } from './recordedMessage.js';

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
}

function validate(options: FromRecordingOptions): number {
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

    const toRaw = (line: string): RawMessage | null => {
      lineNo++;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      const rec = asRecordedMessage(parsed);
      const m: RawMessage = rec
        ? fromRecordedMessage(rec, 0)
        : {
            origin: { topic: badTopic, partition: 0, offset: String(lineNo - 1), timestamp: lastTs },
            key: null,
            value: line,
            receivedAt: 0,
          };
      if (rec) lastTs = rec.timestamp;
      timed = rec !== null;
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
      let rest = '';
      for await (const chunk of stream as AsyncIterable<string>) {
        if (stopped) return;
        const text = rest + chunk;
        const lines = text.split('\n');
        rest = lines.pop()!;
        for (const l of lines) {
          const line = l.endsWith('\r') ? l.slice(0, -1) : l;
          if (line.trim().length === 0) {
            lineNo++;
            continue;
          }
          const m = toRaw(line);
          if (!m) continue;
          const wait = delayOf(m);
          if (wait > 0) await sleep(wait);
          if (stopped) return;
          send(m);
        }
      }
      const line = rest.endsWith('\r') ? rest.slice(0, -1) : rest;
      const m = line.trim().length > 0 ? toRaw(line) : null;
      if (m) {
        const wait = delayOf(m);
        if (wait > 0) await sleep(wait);
        if (stopped) return;
        send(m);
      }
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
