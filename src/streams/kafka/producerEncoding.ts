/**
 * kafkajs 2.2.4's producer, encoding the same bytes with less work: two of its internals are replaced in
 * Node's module cache before kafkajs loads them (this module is client.ts's first import).
 *
 * Why: profiling `run --output-topic` showed about a quarter of the process's CPU inside kafkajs's produce
 * request encoding, almost all of it per record, and not in the bytes themselves:
 * - `producer/groupMessagesPerPartition.js` groups a send's messages by partition with
 *   `[...current, message]` for every message: time quadratic in the messages per partition of one send
 *   (a request of 500 records copies 125,000 array slots);
 * - `protocol/recordBatch/record/v0/index.js` encodes each record through a fresh `Encoder` (a zeroed
 *   512-byte buffer), each varint through `Buffer.from([...])`, and the record's length through 64-bit `Long`
 *   arithmetic: about 6 µs per record on this project's machine.
 *
 * The replacements: grouping in one pass (same partitions, same order), and a record encoder that sizes the
 * record once and writes it into one buffer of exactly that size. It takes the records kafkajs's producer
 * builds from a message (key and value null, a string or a Buffer, no headers, integer offset and timestamp
 * deltas); any other record (headers, a `Long` delta) goes to kafkajs's own encoder unchanged. Both are held to
 * kafkajs's bytes and grouping by property tests (test/property/producerEncoding.test.ts).
 *
 * The module cache is patched only where kafkajs has not loaded the user of an internal yet
 * (`producer/sendMessages.js` captures the grouping when kafkajs is imported; `produce/v3/request.js` the
 * record encoder on the first produce request), which {@link producerEncoding} reports.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A kafkajs `Encoder` as RecordBatch reads a record's: its buffer and the bytes written. */
interface EncoderLike {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
}

/** What kafkajs's produce request passes to Record v0 for each message. */
export interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key?: unknown;
  value?: unknown;
  headers?: unknown;
  [other: string]: unknown;
}

type RecordEncoder = (args: RecordArgs) => EncoderLike;

