/**
 * kafkajs 2.2.4's producer, encoding the same bytes with less work: four of its internals are replaced in
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
 * - `protocol/requests/produce/v3/request.js` (which v4 to v7 wrap) then copies every record into its batch,
 *   every batch into the request, through encoders that grow by copying, and checksums byte by byte;
 * - `protocol/request.js` frames every request (consumer requests too) by copying it into a growing zeroed
 *   encoder and that into another: two more copies of every produce request.
 *
 * The replacements: grouping in one pass (same partitions, same order); a record encoder that sizes the
 * record once and writes it into one buffer of exactly that size (it takes the records kafkajs's producer
 * builds from a message: key and value null, a string or a Buffer, no headers, integer offset and timestamp
 * deltas; any other record, with headers or a `Long` delta, goes to kafkajs's own encoder unchanged); and a
 * Produce request that sizes the whole request first and writes every batch and record into one buffer, with a
 * CRC-32C four bytes a step (uncompressed requests of messages without timestamps or headers; any other
 * request is kafkajs's own); and a framing that sizes the frame once and copies the request once. All are held
 * to kafkajs's bytes and grouping by property tests (test/property/producerEncoding.test.ts).
 *
 * The module cache is patched only where kafkajs has not loaded the user of an internal yet
 * (`producer/sendMessages.js` captures the grouping when kafkajs is imported; `produce/v3/request.js` the
 * record encoder and `produce/v4/request.js` the v3 request on the first produce request,
 * `network/connection.js` the framing when kafkajs is imported), which {@link producerEncoding} reports.
 */
import { createRequire } from 'node:module';
import { replaceInternal } from './moduleCache.js';

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
const PRODUCE = 'kafkajs/src/protocol/requests/produce/v3/request.js';
/** The modules that capture RECORD, GROUP and PRODUCE when they load. */
const RECORD_USER = PRODUCE;
const GROUP_USER = 'kafkajs/src/producer/sendMessages.js';
const PRODUCE_USER = 'kafkajs/src/protocol/requests/produce/v4/request.js';
const FRAMING = 'kafkajs/src/protocol/request.js';
const FRAMING_USER = 'kafkajs/src/network/connection.js';

const EncoderClass = require('kafkajs/src/protocol/encoder.js') as { prototype: object };
const Long = require('kafkajs/src/utils/long.js') as {
  fromValue(v: unknown): { getHighBits(): number; getLowBits(): number };
};
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;
const PRODUCE_API_KEY = (require('kafkajs/src/protocol/requests/apiKeys.js') as { Produce: number }).Produce;

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

/** What kafkajs's producer passes to a Produce (v3 to v7) request. */
export interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: {
    topic: string;
    partitions: { partition: number; firstSequence?: number; messages: RecordArgs[] }[];
  }[];
}

/** A kafkajs request as its connection sends it. */
export interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<EncoderLike>;
}

type ProduceEncoder = (args: ProduceArgs) => ProduceRequest;

/**
 * The record encoder is replaced before kafkajs's Produce v3 request is loaded below (it captures the record
 * encoder when it loads), so the requests that go to kafkajs's own (compressed, with headers or timestamps)
 * encode their records with {@link encodeRecord} too.
 */
const recordInstalled = replaceInternal(RECORD, RECORD_USER, encodeRecord);

/** kafkajs's own Produce v3 request (v4 to v7 wrap it), as loaded. */
export const kafkajsProduce = require(PRODUCE) as ProduceEncoder;

/** Fixed bytes of a RecordBatch from its PartitionLeaderEpoch to its record count (Kafka's DefaultRecordBatch). */
const BATCH_HEADER = 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** Bytes the CRC covers start at Attributes: after PartitionLeaderEpoch, Magic and the CRC itself. */
const CRC_FROM = 4 + 1 + 4;
const TRANSACTIONAL = 16;
const MAGIC = 2;

/** The messages this encoder writes in one pass: no timestamp, no headers, key and value null, text or bytes. */
function plain(m: RecordArgs): boolean {
  const h = m.headers;
  return (
    (m as { timestamp?: unknown }).timestamp == null &&
    (h === undefined || (h !== null && typeof h === 'object' && Object.keys(h).length === 0)) &&
    plainPayload(m.key) &&
    plainPayload(m.value)
  );
}

/** What {@link bytesOf} takes, checked without measuring (a string's UTF-8 length is measured once, later). */
function plainPayload(v: unknown): boolean {
  return v === null || v === undefined || typeof v === 'string' || Buffer.isBuffer(v);
}

function writeInt64(buf: Buffer, at: number, v: unknown): number {
  const l = Long.fromValue(v);
  buf.writeInt32BE(l.getHighBits(), at);
  buf.writeInt32BE(l.getLowBits(), at + 4);
  return at + 8;
}

