/**
 * writeShortestUnit must write exactly what String writes for every double it accepts (all of [1e-5, 1)),
 * and decline, writing nothing, anything else. Doubles are drawn where shortest-digit printers go wrong: every
 * binary exponent of the range with random significands, short decimals and their neighbours one ulp away
 * (shortest output far below 17 digits, ends of the interval), powers of two (a narrower interval below), the
 * decade thresholds, and sigmoid outputs as the models publish them.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { writeShortestUnit } from '../../src/streams/shortestDigits.js';

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The double `steps` ulps away from x (x positive and finite). */
function ulps(x: number, steps: number): number {
  f64[0] = x;
  u64[0] += BigInt(steps);
  return f64[0];
}

/** What writeShortestUnit writes for x, or null when it declines (and then it must not have written). */
function written(x: number): string | null {
  const buf = new Uint8Array(40).fill(0xff);
  const end = writeShortestUnit(x, buf, 3);
  if (end < 0) {
    expect(buf.every((b) => b === 0xff)).toBe(true);
    return null;
  }
  expect(buf[2]).toBe(0xff);
  expect(buf.subarray(27).every((b) => b === 0xff)).toBe(true); // 24 bytes of room, no more
  return Buffer.from(buf.subarray(3, end)).toString('latin1');
}

function sameAsString(x: number): void {
  const got = written(x);
  if (x >= 1e-5 && x < 1) expect(got).toBe(String(x));
  else expect(got).toBeNull();
}

/** Any double of biased exponent in [1006, 1022] (2^-17 ≤ x < 1), significand bits uniform. */
const anyBits = fc
  .tuple(fc.integer({ min: 1006, max: 1022 }), fc.bigInt({ min: 0n, max: (1n << 52n) - 1n }))
  .map(([e, m]) => {
    u64[0] = (BigInt(e) << 52n) | m;
    return f64[0];
  });
/** A decimal of 1 to 17 significant digits in the range, and a neighbour up to 2 ulps away. */
const shortDecimal = fc
  .tuple(fc.integer({ min: 1, max: 17 }), fc.double({ min: 1e-5, max: 1, maxExcluded: true, noNaN: true }))
  .chain(([digits, x]) =>
    fc.constantFrom(-2, -1, 0, 1, 2).map((d) => ulps(Number(x.toPrecision(digits)), d)),
  );
const sigmoid = fc.double({ min: -40, max: 40, noNaN: true }).map((z) => 1 / (1 + Math.exp(-z)));

describe('writeShortestUnit', () => {
  it('writes what String writes, across the whole range', () => {
    fc.assert(
      fc.property(anyBits, (x) => sameAsString(x)),
      { numRuns: 50_000 },
    );
  });

  it('writes short decimals and their neighbours as String does', () => {
    fc.assert(
      fc.property(shortDecimal, (x) => sameAsString(x)),
      { numRuns: 50_000 },
    );
  });

  it('writes sigmoid outputs and their complements as String does', () => {
    fc.assert(
      fc.property(sigmoid, (p) => {
        sameAsString(p);
        sameAsString(1 - p);
      }),
      { numRuns: 20_000 },
    );
  });

  it('handles powers of two, the decade thresholds and the ends of the range', () => {
    const xs: number[] = [];
    for (let e = -18; e <= -1; e++) xs.push(2 ** e);
    for (let e = 1; e <= 6; e++) xs.push(Number(`1e-${e}`));
    xs.push(0.5, 0.25, 0.75, 0.3, 0.7, 0.9999999999999999, 0.1 + 0.2, 1 / 3, 2 / 3);
    for (const x of xs) for (let d = -3; d <= 3; d++) sameAsString(ulps(x, d));
    // Every double of one dense stretch, ulp by ulp.
    for (let i = 0, x = 0.123456789; i < 20_000; i++, x = ulps(x, 1)) sameAsString(x);
  });

  it('declines what it does not cover, writing nothing', () => {
    for (const x of [0, -0, 1, 1.5, -0.5, 9.99e-6, 5e-324, NaN, Infinity, -Infinity, 1e21, 123.456])
      expect(written(x)).toBeNull();
    fc.assert(
      fc.property(fc.double(), (x) => sameAsString(x)),
      { numRuns: 20_000 },
    );
  });
});
