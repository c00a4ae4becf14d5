/**
 * Allocation-free per-channel kernels shared by the batch-statistics layers (BatchNorm, BatchRenorm,
 * InstanceNorm in eval). Layout is `[N, C, L]` row-major; `[N, C]` is `L = 1`. Callers own every buffer.
 */
import { shiftedSums, sqDevRange, sumRange } from './reduce.js';

const pair = new Float64Array(2);

/**
 * Per-channel mean and biased variance over N and L in one pass (sums shifted by the channel's first
 * value, see {@link shiftedSums}). Returns Σ_c (mean[c] + variance[c]), finite whenever every value is
 * (NaN and ±Infinity propagate through the sums): the caller's finiteness check rides on this pass
 * instead of costing one of its own. (An overflowing sum reads as non-finite too; the caller then runs
 * the exact scan, which finds nothing and lets the call proceed.)
 */
export function channelMoments(
  n: number,
  c: number,
  l: number,
  x: Float64Array,
  mean: Float64Array,
  variance: Float64Array,
): number {
  mean.fill(0, 0, c);
  variance.fill(0, 0, c);
  const m = n * l;
  if (l === 1) {
    for (let i = 0, o = 0; i < n; i++, o += c) {
      for (let j = 0; j < c; j++) {
        const t = x[o + j] - x[j];
        mean[j] += t;
        variance[j] += t * t;
      }
    }
  } else {
    for (let i = 0, o = 0; i < n; i++) {
      for (let j = 0; j < c; j++, o += l) {
        shiftedSums(x, o, o + l, x[j * l], pair);
        mean[j] += pair[0];
        variance[j] += pair[1];
      }
    }
  }
  let total = 0;
  for (let j = 0; j < c; j++) {
    const d = mean[j] / m;
    const v = variance[j] / m - d * d;
    mean[j] = x[j * l] + d;
    variance[j] = v > 0 ? v : 0;
    total += mean[j] + v;
  }
  return total;
}

/**
 * Per-channel mean over N and L into `mean`. Returns Σ_c mean[c], which is finite whenever every value
 * is (NaN and ±Infinity propagate through the sums): the caller's finiteness check rides on this pass
 * instead of costing a pass of its own. (An overflowing sum also reads as non-finite; the caller then
 * runs the exact scan, which finds nothing and lets the call proceed.)
 */
export function channelMeans(n: number, c: number, l: number, x: Float64Array, mean: Float64Array): number {
  mean.fill(0, 0, c);
  const m = n * l;
  if (l === 1) {
    for (let i = 0, o = 0; i < n; i++, o += c) for (let j = 0; j < c; j++) mean[j] += x[o + j];
  } else {
    for (let i = 0, o = 0; i < n; i++) {
      for (let j = 0; j < c; j++, o += l) mean[j] += sumRange(x, o, o + l);
    }
  }
  let total = 0;
  for (let j = 0; j < c; j++) {
    const mu = mean[j] / m;
    mean[j] = mu;
    total += mu;
  }
  return total;
}

/** Per-channel biased variance about `mean` (the second of two passes, for accuracy when |mean| ≫ std). */
export function channelVariance(
  n: number,
  c: number,
  l: number,
  x: Float64Array,
  mean: Float64Array,
  variance: Float64Array,
): void {
  variance.fill(0, 0, c);
  const m = n * l;
  if (l === 1) {
    for (let i = 0, o = 0; i < n; i++, o += c) {
      for (let j = 0; j < c; j++) {
        const t = x[o + j] - mean[j];
        variance[j] += t * t;
      }
    }
  } else {
    for (let i = 0, o = 0; i < n; i++) {
      for (let j = 0; j < c; j++, o += l) variance[j] += sqDevRange(x, o, o + l, mean[j]);
    }
  }
  for (let j = 0; j < c; j++) variance[j] /= m;
}

/**
 * Per-channel mean and biased variance over N and L (two passes, for accuracy when |mean| ≫ std).
 * Writes `mean[c]` and `variance[c]`. Walks memory in order: rows of L inside (n, c).
 */
export function batchMoments(
  n: number,
  c: number,
  l: number,
  x: Float64Array,
  mean: Float64Array,
  variance: Float64Array,
): void {
  channelMeans(n, c, l, x, mean);
  channelVariance(n, c, l, x, mean, variance);
}

/** x̂ = (x − mean[c])·invStd[c] into `xhat`, y = γ[c]·x̂ + β[c] into `out` (γ = 1, β = 0 when null). */
export function normalizeChannels(
  n: number,
  c: number,
  l: number,
  x: Float64Array,
  mean: Float64Array,
  invStd: Float64Array,
  gamma: Float64Array | null,
  beta: Float64Array | null,
  xhat: Float64Array,
  out: Float64Array,
): void {
  for (let i = 0, o = 0; i < n; i++) {
    for (let j = 0; j < c; j++, o += l) {
      const mu = mean[j];
      const is = invStd[j];
      const g = gamma === null ? 1 : gamma[j];
      const b = beta === null ? 0 : beta[j];
      const e = o + l;
      let k = o;
      // Four values per iteration: V8 re-checks every array once per iteration, not once per value.
      for (const e4 = e - 3; k < e4; k += 4) {
        const h0 = (x[k] - mu) * is;
        const h1 = (x[k + 1] - mu) * is;
        const h2 = (x[k + 2] - mu) * is;
        const h3 = (x[k + 3] - mu) * is;
        xhat[k] = h0;
        xhat[k + 1] = h1;
        xhat[k + 2] = h2;
        xhat[k + 3] = h3;
        out[k] = g * h0 + b;
        out[k + 1] = g * h1 + b;
        out[k + 2] = g * h2 + b;
        out[k + 3] = g * h3 + b;
      }
      for (; k < e; k++) {
        const h = (x[k] - mu) * is;
        xhat[k] = h;
        out[k] = g * h + b;
      }
    }
  }
}

