/**
 * TxnOffsetCommit version 3 (src/streams/kafka/txnOffsetCommitV3.ts) against bytes assembled by hand from the
 * Kafka protocol's message definitions (TxnOffsetCommitRequest.json / TxnOffsetCommitResponse.json, flexible
 * from version 3: compact strings are length + 1 as an unsigned varint, compact arrays count + 1, every struct
 * ends with a tagged-field buffer, request header v2, response header v1), and the kafkajs 2.2.4 internals it
 * extends: if an upgrade moves them, this fails before any fencing silently stops. The broker's answer to a
 * stale generation is in test/integration/fencedOffsets.test.ts.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { sendOffsetsAs, type Transaction } from '../../../../src/streams/kafka/client.js';
import {
  decodeTxnOffsetCommitV3,
  encodeTxnOffsetCommitV3,
  parseTxnOffsetCommitV3,
  txnOffsetCommitV3,
  type KafkajsTxnOffsetCommitArgs,
  type KafkajsTxnOffsetCommitDefinition,
} from '../../../../src/streams/kafka/txnOffsetCommitV3.js';
import { frame, hex, lookup, requests } from './wire.js';

const require = createRequire(import.meta.url);
const definition =
  require('kafkajs/src/protocol/requests/txnOffsetCommit/index.js') as KafkajsTxnOffsetCommitDefinition;
const Broker = require('kafkajs/src/broker/index.js') as {
  prototype: { txnOffsetCommit: (...a: unknown[]) => unknown };
};

const topics = [
  {
    topic: 'in',
    partitions: [
      { partition: 1, offset: '300' },
      // Above 2^53: the offset travels as a decimal string and must reach the wire exactly.
      { partition: 3, offset: '9007199254740993' },
    ],
  },
];

/** The version 3 body for the arguments below, field by field (after kafkajs's header v1). */
const BODY = hex(`
  00                          request header v2: tagged fields, none
  03 7478                     transactional_id 'tx' (compact string: 2 + 1)
  04 677270                   group_id 'grp'
  00000000 00001234           producer_id 4660
  0007                        producer_epoch 7
  0000000c                    generation_id 12
  04 6d2d31                   member_id 'm-1'
  00                          group_instance_id null
  02                          topics: 1 (compact array: 1 + 1)
    03 696e                   name 'in'
    03                        partitions: 2
      00000001                partition_index 1
      00000000 0000012c       committed_offset 300
      ffffffff                committed_leader_epoch -1
      00                      committed_metadata null
      00                      tagged fields
      00000003                partition_index 3
      00200000 00000001       committed_offset 9007199254740993 = 2^53 + 1
      ffffffff
      00
      00
    00                        topic tagged fields
  00                          request tagged fields
`);

const args = {
  transactionalId: 'tx',
  groupId: 'grp',
  producerId: 4660,
  producerEpoch: 7,
  generationId: 12,
  memberId: 'm-1',
  groupInstanceId: null,
  topics,
};

