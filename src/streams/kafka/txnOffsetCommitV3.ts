/**
 * TxnOffsetCommit version 3 (KIP-447), taught at runtime to kafkajs 2.2.4, which speaks only versions 0 and 1.
 *
 * Why: versions 0–2 commit a transaction's offsets without saying which member of the consumer group they come
 * from, so the group coordinator cannot refuse a member that lost its partitions while it was paused (GC, a
 * stopped VM) and woke up still believing it owned them. Version 3 carries the group generation and the member
 * id the consumer last joined with; the coordinator refuses a commit whose member is gone (UNKNOWN_MEMBER_ID),
 * whose generation is not the group's current one (ILLEGAL_GENERATION) or whose static instance was taken over
 * (FENCED_INSTANCE_ID), and the caller then aborts its transaction. A commit with generation −1 and member id
 * '' (no membership known) is checked no further than versions 0–2 are.
 *
 * Wire format: Kafka's `TxnOffsetCommitRequest.json` / `TxnOffsetCommitResponse.json`, flexible from version 3
 * (compact strings and arrays, a tagged-field buffer closing every struct), request header v2 and response
 * header v1. kafkajs frames every request with header v1 itself, so the body starts with header v2's extra
 * part, its empty tagged-field buffer (kafkajs's own flexible requests do the same); and it hands a response's
 * body over after the correlation id, so decoding starts with response header v1's tagged fields.
 *
 * Registration ({@link installTxnOffsetCommitV3}) reaches into kafkajs's request table; kafkajs then negotiates
 * min(3, the broker's highest version) per broker. `test/unit/streams/kafka/txnOffsetCommitV3.test.ts` fails
 * if the internals it relies on move.
 */
import { createRequire } from 'node:module';
import {
  apiKeys,
  createErrorFromCode,
  EncoderClass,
  DecoderClass,
  failure,
  noTags,
  skipTags,
  type Encoder,
  type KafkajsRequest,
} from './flexibleWire.js';

export type { KafkajsRequest } from './flexibleWire.js';

const require = createRequire(import.meta.url);
const API_KEY = apiKeys.TxnOffsetCommit;

export interface TxnOffsetCommitPartition {
  partition: number;
  offset: string;
  /** Leader epoch of the last consumed record; −1 (unknown) by default. */
  leaderEpoch?: number;
  metadata?: string | null;
}

/** What kafkajs's transaction manager passes for a TxnOffsetCommit, plus the membership version 3 adds. */
export interface TxnOffsetCommitV3Args {
  transactionalId: string;
  groupId: string;
  producerId: number | string;
  producerEpoch: number;
  /** The group generation the committing consumer joined with; −1 when unknown. */
  generationId: number;
  /** Its member id; '' when unknown. */
  memberId: string;
  /** Static membership (KIP-345): kafkajs has none, so null. */
  groupInstanceId: string | null;
  topics: { topic: string; partitions: TxnOffsetCommitPartition[] }[];
}

export interface TxnOffsetCommitV3Response {
  throttleTime: number;
  clientSideThrottleTime: number;
  topics: { topic: string | null; partitions: { partition: number; errorCode: number }[] }[];
}

function encodePartition(p: TxnOffsetCommitPartition): Encoder {
  return noTags(
    new EncoderClass()
      .writeInt32(p.partition)
      .writeInt64(p.offset)
      .writeInt32(p.leaderEpoch ?? -1)
      .writeUVarIntString(p.metadata ?? null),
  );
}

function encodeTopic(t: TxnOffsetCommitV3Args['topics'][number]): Encoder {
  return noTags(
    new EncoderClass().writeUVarIntString(t.topic).writeUVarIntArray(t.partitions.map(encodePartition)),
  );
}

/** The request body (after kafkajs's header v1): header v2's tagged fields, then the version 3 fields. */
export function encodeTxnOffsetCommitV3(a: TxnOffsetCommitV3Args): Encoder {
  return noTags(
    noTags(new EncoderClass())
      .writeUVarIntString(a.transactionalId)
      .writeUVarIntString(a.groupId)
      .writeInt64(a.producerId)
      .writeInt16(a.producerEpoch)
      .writeInt32(a.generationId)
      .writeUVarIntString(a.memberId)
      .writeUVarIntString(a.groupInstanceId)
      .writeUVarIntArray(a.topics.map(encodeTopic)),
  );
}

