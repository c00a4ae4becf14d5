/**
 * OffsetFetch version 7 with `require_stable` (KIP-447), taught at runtime to kafkajs 2.2.4, which speaks
 * versions 1 to 4.
 *
 * Why: a transaction that commits a checkpoint and the group's offsets together (TxnOffsetCommit) leaves the
 * offsets pending at the group coordinator until the transaction commits or aborts. Versions 1–6 answer a
 * partition's next owner with the last committed offset meanwhile, so it could start before offsets that are
 * about to commit and learn those events a second time. With `require_stable` the coordinator answers such a
 * partition with UNSTABLE_OFFSET_COMMIT (88) instead; kafkajs's error table has that code as retriable, so the
 * consumer's fetch loop (and our own `committedOffsets`) retries with backoff until the transaction ends, and
 * then reads the committed offset (after a commit) or the one before (after an abort, or the broker's
 * transaction timeout).
 *
 * Wire format: Kafka's `OffsetFetchRequest.json` / `OffsetFetchResponse.json` at version 7, flexible (compact
 * strings and arrays, a tagged-field buffer closing every struct), request header v2 and response header v1,
 * framed the way txnOffsetCommitV3.ts describes. Versions 8 and above batch several groups in another layout
 * and are not taught.
 *
 * Registration ({@link installOffsetFetchV7}) reaches into kafkajs's request table; kafkajs then negotiates
 * min(7, the broker's highest version) per broker. `test/unit/streams/kafka/offsetFetchV7.test.ts` fails if the
 * internals it relies on move.
 */
import { createRequire } from 'node:module';
import {
  apiKeys,
  createErrorFromCode,
  DecoderClass,
  EncoderClass,
  failure,
  noTags,
  skipTags,
  type Encoder,
  type KafkajsRequest,
} from './flexibleWire.js';

const require = createRequire(import.meta.url);
const API_KEY = apiKeys.OffsetFetch;

/** What kafkajs's callers (the consumer's offset manager, admin.fetchOffsets) pass to an OffsetFetch. */
export interface OffsetFetchArgs {
  groupId: string;
  /** The partitions to read; kafkajs's versions 2–4 read an empty list as every partition the group has. */
  topics: { topic: string; partitions: { partition: number }[] }[];
}

export interface OffsetFetchV7Args extends OffsetFetchArgs {
  /** Answer UNSTABLE_OFFSET_COMMIT for a partition with pending transactional offsets. */
  requireStable: boolean;
}

/** The shape kafkajs's version 4 decodes to, which its callers read. */
export interface OffsetFetchResponse {
  throttleTime: number;
  clientSideThrottleTime: number;
  responses: {
    topic: string | null;
    partitions: { partition: number; offset: string; metadata: string | null; errorCode: number }[];
  }[];
  errorCode: number;
}

function encodeTopic(t: OffsetFetchArgs['topics'][number]): Encoder {
  return noTags(
    new EncoderClass()
      .writeUVarIntString(t.topic)
      .writeUVarIntArray(t.partitions.map((p) => new EncoderClass().writeInt32(p.partition))),
  );
}

/** The request body (after kafkajs's header v1): header v2's tagged fields, then the version 7 fields. */
export function encodeOffsetFetchV7(a: OffsetFetchV7Args): Encoder {
  return noTags(
    noTags(new EncoderClass())
      .writeUVarIntString(a.groupId)
      // As kafkajs's versions 3 and 4: no topics means null, every partition of the group.
      .writeUVarIntArray(a.topics.length === 0 ? null : a.topics.map(encodeTopic))
      .writeInt8(a.requireStable ? 1 : 0),
  );
}

export async function decodeOffsetFetchV7(raw: Buffer): Promise<OffsetFetchResponse> {
  const d = new DecoderClass(raw);
  skipTags(d); // response header v1
  const throttleTime = d.readInt32();
  const responses =
    d.readUVarIntArray((dt) => {
      const topic = dt.readUVarIntString();
      const partitions =
        dt.readUVarIntArray((dp) => {
          const partition = dp.readInt32();
          const offset = dp.readInt64().toString();
          dp.readInt32(); // committed_leader_epoch: kafkajs's callers have no use for it
          const metadata = dp.readUVarIntString();
          const errorCode = dp.readInt16();
          skipTags(dp);
          return { partition, offset, metadata, errorCode };
        }) ?? [];
      skipTags(dt);
      return { topic, partitions };
    }) ?? [];
  const errorCode = d.readInt16();
  skipTags(d);
  // As kafkajs's version 4: the broker answers before throttling (KIP-219), the client holds back.
  return { throttleTime: 0, clientSideThrottleTime: throttleTime, responses, errorCode };
}

/** The group's error, else the first partition's, becomes kafkajs's protocol error for its code, as versions 2–4. */
export async function parseOffsetFetchV7(data: OffsetFetchResponse): Promise<OffsetFetchResponse> {
  if (failure(data.errorCode)) throw createErrorFromCode(data.errorCode);
  for (const t of data.responses)
    for (const p of t.partitions) if (failure(p.errorCode)) throw createErrorFromCode(p.errorCode);
  return data;
}

export function offsetFetchV7(a: OffsetFetchV7Args): KafkajsRequest<OffsetFetchResponse> {
  return {
    request: {
      apiKey: API_KEY,
      apiVersion: 7,
      apiName: 'OffsetFetch',
      encode: async () => encodeOffsetFetchV7(a),
    },
    response: { decode: decodeOffsetFetchV7, parse: parseOffsetFetchV7 },
  };
}

/** What kafkajs's `protocol/requests/offsetFetch/index.js` exports. */
export interface KafkajsOffsetFetchDefinition {
  versions: string[];
  protocol(v: { version: number }): ((args: OffsetFetchArgs) => KafkajsRequest<unknown>) | undefined;
}

let installed = false;

/**
 * Adds version 7 (require_stable) to kafkajs's OffsetFetch definition, for every OffsetFetch of this process:
 * the consumer's on joining and after a seek, and admin.fetchOffsets, which does not retry by itself (see
 * `committedOffsets` in client.ts). Versions 5 and 6 (brokers 2.1–2.4, which have no require_stable) fall back
 * to kafkajs's version 4, which those brokers also accept. Idempotent.
 */
export function installOffsetFetchV7(): void {
  if (installed) return;
  const def = require('kafkajs/src/protocol/requests/offsetFetch/index.js') as KafkajsOffsetFetchDefinition;
  if (!Array.isArray(def.versions) || typeof def.protocol !== 'function')
    throw new Error('kafkajs internals changed: protocol/requests/offsetFetch exports no versions/protocol');
  const original = def.protocol.bind(def);
  if (typeof original({ version: 4 }) !== 'function')
    throw new Error('kafkajs internals changed: OffsetFetch version 4 is gone');
  if (!def.versions.includes('7')) def.versions.push('7');
  def.protocol = ({ version }) => {
    if (version < 7) return original({ version: Math.min(version, 4) });
    return ({ groupId, topics }) => offsetFetchV7({ groupId, topics, requireStable: true });
  };
  installed = true;
}