interface GroupArgs {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (a: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
}

type GroupMessages = (args: GroupArgs) => Record<string, unknown[]>;

const RECORD = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const GROUP = 'kafkajs/src/producer/groupMessagesPerPartition.js';
/** The modules that capture RECORD and GROUP when they load. */
const RECORD_USER = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const GROUP_USER = 'kafkajs/src/producer/sendMessages.js';

const EncoderClass = require('kafkajs/src/protocol/encoder.js') as { prototype: object };

/** kafkajs's own record encoder and grouping, as loaded (the reference the property tests compare with). */
export const kafkajsRecord = require(RECORD) as RecordEncoder;
export const kafkajsGroupMessages = require(GROUP) as GroupMessages;

/** An encoder whose buffer is exactly the record (no copy when the batch reads it). */
const exactProto: object = Object.create(EncoderClass.prototype, {
  buffer: {
    get(this: EncoderLike): Buffer {
      return this.offset === this.buf.length ? this.buf : this.buf.subarray(0, this.offset);
    },
  },
});

/** Bytes of kafkajs's `writeVarInt(v)`: zig-zag over 32 bits, then unsigned LEB128. */
function sizeOfVarInt(v: number): number {
  let u = (v << 1) ^ (v >> 31);
  let bytes = 1;
  while ((u & 0xffffff80) !== 0) {
    bytes++;
    u >>>= 7;
  }
  return bytes;
}

function writeVarInt(buf: Buffer, at: number, v: number): number {
  let u = (v << 1) ^ (v >> 31);
  while ((u & 0xffffff80) !== 0) {
    buf[at++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[at++] = u & 0x7f;
  return at;
}

/** Largest |delta| whose 64-bit zig-zag (2|d| or 2|d| − 1) is an exact double. */
const SAFE_DELTA = 2 ** 51;

/** Zig-zag of a 64-bit integer given as an exact double with |d| ≤ 2^51. */
function zigZag64(d: number): number {
  return d >= 0 ? 2 * d : -2 * d - 1;
}

function sizeOfVarLong(d: number): number {
  let z = zigZag64(d);
  let bytes = 1;
  while (z >= 128) {
    bytes++;
    z = Math.floor(z / 128);
  }
  return bytes;
}

function writeVarLong(buf: Buffer, at: number, d: number): number {
  let z = zigZag64(d);
  while (z >= 128) {
    buf[at++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[at++] = z;
  return at;
}

/** Byte length of a key or value as kafkajs writes it (−1 for null), or NaN when this encoder does not take it. */
function bytesOf(v: unknown): number {
  if (v === null || v === undefined) return -1;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (Buffer.isBuffer(v)) return v.length;
  return NaN;
}

function writeBytes(buf: Buffer, at: number, v: unknown, n: number): number {
  at = writeVarInt(buf, at, n);
  if (n <= 0) return at;
  if (typeof v === 'string') buf.write(v, at, n, 'utf8');
  else (v as Buffer).copy(buf, at);
  return at + n;
}

/**
 * Record v0 (`Length Attributes TimestampDelta OffsetDelta Key Value Headers`, Kafka's DefaultRecord), byte for
 * byte what kafkajs writes for the same arguments.
 */
export function encodeRecord(args: RecordArgs): EncoderLike {
  const { offsetDelta = 0, timestampDelta = 0, key, value, headers } = args;
  const noHeaders =
    headers === undefined ||
    (headers !== null && typeof headers === 'object' && Object.keys(headers).length === 0);
  const keyBytes = bytesOf(key);
  const valueBytes = bytesOf(value);
  if (
    !noHeaders ||
    typeof timestampDelta !== 'number' ||
    !Number.isInteger(timestampDelta) ||
    Math.abs(timestampDelta) > SAFE_DELTA ||
    !Number.isInteger(offsetDelta) ||
    Math.abs(offsetDelta) > 0x3fffffff ||
    Number.isNaN(keyBytes) ||
    Number.isNaN(valueBytes)
  ) {
    return kafkajsRecord(args);
  }
  const body =
    1 +
    sizeOfVarLong(timestampDelta) +
    sizeOfVarInt(offsetDelta) +
    sizeOfVarInt(keyBytes) +
    Math.max(keyBytes, 0) +
    sizeOfVarInt(valueBytes) +
    Math.max(valueBytes, 0) +
    1; // zero headers
  const size = sizeOfVarInt(body) + body;
  const buf = Buffer.allocUnsafe(size);
  let at = writeVarInt(buf, 0, body);
  buf[at++] = 0; // attributes
  at = writeVarLong(buf, at, timestampDelta);
  at = writeVarInt(buf, at, offsetDelta);
  at = writeBytes(buf, at, key, keyBytes);
  at = writeBytes(buf, at, value, valueBytes);
  buf[at++] = 0; // headers: varint 0
  const e = Object.create(exactProto) as EncoderLike;
  e.buf = buf;
  e.offset = at;
  return e;
}

/** kafkajs's grouping of a send's messages by partition, in one pass: same partitions, same message order. */
export function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: GroupArgs): Record<string, unknown[]> {
  if (partitionMetadata.length === 0) return {};
  const result: Record<string, unknown[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

/** Which replacement is in force for kafkajs's producer in this process. */
export interface ProducerEncoding {
  record: boolean;
  grouping: boolean;
}

function replace(id: string, user: string, fn: unknown): boolean {
  if (require.cache[require.resolve(user)] !== undefined) return false;
  const entry = require.cache[require.resolve(id)];
  if (entry === undefined) return false;
  entry.exports = fn;
  return true;
}

const installed: ProducerEncoding = {
  record: replace(RECORD, RECORD_USER, encodeRecord),
  grouping: replace(GROUP, GROUP_USER, groupMessagesPerPartition),
};

/** Whether kafkajs's producer uses the replacements (false when kafkajs loaded their users before this module). */
export function producerEncoding(): ProducerEncoding {
  return { ...installed };
}
