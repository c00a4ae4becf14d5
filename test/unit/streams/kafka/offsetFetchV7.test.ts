/**
 * OffsetFetch version 7 (src/streams/kafka/offsetFetchV7.ts) against bytes assembled by hand from the Kafka
 * protocol's message definitions (OffsetFetchRequest.json / OffsetFetchResponse.json at version 7: flexible,
 * compact strings length + 1 and compact arrays count + 1 as unsigned varints, a tagged-field buffer closing
 * every struct, request header v2, response header v1), and the kafkajs 2.2.4 internals it extends: if an
 * upgrade moves them, this fails before reads of pending offsets silently stop waiting. The broker's answer
 * while a transaction holds offsets is in test/integration/stableOffsets.test.ts.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isUnstableOffsetCommit } from '../../../../src/streams/kafka/client.js';
import {
  decodeOffsetFetchV7,
  encodeOffsetFetchV7,
  installOffsetFetchV7,
  offsetFetchV7,
  parseOffsetFetchV7,
  type KafkajsOffsetFetchDefinition,
  type OffsetFetchArgs,
} from '../../../../src/streams/kafka/offsetFetchV7.js';
import { frame, hex, lookup, requests } from './wire.js';

const require = createRequire(import.meta.url);
const definition =
  require('kafkajs/src/protocol/requests/offsetFetch/index.js') as KafkajsOffsetFetchDefinition;
const responseV4 = require('kafkajs/src/protocol/requests/offsetFetch/v4/response.js') as {
  decode(raw: Buffer): Promise<unknown>;
};
const createRetry = require('kafkajs/src/retry/index.js') as (
  o: object,
) => <T>(fn: () => Promise<T>) => Promise<T>;
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as {
  createErrorFromCode(code: number): Error;
};
const source = (path: string): string =>
  (require(path) as { prototype: object }).prototype.constructor.toString();

const args = {
  groupId: 'grp',
  topics: [{ topic: 'in', partitions: [{ partition: 1 }, { partition: 3 }] }],
};

/** The version 7 body for `args` with require_stable, field by field (after kafkajs's header v1). */
const BODY = hex(`
  00                          request header v2: tagged fields, none
  04 677270                   group_id 'grp' (compact string: 3 + 1)
  02                          topics: 1 (compact array: 1 + 1)
    03 696e                   name 'in'
    03                        partition_indexes: 2
      00000001
      00000003
    00                        topic tagged fields
  01                          require_stable true
  00                          request tagged fields
`);

/** A version 7 answer: partition 1 committed at 300 (leader epoch 2, metadata 'ab'), partition 3 none. */
const RESPONSE = hex(`
  01 00 02 abcd               response header v1: one tagged field (tag 0, 2 bytes)
  00000005                    throttle_time_ms 5
  02                          topics: 1
    03 696e                   name 'in'
    03                        partitions: 2
      00000001                partition_index 1
      00000000 0000012c       committed_offset 300
      00000002                committed_leader_epoch 2
      03 6162                 metadata 'ab'
      0000                    error_code 0
      00
      00000003                partition_index 3
      ffffffff ffffffff       committed_offset -1 (none)
      ffffffff                committed_leader_epoch -1
      00                      metadata null
      0000
      01 05 01 ff             one tagged field (tag 5, 1 byte)
    00
  0000                        error_code 0
  00
`);

/** The same answer as version 4 lays it out (no leader epoch, int16/int32 lengths), for kafkajs's decoder. */
const RESPONSE_V4 = hex(`
  00000005
  00000001
    0002 696e
    00000002
      00000001 00000000 0000012c 0002 6162 0000
      00000003 ffffffff ffffffff ffff 0000
  0000
`);

/** A version 7 answer with one partition in error `partitionError` and the group's error `groupError`. */
function answer(partitionError: number, groupError = 0): Buffer {
  const code = (c: number): Buffer => Buffer.from([c >> 8, c & 0xff]);
  return Buffer.concat([
    hex('00 00000000 02 03696e 02 00000001 ffffffff ffffffff ffffffff 00'),
    code(partitionError),
    hex('00 00'),
    code(groupError),
    hex('00'),
  ]);
}

