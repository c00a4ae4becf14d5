/**
 * Pinned kernels: every hand-unrolled numeric kernel in src/ equals a plain (not unrolled) reference loop
 * that states its summation order, bit for bit (Object.is per value, never a tolerance), on fast-check
 * inputs with awkward values (test/unit/core/pinning.ts) over rows 1–9 × lengths 1–9 and every affine mode.
 * Unrolling may change how many values one iteration takes, never which chain a value joins or the order
 * of the adds; a change that does fails here.
 *
 * | kernel (src/) | pinned in (test/unit/) | reference |
 * | --- | --- | --- |
 * | normalizers/reduce.ts: sumRange, sqDevRange, dotRange, sumDotRange, shiftedSums | normalizers/kernelsPinned.test.ts (here) | normalizers/referenceKernels.ts |
 * | normalizers/input.ts: assertFinite (four v·0 chains) | here | a plain scan for the first non-finite value |
 * | normalizers/rowKernels.ts: rowMoments, rowsForward, rowsBackward, rowGradSums, rowGradSumsSize, rowsBackwardFromSums (modes none, elementwise, channel) | normalizers/rowKernelsPinned.test.ts | normalizers/referenceRowKernels.ts |
 * | normalizers/channelKernels.ts: channelMoments, channelMeans, channelVariance, batchMoments, normalizeChannels, channelGradSums, channelBackwardFromSums, channelBackward | normalizers/channelKernelsPinned.test.ts | normalizers/referenceChannelKernels.ts |
 * | core/kernels.ts: ddot4 (ddot and allFinite are plain loops) | core/kernels.test.ts | in the test |
 * | models/linear/eagerStore.ts: learnFloat64 (ddot4 and the L2 step inlined), shrinkStep | models/linear/weightStores.test.ts (d = 13), test/property/linearKernels.test.ts (d = 1–9) | plain SGD loops in the tests |
 *
 * Not unrolling: datasets/hashing.ts reads four bytes per MurmurHash3 block because the hash is defined
 * so (pinned to scikit-learn's values in datasets/hashing.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NormalizationError } from '../../../src/errors.js';
import { assertFinite } from '../../../src/normalizers/input.js';
import { dotRange, shiftedSums, sqDevRange, sumDotRange, sumRange } from '../../../src/normalizers/reduce.js';
import { GRID, expectBit, finiteValue, values } from '../core/pinning.js';
import { refDotRange, refShiftedSums, refSqDevRange, refSumRange } from './referenceKernels.js';

const RUNS = 25;

/** Runs `check` on every row of every (rows, length) of the grid, naming them in a failure. */
function overRows<T>(
  arb: (size: number) => fc.Arbitrary<T>,
  check: (o: number, e: number, v: T) => void,
): void {
  for (const [rows, len] of GRID) {
    try {
      fc.assert(
        fc.property(arb(rows * len), (v) => {
          for (let o = 0; o < rows * len; o += len) check(o, o + len, v);
        }),
        { numRuns: RUNS },
      );
    } catch (e) {
      throw new Error(`rows ${rows} × length ${len}: ${(e as Error).message}`);
    }
  }
}

describe('reduce.ts kernels equal their plain references bit for bit (rows 1–9 × lengths 1–9)', () => {
  const pair = new Float64Array(2);
  const xy = (size: number) => fc.record({ x: values(size), y: values(size), mu: finiteValue });

  it('sumRange, sqDevRange and dotRange: four chains by position', () => {
    overRows(xy, (o, e, { x, y, mu }) => {
      expectBit('sumRange', sumRange(x, o, e), refSumRange(x, o, e));
      expectBit('sqDevRange', sqDevRange(x, o, e, mu), refSqDevRange(x, o, e, mu));
      expectBit('dotRange', dotRange(x, y, o, e), refDotRange(x, y, o, e));
    });
  });

  it('sumDotRange: sumRange and dotRange in one sweep', () => {
    overRows(xy, (o, e, { x, y }) => {
      sumDotRange(x, y, o, e, pair);
      expectBit('sum', pair[0], refSumRange(x, o, e));
      expectBit('dot', pair[1], refDotRange(x, y, o, e));
    });
  });

  it('shiftedSums: two chains by position, shifted by the first value or any other', () => {
    overRows(xy, (o, e, { x, mu }) => {
      for (const shift of [x[o], mu]) {
        shiftedSums(x, o, e, shift, pair);
        const [a, q] = refShiftedSums(x, o, e, shift);
        expectBit('Σ(x − s)', pair[0], a);
        expectBit('Σ(x − s)²', pair[1], q);
      }
    });
  });
});

describe('input.ts assertFinite (four unrolled v·0 chains) equals a plain scan', () => {
  it('throws exactly when some value is NaN or ±Infinity, naming the first one', () => {
    for (const [rows, len] of GRID) {
      const size = rows * len;
      fc.assert(
        fc.property(
          values(size),
          fc.array(fc.tuple(fc.nat(size - 1), fc.constantFrom(NaN, Infinity, -Infinity)), { maxLength: 2 }),
          (x, bad) => {
            for (const [at, v] of bad) x[at] = v;
            let first = -1;
            for (let k = 0; k < size && first < 0; k++) if (!Number.isFinite(x[k])) first = k;
            const call = () => assertFinite(x, size, 'Kernel', 'input', [rows, len]);
            if (first < 0) expect(call).not.toThrow();
            else {
              expect(call).toThrow(NormalizationError);
              expect(call).toThrow(
                `non-finite input value ${String(x[first])} at flat index ${first} of shape [${rows}, ${len}]`,
              );
            }
          },
        ),
        { numRuns: RUNS },
      );
    }
  });
});
