/**
 * The unrolled reductions equal plain loops with the same accumulation chains, bit for bit (Object.is),
 * over every length 1–9 at offsets 0–9 (rows 1–9 of a row-major buffer), on values with mixed signs and
 * magnitudes so that any change of add order would show in the last bits.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { dotRange, shiftedSums, sqDevRange, sumDotRange, sumRange } from '../../../src/normalizers/reduce.js';
import { refDotRange, refShiftedSums, refSqDevRange, refSumRange } from './referenceKernels.js';

function data(seed: number, size: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: size }, () => rng.normal() * 10 ** Math.floor(rng.normal() * 3));
}

describe('reduce.ts kernels equal their plain references exactly', () => {
  const x = data(1, 90);
  const y = data(2, 90);
  const pair = new Float64Array(2);
  for (let rows = 1; rows <= 9; rows++) {
    for (let len = 1; len <= 9; len++) {
      it(`rows ${rows} x length ${len}`, () => {
        for (let r = 0; r < rows; r++) {
          const o = r * len;
          const e = o + len;
          expect(Object.is(sumRange(x, o, e), refSumRange(x, o, e))).toBe(true);
          expect(Object.is(sqDevRange(x, o, e, 0.3), refSqDevRange(x, o, e, 0.3))).toBe(true);
          expect(Object.is(dotRange(x, y, o, e), refDotRange(x, y, o, e))).toBe(true);
          sumDotRange(x, y, o, e, pair);
          expect(Object.is(pair[0], refSumRange(x, o, e))).toBe(true);
          expect(Object.is(pair[1], refDotRange(x, y, o, e))).toBe(true);
          shiftedSums(x, o, e, x[o], pair);
          const [a, q] = refShiftedSums(x, o, e, x[o]);
          expect(Object.is(pair[0], a)).toBe(true);
          expect(Object.is(pair[1], q)).toBe(true);
        }
      });
    }
  }
});
