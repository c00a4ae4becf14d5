/**
 * kafkajs 2.2.4's consumer, decoding the same records with less work: its Record v0 decoder is replaced in
 * Node's module cache before kafkajs loads it (this module is client.ts's first import, beside
 * producerEncoding.ts).
 *
 * Why: profiling `run` showed kafkajs's record decoding as the largest cost after JSON parsing, and most of
 * it 64-bit `Long` arithmetic on every record: the timestamp delta is read as a varlong through a `Long` per
 * byte, and the record's offset and timestamp are each computed as `Long.fromValue(string).add(delta)` and
 * printed back with `Long.toString`, about fifteen short-lived objects and two decimal conversions a record.
 *
 * The replacement reads the same bytes in the same order and returns the same record: the deltas as plain
 * numbers and the offset and timestamp as decimal strings of exact integer sums, whenever every value involved
 * is a safe integer (|n| < 2^53: offsets and millisecond timestamps always are); a record with headers, a
 * timestamp delta of more than 7 varint bytes or anything outside that is decoded by kafkajs's own decoder
 * from its first byte. Held to kafkajs's decoder, record for record and byte offset for byte offset, by the
 * property tests in test/property/fetchDecoding.test.ts.
 *
 * The module cache is patched only if kafkajs has not loaded the record decoder's user
 * (`protocol/recordBatch/v0/decoder.js`, loaded when kafkajs is imported) yet; {@link fetchDecoding}
 * reports whether it is in force. `STREAMNORM_KAFKAJS_STOCK=1` keeps kafkajs's own.
 */
import { createRequire } from 'node:module';
import { replaceInternal } from './moduleCache.js';

const require = createRequire(import.meta.url);

/** The part of a kafkajs `Decoder` a record is read through. */
export interface DecoderLike {
  buffer: Buffer;
  offset: number;
  readVarInt(): number;
  readVarIntBytes(): Buffer | null;
}

/** What kafkajs's RecordBatch decoder passes to the record decoder: the batch's header fields. */
export interface RecordBatchContext {
  firstOffset?: string;
  firstTimestamp?: string;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: string;
  [other: string]: unknown;
}

/** A record as kafkajs's consumer receives it. */
export interface DecodedRecord {
  magicByte: number | undefined;
  attributes: number;
  timestamp: string | undefined;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, unknown>;
  isControlRecord: boolean;
  batchContext: RecordBatchContext;
}

type RecordDecoder = (decoder: DecoderLike, batchContext?: RecordBatchContext) => DecodedRecord;

const RECORD = 'kafkajs/src/protocol/recordBatch/record/v0/decoder.js';
/** The module that captures RECORD when it loads. */
const RECORD_USER = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';

/** kafkajs's own record decoder, as loaded (the fallback, and the reference the property tests compare with). */
export const kafkajsRecordDecoder = require(RECORD) as RecordDecoder;
const LOG_APPEND_TIME = (require('kafkajs/src/protocol/timestampTypes.js') as { LOG_APPEND_TIME: number })
  .LOG_APPEND_TIME;

/** The batch the last record came from, and its first offset and timestamp as numbers (NaN: not safe). */
let lastBatch: RecordBatchContext | null = null;
let baseOffset = NaN;
let baseTimestamp = NaN;

function safeInteger(s: string | undefined): number {
  if (typeof s !== 'string') return NaN;
  const n = Number(s);
  return Number.isSafeInteger(n) && String(n) === s ? n : NaN;
}

/** kafkajs's Record v0 decoder without `Long` (see the module comment); same arguments, same result. */
export function decodeRecord(decoder: DecoderLike, batchContext: RecordBatchContext = {}): DecodedRecord {
  const { magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
  if (batchContext !== lastBatch) {
    lastBatch = batchContext;
    baseOffset = safeInteger(batchContext.firstOffset);
    baseTimestamp = safeInteger(batchContext.firstTimestamp);
  }
  const buf = decoder.buffer;
  const start = decoder.offset;
  // kafkajs reads the attributes with Buffer#readInt8, which throws past the end: its decoder reports that.
  if (start >= buf.length) return fallback(decoder, start, batchContext);
  let o = start;
  const attributes = (buf[o++] << 24) >> 24;

  // TimestampDelta: a zigzag varlong, read as a number while it fits in 7 bytes (49 bits).
  let raw = 0;
  let scale = 1;
  let byte: number;
  let bytes = 0;
  do {
    if (bytes === 7) return fallback(decoder, start, batchContext);
    byte = buf[o++];
    raw += (byte & 0x7f) * scale;
    scale *= 128;
    bytes++;
  } while (byte >= 0x80);
  const timestampDelta = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;

  let timestamp: string | undefined;
  if (timestampType === LOG_APPEND_TIME && maxTimestamp) {
    timestamp = maxTimestamp;
  } else {
    const t = baseTimestamp + timestampDelta;
    if (!Number.isSafeInteger(t)) return fallback(decoder, start, batchContext);
    timestamp = String(t);
  }

  decoder.offset = o;
  const offsetDelta = decoder.readVarInt();
  const offsetSum = baseOffset + offsetDelta;
  if (!Number.isSafeInteger(offsetSum)) return fallback(decoder, start, batchContext);
  const key = decoder.readVarIntBytes();
  const value = decoder.readVarIntBytes();
  // Headers: an empty array (varint 0) here; any other count is kafkajs's to read.
  if (decoder.buffer[decoder.offset] !== 0) return fallback(decoder, start, batchContext);
  decoder.offset++;

  return {
    magicByte,
    attributes,
    timestamp,
    offset: String(offsetSum),
    key,
    value,
    headers: {},
    isControlRecord: isControlBatch,
    batchContext,
  };
}

/** Records handed to kafkajs's decoder so far in this process (for tests: the fast path must be the usual one). */
let fallbacks = 0;

export function recordFallbacks(): number {
  return fallbacks;
}

function fallback(decoder: DecoderLike, start: number, batchContext: RecordBatchContext): DecodedRecord {
  fallbacks++;
  decoder.offset = start;
  return kafkajsRecordDecoder(decoder, batchContext);
}

const installed = replaceInternal(RECORD, RECORD_USER, decodeRecord);

/** Whether kafkajs's consumer decodes records with {@link decodeRecord} in this process. */
export function fetchDecoding(): { record: boolean } {
  return { record: installed };
}
