/**
 * predictionRecords writes the JSON directly as UTF-8 bytes: they must be byte for byte the UTF-8 of what
 * JSON.stringify gives for the PredictionRecord object the pipeline used to build (same property order, same
 * number formatting, escapes).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { predictionRecords, type PredictionRecord } from '../../src/streams/predictionRecords.js';
import type { PrequentialResult } from '../../src/streams/prequential.js';

/** The reference: the record object, stringified (what livePipeline published before). */
function reference(r: PrequentialResult): Array<{ key: string; value: Buffer }> {
  return r.envelopes.map(({ event, origin }, j) => {
    const predictions: PredictionRecord['predictions'] = {};
    for (const v of r.variants) {
      const p = v.predictions[j];
      if (p)
        predictions[v.variant] = p.proba
          ? { predicted: p.predicted, proba: p.proba }
          : { predicted: p.predicted };
    }
    const rec: PredictionRecord = {
      id: event.id,
      ts: event.ts,
      topic: origin.topic,
      partition: origin.partition,
      offset: origin.offset,
      predictions,
    };
    if (event.y !== undefined) rec.y = event.y;
    return { key: event.id, value: Buffer.from(JSON.stringify(rec), 'utf8') };
  });
}

/** Keys and values, the bytes as hex: compared whole as strings, not byte by byte as Buffers. */
function asHex(
  ms: ReadonlyArray<{ key: string | null; value: unknown }>,
): Array<{ key: string | null; value: string }> {
  return ms.map((m) => ({ key: m.key, value: (m.value as Buffer).toString('hex') }));
}

// Any double, the awkward ones included (NaN, ±Infinity, -0, 1e21, 5e-324): JSON writes non-finite as null.
// Safe integers (timestamps, partitions, classes) are written digit by digit, every length of them drawn.
const anyNumber = fc.oneof(
  fc.double(),
  fc.double({ min: 0, max: 1, noNaN: true }), // probabilities: writeShortestUnit's range and both sides of it
  fc.integer(),
  fc.maxSafeInteger(),
  fc.integer({ min: 0, max: 15 }).chain((k) => fc.integer({ min: -(10 ** k), max: 10 ** k })),
  fc.constantFrom(
    -0,
    1e21,
    5e-324,
    NaN,
    Infinity,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    2 ** 53,
    10,
    100,
    1_700_000_000_000,
  ),
);
// Any code point, and strings made of the characters JSON escapes (quote, backslash, controls, lone surrogates)
// mixed with ones it does not, so each escape is drawn often.
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom(
      '"',
      '\\',
      '\n',
      '\u0001',
      '\u001f',
      '\ud800',
      '\udfff',
      'a',
      '7',
      'é',
      '\u2028',
      '😀',
    ),
    maxLength: 8,
  }),
);
const variantName = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,12}$/).filter((s) => s !== '__proto__');

const batch = fc
  .record({
    n: fc.integer({ min: 0, max: 6 }),
    variants: fc.uniqueArray(variantName, { minLength: 1, maxLength: 3 }),
    topic: text,
  })
  .chain(({ n, variants, topic }) =>
    fc.record({
      envelopes: fc.array(
        fc.record({
          event: fc.record(
            { id: text, ts: anyNumber, x: fc.constant([0]), y: anyNumber },
            { requiredKeys: ['id', 'ts', 'x'] },
          ),
          origin: fc.record({
            topic: fc.constant(topic),
            partition: fc.nat(64),
            // Kafka's offsets are digits; recordings may carry anything (escaped by the slow path).
            offset: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 62n }).map(String), text),
            timestamp: fc.constant(0),
          }),
          receivedAt: fc.constant(0),
        }),
        { minLength: n, maxLength: n },
      ),
      variants: fc.tuple(
        ...variants.map((variant) =>
          fc.record({
            variant: fc.constant(variant),
            predictions: fc.array(
              fc.option(
                fc.record(
                  { id: fc.constant(''), predicted: anyNumber, proba: fc.array(anyNumber, { maxLength: 4 }) },
                  { requiredKeys: ['id', 'predicted'] },
                ),
                { nil: undefined },
              ),
              { minLength: n, maxLength: n },
            ),
          }),
        ),
      ),
    }),
  );

