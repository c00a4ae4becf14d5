import { isUtf8 } from 'node:buffer';
import type { OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { Features } from '../models/types.js';
import type { DeadLetterReason, DeadLetterSink } from './deadLetters.js';
import type { DeadLetter, Envelope, RawMessage, StreamEvent } from './event.js';
import { boundedStringify } from './jsonText.js';
import { parseFlatJson } from './flatJson.js';
import { operate } from './operate.js';

/** The shape of `x` every event must have. */
export type XShape =
  | { kind: 'vector'; dim: number }
  | { kind: 'window'; shape: [channels: number, length: number] }
  /** Sparse indices must lie in [0, dim); without `dim` any non-negative integer index is accepted. */
  | { kind: 'sparse'; dim?: number };

/** Label constraints. Classification: `classes` (y an integer in [0, classes)); regression: `min`/`max`. */
export interface LabelSchema {
  /** Reject events without `y` (default false: unlabeled events are predicted, not learned). */
  required?: boolean;
  classes?: number;
  min?: number;
  max?: number;
}

/** What a valid event looks like. */
export interface EventSchema {
  /** Expected shape of `x`, or `'infer'` (default): the first valid event fixes it for the rest. */
  x?: XShape | 'infer';
  label?: LabelSchema;
  /** Largest accepted message in bytes (default 1 MiB). Parsed values are measured as their JSON text. */
  maxBytes?: number;
  /** Longest `raw` text kept in a dead letter (default 64 KiB); longer values are cut. */
  maxRawChars?: number;
}

/** What `decodeEvents` emits for each message: an event, or the dead letter it became. */
export type Decoded = Envelope | DeadLetter;

export function isDeadLetter(d: Decoded): d is DeadLetter {
  return (d as DeadLetter).reason !== undefined;
}

export function isEnvelope(d: Decoded): d is Envelope {
  return (d as Envelope).event !== undefined;
}

/** Per-subscription decoding state: the (inferred) shape lives here. */
export interface EventDecoder {
  decode(raw: RawMessage): Decoded;
  /** The fixed shape of `x`: from the schema, or inferred from the first valid event (null until then). */
  readonly shape: XShape | null;
}

export interface DecodeEventsOptions {
  /** Also hand every dead letter to this sink (it is still emitted in-stream; see {@link decodeEvents}). */
  deadLetters?: DeadLetterSink;
}

/**
 * A message value too large to be kept: a source that meets one (e.g. a recording line over its maximum
 * length) hands this on instead of the text, and the decoder turns it into an `oversized` dead letter whose
 * `raw` is the head of the text.
 */
export class OversizedValue {
  constructor(
    /** Size of the value (characters or bytes, as `detail` says). */
    readonly size: number,
    /** Why it is too large, e.g. `recording line 7 is 41943040 characters > maxLineChars 8388608`. */
    readonly detail: string,
    /** The first characters of the value. */
    readonly head: string,
  ) {}
}

/**
 * A value a source already knows is bad (e.g. a CSV row with a cell that is not a number): the decoder turns it
 * into a dead letter with this reason and detail, and `raw` (the row's text) as its raw value.
 */
export class RejectedValue {
  constructor(
    readonly reason: DeadLetterReason,
    readonly detail: string,
    readonly raw: string,
  ) {}
}

const DEFAULT_MAX_BYTES = 1 << 20;
const DEFAULT_MAX_RAW = 1 << 16;

/**
 * Internal control flow for a rejected message. Not an Error (nor DecodeError): a flood of poison messages
 * should not pay for a stack trace each, and nothing outside this file ever sees it.
 */
class Rejection {
  constructor(
    readonly reason: DeadLetterReason,
    readonly detail: string,
  ) {}
}

function reject(reason: DeadLetterReason, detail: string): never {
  throw new Rejection(reason, detail);
}

function validateSchema(schema: EventSchema): void {
  const posInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
  const x = schema.x ?? 'infer';
  if (x !== 'infer') {
    if (x.kind === 'vector' && !posInt(x.dim))
      throw new ConfigError(`schema.x.dim must be a positive integer, got ${x.dim}`);
    if (x.kind === 'sparse' && x.dim !== undefined && !posInt(x.dim))
      throw new ConfigError(`schema.x.dim must be a positive integer, got ${x.dim}`);
    if (x.kind === 'window' && !(Array.isArray(x.shape) && x.shape.length === 2 && x.shape.every(posInt)))
      throw new ConfigError(
        `schema.x.shape must be [channels, length] of positive integers, got ${JSON.stringify(x.shape)}`,
      );
    if (!['vector', 'window', 'sparse'].includes(x.kind))
      throw new ConfigError(
        `schema.x.kind must be 'vector', 'window' or 'sparse', got ${String((x as { kind: unknown }).kind)}`,
      );
  }
  const l = schema.label;
  if (l?.classes !== undefined && !(Number.isInteger(l.classes) && l.classes >= 2))
    throw new ConfigError(`schema.label.classes must be an integer >= 2, got ${l.classes}`);
  if (l?.min !== undefined && !Number.isFinite(l.min))
    throw new ConfigError(`schema.label.min must be finite, got ${l.min}`);
  if (l?.max !== undefined && !Number.isFinite(l.max))
    throw new ConfigError(`schema.label.max must be finite, got ${l.max}`);
  if (l?.min !== undefined && l.max !== undefined && l.min > l.max)
    throw new ConfigError(`schema.label.min (${l.min}) exceeds schema.label.max (${l.max})`);
  for (const k of ['maxBytes', 'maxRawChars'] as const) {
    const v = schema[k];
    if (v !== undefined && !posInt(v))
      throw new ConfigError(`schema.${k} must be a positive integer, got ${v}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reject a value that is not a finite number: JSON.stringify writes NaN and Infinity as null, so null counts as non-finite. */
function rejectNumber(v: unknown, where: () => string): never {
  if (typeof v === 'number') return reject('non_finite', `${where()} is ${v}`);
  if (v === null)
    return reject('non_finite', `${where()} is null (NaN or Infinity after JSON serialization)`);
  return reject('bad_shape', `${where()} must be a number, got ${typeof v}`);
}

function checkNumber(v: unknown, where: string): void {
  if (!(typeof v === 'number' && Number.isFinite(v))) rejectNumber(v, () => where);
}

/**
 * Hot path: no strings are built unless an element is bad, and no closure is built in the loop (one capturing
 * `i` would cost a context allocation per element).
 */
function checkVector(a: ArrayLike<unknown>, where: string): void {
  const n = a.length;
  if (n === 0) reject('bad_shape', `${where} is empty`);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (!(typeof v === 'number' && Number.isFinite(v))) rejectElement(v, where, i);
  }
}

function rejectElement(v: unknown, where: string, i: number): never {
  return rejectNumber(v, () => `${where}[${i}]`);
}

/** Validate `x` and return its shape (sparse shapes carry the schema's dim, if any). */
function shapeOf(x: unknown, expected: XShape | null): XShape {
  if (Array.isArray(x)) {
    if (x.length > 0 && Array.isArray(x[0])) {
      const c = x.length;
      const l = (x[0] as unknown[]).length;
      for (let i = 0; i < c; i++) {
        const row = x[i];
        if (!Array.isArray(row)) reject('bad_shape', `x[${i}] must be an array (window rows)`);
        if (row.length !== l)
          reject('bad_shape', `window rows differ in length: x[0] has ${l}, x[${i}] has ${row.length}`);
        checkVector(row, 'x[' + i + ']');
      }
      return { kind: 'window', shape: [c, l] };
    }
    checkVector(x, 'x');
    return { kind: 'vector', dim: x.length };
  }
  if (x instanceof Float64Array) {
    checkVector(x, 'x');
    return { kind: 'vector', dim: x.length };
  }
  if (x !== null && typeof x === 'object') {
    const { indices, values } = x as { indices?: unknown; values?: unknown };
    if (!Array.isArray(indices) || !Array.isArray(values))
      reject('bad_shape', 'sparse x needs arrays "indices" and "values"');
    if (indices.length !== values.length)
      reject('bad_shape', `sparse x has ${indices.length} indices but ${values.length} values`);
    const dim = expected?.kind === 'sparse' ? expected.dim : undefined;
    for (let i = 0; i < indices.length; i++) {
      const k = indices[i];
      if (!Number.isInteger(k) || (k as number) < 0)
        reject('bad_shape', `x.indices[${i}] must be a non-negative integer`);
      if (dim !== undefined && (k as number) >= dim)
        reject('bad_shape', `x.indices[${i}] = ${k} is out of range [0, ${dim})`);
      const v = values[i];
      if (!(typeof v === 'number' && Number.isFinite(v))) rejectElement(v, 'x.values', i);
    }
    return { kind: 'sparse', dim };
  }
  return reject(
    x === undefined ? 'missing_field' : 'bad_shape',
    x === undefined ? 'x is missing' : 'x must be an array or {indices, values}',
  );
}

function sameShape(a: XShape, b: XShape): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'vector') return a.dim === (b as typeof a).dim;
  if (a.kind === 'window')
    return a.shape[0] === (b as typeof a).shape[0] && a.shape[1] === (b as typeof a).shape[1];
  return true;
}

function describe(s: XShape): string {
  if (s.kind === 'vector') return `vector[${s.dim}]`;
  if (s.kind === 'window') return `window[${s.shape[0]}, ${s.shape[1]}]`;
  return s.dim === undefined ? 'sparse' : `sparse[${s.dim}]`;
}

/** The raw value as text for a dead letter, at most `max` characters. Never recurses on the value's depth. */
function rawText(value: unknown, max: number): string {
  let text: string;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    try {
      text = utf8.decode(buf);
    } catch {
      text = 'base64:' + buf.toString('base64');
    }
  } else if (typeof value === 'string') {
    text = value;
  } else if (value instanceof OversizedValue) {
    text = value.head;
  } else if (value instanceof RejectedValue) {
    text = value.raw;
  } else {
    text = boundedStringify(value, max);
  }
  return text.length > max ? text.slice(0, max) : text;
}

/**
 * Create a decoder for one stream. Each call to `decode` gives exactly one outcome and never throws: bad data
 * becomes a dead letter with one of the {@link DeadLetterReason}s.
 */
export function createEventDecoder(schema: EventSchema = {}): EventDecoder {
  validateSchema(schema);
  const maxBytes = schema.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxRaw = schema.maxRawChars ?? DEFAULT_MAX_RAW;
  const label = schema.label ?? {};
  let shape: XShape | null = schema.x === undefined || schema.x === 'infer' ? null : schema.x;

  const parse = (value: unknown): unknown => {
    if (value === null || value === undefined) return reject('not_object', 'empty message value (tombstone)');
    if (value instanceof OversizedValue) return reject('oversized', value.detail);
    if (value instanceof RejectedValue) return reject(value.reason, value.detail);
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
      if (value.byteLength > maxBytes)
        reject('oversized', `${value.byteLength} bytes > maxBytes ${maxBytes}`);
      // Most live values are flat objects of numbers and ids: read those from the bytes (exactly as JSON.parse).
      const flat = parseFlatJson(value);
      if (flat !== undefined) return flat;
      const buf = Buffer.isBuffer(value)
        ? value
        : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if (!isUtf8(buf)) return reject('binary', 'value is not valid UTF-8');
      return parseText(buf.toString('utf8'));
    }
    if (typeof value === 'string') {
      if (value.length > maxBytes || (value.length * 3 > maxBytes && Buffer.byteLength(value) > maxBytes))
        reject('oversized', `${Buffer.byteLength(value)} bytes > maxBytes ${maxBytes}`);
      return parseText(value);
    }
    // Already parsed (given by a program): measure its JSON text, without recursing and only up to the limit.
    let text: string;
    try {
      text = boundedStringify(value, maxBytes + 1);
    } catch {
      return reject('bad_shape', 'value cannot be serialized as JSON');
    }
    if (text.length > maxBytes) reject('oversized', `more than maxBytes ${maxBytes} bytes as JSON`);
    const size = Buffer.byteLength(text);
    if (size > maxBytes) reject('oversized', `${size} bytes > maxBytes ${maxBytes}`);
    return value;
  };

  const parseText = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (err) {
      return reject('bad_json', err instanceof Error ? err.message : 'invalid JSON');
    }
  };

  const toEvent = (v: unknown): { event: StreamEvent; shape: XShape } => {
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      reject(
        'not_object',
        `value is ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}, not an object`,
      );
    const o = v as Record<string, unknown>;
    if (o.id === undefined) reject('missing_field', 'id is missing');
    if (typeof o.id !== 'string' || o.id.length === 0) reject('bad_shape', 'id must be a non-empty string');
    if (o.ts === undefined) reject('missing_field', 'ts is missing');
    checkNumber(o.ts, 'ts');
    if (o.x === undefined) reject('missing_field', 'x is missing');
    const s = shapeOf(o.x, shape);
    if (shape !== null && !sameShape(shape, s))
      reject('bad_shape', `x is ${describe(s)}, expected ${describe(shape)}`);
    const event: StreamEvent = { id: o.id, ts: o.ts as number, x: o.x as Features };
    if (o.y === undefined || o.y === null) {
      if (label.required) reject('missing_field', 'y is missing and labels are required');
    } else {
      const y = o.y;
      if (typeof y !== 'number') reject('bad_label', `y must be a number, got ${typeof y}`);
      if (!Number.isFinite(y)) reject('non_finite', `y is ${y}`);
      if (label.classes !== undefined && !(Number.isInteger(y) && y >= 0 && y < label.classes))
        reject('bad_label', `y = ${y} is not a class in [0, ${label.classes})`);
      if (label.min !== undefined && y < label.min) reject('bad_label', `y = ${y} < min ${label.min}`);
      if (label.max !== undefined && y > label.max) reject('bad_label', `y = ${y} > max ${label.max}`);
      event.y = y;
    }
    if (o.key !== undefined && o.key !== null) {
      if (typeof o.key !== 'string') reject('bad_shape', 'key must be a string');
      event.key = o.key;
    }
    return { event, shape: s };
  };

  return {
    get shape() {
      return shape;
    },
    decode(raw: RawMessage): Decoded {
      try {
        const { event, shape: s } = toEvent(parse(raw.value));
        shape ??= s;
        return { event, origin: raw.origin, receivedAt: raw.receivedAt };
      } catch (err) {
        const r =
          err instanceof Rejection
            ? err
            : new Rejection('bad_shape', `unexpected: ${err instanceof Error ? err.message : String(err)}`);
        return {
          origin: raw.origin,
          key: raw.key,
          reason: r.reason,
          detail: r.detail,
          raw: rawText(raw.value, maxRaw),
        };
      }
    },
  };
}

/** `Decoded` for a single message, `Decoded[]` for an arrival batch. */
export type DecodedOf<I> = I extends readonly RawMessage[] ? Decoded[] : Decoded;

/**
 * Validate raw messages against a schema: each becomes an {@link Envelope} or a {@link DeadLetter}
 * (reasons: bad_json, not_object, missing_field, bad_shape, non_finite, oversized, bad_label, binary). Bad data
 * never throws and never stops the stream.
 *
 * Dead letters stay in the stream (tell them apart with {@link isDeadLetter}) because their offsets must be
 * acknowledged and checkpointed like any other; `rebatch` gives them no weight and `prequential` never shows
 * them to a model, so a stream with poison messages learns exactly as one without. With
 * `options.deadLetters` each one is also written to that sink. An arrival batch (an array of messages) is
 * decoded into an array of the same length and order, so arrival batching survives decoding.
 *
 * With `x: 'infer'` the first valid event fixes the shape of `x`; every subscription infers anew.
 *
 * @example
 * fromRecording('events.jsonl', { speed: 'max' }).pipe(decodeEvents({ x: { kind: 'vector', dim: 8 }, label: { classes: 2 } }))
 */
export function decodeEvents<I extends RawMessage | readonly RawMessage[]>(
  schema: EventSchema = {},
  options: DecodeEventsOptions = {},
): OperatorFunction<I, DecodedOf<I>> {
  validateSchema(schema);
  const sink = options.deadLetters;
  return operate<I, DecodedOf<I>>((out) => {
    const decoder = createEventDecoder(schema);
    const one = (m: RawMessage): Decoded => {
      const d = decoder.decode(m);
      if (sink && isDeadLetter(d)) sink.write(d);
      return d;
    };
    return {
      next(input) {
        if (Array.isArray(input)) out.next((input as readonly RawMessage[]).map(one) as DecodedOf<I>);
        else out.next(one(input as RawMessage) as DecodedOf<I>);
      },
    };
  });
}
