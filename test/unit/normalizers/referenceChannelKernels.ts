/**
 * Plain (not unrolled) reference loops for every export of src/normalizers/channelKernels.ts, the
 * per-channel kernels of the batch-statistics layers over `[N, C, L]` (`[N, C]` is L = 1). One value per
 * iteration; each states the order of its sums, the contract the unrolled kernels keep. A "row" is the L
 * values of one (sample, channel); "four chains" and "two chains" are as in referenceKernels.ts
 * (position mod 4, combined (c0 + c1) + (c2 + c3); even and odd positions, c0 + c1; the tail in c0).
 */
import { refShiftedSums, refSqDevRange, refSumRange } from './referenceKernels.js';

/**
 * channelMoments: shift s_c = x[0, c, 0] (the channel's first value); per row the two-chain shifted
 * sums A, Q of refShiftedSums (with L = 1 simply t = x − s_c and t²), added to the channel's
 * accumulators from 0, sample after sample; then d = A/m, v = Q/m − d², mean = s_c + d, variance = v
 * clamped at 0 (v > 0 ? v : 0), m = N·L; total = Σ_c (mean[c] + v) with v unclamped, channels in order.
 */
export function refChannelMoments(
  n: number,
  c: number,
  l: number,
  x: Float64Array,
): { mean: Float64Array; variance: Float64Array; total: number } {
  const a = new Float64Array(c);
  const q = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      const o = (i * c + j) * l;
      const s = x[j * l];
      if (l === 1) {
        const t = x[o] - s;
        a[j] += t;
        q[j] += t * t;
      } else {
        const [sa, sq] = refShiftedSums(x, o, o + l, s);
        a[j] += sa;
        q[j] += sq;
      }
    }
  }
  const m = n * l;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  let total = 0;
  for (let j = 0; j < c; j++) {
    const d = a[j] / m;
    const v = q[j] / m - d * d;
    mean[j] = x[j * l] + d;
    variance[j] = v > 0 ? v : 0;
    total += mean[j] + v;
  }
  return { mean, variance, total };
}

/**
 * channelMeans: per channel Σ over samples, from 0 and sample after sample, of the row's sum (four
 * chains, refSumRange; with L = 1 the value itself), divided by m = N·L; total = Σ_c mean[c] in order.
 */
export function refChannelMeans(
  n: number,
  c: number,
  l: number,
  x: Float64Array,
): { mean: Float64Array; total: number } {
  const mean = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      const o = (i * c + j) * l;
      mean[j] += l === 1 ? x[o] : refSumRange(x, o, o + l);
    }
  }
  let total = 0;
  for (let j = 0; j < c; j++) {
    mean[j] /= n * l;
    total += mean[j];
  }
  return { mean, total };
}

/**
 * channelVariance: per channel Σ over samples, from 0 and in order, of the row's Σ (x − mean_c)² (four
 * chains, refSqDevRange; with L = 1 the one square), divided by m = N·L.
 */
export function refChannelVariance(
  n: number,
  c: number,
  l: number,
  x: Float64Array,
  mean: Float64Array,
): Float64Array {
  const variance = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      const o = (i * c + j) * l;
      if (l === 1) {
        const t = x[o] - mean[j];
        variance[j] += t * t;
      } else variance[j] += refSqDevRange(x, o, o + l, mean[j]);
    }
  }
  for (let j = 0; j < c; j++) variance[j] /= n * l;
  return variance;
}

/**
 * normalizeChannels: x̂ = (x − mean_c)·invStd_c and y = γ_c·x̂ + β_c, with γ_c = 1 and β_c = 0 when not
 * given (so y is x̂ + 0: a −0 in x̂ is +0 in y).
 */
export function refNormalizeChannels(
  n: number,
  c: number,
  l: number,
  x: Float64Array,
  mean: Float64Array,
  invStd: Float64Array,
  gamma: Float64Array | null,
  beta: Float64Array | null,
): { xhat: Float64Array; out: Float64Array } {
  const xhat = new Float64Array(n * c * l);
  const out = new Float64Array(n * c * l);
  for (let k = 0; k < n * c * l; k++) {
    const j = Math.floor(k / l) % c;
    const h = (x[k] - mean[j]) * invStd[j];
    xhat[k] = h;
    out[k] = (gamma === null ? 1 : gamma[j]) * h + (beta === null ? 0 : beta[j]);
  }
  return { xhat, out };
}

/**
 * channelGradSums: per row Σ dy and Σ dy·x̂ in two chains each, added to the channel's sums from 0,
 * sample after sample; total = Σ_c (sumDy[c] + sumDyXhat[c]) in channel order.
 */
export function refChannelGradSums(
  n: number,
  c: number,
  l: number,
  dy: Float64Array,
  xhat: Float64Array,
): { sumDy: Float64Array; sumDyXhat: Float64Array; total: number } {
  const sumDy = new Float64Array(c);
  const sumDyXhat = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      const o = (i * c + j) * l;
      const a = [0, 0];
      const b = [0, 0];
      for (let p = 0; p < l; p++) {
        a[p % 2] += dy[o + p];
        b[p % 2] += dy[o + p] * xhat[o + p];
      }
      sumDy[j] += a[0] + a[1];
      sumDyXhat[j] += b[0] + b[1];
    }
  }
  let total = 0;
  for (let j = 0; j < c; j++) total += sumDy[j] + sumDyXhat[j];
  return { sumDy, sumDyXhat, total };
}

/**
 * channelBackwardFromSums: dγ = sumDyXhat, dβ = sumDy (copies); scale_c = γ_c·invStd_c (γ_c = 1 when not
 * given); with batch statistics dx = scale_c·(dy − sumDy_c/m − x̂·(sumDyXhat_c/m)), m = N·L, otherwise
 * dx = scale_c·dy.
 */
export function refChannelBackwardFromSums(
  n: number,
  c: number,
  l: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  gamma: Float64Array | null,
  batchStats: boolean,
  sumDy: Float64Array,
  sumDyXhat: Float64Array,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const dx = new Float64Array(n * c * l);
  const m = n * l;
  for (let k = 0; k < n * c * l; k++) {
    const j = Math.floor(k / l) % c;
    const scale = (gamma === null ? 1 : gamma[j]) * invStd[j];
    dx[k] = batchStats ? scale * (dy[k] - sumDy[j] / m - xhat[k] * (sumDyXhat[j] / m)) : scale * dy[k];
  }
  return { dx, dgamma: sumDyXhat.slice(0, c), dbeta: sumDy.slice(0, c) };
}