function writeString(buf: Buffer, at: number, s: string | null, n: number): number {
  if (s === null) return buf.writeInt16BE(-1, at);
  at = buf.writeInt16BE(n, at);
  buf.write(s, at, n, 'utf8');
  return at + n;
}

/** Record v0 of a plain message at offset delta i, timestamp delta 0, into buf at `at`: the new end. */
function writePlainRecord(
  buf: Buffer,
  at: number,
  i: number,
  key: unknown,
  kn: number,
  value: unknown,
  vn: number,
): number {
  const body =
    1 + 1 + sizeOfVarInt(i) + sizeOfVarInt(kn) + Math.max(kn, 0) + sizeOfVarInt(vn) + Math.max(vn, 0) + 1;
  at = writeVarInt(buf, at, body);
  buf[at++] = 0; // attributes
  buf[at++] = 0; // timestamp delta 0
  at = writeVarInt(buf, at, i);
  at = writeBytes(buf, at, key, kn);
  at = writeBytes(buf, at, value, vn);
  buf[at++] = 0; // no headers
  return at;
}

function plainRecordSize(i: number, kn: number, vn: number): number {
  const body =
    1 + 1 + sizeOfVarInt(i) + sizeOfVarInt(kn) + Math.max(kn, 0) + sizeOfVarInt(vn) + Math.max(vn, 0) + 1;
  return sizeOfVarInt(body) + body;
}

/**
 * The body of a Produce v3 request (`transactional_id acks timeout [topic [partition record_set]]`), byte for byte
 * kafkajs's for uncompressed requests of {@link plain} messages, sized once and written into one buffer: no
 * encoder per record, no copy of a record into its batch or of a batch into the request.
 */
function encodeProduce(args: ProduceArgs, now: number): EncoderLike {
  const { acks, timeout, topicData } = args;
  const transactionalId = args.transactionalId ?? null;
  const producerId = args.producerId ?? -1;
  const producerEpoch = args.producerEpoch ?? 0;
  const attributes = transactionalId ? TRANSACTIONAL : 0;
  // Pass 1: sizes (the byte lengths of keys and values are kept for pass 2).
  const lengths: number[] = [];
  const txnBytes = transactionalId === null ? 0 : Buffer.byteLength(transactionalId, 'utf8');
  let size = 2 + txnBytes + 2 + 4 + 4;
  for (const { topic, partitions } of topicData) {
    const tn = Buffer.byteLength(topic, 'utf8');
    lengths.push(tn);
    size += 2 + tn + 4;
    for (const { messages } of partitions) {
      let records = 0;
      for (let i = 0; i < messages.length; i++) {
        const kn = bytesOf(messages[i].key);
        const vn = bytesOf(messages[i].value);
        lengths.push(kn, vn);
        records += plainRecordSize(i, kn, vn);
      }
      lengths.push(records);
      size += 4 + 4 + 8 + 4 + BATCH_HEADER + records;
    }
  }
  // Pass 2: bytes.
  const buf = Buffer.allocUnsafe(size);
  let at = writeString(buf, 0, transactionalId, txnBytes);
  at = buf.writeInt16BE(acks, at);
  at = buf.writeInt32BE(timeout, at);
  at = buf.writeInt32BE(topicData.length, at);
  let l = 0;
  for (const { topic, partitions } of topicData) {
    at = writeString(buf, at, topic, lengths[l++]);
    at = buf.writeInt32BE(partitions.length, at);
    for (const { partition, firstSequence = 0, messages } of partitions) {
      const recordsAt = l + 2 * messages.length;
      const batch = BATCH_HEADER + lengths[recordsAt];
      at = buf.writeInt32BE(partition, at);
      at = buf.writeInt32BE(8 + 4 + batch, at);
      at = writeInt64(buf, at, 0); // first offset
      at = buf.writeInt32BE(batch, at);
      const start = at;
      at = buf.writeInt32BE(0, at); // partition leader epoch
      at = buf.writeInt8(MAGIC, at);
      at += 4; // CRC, once the bytes it covers are written
      at = buf.writeInt16BE(attributes, at);
      at = buf.writeInt32BE(messages.length - 1, at); // last offset delta
      at = writeInt64(buf, at, now); // first timestamp
      at = writeInt64(buf, at, now); // max timestamp
      at = writeInt64(buf, at, producerId);
      at = buf.writeInt16BE(producerEpoch, at);
      at = buf.writeInt32BE(firstSequence, at);
      at = buf.writeInt32BE(messages.length, at);
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i];
        at = writePlainRecord(buf, at, i, m.key, lengths[l], m.value, lengths[l + 1]);
        l += 2;
      }
      l++;
      buf.writeUInt32BE(crc32c(buf, start + CRC_FROM, at), start + CRC_FROM - 4);
    }
  }
  const e = Object.create(exactProto) as EncoderLike;
  e.buf = buf;
  e.offset = at;
  return e;
}