describe('OffsetFetch version 7', () => {
  it('finds the kafkajs internals it extends', () => {
    expect(definition.versions).toEqual(expect.arrayContaining(['1', '2', '3', '4']));
    expect(typeof definition.protocol).toBe('function');
    expect(requests.OffsetFetch).toBe(definition);
    expect(typeof lookup).toBe('function');
    // The broker builds the request from the definition kafkajs negotiated, with these arguments only.
    const broker = (require('kafkajs/src/broker/index.js') as { prototype: { offsetFetch: () => unknown } })
      .prototype.offsetFetch;
    expect(broker.toString()).toContain('requests.OffsetFetch');
    expect(broker.toString()).toContain('offsetFetch({ groupId, topics })');
    // Its callers read `responses` (topic, partitions: partition, offset, metadata) of the decoded answer.
    const manager = source('kafkajs/src/consumer/offsetManager/index.js');
    expect(manager).toContain('const { responses: consumerOffsets } = await coordinator.offsetFetch(');
    const admin = (require('kafkajs/src/admin/index.js') as (...a: unknown[]) => unknown).toString();
    expect(admin).toContain('let { responses: consumerOffsets } = await coordinator.offsetFetch(');
  });

  it('kafkajs knows UNSTABLE_OFFSET_COMMIT (88) as retriable, and its retrier retries it', async () => {
    expect(createErrorFromCode(88)).toMatchObject({
      name: 'KafkaJSProtocolError',
      type: 'UNSTABLE_OFFSET_COMMIT',
      retriable: true,
    });
    let calls = 0;
    const result = await createRetry({ retries: 3, initialRetryTime: 1, maxRetryTime: 2 })(async () => {
      if (++calls < 3) throw createErrorFromCode(88);
      return 'stable';
    });
    expect({ result, calls }).toEqual({ result: 'stable', calls: 3 });
    expect(isUnstableOffsetCommit(createErrorFromCode(88))).toBe(true);
    expect(isUnstableOffsetCommit(createErrorFromCode(16))).toBe(false);
    expect(isUnstableOffsetCommit(null)).toBe(false);
  });

  it('encodes the request body as the protocol lays it out', async () => {
    expect((await offsetFetchV7({ ...args, requireStable: true }).request.encode()).buffer).toEqual(BODY);
    expect(encodeOffsetFetchV7({ ...args, requireStable: false }).buffer.at(-2)).toBe(0);
    // No topics: null, every partition of the group, as kafkajs's versions 3 and 4 send it.
    expect(encodeOffsetFetchV7({ groupId: 'grp', topics: [], requireStable: true }).buffer).toEqual(
      hex('00 04677270 00 01 00'),
    );
  });

  it('goes out under request header v2: api key 9, version 7, correlation id, client id, tagged fields', async () => {
    const { request } = offsetFetchV7({ ...args, requireStable: true });
    const { buffer } = await frame({ correlationId: 0x0a0b0c0d, clientId: 'c1', request });
    const header = hex(`
      0009                    api_key 9 (OffsetFetch)
      0007                    api_version 7
      0a0b0c0d                correlation_id
      0002 6331               client_id 'c1' (nullable string, int16 length)
    `);
    const size = Buffer.alloc(4);
    size.writeInt32BE(header.length + BODY.length);
    expect(buffer).toEqual(Buffer.concat([size, header, BODY]));
  });

  it('decodes the response to what kafkajs decodes version 4 to, skipping tagged fields', async () => {
    const decoded = await decodeOffsetFetchV7(RESPONSE);
    expect(decoded).toEqual({
      throttleTime: 0,
      clientSideThrottleTime: 5,
      responses: [
        {
          topic: 'in',
          partitions: [
            { partition: 1, offset: '300', metadata: 'ab', errorCode: 0 },
            { partition: 3, offset: '-1', metadata: null, errorCode: 0 },
          ],
        },
      ],
      errorCode: 0,
    });
    expect(decoded).toEqual(await responseV4.decode(RESPONSE_V4));
    await expect(parseOffsetFetchV7(decoded)).resolves.toBe(decoded);
  });

  it.each([
    [88, 0, 'UNSTABLE_OFFSET_COMMIT', true],
    [3, 0, 'UNKNOWN_TOPIC_OR_PARTITION', true],
    [0, 16, 'NOT_COORDINATOR_FOR_GROUP', true],
    [0, 30, 'GROUP_AUTHORIZATION_FAILED', false],
    [88, 30, 'GROUP_AUTHORIZATION_FAILED', false],
  ])(
    'partition error %i, group error %i surface as kafkajs protocol error %s (retriable %s)',
    async (partitionError, groupError, type, retriable) => {
      const decoded = await decodeOffsetFetchV7(answer(partitionError, groupError));
      expect(decoded.responses[0].partitions[0].errorCode).toBe(partitionError);
      expect(decoded.errorCode).toBe(groupError);
      const err = await parseOffsetFetchV7(decoded).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'KafkaJSProtocolError', type, retriable });
    },
  );

  it('is negotiated through kafkajs: version 7 with require_stable from Kafka 2.5, its own version 4 below', async () => {
    installOffsetFetchV7();
    installOffsetFetchV7(); // idempotent
    expect(definition.versions.filter((v) => v === '7')).toEqual(['7']);
    const negotiated = async (maxVersion: number): Promise<{ version: number; body: Buffer }> => {
      const { request } = lookup({ 9: { minVersion: 0, maxVersion } })<OffsetFetchArgs>(
        9,
        requests.OffsetFetch,
      )(args);
      return { version: request.apiVersion, body: (await request.encode()).buffer };
    };
    expect(await negotiated(9)).toEqual({ version: 7, body: BODY }); // Kafka 3.x / 4.x
    expect(await negotiated(7)).toEqual({ version: 7, body: BODY }); // Kafka 2.5
    // Kafka 2.1–2.4 (versions 5, 6: no require_stable): kafkajs's version 4, which they accept.
    expect((await Promise.all([6, 5, 4, 2].map(negotiated))).map((n) => n.version)).toEqual([4, 4, 4, 2]);
  });
});
