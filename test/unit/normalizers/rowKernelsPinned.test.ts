/**
 * Every export of src/normalizers/rowKernels.ts equals its plain reference (referenceRowKernels.ts) bit
 * for bit, over rows 1–9 × lengths 1–9, in every affine mode: none, elementwise, and channel in every
 * layout of the row (chunk × channelsPerRow = length, rowsPerSample dividing rows), with and without
 * parameter gradients, on fast-check inputs with awkward values (see test/unit/core/pinning.ts). Output buffers start
 * as garbage, so a slot a kernel should write and skips shows too.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  type RowAffine,
  rowGradSums,
  rowGradSumsSize,
  rowMoments,
  rowsBackward,
  rowsBackwardFromSums,
  rowsForward,
} from '../../../src/normalizers/rowKernels.js';
import { GRID, divisors, epsilon, expectBit, expectBits, garbage, values } from '../core/pinning.js';
import {
  refRowGradSums,
  refRowGradSumsSize,
  refRowMoments,
  refRowsBackward,
  refRowsBackwardFromSums,
  refRowsForward,
} from './referenceRowKernels.js';

type Mode = RowAffine['mode'];
const MODES: readonly Mode[] = ['none', 'elementwise', 'channel'];
/** fast-check runs per (rows, length, layout): the grid itself is walked exhaustively. */
const RUNS = 12;

/** A case of the grid: its sizes and a generator of the affine step in one layout of `mode`. */
type Case = { rows: number; len: number; label: string; affine: fc.Arbitrary<RowAffine> };

/** Every (rows, length) of the grid in every layout of `mode`, with γ and β drawn to size. */
function cases(mode: Mode): Case[] {
  const out: Case[] = [];
  for (const [rows, len] of GRID) {
    if (mode === 'none') out.push({ rows, len, label: '', affine: fc.constant({ mode }) });
    else if (mode === 'elementwise') {
      const affine = fc
        .tuple(values(len), values(len))
        .map(([gamma, beta]): RowAffine => ({ mode, gamma, beta }));
      out.push({ rows, len, label: '', affine });
    } else {
      for (const channelsPerRow of divisors(len)) {
        for (const rowsPerSample of divisors(rows)) {
          const chunk = len / channelsPerRow;
          const size = rowsPerSample * channelsPerRow;
          const affine = fc
            .tuple(values(size), values(size))
            .map(([gamma, beta]): RowAffine => ({ mode, gamma, beta, chunk, channelsPerRow, rowsPerSample }));
          out.push({
            rows,
            len,
            label: ` chunk ${chunk} × ${channelsPerRow}, ${rowsPerSample} rows/sample`,
            affine,
          });
        }
      }
    }
  }
  return out;
}

/** Runs `check` on every case of `mode`, naming the case in a failure. */
function overGrid<T>(
  mode: Mode,
  arb: (c: Case) => fc.Arbitrary<T>,
  check: (c: Case, v: T) => void,
  runs = RUNS,
): void {
  for (const c of cases(mode)) {
    try {
      fc.assert(
        fc.property(arb(c), (v) => check(c, v)),
        { numRuns: mode === 'channel' ? Math.ceil(runs / 2) : runs },
      );
    } catch (e) {
      throw new Error(`rows ${c.rows} × length ${c.len}${c.label}: ${(e as Error).message}`);
    }
  }
}

/** Gradient buffers for a kernel call: garbage of γ's size, or null. */
function gradBuffers(affine: RowAffine, withGrads: boolean): [Float64Array | null, Float64Array | null] {
  if (!withGrads || affine.mode === 'none') return [null, null];
  return [garbage(affine.gamma.length), garbage(affine.gamma.length)];
}

