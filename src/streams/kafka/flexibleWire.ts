/**
 * What the request versions taught to kafkajs at runtime (txnOffsetCommitV3.ts, offsetFetchV7.ts) share: the
 * slices of kafkajs's encoder and decoder they use, the shape of a kafkajs request definition, and the
 * tagged-field buffers that close every struct of a flexible version (KIP-482).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The slice of kafkajs's `protocol/encoder.js` used here (all writers return the encoder). */
export interface Encoder {
  writeInt8(v: number): Encoder;
  writeInt16(v: number): Encoder;
  writeInt32(v: number): Encoder;
  writeInt64(v: number | string): Encoder;
  writeUVarInt(v: number): Encoder;
  writeUVarIntString(v: string | null): Encoder;
  writeUVarIntArray(items: Encoder[] | null): Encoder;
  readonly buffer: Buffer;
}

/** The slice of kafkajs's `protocol/decoder.js` used here. */
export interface Decoder {
  readInt8(): number;
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readUVarInt(): number;
  readUVarIntString(): string | null;
  readUVarIntArray<T>(reader: (d: Decoder) => T): T[] | null;
  forward(bytes: number): void;
}

export const EncoderClass = require('kafkajs/src/protocol/encoder.js') as new () => Encoder;
export const DecoderClass = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => Decoder;

export const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js') as Record<string, number>;

export const { failure, createErrorFromCode } = require('kafkajs/src/protocol/error.js') as {
  failure(code: number): boolean;
  createErrorFromCode(code: number): Error;
};

/** A kafkajs request definition: what `broker.lookupRequest` returns for one call. */
export interface KafkajsRequest<R> {
  request: { apiKey: number; apiVersion: number; apiName: string; encode(): Promise<Encoder> };
  response: { decode(raw: Buffer): Promise<R>; parse(data: R): Promise<R> };
}

/** An empty tagged-field buffer (no tagged fields): a zero count. */
export const noTags = (e: Encoder): Encoder => e.writeUVarInt(0);

/** Skips a tagged-field buffer: a count, then per field its tag, its size and that many bytes. */
export function skipTags(d: Decoder): void {
  const n = d.readUVarInt();
  for (let i = 0; i < n; i++) {
    d.readUVarInt();
    d.forward(d.readUVarInt());
  }
}