/**
 * Produce v3 as kafkajs builds it (v4 to v7 wrap it): the one-pass {@link encodeProduce} for uncompressed
 * requests of plain messages, kafkajs's own request for anything else (compression, timestamps, headers).
 */
export function produceRequest(args: ProduceArgs): ProduceRequest {
  const compression = args.compression ?? 0;
  if (
    compression !== 0 ||
    !args.topicData.every((t) => t.partitions.every((p) => p.messages.length > 0 && p.messages.every(plain)))
  ) {
    return kafkajsProduce(args);
  }
  return {
    apiKey: PRODUCE_API_KEY,
    apiVersion: 3,
    apiName: 'Produce',
    expectResponse: () => args.acks !== 0,
    encode: () => Promise.resolve(encodeProduce(args, Date.now())),
  };
}

/** CRC-32C (Castagnoli) table, as kafkajs's (reflected polynomial 0x82F63B78), and its slicing-by-4 extension. */
const CRC_TABLES = ((): Int32Array[] => {
  const t = [new Int32Array(256), new Int32Array(256), new Int32Array(256), new Int32Array(256)];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[0][n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 4; k++) t[k][n] = t[0][t[k - 1][n] & 0xff] ^ (t[k - 1][n] >>> 8);
  }
  return t;
})();

/** CRC-32C of buf[from, to): kafkajs's checksum (held to it by a property test), four bytes a step. */
export function crc32c(buf: Uint8Array, from = 0, to = buf.length): number {
  const [t0, t1, t2, t3] = CRC_TABLES;
  let crc = -1;
  let i = from;
  for (; i + 4 <= to; i += 4) {
    crc ^= buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    crc = t3[crc & 0xff] ^ t2[(crc >>> 8) & 0xff] ^ t1[(crc >>> 16) & 0xff] ^ t0[crc >>> 24];
  }
  for (; i < to; i++) crc = t0[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** kafkajs's CRC-32C, as loaded (the reference the property tests compare with). */
export { kafkajsCrc32C };

/** What kafkajs's connection passes to its request framing (kafkajs/src/protocol/request.js). */
export interface FramingArgs {
  correlationId: number;
  clientId: string | null | undefined;
  request: { apiKey: number; apiVersion: number; encode: () => Promise<EncoderLike> | EncoderLike };
}

type RequestFraming = (args: FramingArgs) => Promise<EncoderLike>;

/** kafkajs's own request framing, as loaded (the reference the property tests compare with). */
export const kafkajsFrameRequest = require(FRAMING) as RequestFraming;

/**
 * Any request (fetches, heartbeats, produce requests) framed as kafkajs frames it: size, api key and
 * version, correlation id, client id, then the encoded request. kafkajs writes the request into a growing
 * zero-filled Encoder and then all of that into another (two copies of every produce request, two
 * allocations per doubling); here the frame is sized once and the request copied once.
 */
export async function frameRequest({ correlationId, clientId, request }: FramingArgs): Promise<EncoderLike> {
  const body = (await request.encode()).buffer;
  const idBytes = clientId == null ? -1 : Buffer.byteLength(clientId, 'utf8');
  const head = 14 + Math.max(0, idBytes);
  const buf = Buffer.allocUnsafe(head + body.length);
  buf.writeInt32BE(head - 4 + body.length, 0);
  buf.writeInt16BE(request.apiKey, 4);
  buf.writeInt16BE(request.apiVersion, 6);
  buf.writeInt32BE(correlationId, 8);
  buf.writeInt16BE(idBytes, 12);
  if (idBytes > 0) buf.write(clientId!, 14, 'utf8');
  body.copy(buf, head);
  const e = Object.create(exactProto) as EncoderLike;
  e.buf = buf;
  e.offset = buf.length;
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
  produce: boolean;
  /** The framing of every request on the connection, consumer requests too. */
  framing: boolean;
}

const installed: ProducerEncoding = {
  record: recordInstalled,
  grouping: replaceInternal(GROUP, GROUP_USER, groupMessagesPerPartition),
  produce: replaceInternal(PRODUCE, PRODUCE_USER, produceRequest),
  framing: replaceInternal(FRAMING, FRAMING_USER, frameRequest),
};

/** Whether kafkajs's producer uses the replacements (false when kafkajs loaded their users before this module). */
export function producerEncoding(): ProducerEncoding {
  return { ...installed };
}
