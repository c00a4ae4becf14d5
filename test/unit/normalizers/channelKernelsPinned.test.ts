/**
 * Every export of src/normalizers/channelKernels.ts equals its plain reference
 * (referenceChannelKernels.ts) bit for bit, over samples 1–9 × lengths 1–9 (L = 1 is the `[N, C]` path)
 * × channels 1–3, in both affine modes (γ, β per channel with their gradients, or none) and with batch or
 * fixed statistics, on fast-check inputs with awkward values (see test/unit/core/pinning.ts). Output buffers start as garbage.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  batchMoments,
  channelBackward,
  channelBackwardFromSums,
  channelGradSums,
  channelMeans,
  channelMoments,
  channelVariance,
  normalizeChannels,
} from '../../../src/normalizers/channelKernels.js';
import { GRID, expectBit, expectBits, garbage, values } from '../core/pinning.js';
import {
  refChannelBackwardFromSums,
  refChannelGradSums,
  refChannelMeans,
  refChannelMoments,
  refChannelVariance,
  refNormalizeChannels,
} from './referenceChannelKernels.js';

const CHANNELS = [1, 2, 3];
const RUNS = 8;

type Dims = { n: number; c: number; l: number };

/** Runs `check` over every samples × length × channels of the grid, naming the dims in a failure. */
function overGrid<T>(arb: (d: Dims) => fc.Arbitrary<T>, check: (d: Dims, v: T) => void): void {
  for (const [n, l] of GRID) {
    for (const c of CHANNELS) {
      const d = { n, c, l };
      try {
        fc.assert(
          fc.property(arb(d), (v) => check(d, v)),
          { numRuns: RUNS },
        );
      } catch (e) {
        throw new Error(`[${n}, ${c}, ${l}]: ${(e as Error).message}`);
      }
    }
  }
}

/** The affine modes of the batch-statistics layers: γ, β (and dγ, dβ) per channel, or none. */
const AFFINE = [true, false];

/** γ (or β) of c values when the layer has an affine step, else null. */
const param = (c: number, affine: boolean) => (affine ? values(c) : fc.constant(null));

/** The inputs of a backward pass: dy, x̂, invStd and γ. */
const backwardInputs = ({ n, c, l }: Dims, affine: boolean) =>
  fc.record({ dy: values(n * c * l), xhat: values(n * c * l), invStd: values(c), gamma: param(c, affine) });

