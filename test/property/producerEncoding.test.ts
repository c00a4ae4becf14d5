/**
 * src/streams/kafka/producerEncoding.ts replaces two kafkajs producer internals: each must give what kafkajs's
 * own gives, bit for bit (records) and partition for partition, message for message (grouping), over the
 * arguments kafkajs passes them and over the ones the record encoder hands back to kafkajs's.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import {
  crc32c,
  encodeRecord,
  frameRequest,
  groupMessagesPerPartition,
  kafkajsFrameRequest,
  kafkajsCrc32C,
  kafkajsGroupMessages,
  kafkajsProduce,
  kafkajsRecord,
  produceRequest,
  producerEncoding,
  type ProduceArgs,
  type RecordArgs,
} from '../../src/streams/kafka/producerEncoding.js';
import { createKafka } from '../../src/streams/kafka/client.js';
import { record } from './kafkaRecords.js';

const require = createRequire(import.meta.url);

const bytes = (args: RecordArgs, f: (a: RecordArgs) => { buffer: Buffer }): string =>
  f(args).buffer.toString('hex');

describe('producerEncoding', () => {
  it('is in force once the client module is loaded (kafkajs loaded after it)', () => {
    expect(createKafka).toBeTypeOf('function');
    expect(producerEncoding()).toEqual({ record: true, grouping: true, produce: true, framing: true });
    expect(require('kafkajs/src/protocol/request.js')).toBe(frameRequest);
    expect(require('kafkajs/src/protocol/requests/produce/v3/request.js')).toBe(produceRequest);
    expect(require('kafkajs/src/protocol/recordBatch/record/v0/index.js')).toBe(encodeRecord);
    expect(require('kafkajs/src/producer/groupMessagesPerPartition.js')).toBe(groupMessagesPerPartition);
  });

  it('frames any request byte for byte as kafkajs does', async () => {
    const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => {
      writeBuffer(b: Buffer): unknown;
      buffer: Buffer;
      buf: Buffer;
      offset: number;
    };
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          apiKey: fc.integer({ min: -32768, max: 32767 }),
          apiVersion: fc.integer({ min: 0, max: 32767 }),
          correlationId: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          clientId: fc.oneof(fc.constant(null), fc.string({ unit: 'binary', maxLength: 20 })),
          body: fc.uint8Array({ maxLength: 3000 }),
          exact: fc.boolean(),
        }),
        async ({ apiKey, apiVersion, correlationId, clientId, body, exact }) => {
          // The request encoded as kafkajs's encoders leave it (slack past offset) or as this module's (exact).
          const encode = () => {
            const e = new Encoder();
            e.writeBuffer(Buffer.from(body));
            if (!exact) return e;
            const x = Object.create(e) as typeof e;
            x.buf = e.buffer;
            return x;
          };
          const args = { correlationId, clientId, request: { apiKey, apiVersion, encode } };
          const ours = (await frameRequest(args)).buffer;
          expect(ours.toString('hex')).toBe((await kafkajsFrameRequest(args)).buffer.toString('hex'));
          expect(ours.length).toBe((await frameRequest(args)).offset);
        },
      ),
      { numRuns: 1000 },
    );
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
  it("computes kafkajs's CRC-32C over any bytes and any range of them", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), fc.nat(), (a, i, j) => {
        const b = Buffer.from(a);
        expect(crc32c(b)).toBe(kafkajsCrc32C(b));
        const [from, to] = [i % (b.length + 1), j % (b.length + 1)].sort((x, y) => x - y);
        expect(crc32c(b, from, to)).toBe(kafkajsCrc32C(b.subarray(from, to)));
      }),
      { numRuns: 500 },
    );
  });

  describe('Produce requests', () => {
    afterEach(() => vi.restoreAllMocks());

    const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };
    const plainPayload = fc.oneof(
      fc.constant(null),
      fc.constant(undefined),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    );
    const message = fc.record(
      { key: plainPayload, value: plainPayload, headers: fc.constant({}) },
      { requiredKeys: ['value'] },
    );
    const partition = fc.record({
      partition: fc.nat(1000),
      firstSequence: fc.option(fc.nat(2 ** 31 - 1), { nil: undefined }),
      messages: fc.array(message, { minLength: 1, maxLength: 40 }),
    });
    const produceArgs = fc.record(
      {
        acks: fc.constantFrom(-1, 0, 1),
        timeout: fc.nat(60_000),
        transactionalId: fc.oneof(fc.constant(null), fc.constant(undefined), fc.string({ maxLength: 20 })),
        producerId: fc.oneof(
          fc.constant(undefined),
          fc.constant(-1),
          fc.nat().map((n) => Long.fromNumber(n * 1000 + 7)),
        ),
        producerEpoch: fc.option(fc.nat(32767), { nil: undefined }),
        topicData: fc.array(
          fc.record({
            topic: fc.string({ minLength: 1, maxLength: 30 }),
            partitions: fc.array(partition, { minLength: 1, maxLength: 3 }),
          }),
          { minLength: 1, maxLength: 3 },
        ),
      },
      { requiredKeys: ['acks', 'timeout', 'topicData'] },
    );

    const encoded = async (
      f: (a: ProduceArgs) => { encode(): Promise<{ buffer: Buffer }> },
      a: ProduceArgs,
    ) => (await f(a).encode()).buffer.toString('hex');

    it("encodes uncompressed requests of plain messages byte for byte as kafkajs's Produce v3", async () => {
      // kafkajs's request encodes its records with encodeRecord (it loaded after the record encoder was replaced),
      // held to kafkajs's own record bytes above.
      vi.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
      await fc.assert(
        fc.asyncProperty(produceArgs, async (args) => {
          const ours = produceRequest(args);
          const theirs = kafkajsProduce(args);
          expect(ours.encode).not.toBe(theirs.encode);
          expect({ ...ours, encode: null, expectResponse: ours.expectResponse() }).toEqual({
            ...theirs,
            encode: null,
            expectResponse: theirs.expectResponse(),
          });
          expect(await encoded(produceRequest, args)).toBe(await encoded(kafkajsProduce, args));
        }),
        { numRuns: 300 },
      );
    });

    it("hands compressed requests and messages with timestamps or headers to kafkajs's request", async () => {
      vi.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
      const base: ProduceArgs = {
        acks: -1,
        timeout: 30_000,
        topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v' }] }] }],
      };
      const withMessage = (m: RecordArgs): ProduceArgs => ({
        ...base,
        topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'a', value: 'b' }, m] }] }],
      });
      const others: ProduceArgs[] = [
        { ...base, compression: 1 },
        withMessage({ value: 'v', timestamp: '1765000000000' }),
        withMessage({ value: 'v', timestamp: 1_765_000_000_000 }),
        withMessage({ value: 'v', headers: { h: 'x' } }),
        withMessage({ value: 5 }),
        { ...base, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [] }] }] },
      ];
      for (const args of others) {
        const ours = produceRequest(args);
        expect(ours.encode.toString()).toBe(kafkajsProduce(args).encode.toString());
        if ((args.topicData[0].partitions[0].messages[1]?.value as unknown) === 5) {
          await expect(ours.encode()).rejects.toThrow(TypeError);
        } else {
          expect(await encoded(produceRequest, args)).toBe(await encoded(kafkajsProduce, args));
        }
      }
      expect(produceRequest(base).encode.toString()).not.toBe(kafkajsProduce(base).encode.toString());
    });
  });
});
