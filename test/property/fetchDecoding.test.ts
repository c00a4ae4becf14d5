/**
 * src/streams/kafka/fetchDecoding.ts replaces kafkajs's Record v0 decoder: over records kafkajs's own encoder
 * writes (headers, null keys, deltas of every varint length) and batch headers of every kind (offsets and
 * timestamps past 2^53, log-append time, control batches), it must return what kafkajs's decoder returns and
 * leave the decoder where kafkajs's leaves it.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKafka } from '../../src/streams/kafka/client.js';
import { record } from './kafkaRecords.js';
import {
  decodeRecord,
  fetchDecoding,
  kafkajsRecordDecoder,
  recordFallbacks,
  type DecoderLike,
  type RecordBatchContext,
} from '../../src/streams/kafka/fetchDecoding.js';
import { kafkajsRecord, type RecordArgs } from '../../src/streams/kafka/producerEncoding.js';

const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => DecoderLike;

/** int64 values as kafkajs prints them: small, near 2^53, and at the ends of the range. */
const int64 = fc
  .oneof(
    fc.bigInt({ min: -1n, max: 10n ** 13n }),
    fc.bigInt({ min: 2n ** 53n - 1000n, max: 2n ** 53n + 1000n }),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  )
  .map(String);

const batchContext = fc.record(
  {
    firstOffset: int64,
    firstTimestamp: fc.oneof(int64, fc.constant('-1')),
    magicByte: fc.constant(2),
    isControlBatch: fc.boolean(),
    timestampType: fc.constantFrom(-1, 0, 1),
    maxTimestamp: fc.oneof(int64, fc.constant('')),
    inTransaction: fc.boolean(),
  },
  { requiredKeys: ['firstOffset', 'firstTimestamp', 'magicByte'] },
);

/** The record's bytes as the batch decoder hands them over: without the length prefix, after `pad` bytes. */
function recordBytes(args: RecordArgs, pad: Uint8Array): { buffer: Buffer; start: number } {
  const encoded = (kafkajsRecord(args) as { buffer: Buffer }).buffer;
  const outer = new Decoder(encoded);
  const body = outer.readVarIntBytes()!;
  return { buffer: Buffer.concat([pad, body]), start: pad.length };
}

function decodeBoth(
  args: RecordArgs,
  ctx: RecordBatchContext,
  pad: Uint8Array,
): { ours: unknown; theirs: unknown; ourOffset: number; theirOffset: number } {
  const { buffer, start } = recordBytes(args, pad);
  const a = new Decoder(buffer);
  a.offset = start;
  const b = new Decoder(buffer);
  b.offset = start;
  const ours = decodeRecord(a, ctx);
  const theirs = kafkajsRecordDecoder(b, ctx);
  return { ours, theirs, ourOffset: a.offset, theirOffset: b.offset };
}

describe('fetchDecoding', () => {
  it('is in force once the client module is loaded (kafkajs loaded after it)', () => {
    expect(createKafka).toBeTypeOf('function');
    expect(fetchDecoding()).toEqual({ record: true });
    expect(require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js')).toBe(decodeRecord);
  });

  it("decodes every record as kafkajs's Record v0 decoder, and reads exactly its bytes", () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 6 }),
        fc.array(batchContext, { minLength: 1, maxLength: 2 }),
        fc.uint8Array({ maxLength: 3 }),
        (records, contexts, pad) => {
          // Records of one batch share its context object (the decoder keeps the last one's numbers).
          records.forEach((args, i) => {
            const ctx = contexts[i % contexts.length];
            const r = decodeBoth(args, ctx, pad);
            expect(r.ours).toEqual(r.theirs);
            expect((r.ours as { batchContext: unknown }).batchContext).toBe(ctx);
            expect(r.ourOffset).toBe(r.theirOffset);
          });
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('takes the records a plain producer writes without falling back to kafkajs', () => {
    const before = recordFallbacks();
    const ctx = { firstOffset: '41000', firstTimestamp: '1700000000000', magicByte: 2, timestampType: 0 };
    for (const args of [
      { offsetDelta: 0, timestampDelta: 0, key: null, value: '{"id":"e0"}' },
      { offsetDelta: 499, timestampDelta: 12_345, key: 'k', value: Buffer.from([1, 2, 3]) },
      { offsetDelta: 7, timestampDelta: -3, key: null, value: null, headers: {} },
    ]) {
      const r = decodeBoth(args, ctx, new Uint8Array(0));
      expect(r.ours).toEqual(r.theirs);
      const { buffer } = recordBytes(args, new Uint8Array(0));
      const spy = new Decoder(buffer);
      const decoded = decodeRecord(spy, ctx);
      expect(decoded.offset).toBe(String(41000 + args.offsetDelta));
      expect(decoded.timestamp).toBe(String(1700000000000 + args.timestampDelta));
    }
    expect(recordFallbacks()).toBe(before);
    // And a record with headers is kafkajs's to decode.
    decodeBoth(
      { offsetDelta: 1, timestampDelta: 0, value: 'v', headers: { h: 'x' } },
      ctx,
      new Uint8Array(0),
    );
    expect(recordFallbacks()).toBe(before + 1);
  });
});
