/**
 * What the protocol tests of src/streams/kafka/*V*.ts share: bytes written as annotated hex, and the kafkajs
 * 2.2.4 internals that pick a request's version (`lookup`) and frame it with its header (`frame`).
 */
import { createRequire } from 'node:module';
import type { KafkajsRequest } from '../../../../src/streams/kafka/flexibleWire.js';

const require = createRequire(import.meta.url);

/** Bytes written as hex, a comment after two or more spaces on each line. */
export function hex(text: string): Buffer {
  const digits = text
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/)[0])
    .join(' ');
  if (!/^[0-9a-f ]*$/.test(digits)) throw new Error(`not hex: ${digits}`);
  return Buffer.from(digits.replace(/ /g, ''), 'hex');
}

/** kafkajs's requests table and its version negotiation: the highest version both sides speak. */
export const { requests, lookup } = require('kafkajs/src/protocol/requests/index.js') as {
  requests: Record<string, unknown>;
  lookup(
    versions: Record<number, { minVersion: number; maxVersion: number }>,
  ): <A>(apiKey: number, def: unknown) => (args: A) => KafkajsRequest<unknown>;
};

/** kafkajs's framing of a request: size, header (by the request's version) and body. */
export const frame = require('kafkajs/src/protocol/request.js') as (r: {
  correlationId: number;
  clientId: string;
  request: KafkajsRequest<unknown>['request'];
}) => Promise<{ buffer: Buffer }>;