/**
 * Σ dy and Σ dy·x̂ per channel into `sumDy` and `sumDyXhat` (the reductions of the backward pass).
 * Returns their total, finite whenever every dy is (see {@link channelMeans}).
 */
export function channelGradSums(
  n: number,
  c: number,
  l: number,
  dy: Float64Array,
  xhat: Float64Array,
  sumDy: Float64Array,
  sumDyXhat: Float64Array,
): number {
  sumDy.fill(0, 0, c);
  sumDyXhat.fill(0, 0, c);
  for (let i = 0, o = 0; i < n; i++) {
    for (let j = 0; j < c; j++, o += l) {
      const e = o + l;
      let a0 = 0;
      let a1 = 0;
      let b0 = 0;
      let b1 = 0;
      let k = o;
      // Four values per iteration, still two chains per sum (even and odd positions): the same sums.
      for (const e4 = e - 3; k < e4; k += 4) {
        const d0 = dy[k];
        const d1 = dy[k + 1];
        const d2 = dy[k + 2];
        const d3 = dy[k + 3];
        a0 += d0;
        a1 += d1;
        b0 += d0 * xhat[k];
        b1 += d1 * xhat[k + 1];
        a0 += d2;
        a1 += d3;
        b0 += d2 * xhat[k + 2];
        b1 += d3 * xhat[k + 3];
      }
      if (k < e - 1) {
        const d0 = dy[k];
        const d1 = dy[k + 1];
        a0 += d0;
        a1 += d1;
        b0 += d0 * xhat[k];
        b1 += d1 * xhat[k + 1];
        k += 2;
      }
      if (k < e) {
        const d0 = dy[k];
        a0 += d0;
        b0 += d0 * xhat[k];
      }
      sumDy[j] += a0 + a1;
      sumDyXhat[j] += b0 + b1;
    }
  }
  let total = 0;
  for (let j = 0; j < c; j++) total += sumDy[j] + sumDyXhat[j];
  return total;
}

/**
 * Backward of a per-channel normalization from the sums of {@link channelGradSums}. With batch
 * statistics: dx = γ·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)) per channel; with fixed (running) statistics
 * dx = γ·invStd·dy. Sets dγ = Σ dy·x̂ and dβ = Σ dy when given. `m` is the number of values the statistics
 * were taken over: N·L here, all replicas' when the sums were pooled (synchronized BatchNorm).
 */
export function channelBackwardFromSums(
  n: number,
  c: number,
  l: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  gamma: Float64Array | null,
  batchStats: boolean,
  dx: Float64Array,
  dgamma: Float64Array | null,
  dbeta: Float64Array | null,
  sumDy: Float64Array,
  sumDyXhat: Float64Array,
  m: number = n * l,
): void {
  if (dgamma !== null) dgamma.set(sumDyXhat.subarray(0, c));
  if (dbeta !== null) dbeta.set(sumDy.subarray(0, c));
  for (let i = 0, o = 0; i < n; i++) {
    for (let j = 0; j < c; j++, o += l) {
      const scale = (gamma === null ? 1 : gamma[j]) * invStd[j];
      const e = o + l;
      if (batchStats) {
        const mdy = sumDy[j] / m;
        const mdyh = sumDyXhat[j] / m;
        let k = o;
        for (const e4 = e - 3; k < e4; k += 4) {
          dx[k] = scale * (dy[k] - mdy - xhat[k] * mdyh);
          dx[k + 1] = scale * (dy[k + 1] - mdy - xhat[k + 1] * mdyh);
          dx[k + 2] = scale * (dy[k + 2] - mdy - xhat[k + 2] * mdyh);
          dx[k + 3] = scale * (dy[k + 3] - mdy - xhat[k + 3] * mdyh);
        }
        for (; k < e; k++) dx[k] = scale * (dy[k] - mdy - xhat[k] * mdyh);
      } else {
        for (let k = o; k < e; k++) dx[k] = scale * dy[k];
      }
    }
  }
}

/** {@link channelGradSums} then {@link channelBackwardFromSums}, for callers that checked dy already. */
export function channelBackward(
  n: number,
  c: number,
  l: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  gamma: Float64Array | null,
  batchStats: boolean,
  dx: Float64Array,
  dgamma: Float64Array | null,
  dbeta: Float64Array | null,
  sumDy: Float64Array,
  sumDyXhat: Float64Array,
): void {
  channelGradSums(n, c, l, dy, xhat, sumDy, sumDyXhat);
  channelBackwardFromSums(n, c, l, dy, xhat, invStd, gamma, batchStats, dx, dgamma, dbeta, sumDy, sumDyXhat);
}
