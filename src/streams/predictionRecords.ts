/**
 * The records `runLivePipeline` publishes: one per event, all variants together, keyed by the event id.
 * The JSON text is written directly, without building a record object per event and stringifying it:
 * it is byte for byte what `JSON.stringify` gives for a {@link PredictionRecord} (property tests hold it to
 * that), at a fraction of the allocations.
 */
import type { PrequentialResult } from './prequential.js';
import { TWO_DIGITS, writeEightDigits, writeShortestUnit } from './shortestDigits.js';
import type { OutgoingMessage } from './toKafka.js';

/** The value of a prediction record: the event's id and time, its origin and every variant's prediction. */
export interface PredictionRecord {
  id: string;
  ts: number;
  topic: string;
  partition: number;
  offset: string;
  y?: number;
  predictions: Record<string, { predicted: number; proba?: number[] }>;
}

/**
 * Slabs the batches' bytes are cut from, one after the other and never written again: a batch's record views
 * keep their slab alive until the producer lets go of them. One allocation per slab (about 1,300 records)
 * instead of one per batch (a batch of 32 needed 8 KB, past Buffer's pool, so each was a fresh ArrayBuffer).
 */
const SLAB_BYTES = 256 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

/** The decimal digits of an integer 0 ≤ n < 10^8 at `pos`; returns the position after them. */
function writeDigits(buf: Uint8Array, pos: number, n: number): number {
  let m = n | 0;
  const end =
    pos +
    (m < 10 ? 1 : m < 100 ? 2 : m < 1e3 ? 3 : m < 1e4 ? 4 : m < 1e5 ? 5 : m < 1e6 ? 6 : m < 1e7 ? 7 : 8);
  let at = end;
  while (m >= 100) {
    const d = m % 100;
    m = (m - d) / 100;
    buf[--at] = TWO_DIGITS[2 * d + 1];
    buf[--at] = TWO_DIGITS[2 * d];
  }
  if (m >= 10) {
    buf[--at] = TWO_DIGITS[2 * m + 1];
    buf[--at] = TWO_DIGITS[2 * m];
  } else {
    buf[--at] = 0x30 + m;
  }
  return end;
}

/**
 * The bytes of one batch's records, written once: no string per record to build, flatten and encode again in
 * the producer. Each record's value is a view of this buffer.
 */
class RecordBytes {
  buf: Buffer;
  pos = 0;
  /** Whether `buf` is the free tail of the current slab (until a batch outgrows it). */
  private inSlab: boolean;

  /** `records`: how many records the batch has (a record of one variant is about 200 bytes). */
  constructor(records: number) {
    const want = Math.max(1024, records * 256);
    this.inSlab = want <= SLAB_BYTES / 4;
    if (!this.inSlab) {
      this.buf = Buffer.allocUnsafe(want);
      return;
    }
    if (SLAB_BYTES - slabUsed < want) {
      slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      slabUsed = 0;
    }
    this.buf = slab.subarray(slabUsed);
  }

  /** The batch is written: the next one starts after it. */
  done(): void {
    if (this.inSlab) slabUsed += this.pos;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
    this.inSlab = false;
  }