describe('channelKernels.ts equals the plain references bit for bit (samples 1–9 × lengths 1–9 × channels 1–3)', () => {
  it('channelMoments: one-pass shifted means, clamped variances and the total', () => {
    overGrid(
      ({ n, c, l }) => values(n * c * l),
      ({ n, c, l }, x) => {
        const mean = garbage(c);
        const variance = garbage(c);
        const total = channelMoments(n, c, l, x, mean, variance);
        const ref = refChannelMoments(n, c, l, x);
        expectBits('mean', mean, ref.mean);
        expectBits('variance', variance, ref.variance);
        expectBit('total', total, ref.total);
      },
    );
  });

  it('channelMeans, channelVariance and batchMoments (the two-pass statistics)', () => {
    overGrid(
      ({ n, c, l }) => fc.record({ x: values(n * c * l), about: values(c) }),
      ({ n, c, l }, { x, about }) => {
        const mean = garbage(c);
        const total = channelMeans(n, c, l, x, mean);
        const ref = refChannelMeans(n, c, l, x);
        expectBits('channelMeans mean', mean, ref.mean);
        expectBit('channelMeans total', total, ref.total);
        // The variance about any given means, then about the batch's own (batchMoments).
        const variance = garbage(c);
        channelVariance(n, c, l, x, about, variance);
        expectBits('channelVariance', variance, refChannelVariance(n, c, l, x, about));
        const bm = garbage(c);
        const bv = garbage(c);
        batchMoments(n, c, l, x, bm, bv);
        expectBits('batchMoments mean', bm, ref.mean);
        expectBits('batchMoments variance', bv, refChannelVariance(n, c, l, x, ref.mean));
      },
    );
  });

  for (const affine of AFFINE) {
    it(`normalizeChannels, ${affine ? 'with γ, β' : 'no affine'}`, () => {
      overGrid(
        ({ n, c, l }) =>
          fc.record({
            x: values(n * c * l),
            mean: values(c),
            invStd: values(c),
            gamma: param(c, affine),
            beta: param(c, affine),
          }),
        ({ n, c, l }, { x, mean, invStd, gamma, beta }) => {
          const xhat = garbage(n * c * l);
          const out = garbage(n * c * l);
          normalizeChannels(n, c, l, x, mean, invStd, gamma, beta, xhat, out);
          const ref = refNormalizeChannels(n, c, l, x, mean, invStd, gamma, beta);
          expectBits('xhat', xhat, ref.xhat);
          expectBits('out', out, ref.out);
        },
      );
    });
  }

  it('channelGradSums', () => {
    overGrid(
      ({ n, c, l }) => fc.record({ dy: values(n * c * l), xhat: values(n * c * l) }),
      ({ n, c, l }, { dy, xhat }) => {
        const sumDy = garbage(c);
        const sumDyXhat = garbage(c);
        const total = channelGradSums(n, c, l, dy, xhat, sumDy, sumDyXhat);
        const ref = refChannelGradSums(n, c, l, dy, xhat);
        expectBits('sumDy', sumDy, ref.sumDy);
        expectBits('sumDyXhat', sumDyXhat, ref.sumDyXhat);
        expectBit('total', total, ref.total);
      },
    );
  });

  for (const affine of AFFINE) {
    for (const batchStats of [true, false]) {
      const mode = `${affine ? 'γ, β with dγ, dβ' : 'no affine'}, ${batchStats ? 'batch' : 'fixed'} statistics`;

      it(`channelBackwardFromSums, ${mode}`, () => {
        overGrid(
          (d) => fc.record({ in: backwardInputs(d, affine), sumDy: values(d.c), sumDyXhat: values(d.c) }),
          ({ n, c, l }, { in: { dy, xhat, invStd, gamma }, sumDy, sumDyXhat }) => {
            const dx = garbage(n * c * l);
            const dgamma = affine ? garbage(c) : null;
            const dbeta = affine ? garbage(c) : null;
            channelBackwardFromSums(
              n,
              c,
              l,
              dy,
              xhat,
              invStd,
              gamma,
              batchStats,
              dx,
              dgamma,
              dbeta,
              sumDy,
              sumDyXhat,
            );
            const ref = refChannelBackwardFromSums(
              n,
              c,
              l,
              dy,
              xhat,
              invStd,
              gamma,
              batchStats,
              sumDy,
              sumDyXhat,
            );
            expectBits('dx', dx, ref.dx);
            if (dgamma !== null && dbeta !== null) {
              expectBits('dgamma', dgamma, ref.dgamma);
              expectBits('dbeta', dbeta, ref.dbeta);
            }
          },
        );
      });

      it(`channelBackward (the sums, then the backward from them), ${mode}`, () => {
        overGrid(
          (d) => backwardInputs(d, affine),
          ({ n, c, l }, { dy, xhat, invStd, gamma }) => {
            const dx = garbage(n * c * l);
            const dgamma = affine ? garbage(c) : null;
            const dbeta = affine ? garbage(c) : null;
            const sumDy = garbage(c);
            const sumDyXhat = garbage(c);
            channelBackward(
              n,
              c,
              l,
              dy,
              xhat,
              invStd,
              gamma,
              batchStats,
              dx,
              dgamma,
              dbeta,
              sumDy,
              sumDyXhat,
            );
            const sums = refChannelGradSums(n, c, l, dy, xhat);
            const ref = refChannelBackwardFromSums(
              n,
              c,
              l,
              dy,
              xhat,
              invStd,
              gamma,
              batchStats,
              sums.sumDy,
              sums.sumDyXhat,
            );
            expectBits('sumDy', sumDy, sums.sumDy);
            expectBits('sumDyXhat', sumDyXhat, sums.sumDyXhat);
            expectBits('dx', dx, ref.dx);
            if (dgamma !== null && dbeta !== null) {
              expectBits('dgamma', dgamma, ref.dgamma);
              expectBits('dbeta', dbeta, ref.dbeta);
            }
          },
        );
      });
    }
  }
});
