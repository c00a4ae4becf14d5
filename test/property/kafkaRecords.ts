/**
 * Arbitrary Kafka records as kafkajs's producer hands them to Record v0 (producerEncoding.test.ts encodes them,
 * fetchDecoding.test.ts decodes what kafkajs's own encoder made of them).
 */
import fc from 'fast-check';

/** Keys and values: null, text (any code points, lone surrogates included), or bytes. */
export const payload = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
);

/**
 * Deltas at the edges of every varint length (7 bytes is the most the consumer's fast path reads), of the
 * exact-double range and beyond it.
 */
export const delta = fc.oneof(
  fc.integer({ min: -300, max: 300 }),
  fc.integer(),
  fc.constantFrom(63, 64, -64, -65, 8191, 8192, 2 ** 31 - 1, -(2 ** 31), 2 ** 35),
  fc.constantFrom(2 ** 47, 2 ** 48 - 1, -(2 ** 48), 2 ** 48, 2 ** 51, -(2 ** 51), 2 ** 51 + 2, 2 ** 52 + 2),
  fc.maxSafeInteger(),
  fc.integer({ min: -(2 ** 20), max: 2 ** 20 }).map((k) => k * 2 ** 30),
);

export const record = fc.record(
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