  /** Text known to be ASCII (the JSON punctuation, numbers, escaped JSON). */
  ascii(s: string): void {
    this.room(s.length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
    this.pos = pos;
  }

  /** Any text, as UTF-8. */
  utf8(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** Bytes written before (e.g. a variant's quoted name, encoded once per batch). */
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Bytes [from, from + length) of this buffer, again. */
  again(from: number, length: number): void {
    this.room(length);
    this.buf.copyWithin(this.pos, from, from + length);
    this.pos += length;
  }

  /**
   * A number as JSON.stringify writes it (non-finite numbers become null). A safe integer (a timestamp, a
   * partition, a class) is written digit by digit: `String` takes a double's shortest-digits path for it,
   * about 270 ns for a millisecond timestamp. A probability in [1e-5, 1) goes through writeShortestUnit.
   */
  num(n: number): void {
    if (!Number.isSafeInteger(n)) {
      this.room(24);
      const end = writeShortestUnit(n, this.buf, this.pos); // a probability, without String
      if (end >= 0) this.pos = end;
      else this.ascii(Number.isFinite(n) ? String(n) : 'null');
      return;
    }
    this.room(17); // 2^53 has 16 digits, and a sign
    const buf = this.buf;
    if (n < 0) {
      buf[this.pos++] = 0x2d;
      n = -n;
    }
    if (n < 1e8) {
      this.pos = writeDigits(buf, this.pos, n);
      return;
    }
    // n = high · 10^8 + low, both int32: the high digits, then the low ones padded to 8.
    const high = Math.floor(n / 1e8);
    const end = writeDigits(buf, this.pos, high) + 8;
    writeEightDigits(buf, end, n - high * 1e8);
    this.pos = end;
  }

  /**
   * A string as JSON.stringify writes it. Ids and offsets almost never hold a quote, a backslash, a control
   * character or a surrogate (which JSON.stringify escapes), so those are quoted as they are after one scan,
   * and an ASCII one is copied without the UTF-8 encoder.
   */
  str(s: string): void {
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
        this.utf8(JSON.stringify(s));
        return;
      }
      if (c > 0x7f) ascii = false;
    }
    this.room(2);
    this.buf[this.pos++] = 0x22;
    if (ascii) this.ascii(s);
    else this.utf8(s);
    this.room(1);
    this.buf[this.pos++] = 0x22;
  }
}

/** One prediction record per event of the batch, in batch order; key = event id, value = the record's UTF-8 JSON. */
export function predictionRecords(r: PrequentialResult): OutgoingMessage[] {
  const n = r.envelopes.length;
  const out: OutgoingMessage[] = new Array(n);
  // Variants in the order an object keyed by their names lists them (integer-like names first, as JavaScript
  // orders keys), with their quoted names, once per batch.
  const index = new Map(r.variants.map((v, i) => [v.variant, i]));
  const variants = Object.keys(Object.fromEntries(r.variants.map((v) => [v.variant, 0]))).map(
    (name) => r.variants[index.get(name)!],
  );
  const names = variants.map((v) => Buffer.from(`${JSON.stringify(v.variant)}:{"predicted":`, 'utf8'));
  const w = new RecordBytes(n * variants.length);
  const ends = new Array<number>(n);
  // `,"topic":…,"partition":…,"offset":` of the last record: records of one partition come in runs.
  let topic: string | null = null;
  let partition = NaN;
  let originStart = 0;
  let originEnd = 0;
  for (let j = 0; j < n; j++) {
    const { event, origin } = r.envelopes[j];
    w.ascii('{"id":');
    w.str(event.id);
    w.ascii(',"ts":');
    w.num(event.ts);
    if (origin.topic === topic && origin.partition === partition) {
      // The same origin as the record before: its bytes again.
      w.again(originStart, originEnd - originStart);
    } else {
      topic = origin.topic;
      partition = origin.partition;
      originStart = w.pos;
      w.ascii(',"topic":');
      w.str(topic);
      w.ascii(',"partition":');
      w.num(partition);
      w.ascii(',"offset":');
      originEnd = w.pos;
    }
    w.str(origin.offset);
    w.ascii(',"predictions":{');
    let first = true;
    for (let v = 0; v < variants.length; v++) {
      const p = variants[v].predictions[j];
      if (!p) continue;
      if (!first) w.ascii(',');
      first = false;
      w.bytes(names[v]);
      w.num(p.predicted);
      if (p.proba) {
        w.ascii(',"proba":[');
        const proba = p.proba;
        for (let k = 0; k < proba.length; k++) {
          if (k > 0) w.ascii(',');
          w.num(proba[k]);
        }
        w.ascii(']');
      }
      w.ascii('}');
    }
    w.ascii('}');
    if (event.y !== undefined) {
      w.ascii(',"y":');
      w.num(event.y);
    }
    w.ascii('}');
    ends[j] = w.pos;
  }
  // Views only now: the buffer may have grown (and moved) while writing.
  w.done();
  let start = 0;
  for (let j = 0; j < n; j++) {
    out[j] = { key: r.envelopes[j].event.id, value: w.buf.subarray(start, ends[j]) };
    start = ends[j];
  }
  return out;
}