export async function decodeTxnOffsetCommitV3(raw: Buffer): Promise<TxnOffsetCommitV3Response> {
  const d = new DecoderClass(raw);
  skipTags(d); // response header v1
  const throttleTime = d.readInt32();
  const topics =
    d.readUVarIntArray((dt) => {
      const topic = dt.readUVarIntString();
      const partitions =
        dt.readUVarIntArray((dp) => {
          const partition = dp.readInt32();
          const errorCode = dp.readInt16();
          skipTags(dp);
          return { partition, errorCode };
        }) ?? [];
      skipTags(dt);
      return { topic, partitions };
    }) ?? [];
  skipTags(d);
  // Since version 1 the broker answers before throttling (KIP-219): the client holds back, as kafkajs's v1 says.
  return { throttleTime: 0, clientSideThrottleTime: throttleTime, topics };
}

/** The first partition error becomes kafkajs's protocol error for its code, as versions 0 and 1 do. */
export async function parseTxnOffsetCommitV3(
  data: TxnOffsetCommitV3Response,
): Promise<TxnOffsetCommitV3Response> {
  for (const t of data.topics)
    for (const p of t.partitions) if (failure(p.errorCode)) throw createErrorFromCode(p.errorCode);
  return data;
}

export function txnOffsetCommitV3(a: TxnOffsetCommitV3Args): KafkajsRequest<TxnOffsetCommitV3Response> {
  return {
    request: {
      apiKey: API_KEY,
      apiVersion: 3,
      apiName: 'TxnOffsetCommit',
      encode: async () => encodeTxnOffsetCommitV3(a),
    },
    response: { decode: decodeTxnOffsetCommitV3, parse: parseTxnOffsetCommitV3 },
  };
}

/** What kafkajs's `protocol/requests/txnOffsetCommit/index.js` exports. */
export interface KafkajsTxnOffsetCommitDefinition {
  versions: string[];
  protocol(v: {
    version: number;
  }): ((args: KafkajsTxnOffsetCommitArgs) => KafkajsRequest<unknown>) | undefined;
}

/** The arguments kafkajs's broker passes to a TxnOffsetCommit request factory. */
export type KafkajsTxnOffsetCommitArgs = Omit<
  TxnOffsetCommitV3Args,
  'generationId' | 'memberId' | 'groupInstanceId'
>;

/** The membership a commit of `transactionalId`'s transaction to `groupId` carries, or null for none. */
export type MembershipResolver = (
  transactionalId: string,
  groupId: string,
) => { generationId: number; memberId: string } | null;

let installed = false;

/**
 * Adds version 3 to kafkajs's TxnOffsetCommit definition: kafkajs passes only what versions 0 and 1 know, so
 * `membershipOf` supplies the generation and member id per call. Version 2 (brokers 2.1–2.4) falls back to
 * kafkajs's version 1, which those brokers also accept. Idempotent (the first resolver stays).
 */
export function installTxnOffsetCommitV3(membershipOf: MembershipResolver): void {
  if (installed) return;
  const def =
    require('kafkajs/src/protocol/requests/txnOffsetCommit/index.js') as KafkajsTxnOffsetCommitDefinition;
  if (!Array.isArray(def.versions) || typeof def.protocol !== 'function')
    throw new Error(
      'kafkajs internals changed: protocol/requests/txnOffsetCommit exports no versions/protocol',
    );
  const original = def.protocol.bind(def);
  if (typeof original({ version: 1 }) !== 'function')
    throw new Error('kafkajs internals changed: TxnOffsetCommit version 1 is gone');
  if (!def.versions.includes('3')) def.versions.push('3');
  def.protocol = ({ version }) => {
    if (version < 3) return original({ version: Math.min(version, 1) });
    return (args) => {
      const member = membershipOf(args.transactionalId, args.groupId);
      return txnOffsetCommitV3({
        ...args,
        generationId: member?.generationId ?? -1,
        memberId: member?.memberId ?? '',
        groupInstanceId: null,
      });
    };
  };
  installed = true;
}
