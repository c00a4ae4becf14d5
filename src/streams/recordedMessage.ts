import type { EventOrigin, RawMessage, RecordedMessage } from './event.js';

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
  return {
    topic: o.topic,
    partition: o.partition,
    offset: o.offset,
    timestamp: o.timestamp,
    key: m.key,
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
  return {
    topic: r.topic,
    partition: r.partition as number,
    offset,
    timestamp: r.timestamp,
    key,
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
  return { origin, key: r.key, value, receivedAt };
}
