/**
 * Allocation-free per-channel kernels shared by the batch-statistics layers (BatchNorm, BatchRenorm,
 * InstanceNorm in eval). Layout is `[N, C, L]` row-major; `[N, C]` is `L = 1`. Callers own every buffer.
 */
import { dotRange, sqDevRange, sumRange } from './reduce.js';

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
  mean.fill(0, 0, c);
  variance.fill(0, 0, c);
  const m = n * l;
  if (l === 1) {
    for (let i = 0, o = 0; i < n; i++, o += c) for (let j = 0; j < c; j++) mean[j] += x[o + j];
    for (let j = 0; j < c; j++) mean[j] /= m;
    for (let i = 0, o = 0; i < n; i++, o += c) {
      for (let j = 0; j < c; j++) {
        const t = x[o + j] - mean[j];
        variance[j] += t * t;
      }
    }
  } else {
    for (let i = 0, o = 0; i < n; i++) {
      for (let j = 0; j < c; j++, o += l) mean[j] += sumRange(x, o, o + l);
    }
    for (let j = 0; j < c; j++) mean[j] /= m;
    for (let i = 0, o = 0; i < n; i++) {
      for (let j = 0; j < c; j++, o += l) variance[j] += sqDevRange(x, o, o + l, mean[j]);
    }
  }
  for (let j = 0; j < c; j++) variance[j] /= m;
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
      for (let k = o, e = o + l; k < e; k++) {
        const h = (x[k] - mu) * is;
        xhat[k] = h;
        out[k] = g * h + b;
      }
    }
  }
}

/**
 * Backward of a per-channel normalization. With batch statistics:
 * dx = γ·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)) per channel; with fixed (running) statistics
 * dx = γ·invStd·dy. Sets dγ = Σ dy·x̂ and dβ = Σ dy when given.
 */
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
  sumDy.fill(0, 0, c);
  sumDyXhat.fill(0, 0, c);
  for (let i = 0, o = 0; i < n; i++) {
    for (let j = 0; j < c; j++, o += l) {
      sumDy[j] += sumRange(dy, o, o + l);
      sumDyXhat[j] += dotRange(dy, xhat, o, o + l);
    }
  }
  if (dgamma !== null) dgamma.set(sumDyXhat.subarray(0, c));
  if (dbeta !== null) dbeta.set(sumDy.subarray(0, c));
  const m = n * l;
  for (let i = 0, o = 0; i < n; i++) {
    for (let j = 0; j < c; j++, o += l) {
      const scale = (gamma === null ? 1 : gamma[j]) * invStd[j];
      if (batchStats) {
        const mdy = sumDy[j] / m;
        const mdyh = sumDyXhat[j] / m;
        for (let k = o, e = o + l; k < e; k++) dx[k] = scale * (dy[k] - mdy - xhat[k] * mdyh);
      } else {
        for (let k = o, e = o + l; k < e; k++) dx[k] = scale * dy[k];
      }
    }
  }
}
