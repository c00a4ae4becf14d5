/**
 * What the pinned-kernel tests share: generators of awkward float64 inputs and an exact (bit for bit)
 * comparison. Equality is `Object.is` per element: +0 and −0 differ, NaN equals NaN (its payload is not
 * compared: V8 may canonicalize it). Never a tolerance.
 */
import fc from 'fast-check';
import { expect } from 'vitest';

/** Values spread over sixteen decades with both signs: any change of add order shows in the last bits. */
const mixed = fc
  .tuple(fc.double({ min: -10, max: 10, noNaN: true }), fc.integer({ min: -8, max: 8 }))
  .map(([v, e]) => v * 10 ** e);

/** Zeros of both signs, subnormals, the extremes, and values whose sums lose bits (1e16 + 1). */
const awkward = fc.constantFrom(
  0,
  -0,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  -1e-300,
  1e300,
  -1e300,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  1e16,
  1,
  -1,
  0.1,
  1 / 3,
);

/** Any finite double (fast-check's full range, subnormals and ±MAX_VALUE included). */
const wide = fc.double({ noNaN: true, noDefaultInfinity: true });

/** A finite value, mostly of moderate magnitude, sometimes awkward or huge. */
export const finiteValue = fc.oneof(
  { arbitrary: mixed, weight: 12 },
  { arbitrary: awkward, weight: 3 },
  { arbitrary: wide, weight: 1 },
);

/** A value that may also be NaN or ±Infinity (the kernels' totals must let them through). */
const anyValue = fc.oneof(
  { arbitrary: finiteValue, weight: 30 },
  { arbitrary: fc.constantFrom(NaN, Infinity, -Infinity), weight: 1 },
);

/**
 * A Float64Array of `size` values: mostly finite (so the sums stay informative), sometimes with NaN or
 * ±Infinity, sometimes a large common offset plus small deviations (the |mean| ≫ σ case the shifted
 * sums are for).
 */
export function values(size: number): fc.Arbitrary<Float64Array> {
  const of = (v: fc.Arbitrary<number>) =>
    fc.array(v, { minLength: size, maxLength: size }).map((a) => Float64Array.from(a));
  const offset = fc
    .tuple(fc.double({ min: -1e9, max: 1e9, noNaN: true }), of(fc.double({ min: -1, max: 1, noNaN: true })))
    .map(([c, d]) => d.map((v) => c + v));
  return fc.oneof(
    { arbitrary: of(finiteValue), weight: 6 },
    { arbitrary: offset, weight: 2 },
    { arbitrary: of(anyValue), weight: 1 },
  );
}

/** ε as the layers use it, plus 0 (a zero variance then divides by zero) and 1. */
export const epsilon = fc.constantFrom(1e-5, 0, 1e-3, 1);

/** Fails naming the first element that is not the same double (Object.is) as the reference's. */
export function expectBits(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      expect.fail(`${what}[${i}]: kernel ${String(actual[i])}, reference ${String(expected[i])}`);
    }
  }
}

/** Fails unless `actual` is the same double as `expected` (Object.is). */
export function expectBit(what: string, actual: number, expected: number): void {
  if (!Object.is(actual, expected))
    expect.fail(`${what}: kernel ${String(actual)}, reference ${String(expected)}`);
}

/** Every (rows, length) pair with rows and length in 1–9: the grid every kernel is pinned over. */
export const GRID: readonly [number, number][] = Array.from({ length: 81 }, (_, i) => [
  Math.floor(i / 9) + 1,
  (i % 9) + 1,
]);

/** The divisors of n in increasing order. */
export function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}

/** A buffer of `size` slots holding a value no kernel writes, so a slot it should write and skips shows. */
export function garbage(size: number): Float64Array {
  return new Float64Array(size).fill(-7.25e77);
}