describe('TxnOffsetCommit version 3', () => {
  it('finds the kafkajs internals it extends', () => {
    expect(definition.versions).toEqual(expect.arrayContaining(['0', '1']));
    expect(typeof definition.protocol).toBe('function');
    expect(requests.TxnOffsetCommit).toBe(definition);
    expect(typeof lookup).toBe('function');
    // The broker builds the request from the definition kafkajs negotiated, with these arguments only.
    const source = Broker.prototype.txnOffsetCommit.toString();
    expect(source).toContain('requests.TxnOffsetCommit');
    expect(source).toContain('transactionalId, groupId, producerId, producerEpoch, topics');
  });

  it('encodes the request body as the protocol lays it out', async () => {
    expect((await txnOffsetCommitV3(args).request.encode()).buffer).toEqual(BODY);
    expect(encodeTxnOffsetCommitV3(args).buffer).toEqual(BODY);
  });

  it('goes out under request header v2: api key 28, version 3, correlation id, client id, tagged fields', async () => {
    const { request } = txnOffsetCommitV3(args);
    const { buffer } = await frame({ correlationId: 0x0a0b0c0d, clientId: 'c1', request });
    const header = hex(`
      001c                    api_key 28 (TxnOffsetCommit)
      0003                    api_version 3
      0a0b0c0d                correlation_id
      0002 6331               client_id 'c1' (nullable string, int16 length)
    `);
    const size = Buffer.alloc(4);
    size.writeInt32BE(header.length + BODY.length);
    // BODY begins with header v2's tagged-field buffer.
    expect(buffer).toEqual(Buffer.concat([size, header, BODY]));
  });

  it('encodes an unknown membership as generation -1, member id "" and a metadata string', async () => {
    const body = encodeTxnOffsetCommitV3({
      ...args,
      generationId: -1,
      memberId: '',
      topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '1', metadata: 'ab', leaderEpoch: 4 }] }],
    }).buffer;
    expect(body).toEqual(
      hex(`00 03 7478 04 677270 00000000 00001234 0007
        ffffffff                generation_id -1
        01                      member_id '' (compact: 0 + 1)
        00
        02 03 696e 02
          00000000 00000000 00000001
          00000004              committed_leader_epoch 4
          03 6162               committed_metadata 'ab'
          00
        00
      00`),
    );
  });

  it('decodes the response after response header v1, skipping tagged fields wherever they are', async () => {
    const raw = hex(`
      01 00 02 abcd             response header v1: one tagged field (tag 0, 2 bytes)
      00000005                  throttle_time_ms 5
      03                        topics: 2
        03 696e                 name 'in'
        02                      partitions: 1
          00000001 0000         partition 1, error 0
          01 05 01 ff           one tagged field (tag 5, 1 byte)
        00
        03 6f74                 name 'ot'
        01                      partitions: none
        00
      00
    `);
    const decoded = await decodeTxnOffsetCommitV3(raw);
    expect(decoded).toEqual({
      throttleTime: 0,
      clientSideThrottleTime: 5,
      topics: [
        { topic: 'in', partitions: [{ partition: 1, errorCode: 0 }] },
        { topic: 'ot', partitions: [] },
      ],
    });
    await expect(parseTxnOffsetCommitV3(decoded)).resolves.toBe(decoded);
  });

  it.each([
    [22, 'ILLEGAL_GENERATION'],
    [25, 'UNKNOWN_MEMBER_ID'],
    [82, 'FENCED_INSTANCE_ID'],
    [27, 'REBALANCE_IN_PROGRESS'],
  ])('error code %i surfaces as kafkajs protocol error %s, not retriable', async (code, type) => {
    const raw = Buffer.concat([
      hex('00 00000000 02 03696e 03 00000000 0000 00'),
      Buffer.from([0, 0, 0, 1, code >> 8, code & 0xff, 0]),
      hex('00 00'),
    ]);
    const decoded = await decodeTxnOffsetCommitV3(raw);
    expect(decoded.topics[0].partitions.map((p) => p.errorCode)).toEqual([0, code]);
    const err = await parseTxnOffsetCommitV3(decoded).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'KafkaJSProtocolError', type, code, retriable: false });
  });

  it('is negotiated through kafkajs: version 3 when the broker has it, its own version 1 below', async () => {
    const captured: { version: number; body: Buffer }[] = [];
    // What kafkajs's broker does for a TxnOffsetCommit, against a broker with `maxVersion`.
    const commitTo =
      (maxVersion: number, transactionalId: string): Transaction['sendOffsets'] =>
      async ({ consumerGroupId, topics: t }) => {
        const factory = lookup({ 28: { minVersion: 0, maxVersion } })<KafkajsTxnOffsetCommitArgs>(
          28,
          requests.TxnOffsetCommit,
        );
        const { request } = factory({
          transactionalId,
          groupId: consumerGroupId,
          producerId: 4660,
          producerEpoch: 7,
          topics: t as KafkajsTxnOffsetCommitArgs['topics'],
        });
        captured.push({ version: request.apiVersion, body: (await request.encode()).buffer });
      };
    const txn = (maxVersion: number, transactionalId = 'tx'): Transaction =>
      ({ sendOffsets: commitTo(maxVersion, transactionalId) }) as Transaction;
    const member = { groupId: 'grp', memberId: 'm-1', generationId: 12 };

    await sendOffsetsAs(txn(5), 'tx', { consumerGroupId: 'grp', topics }, member);
    expect(definition.versions).toContain('3');
    expect(captured[0]).toEqual({ version: 3, body: BODY });

    // No membership: the coordinator's "not a group member" values. Nothing lingers from the call before.
    await sendOffsetsAs(txn(5), 'tx', { consumerGroupId: 'grp', topics }, null);
    expect(captured[1].version).toBe(3);
    // Header tags (1), 'tx' (3), 'grp' (4), producer id (8) and epoch (2): generation and member id at 18.
    expect(captured[1].body.subarray(18, 23)).toEqual(hex('ffffffff 01'));

    // The membership is the committing transaction's: a request of another transactional id carries none.
    await sendOffsetsAs(txn(5, 'tx-2'), 'tx', { consumerGroupId: 'grp', topics }, member);
    expect(captured[2].body.subarray(20, 25)).toEqual(hex('ffffffff 01')); // 'tx-2' is 2 bytes longer

    // Brokers before Kafka 2.5 (at most version 2): kafkajs's own version 1, which they accept.
    await sendOffsetsAs(txn(2), 'tx', { consumerGroupId: 'grp', topics }, member);
    await sendOffsetsAs(txn(0), 'tx', { consumerGroupId: 'grp', topics }, member);
    expect(captured.slice(3).map((c) => c.version)).toEqual([1, 0]);
  });

  it('refuses a membership of another group than the offsets', async () => {
    const txn = { sendOffsets: async () => undefined } as unknown as Transaction;
    await expect(
      sendOffsetsAs(
        txn,
        'tx',
        { consumerGroupId: 'grp', topics },
        { groupId: 'other', memberId: 'm', generationId: 1 },
      ),
    ).rejects.toThrow(/other/);
  });
});
