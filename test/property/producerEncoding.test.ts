/**
 * src/streams/kafka/producerEncoding.ts replaces two kafkajs producer internals: each must give what kafkajs's
 * own gives, bit for bit (records) and partition for partition, message for message (grouping), over the
 * arguments kafkajs passes them and over the ones the record encoder hands back to kafkajs's.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  encodeRecord,
  groupMessagesPerPartition,
  kafkajsGroupMessages,
  kafkajsRecord,
  producerEncoding,
  type RecordArgs,
} from '../../src/streams/kafka/producerEncoding.js';
import { createKafka } from '../../src/streams/kafka/client.js';

const require = createRequire(import.meta.url);

/** Keys and values: null, text (any code points, lone surrogates included), or bytes. */
const payload = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
);

/** Deltas at the edges of every varint length, of the exact-double range and beyond it. */
const delta = fc.oneof(
  fc.integer({ min: -300, max: 300 }),
  fc.integer(),
  fc.constantFrom(63, 64, 8191, 8192, 2 ** 31 - 1, -(2 ** 31), 2 ** 35, 2 ** 51, -(2 ** 51), 2 ** 51 + 2),
  fc.maxSafeInteger(),
  fc.integer({ min: -(2 ** 20), max: 2 ** 20 }).map((k) => k * 2 ** 30),
);

const record = fc.record(
  {
    offsetDelta: fc.oneof(fc.nat(100_000), fc.constantFrom(0x3fffffff, 0x40000000, 2 ** 31 - 1)),
    timestampDelta: delta,
    key: payload,
    value: payload,
    headers: fc.oneof(
      fc.constant(undefined),
      fc.constant({}),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    ),
  },
  { requiredKeys: ['value'] },
);

const bytes = (args: RecordArgs, f: (a: RecordArgs) => { buffer: Buffer }): string =>
  f(args).buffer.toString('hex');

describe('producerEncoding', () => {
  it('is in force once the client module is loaded (kafkajs loaded after it)', () => {
    expect(createKafka).toBeTypeOf('function');
    expect(producerEncoding()).toEqual({ record: true, grouping: true });
    expect(require('kafkajs/src/protocol/recordBatch/record/v0/index.js')).toBe(encodeRecord);
    expect(require('kafkajs/src/producer/groupMessagesPerPartition.js')).toBe(groupMessagesPerPartition);
  });

  it("encodes every record byte for byte as kafkajs's Record v0", () => {
    fc.assert(
      fc.property(record, (args) => {
        expect(bytes(args, encodeRecord)).toBe(bytes(args, kafkajsRecord));
      }),
      { numRuns: 3000 },
    );
  });

  it('writes exactly the bytes it sized (no slack, no overrun) for the records it takes', () => {
    fc.assert(
      fc.property(record, (args) => {
        fc.pre(Math.abs(args.timestampDelta ?? 0) <= 2 ** 51 && (args.offsetDelta ?? 0) <= 0x3fffffff);
        const e = encodeRecord({ ...args, headers: undefined });
        expect(e.buffer).toBe(e.buf);
        expect(e.offset).toBe(e.buf.length);
      }),
    );
  });

  it("hands what it does not take (headers, Long deltas, other types) to kafkajs's encoder, errors included", () => {
    const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };
    const long = { timestampDelta: Long.fromNumber(12345), value: 'v' };
    expect(bytes(long, encodeRecord)).toBe(bytes(long, kafkajsRecord));
    const withHeaders = { value: 'v', headers: { a: ['1', '2'], b: Buffer.from('x') } };
    expect(bytes(withHeaders, encodeRecord)).toBe(bytes(withHeaders, kafkajsRecord));
    expect(() => encodeRecord({ value: 5 })).toThrow(TypeError);
    expect(() => kafkajsRecord({ value: 5 })).toThrow(TypeError);
  });

  it('groups messages by partition as kafkajs does, in message order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(5), { maxLength: 600 }),
        fc.array(fc.constant({}), { maxLength: 3 }),
        (partitions, partitionMetadata) => {
          const messages = partitions.map((partition, i) => ({ i, partition }));
          const args = {
            topic: 't',
            partitionMetadata,
            messages,
            partitioner: ({ message }: { message: unknown }) => (message as { partition: number }).partition,
          };
          const ours = groupMessagesPerPartition(args);
          expect(Object.keys(ours)).toEqual(Object.keys(kafkajsGroupMessages(args)));
          expect(ours).toEqual(kafkajsGroupMessages(args));
        },
      ),
    );
  });
});
