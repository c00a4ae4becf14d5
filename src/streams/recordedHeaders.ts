/**
 * Kafka message headers in a recording line (`"headers"`), and back. A header value that is valid UTF-8 is
 * recorded as its text; any other bytes as `{ "$binary": "<base64>" }` (the encoding of a binary `value`); a
 * key that repeats keeps all its values, in order, as an array. A line without `headers` is a message without
 * headers (recordings written before headers were kept read as they always did).
 *
 * @example
 * recordedHeaders({ trace: Buffer.from('abc'), raw: Buffer.from([0xff]) });
 * // { trace: 'abc', raw: { $binary: '/w==' } }
 */

/** One recorded header value: the text, or the bytes as base64 when they are not UTF-8. */
export type RecordedHeaderValue = string | { $binary: string };

/** The `headers` member of a recording line. */
export type RecordedHeaders = Record<string, RecordedHeaderValue | RecordedHeaderValue[]>;

/** Headers as the Kafka client gives and takes them (kafkajs `IHeaders`). */
export type MessageHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function recordedValue(v: Buffer | string): RecordedHeaderValue {
  if (typeof v === 'string') return v;
  try {
    return utf8.decode(v);
  } catch {
    return { $binary: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  }
}

/** A message's headers as recorded; undefined when it has none (the line then has no `headers`). */
export function recordedHeaders(headers: MessageHeaders | undefined): RecordedHeaders | undefined {
  if (headers === undefined) return undefined;
  const out: RecordedHeaders = {};
  let any = false;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map(recordedValue) : recordedValue(v);
    any = true;
  }
  return any ? out : undefined;
}

function isHeaderValue(v: unknown): v is RecordedHeaderValue {
  if (typeof v === 'string') return true;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const b = (v as { $binary?: unknown }).$binary;
  return typeof b === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(b) && Object.keys(v).length === 1;
}

/** True when `v` is a valid `headers` member (what recording.schema.json says). */
export function isRecordedHeaders(v: unknown): v is RecordedHeaders {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  for (const h of Object.values(v as Record<string, unknown>)) {
    if (Array.isArray(h) ? !h.every(isHeaderValue) : !isHeaderValue(h)) return false;
  }
  return true;
}

function messageValue(v: RecordedHeaderValue): Buffer | string {
  return typeof v === 'string' ? v : Buffer.from(v.$binary, 'base64');
}

/** Recorded headers back into what a producer sends: text as strings, `$binary` as the bytes it was. */
export function messageHeaders(headers: RecordedHeaders): MessageHeaders {
  const out: MessageHeaders = {};
  for (const [k, v] of Object.entries(headers))
    out[k] = Array.isArray(v) ? v.map(messageValue) : messageValue(v);
  return out;
}