describe('predictionRecords', () => {
  it('writes exactly what JSON.stringify of the record object writes, keyed by event id', () => {
    fc.assert(
      fc.property(batch, (b) => {
        const r = b as unknown as PrequentialResult;
        const got = predictionRecords(r).map((m) => ({ key: m.key, value: Buffer.from(m.value) }));
        expect(got).toEqual(reference(r));
      }),
      { numRuns: 300 },
    );
  });

  it("keeps every batch's records intact while later batches are written (views of shared slabs)", () => {
    fc.assert(
      fc.property(fc.array(batch, { maxLength: 30 }), (bs) => {
        const rs = bs as unknown as PrequentialResult[];
        const outs = rs.map((r) => predictionRecords(r)); // views, read only after all are written
        rs.forEach((r, i) => expect(asHex(outs[i])).toEqual(asHex(reference(r))));
      }),
      { numRuns: 100 },
    );
    // Enough batches of 32 to fill many slabs, records of varying length so batches end anywhere in a slab.
    const rs = Array.from({ length: 1500 }, (_, b) => {
      const envelopes = Array.from({ length: 32 }, (_, j) => ({
        event: { id: `e-${b}-${j}-${'z'.repeat((b * 7 + j * 13) % 90)}`, ts: b * 32 + j, x: [0], y: j % 2 },
        origin: { topic: 'in', partition: 0, offset: String(b * 32 + j), timestamp: 0 },
        receivedAt: 0,
      }));
      const predictions = envelopes.map((_, j) => ({
        id: '',
        predicted: j % 2,
        proba: [1 / (j + 3), 1 - 1 / (j + 3)],
      }));
      return { envelopes, variants: [{ variant: 'default', predictions }] } as unknown as PrequentialResult;
    });
    const outs = rs.map((r) => predictionRecords(r));
    let total = 0;
    rs.forEach((r, i) => {
      total += outs[i].reduce((sum, m) => sum + (m.value as Buffer).length, 0);
      expect(asHex(outs[i])).toEqual(asHex(reference(r)));
    });
    expect(total).toBeGreaterThan(4 * 256 * 1024);
  });

  it('a batch larger than the first buffer, with topics changing mid-batch, is still byte for byte the reference', () => {
    const envelopes = Array.from({ length: 300 }, (_, j) => ({
      event: {
        id: `event-${j}-${'é'.repeat(j % 7)}${'x'.repeat(40)}`,
        ts: 1_700_000_000_000 + j,
        x: [0],
        y: j % 2,
      },
      origin: { topic: j % 50 < 25 ? 'in-a' : 'in-é', partition: j % 3, offset: String(j), timestamp: 0 },
      receivedAt: 0,
    }));
    const predictions = envelopes.map((_, j) => ({
      id: '',
      predicted: j % 2,
      proba: [1 - j / 301, j / 301],
    }));
    const r = {
      envelopes,
      variants: [
        { variant: 'b', predictions },
        { variant: 'a', predictions },
      ],
    } as unknown as PrequentialResult;
    const got = predictionRecords(r).map((m) => ({ key: m.key, value: Buffer.from(m.value) }));
    expect(got).toEqual(reference(r));
    expect(got.reduce((s, m) => s + m.value.length, 0)).toBeGreaterThan(8 * 4096);
  });

  it('its values parse back to the records', () => {
    const r = {
      envelopes: [
        {
          event: { id: 'a"\\\u2028', ts: 1.5, x: [0], y: 1 },
          origin: { topic: 't', partition: 2, offset: '9007199254740993', timestamp: 0 },
          receivedAt: 0,
        },
      ],
      variants: [{ variant: 'lin', predictions: [{ id: 'x', predicted: 1, proba: [0.25, 0.75] }] }],
    } as unknown as PrequentialResult;
    const [m] = predictionRecords(r);
    expect(JSON.parse(m.value.toString())).toEqual({
      id: 'a"\\\u2028',
      ts: 1.5,
      topic: 't',
      partition: 2,
      offset: '9007199254740993',
      predictions: { lin: { predicted: 1, proba: [0.25, 0.75] } },
      y: 1,
    });
    expect(m.key).toBe('a"\\\u2028');
  });
});