describe('rowKernels.ts equals the plain references bit for bit (rows 1–9 × lengths 1–9)', () => {
  it('rowMoments: means, clamped variances and the total', () => {
    overGrid(
      'none',
      ({ rows, len }) => values(rows * len),
      ({ rows, len }, x) => {
        const mean = garbage(rows);
        const variance = garbage(rows);
        const total = rowMoments(rows, len, x, mean, variance);
        const ref = refRowMoments(rows, len, x);
        expectBits('mean', mean, ref.mean);
        expectBits('variance', variance, ref.variance);
        expectBit('total', total, ref.total);
      },
      40,
    );
  });

  for (const mode of MODES) {
    for (const given of [false, true]) {
      it(`rowsForward, affine ${mode}, statistics ${given ? 'given' : 'computed on the way'}`, () => {
        overGrid(
          mode,
          ({ rows, len, affine }) =>
            fc.record({
              x: values(rows * len),
              eps: epsilon,
              affine,
              mean: values(rows),
              variance: values(rows).map((v) => v.map(Math.abs)),
            }),
          ({ rows, len }, { x, eps, affine, mean, variance }) => {
            const moments = given ? { mean, variance } : null;
            const xhat = garbage(rows * len);
            const invStd = garbage(rows);
            const out = garbage(rows * len);
            rowsForward(rows, len, x, eps, affine, xhat, invStd, out, moments);
            const ref = refRowsForward(rows, len, x, eps, affine, moments);
            expectBits('xhat', xhat, ref.xhat);
            expectBits('invStd', invStd, ref.invStd);
            expectBits('out', out, ref.out);
          },
        );
      });
    }

    for (const withGrads of mode === 'none' ? [false] : [true, false]) {
      const grads = withGrads ? 'with dγ, dβ' : 'without parameter gradients';
      it(`rowsBackward, affine ${mode}, ${grads}`, () => {
        overGrid(
          mode,
          ({ rows, len, affine }) =>
            fc.record({ dy: values(rows * len), xhat: values(rows * len), invStd: values(rows), affine }),
          ({ rows, len }, { dy, xhat, invStd, affine }) => {
            const [dgamma, dbeta] = gradBuffers(affine, withGrads);
            const dx = garbage(rows * len);
            rowsBackward(rows, len, dy, xhat, invStd, affine, dgamma, dbeta, dx);
            const ref = refRowsBackward(rows, len, dy, xhat, invStd, affine, withGrads);
            expectBits('dx', dx, ref.dx);
            if (ref.dgamma !== null && ref.dbeta !== null) {
              expectBits('dgamma', dgamma!, ref.dgamma);
              expectBits('dbeta', dbeta!, ref.dbeta);
            }
          },
        );
      });

      it(`rowsBackwardFromSums, affine ${mode}, ${grads}`, () => {
        overGrid(
          mode,
          ({ rows, len, affine }) =>
            affine.chain((a) =>
              fc.record({
                dy: values(rows * len),
                xhat: values(rows * len),
                invStd: values(rows),
                sums: values(refRowGradSumsSize(rows, a)),
                affine: fc.constant(a),
              }),
            ),
          ({ rows, len }, { dy, xhat, invStd, sums, affine }) => {
            const [dgamma, dbeta] = gradBuffers(affine, withGrads);
            const dx = garbage(rows * len);
            rowsBackwardFromSums(rows, len, dy, xhat, invStd, affine, sums, dgamma, dbeta, dx);
            const ref = refRowsBackwardFromSums(rows, len, dy, xhat, invStd, affine, sums, withGrads);
            expectBits('dx', dx, ref.dx);
            if (ref.dgamma !== null && ref.dbeta !== null) {
              expectBits('dgamma', dgamma!, ref.dgamma);
              expectBits('dbeta', dbeta!, ref.dbeta);
            }
          },
        );
      });
    }

    it(`rowGradSums and rowGradSumsSize, affine ${mode}`, () => {
      overGrid(
        mode,
        ({ rows, len, affine }) => fc.record({ dy: values(rows * len), xhat: values(rows * len), affine }),
        ({ rows, len }, { dy, xhat, affine }) => {
          const size = rowGradSumsSize(rows, affine);
          expectBit('size', size, refRowGradSumsSize(rows, affine));
          const sums = garbage(size);
          const total = rowGradSums(rows, len, dy, xhat, affine, sums);
          const ref = refRowGradSums(rows, len, dy, xhat, affine);
          expectBits('sums', sums, ref.sums);
          expectBit('total', total, ref.total);
        },
      );
    });
  }

  it('rowsForward without affine writes x̂ into the output buffer itself (weight standardization)', () => {
    overGrid(
      'none',
      ({ rows, len }) => fc.record({ x: values(rows * len), eps: epsilon }),
      ({ rows, len }, { x, eps }) => {
        const both = garbage(rows * len);
        const invStd = garbage(rows);
        rowsForward(rows, len, x, eps, { mode: 'none' }, both, invStd, both);
        const ref = refRowsForward(rows, len, x, eps, { mode: 'none' }, null);
        expectBits('xhat = out', both, ref.xhat);
        expectBits('invStd', invStd, ref.invStd);
      },
    );
  });
});
