import type { EventOrigin, RawMessage, RecordedMessage } from './event.js';
import { boundedStringify, compactJson, memberSpans } from './jsonText.js';
import { isRecordedHeaders, messageHeaders, recordedHeaders } from './recordedHeaders.js';

/**
 * A recording line's `value` for a binary (non-UTF-8) message: `{ "$binary": "<base64>" }`. No valid event
 * has this shape (it lacks `id`), so it cannot be mistaken for one.
 */
export interface BinaryValue {
  $binary: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The `value` to record for a raw message value. Text that parses as a JSON object or array is stored parsed
 * (the design's "value: the event object"); other text is stored as the raw string, which decodes to the same
 * dead letter on replay; invalid UTF-8 is stored as {@link BinaryValue}; already parsed values as they are.
 */
export function recordedValue(value: unknown): unknown {
  let text: string;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    try {
      text = utf8.decode(value);
    } catch {
      return {
        $binary: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
      } satisfies BinaryValue;
    }
  } else if (typeof value === 'string') {
    text = value;
  } else {
    return value === undefined ? null : value;
  }
  const c = text.trimStart()[0];
  if (c === '{' || c === '[') {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** A raw message as one recording line. */
export function toRecordedMessage(m: RawMessage): RecordedMessage {
  const o = m.origin;
  const headers = recordedHeaders(m.headers);
  return {
    topic: o.topic,
    partition: o.partition,
    offset: o.offset,
    timestamp: o.timestamp,
    key: m.key,
    ...(headers === undefined ? {} : { headers }),
    value: recordedValue(m.value),
  };
}

function isBinaryValue(v: unknown): v is BinaryValue {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    typeof (v as BinaryValue).$binary === 'string' &&
    Object.keys(v).length === 1
  );
}

/** Check a parsed recording line; null when it is not a {@link RecordedMessage}. */
export function asRecordedMessage(v: unknown): RecordedMessage | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const r = v as Record<string, unknown>;
  const offset = typeof r.offset === 'number' && Number.isSafeInteger(r.offset) ? String(r.offset) : r.offset;
  if (typeof r.topic !== 'string' || !Number.isInteger(r.partition) || (r.partition as number) < 0)
    return null;
  if (typeof offset !== 'string' || !/^\d+$/.test(offset)) return null;
  if (typeof r.timestamp !== 'number' || !Number.isFinite(r.timestamp)) return null;
  if (!('value' in r)) return null;
  const key = r.key === undefined ? null : r.key;
  if (key !== null && typeof key !== 'string') return null;
  if (r.headers !== undefined && !isRecordedHeaders(r.headers)) return null;
  return {
    topic: r.topic,
    partition: r.partition as number,
    offset,
    timestamp: r.timestamp,
    key,
    ...(r.headers === undefined ? {} : { headers: r.headers }),
    value: r.value,
  };
}

/** A recording line back into the raw message it was. */
export function fromRecordedMessage(r: RecordedMessage, receivedAt: number): RawMessage {
  const origin: EventOrigin = {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
  };
  const value = isBinaryValue(r.value) ? Buffer.from(r.value.$binary, 'base64') : r.value;
  return {
    origin,
    key: r.key,
    value,
    ...(r.headers === undefined ? {} : { headers: messageHeaders(r.headers) }),
    receivedAt,
  };
}

/**
 * The JSON text of the `value` to record for a raw message value (see {@link recordedValue}), built without
 * parsing into objects and serializing again: text that is a JSON object or array is kept as its own tokens
 * (whitespace between tokens removed, so it fits on one line), however deep it nests.
 */
export function recordedValueText(value: unknown): string {
  let text: string;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    try {
      text = utf8.decode(value);
    } catch {
      const b64 = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
      return `{"$binary":"${b64}"}`;
    }
  } else if (typeof value === 'string') {
    text = value;
  } else {
    return value === undefined ? 'null' : boundedStringify(value);
  }
  const c = text.trimStart()[0];
  if (c === '{' || c === '[') {
    const compact = compactJson(text);
    if (compact !== null) return compact;
  }
  return JSON.stringify(text);
}

/** A raw message as one recording line (JSON, no newline). Never recurses on the value's depth. */
export function recordingLine(m: RawMessage): string {
  const o = m.origin;
  const headers = recordedHeaders(m.headers);
  return (
    `{"topic":${JSON.stringify(o.topic)},"partition":${o.partition},"offset":${JSON.stringify(o.offset)},` +
    `"timestamp":${JSON.stringify(o.timestamp)},"key":${m.key === null || m.key === undefined ? 'null' : JSON.stringify(m.key)},` +
    (headers === undefined ? '' : `"headers":${JSON.stringify(headers)},`) +
    `"value":${recordedValueText(m.value)}}`
  );
}

const BINARY_TEXT = /^\{\s*"\$binary"\s*:\s*"([A-Za-z0-9+/=]*)"\s*\}$/;

/**
 * A recording line back into the raw message it was, or null when the line is not a recorded message. The
 * `value` is taken as its text, unparsed: an object or array value is handed on as that text (a string) and
 * parsed by the decoder exactly as a Kafka message with those bytes would be (one decode path); a string
 * value is the raw text it recorded; `{ "$binary": ... }` the bytes. Only the small metadata members are
 * parsed here, so a value nested thousands deep costs one linear scan.
 */
export function parseRecordingLine(line: string, receivedAt: number): RawMessage | null {
  const spans = memberSpans(line);
  if (spans === null) return null;
  const valueSpan = spans.get('value');
  if (valueSpan === undefined) return null;
  const meta: Record<string, unknown> = {};
  for (const k of ['topic', 'partition', 'offset', 'timestamp', 'key', 'headers']) {
    const span = spans.get(k);
    if (span === undefined) continue;
    try {
      meta[k] = JSON.parse(line.slice(span[0], span[1]));
    } catch {
      return null;
    }
  }
  const rec = asRecordedMessage({ ...meta, value: null });
  if (rec === null) return null;
  const headers = rec.headers === undefined ? undefined : messageHeaders(rec.headers);
  const text = line.slice(valueSpan[0], valueSpan[1]);
  let value: unknown = text;
  if (text.charCodeAt(0) === 0x22) {
    // A string value: the raw text recorded for a message that was not a JSON object or array.
    try {
      value = JSON.parse(text) as string;
    } catch {
      value = text; // a broken string: the decoder reports it as bad JSON
    }
  } else if (text.charCodeAt(0) === 0x7b) {
    const b = BINARY_TEXT.exec(text);
    if (b !== null) value = Buffer.from(b[1], 'base64');
  } else if (text.charCodeAt(0) !== 0x5b) {
    // null, a number or a boolean (a value a program recorded as such): kept as that value.
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      value = text;
    }
  }
  const origin: EventOrigin = {
    topic: rec.topic,
    partition: rec.partition,
    offset: rec.offset,
    timestamp: rec.timestamp,
  };
  return { origin, key: rec.key, value, ...(headers === undefined ? {} : { headers }), receivedAt };
}
