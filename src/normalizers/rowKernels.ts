/**
 * Allocation-free kernels for the per-sample layers (LayerNorm, InstanceNorm, GroupNorm, weight
 * standardization): each normalization set is one contiguous row of `len` values in the `[N, C, L]`
 * row-major layout (LayerNorm: one sample; GroupNorm: C/G channels of one sample; InstanceNorm: one channel
 * of one sample).
 *
 * Affine modes: `none`; `elementwise` (γ, β have `len` entries, LayerNorm); `channel` (the row is
 * `channelsPerRow` chunks of `chunk` values and row r starts at channel (r mod rowsPerSample)·channelsPerRow,
 * GroupNorm and InstanceNorm). Each mode has its own loop function so that every hot loop stays
 * monomorphic for the JIT (one shared loop branching on the mode ran 2-3x slower once it had seen several).
 *
 * V8 re-checks each typed array (map, length, data pointer) once per loop iteration, so the hot loops
 * take two to four values (or two or four rows) per iteration; every sum keeps its accumulation chains
 * and order, so the results are bit-identical to the plainer loops (which the C reference in bench/native
 * keeps).
 */
import { dotRange, shiftedSums, sumDotRange, sumRange } from './reduce.js';

const pair = new Float64Array(2);

/** Mean and biased variance of x[o, o + len) in one pass, shifted by x[o], into `pair`. */
function rowStats(x: Float64Array, o: number, len: number): void {
  const shift = x[o];
  shiftedSums(x, o, o + len, shift, pair);
  const d = pair[0] / len;
  const v = pair[1] / len - d * d;
  pair[0] = shift + d;
  pair[1] = v;
}

export type RowAffine =
  | { mode: 'none' }
  | { mode: 'elementwise'; gamma: Float64Array; beta: Float64Array }
  | {
      mode: 'channel';
      gamma: Float64Array;
      beta: Float64Array;
      chunk: number;
      channelsPerRow: number;
      rowsPerSample: number;
    };

/**
 * Row means and biased variances into `mean[r]`, `variance[r]` (one shifted pass per row, see
 * {@link shiftedSums}). Returns Σ_r (mean[r] + variance[r]), finite whenever every value is (NaN and
 * ±Infinity propagate): a caller can fold its finiteness check into this pass and still throw before
 * touching any state (an overflowing sum reads as non-finite too; the exact scan then finds nothing).
 */
export function rowMoments(
  rows: number,
  len: number,
  x: Float64Array,
  mean: Float64Array,
  variance: Float64Array,
): number {
  let total = 0;
  for (let r = 0, o = 0; r < rows; r++, o += len) {
    rowStats(x, o, len);
    const mu = pair[0];
    const v = pair[1];
    mean[r] = mu;
    variance[r] = v > 0 ? v : 0;
    total += mu + v;
  }
  return total;
}

/**
 * Normalizes `rows` rows of `len`: x̂ into `xhat`, 1/√(σ² + ε) into `invStd[r]`, y into `out`. With
 * `moments` the row statistics come from {@link rowMoments}; without, each row's are computed on the way.
 */
export function rowsForward(
  rows: number,
  len: number,
  x: Float64Array,
  eps: number,
  affine: RowAffine,
  xhat: Float64Array,
  invStd: Float64Array,
  out: Float64Array,
  moments: { mean: Float64Array; variance: Float64Array } | null = null,
): void {
  const mean = moments === null ? null : moments.mean;
  const variance = moments === null ? null : moments.variance;
  if (affine.mode === 'none') rowsForwardPlain(rows, len, x, eps, mean, variance, xhat, invStd, out);
  else if (affine.mode === 'elementwise')
    rowsForwardElementwise(rows, len, x, eps, mean, variance, affine.gamma, affine.beta, xhat, invStd, out);
  else
    rowsForwardChannel(
      rows,
      len,
      x,
      eps,
      mean,
      variance,
      affine.gamma,
      affine.beta,
      affine.chunk,
      affine.channelsPerRow,
      affine.rowsPerSample,
      xhat,
      invStd,
      out,
    );
}

function rowsForwardPlain(
  rows: number,
  len: number,
  x: Float64Array,
  eps: number,
  mean: Float64Array | null,
  variance: Float64Array | null,
  xhat: Float64Array,
  invStd: Float64Array,
  out: Float64Array,
): void {
  for (let r = 0, o = 0; r < rows; r++, o += len) {
    const e = o + len;
    let mu: number;
    let v: number;
    if (mean === null || variance === null) {
      rowStats(x, o, len);
      mu = pair[0];
      v = pair[1] > 0 ? pair[1] : 0;
    } else {
      mu = mean[r];
      v = variance[r];
    }
    const is = 1 / Math.sqrt(v + eps);
    invStd[r] = is;
    let k = o;
    for (const e2 = e - 1; k < e2; k += 2) {
      const h0 = (x[k] - mu) * is;
      const h1 = (x[k + 1] - mu) * is;
      xhat[k] = h0;
      xhat[k + 1] = h1;
      out[k] = h0;
      out[k + 1] = h1;
    }
    if (k < e) {
      const h = (x[k] - mu) * is;
      xhat[k] = h;
      out[k] = h;
    }
  }
}

function rowsForwardElementwise(
  rows: number,
  len: number,
  x: Float64Array,
  eps: number,
  mean: Float64Array | null,
  variance: Float64Array | null,
  gamma: Float64Array,
  beta: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  out: Float64Array,
): void {
  let r = 0;
  if (mean !== null && variance !== null) {
    // Statistics known up front: two rows per sweep, so γ and β are loaded once for two samples.
    for (let o = 0; r + 1 < rows; r += 2, o += 2 * len) {
      const mu = mean[r];
      const is = 1 / Math.sqrt(variance[r] + eps);
      const nu = mean[r + 1];
      const js = 1 / Math.sqrt(variance[r + 1] + eps);
      invStd[r] = is;
      invStd[r + 1] = js;
      let k = o;
      let p = o + len;
      let i = 0;
      // Two columns of the two rows per iteration: V8 re-checks every array once per iteration.
      for (const l2 = len - 1; i < l2; k += 2, p += 2, i += 2) {
        const x0 = x[k];
        const x1 = x[k + 1];
        const x2 = x[p];
        const x3 = x[p + 1];
        const g0 = gamma[i];
        const g1 = gamma[i + 1];
        const b0 = beta[i];
        const b1 = beta[i + 1];
        const h0 = (x0 - mu) * is;
        const h1 = (x1 - mu) * is;
        const h2 = (x2 - nu) * js;
        const h3 = (x3 - nu) * js;
        xhat[k] = h0;
        xhat[k + 1] = h1;
        xhat[p] = h2;
        xhat[p + 1] = h3;
        out[k] = g0 * h0 + b0;
        out[k + 1] = g1 * h1 + b1;
        out[p] = g0 * h2 + b0;
        out[p + 1] = g1 * h3 + b1;
      }
      if (i < len) {
        const g = gamma[i];
        const b = beta[i];
        const h0 = (x[k] - mu) * is;
        const h1 = (x[p] - nu) * js;
        xhat[k] = h0;
        xhat[p] = h1;
        out[k] = g * h0 + b;
        out[p] = g * h1 + b;
      }
    }
  }
  for (let o = r * len; r < rows; r++, o += len) {
    const e = o + len;
    let mu: number;
    let v: number;
    if (mean === null || variance === null) {
      rowStats(x, o, len);
      mu = pair[0];
      v = pair[1] > 0 ? pair[1] : 0;
    } else {
      mu = mean[r];
      v = variance[r];
    }
    const is = 1 / Math.sqrt(v + eps);
    invStd[r] = is;
    let k = o;
    let i = 0;
    for (const e4 = e - 3; k < e4; k += 4, i += 4) {
      const h0 = (x[k] - mu) * is;
      const h1 = (x[k + 1] - mu) * is;
      const h2 = (x[k + 2] - mu) * is;
      const h3 = (x[k + 3] - mu) * is;
      xhat[k] = h0;
      xhat[k + 1] = h1;
      xhat[k + 2] = h2;
      xhat[k + 3] = h3;
      out[k] = gamma[i] * h0 + beta[i];
      out[k + 1] = gamma[i + 1] * h1 + beta[i + 1];
      out[k + 2] = gamma[i + 2] * h2 + beta[i + 2];
      out[k + 3] = gamma[i + 3] * h3 + beta[i + 3];
    }
    for (; k < e; k++, i++) {
      const h = (x[k] - mu) * is;
      xhat[k] = h;
      out[k] = gamma[i] * h + beta[i];
    }
  }
}

function rowsForwardChannel(
  rows: number,
  len: number,
  x: Float64Array,
  eps: number,
  mean: Float64Array | null,
  variance: Float64Array | null,
  gamma: Float64Array,
  beta: Float64Array,
  chunk: number,
  channelsPerRow: number,
  rowsPerSample: number,
  xhat: Float64Array,
  invStd: Float64Array,
  out: Float64Array,
): void {
  for (let r = 0, o = 0; r < rows; r++, o += len) {
    let mu: number;
    let v: number;
    if (mean === null || variance === null) {
      rowStats(x, o, len);
      mu = pair[0];
      v = pair[1] > 0 ? pair[1] : 0;
    } else {
      mu = mean[r];
      v = variance[r];
    }
    const is = 1 / Math.sqrt(v + eps);
    invStd[r] = is;
    const ch0 = (r % rowsPerSample) * channelsPerRow;
    for (let q = 0; q < channelsPerRow; q++) {
      const g = gamma[ch0 + q] * is;
      const b = beta[ch0 + q];
      const s = o + q * chunk;
      const e = s + chunk;
      let k = s;
      for (const e4 = e - 3; k < e4; k += 4) {
        const t0 = x[k] - mu;
        const t1 = x[k + 1] - mu;
        const t2 = x[k + 2] - mu;
        const t3 = x[k + 3] - mu;
        xhat[k] = t0 * is;
        xhat[k + 1] = t1 * is;
        xhat[k + 2] = t2 * is;
        xhat[k + 3] = t3 * is;
        out[k] = g * t0 + b;
        out[k + 1] = g * t1 + b;
        out[k + 2] = g * t2 + b;
        out[k + 3] = g * t3 + b;
      }
      for (; k < e; k++) {
        const t = x[k] - mu;
        xhat[k] = t * is;
        out[k] = g * t + b;
      }
    }
  }
}

/**
 * Backward of {@link rowsForward} with the statistics as functions of the row:
 * dx = invStd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = γ·dy. Overwrites dγ and dβ (Σ dy·x̂, Σ dy).
 */
export function rowsBackward(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  affine: RowAffine,
  dgamma: Float64Array | null,
  dbeta: Float64Array | null,
  dx: Float64Array,
): void {
  if (affine.mode === 'none') rowsBackwardPlain(rows, len, dy, xhat, invStd, dx);
  else if (affine.mode === 'elementwise')
    rowsBackwardElementwise(rows, len, dy, xhat, invStd, affine.gamma, dgamma, dbeta, dx);
  else
    rowsBackwardChannel(
      rows,
      len,
      dy,
      xhat,
      invStd,
      affine.gamma,
      affine.chunk,
      affine.channelsPerRow,
      affine.rowsPerSample,
      dgamma,
      dbeta,
      dx,
    );
}

function rowsBackwardPlain(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  dx: Float64Array,
): void {
  for (let r = 0, o = 0; r < rows; r++, o += len) {
    const e = o + len;
    const m1 = sumRange(dy, o, e) / len;
    const m2 = dotRange(dy, xhat, o, e) / len;
    const is = invStd[r];
    for (let k = o; k < e; k++) dx[k] = is * (dy[k] - m1 - xhat[k] * m2);
  }
}

function rowsBackwardElementwise(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  gamma: Float64Array,
  dgamma: Float64Array | null,
  dbeta: Float64Array | null,
  dx: Float64Array,
): void {
  if (dgamma !== null) dgamma.fill(0);
  if (dbeta !== null) dbeta.fill(0);
  for (let r = 0, o = 0; r < rows; r++, o += len) {
    const e = o + len;
    let s1a = 0;
    let s1b = 0;
    let s2a = 0;
    let s2b = 0;
    let k = o;
    let i = 0;
    for (const e2 = e - 1; k < e2; k += 2, i += 2) {
      const g0 = dy[k] * gamma[i];
      const g1 = dy[k + 1] * gamma[i + 1];
      s1a += g0;
      s1b += g1;
      s2a += g0 * xhat[k];
      s2b += g1 * xhat[k + 1];
    }
    for (; k < e; k++, i++) {
      const g0 = dy[k] * gamma[i];
      s1a += g0;
      s2a += g0 * xhat[k];
    }
    const m1 = (s1a + s1b) / len;
    const m2 = (s2a + s2b) / len;
    const is = invStd[r];
    if (dgamma !== null && dbeta !== null) {
      for (let q = o, j = 0; q < e; q++, j++) {
        const d = dy[q];
        const h = xhat[q];
        dgamma[j] += d * h;
        dbeta[j] += d;
        dx[q] = is * (d * gamma[j] - m1 - h * m2);
      }
    } else {
      for (let q = o, j = 0; q < e; q++, j++) dx[q] = is * (dy[q] * gamma[j] - m1 - xhat[q] * m2);
    }
  }
}

function rowsBackwardChannel(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  gamma: Float64Array,
  chunk: number,
  channelsPerRow: number,
  rowsPerSample: number,
  dgamma: Float64Array | null,
  dbeta: Float64Array | null,
  dx: Float64Array,
): void {
  if (dgamma !== null) dgamma.fill(0);
  if (dbeta !== null) dbeta.fill(0);
  for (let r = 0, o = 0; r < rows; r++, o += len) {
    const ch0 = (r % rowsPerSample) * channelsPerRow;
    let s1 = 0;
    let s2 = 0;
    for (let q = 0; q < channelsPerRow; q++) {
      const s = o + q * chunk;
      // One sweep for both sums, the same four chains as sumRange and dotRange, so the same sums.
      sumDotRange(dy, xhat, s, s + chunk, pair);
      const a = pair[0];
      const b = pair[1];
      const gm = gamma[ch0 + q];
      s1 += gm * a;
      s2 += gm * b;
      if (dgamma !== null) dgamma[ch0 + q] += b;
      if (dbeta !== null) dbeta[ch0 + q] += a;
    }
    const m1 = s1 / len;
    const m2 = s2 / len;
    const is = invStd[r];
    for (let q = 0; q < channelsPerRow; q++) {
      const gm = gamma[ch0 + q];
      const s = o + q * chunk;
      const e = s + chunk;
      let k = s;
      for (const e4 = e - 3; k < e4; k += 4) {
        dx[k] = is * (gm * dy[k] - m1 - xhat[k] * m2);
        dx[k + 1] = is * (gm * dy[k + 1] - m1 - xhat[k + 1] * m2);
        dx[k + 2] = is * (gm * dy[k + 2] - m1 - xhat[k + 2] * m2);
        dx[k + 3] = is * (gm * dy[k + 3] - m1 - xhat[k + 3] * m2);
      }
      for (; k < e; k++) dx[k] = is * (gm * dy[k] - m1 - xhat[k] * m2);
    }
  }
}

/** Slots {@link rowGradSums} needs: two per row, plus two per (row, channel) in `channel` mode. */
export function rowGradSumsSize(rows: number, affine: RowAffine): number {
  return affine.mode === 'channel' ? 2 * rows * (1 + affine.channelsPerRow) : 2 * rows;
}

/**
 * The reductions of {@link rowsBackward}, all rows first: Σ ĝ and Σ ĝ·x̂ per row into `sums[2r]`,
 * `sums[2r + 1]` (ĝ = γ·dy) and, in `channel` mode, Σ dy and Σ dy·x̂ per (row, channel) after them.
 * Returns the total of every sum, finite whenever every dy is (see {@link rowMeans}), so the caller can
 * check dy here and throw before {@link rowsBackwardFromSums} touches the gradients.
 */
export function rowGradSums(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  affine: RowAffine,
  sums: Float64Array,
): number {
  if (affine.mode === 'none') return rowGradSumsPlain(rows, len, dy, xhat, sums);
  if (affine.mode === 'elementwise') return rowGradSumsElementwise(rows, len, dy, xhat, affine.gamma, sums);
  return rowGradSumsChannel(
    rows,
    len,
    dy,
    xhat,
    affine.gamma,
    affine.chunk,
    affine.channelsPerRow,
    affine.rowsPerSample,
    sums,
  );
}

function rowGradSumsPlain(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  sums: Float64Array,
): number {
  let total = 0;
  for (let r = 0, o = 0; r < rows; r++, o += len) {
    const e = o + len;
    const a = sumRange(dy, o, e);
    const b = dotRange(dy, xhat, o, e);
    sums[2 * r] = a;
    sums[2 * r + 1] = b;
    total += a + b;
  }
  return total;
}

function rowGradSumsElementwise(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  gamma: Float64Array,
  sums: Float64Array,
): number {
  let total = 0;
  let r = 0;
  // Two rows per sweep, γ loaded once for both; each row keeps its own two chains (even and odd
  // columns), so its sums are the same as a sweep of its own.
  for (let o = 0; r + 1 < rows; r += 2, o += 2 * len) {
    let s1a = 0;
    let s1b = 0;
    let s2a = 0;
    let s2b = 0;
    let t1a = 0;
    let t1b = 0;
    let t2a = 0;
    let t2b = 0;
    let k = o;
    let p = o + len;
    let i = 0;
    for (const l2 = len - 1; i < l2; k += 2, p += 2, i += 2) {
      const ga = gamma[i];
      const gb = gamma[i + 1];
      const g0 = dy[k] * ga;
      const g1 = dy[k + 1] * gb;
      const f0 = dy[p] * ga;
      const f1 = dy[p + 1] * gb;
      s1a += g0;
      s1b += g1;
      s2a += g0 * xhat[k];
      s2b += g1 * xhat[k + 1];
      t1a += f0;
      t1b += f1;
      t2a += f0 * xhat[p];
      t2b += f1 * xhat[p + 1];
    }
    if (i < len) {
      const g0 = dy[k] * gamma[i];
      const f0 = dy[p] * gamma[i];
      s1a += g0;
      s2a += g0 * xhat[k];
      t1a += f0;
      t2a += f0 * xhat[p];
    }
    const a = s1a + s1b;
    const b = s2a + s2b;
    const c = t1a + t1b;
    const d = t2a + t2b;
    sums[2 * r] = a;
    sums[2 * r + 1] = b;
    sums[2 * r + 2] = c;
    sums[2 * r + 3] = d;
    total += a + b;
    total += c + d;
  }
  for (let o = r * len; r < rows; r++, o += len) {
    const e = o + len;
    let s1a = 0;
    let s1b = 0;
    let s2a = 0;
    let s2b = 0;
    let k = o;
    let i = 0;
    // Four values per iteration, still the two chains (even and odd columns) of a two-value loop.
    for (const e4 = e - 3; k < e4; k += 4, i += 4) {
      const g0 = dy[k] * gamma[i];
      const g1 = dy[k + 1] * gamma[i + 1];
      const g2 = dy[k + 2] * gamma[i + 2];
      const g3 = dy[k + 3] * gamma[i + 3];
      s1a += g0;
      s1b += g1;
      s2a += g0 * xhat[k];
      s2b += g1 * xhat[k + 1];
      s1a += g2;
      s1b += g3;
      s2a += g2 * xhat[k + 2];
      s2b += g3 * xhat[k + 3];
    }
    if (k < e - 1) {
      const g0 = dy[k] * gamma[i];
      const g1 = dy[k + 1] * gamma[i + 1];
      s1a += g0;
      s1b += g1;
      s2a += g0 * xhat[k];
      s2b += g1 * xhat[k + 1];
      k += 2;
      i += 2;
    }
    if (k < e) {
      const g0 = dy[k] * gamma[i];
      s1a += g0;
      s2a += g0 * xhat[k];
    }
    // An infinite dy stays visible where γ = 0 too: 0·∞ is NaN.
    const a = s1a + s1b;
    const b = s2a + s2b;
    sums[2 * r] = a;
    sums[2 * r + 1] = b;
    total += a + b;
  }
  return total;
}

function rowGradSumsChannel(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  gamma: Float64Array,
  chunk: number,
  channelsPerRow: number,
  rowsPerSample: number,
  sums: Float64Array,
): number {
  let total = 0;
  for (let r = 0, o = 0, p = 2 * rows; r < rows; r++, o += len) {
    const ch0 = (r % rowsPerSample) * channelsPerRow;
    let s1 = 0;
    let s2 = 0;
    for (let q = 0, s = o; q < channelsPerRow; q++, s += chunk, p += 2) {
      sumDotRange(dy, xhat, s, s + chunk, pair);
      const a = pair[0];
      const b = pair[1];
      const gm = gamma[ch0 + q];
      s1 += gm * a;
      s2 += gm * b;
      sums[p] = a;
      sums[p + 1] = b;
      total += a + b;
    }
    sums[2 * r] = s1;
    sums[2 * r + 1] = s2;
  }
  return total;
}

/**
 * {@link rowsBackward} from the sums of {@link rowGradSums}. Overwrites dγ and dβ. dx is bit-identical to
 * rowsBackward's; in elementwise mode dγ/dβ are added in row pairs, `(dγ + (r0 + r1)) + (r2 + r3)`, where
 * rowsBackward adds one row at a time, so from 4 rows on they can differ in the last bits (each order is pinned
 * in test/unit/normalizers/rowKernelsPinned.test.ts).
 */
export function rowsBackwardFromSums(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  affine: RowAffine,
  sums: Float64Array,
  dgamma: Float64Array | null,
  dbeta: Float64Array | null,
  dx: Float64Array,
): void {
  if (affine.mode === 'none') rowsApplyPlain(rows, len, dy, xhat, invStd, sums, dx);
  else if (affine.mode === 'elementwise')
    rowsApplyElementwise(rows, len, dy, xhat, invStd, affine.gamma, sums, dgamma, dbeta, dx);
  else
    rowsApplyChannel(
      rows,
      len,
      dy,
      xhat,
      invStd,
      affine.gamma,
      affine.chunk,
      affine.channelsPerRow,
      affine.rowsPerSample,
      sums,
      dgamma,
      dbeta,
      dx,
    );
}

function rowsApplyPlain(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  sums: Float64Array,
  dx: Float64Array,
): void {
  for (let r = 0, o = 0; r < rows; r++, o += len) {
    const e = o + len;
    const m1 = sums[2 * r] / len;
    const m2 = sums[2 * r + 1] / len;
    const is = invStd[r];
    let k = o;
    for (const e2 = e - 1; k < e2; k += 2) {
      dx[k] = is * (dy[k] - m1 - xhat[k] * m2);
      dx[k + 1] = is * (dy[k + 1] - m1 - xhat[k + 1] * m2);
    }
    if (k < e) dx[k] = is * (dy[k] - m1 - xhat[k] * m2);
  }
}

function rowsApplyElementwise(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  gamma: Float64Array,
  sums: Float64Array,
  dgamma: Float64Array | null,
  dbeta: Float64Array | null,
  dx: Float64Array,
): void {
  if (dgamma === null || dbeta === null) {
    for (let r = 0, o = 0; r < rows; r++, o += len) {
      const m1 = sums[2 * r] / len;
      const m2 = sums[2 * r + 1] / len;
      const is = invStd[r];
      for (let q = o, j = 0, e = o + len; q < e; q++, j++)
        dx[q] = is * (dy[q] * gamma[j] - m1 - xhat[q] * m2);
    }
    return;
  }
  dgamma.fill(0);
  dbeta.fill(0);
  let r = 0;
  // Four rows per sweep while they last: γ is loaded and dγ, dβ are read and written once for four
  // samples. dγ and dβ still take the rows in pairs, (dγ + pair 1) + pair 2, as two two-row sweeps do.
  for (let o = 0; r + 3 < rows; r += 4, o += 4 * len) {
    const m1 = sums[2 * r] / len;
    const m2 = sums[2 * r + 1] / len;
    const is = invStd[r];
    const n1 = sums[2 * r + 2] / len;
    const n2 = sums[2 * r + 3] / len;
    const js = invStd[r + 1];
    const u1 = sums[2 * r + 4] / len;
    const u2 = sums[2 * r + 5] / len;
    const us = invStd[r + 2];
    const w1 = sums[2 * r + 6] / len;
    const w2 = sums[2 * r + 7] / len;
    const ws = invStd[r + 3];
    let g: number;
    let d0: number;
    let h0: number;
    let d1: number;
    let h1: number;
    let d2: number;
    let h2: number;
    let d3: number;
    let h3: number;
    let q = o;
    let j = 0;
    for (const l4 = len - 3; j < l4; q += 4, j += 4) {
      const p = q + len;
      const t = p + len;
      const u = t + len;
      g = gamma[j];
      d0 = dy[q];
      h0 = xhat[q];
      d1 = dy[p];
      h1 = xhat[p];
      d2 = dy[t];
      h2 = xhat[t];
      d3 = dy[u];
      h3 = xhat[u];
      dgamma[j] = dgamma[j] + (d0 * h0 + d1 * h1) + (d2 * h2 + d3 * h3);
      dbeta[j] = dbeta[j] + (d0 + d1) + (d2 + d3);
      dx[q] = is * (d0 * g - m1 - h0 * m2);
      dx[p] = js * (d1 * g - n1 - h1 * n2);
      dx[t] = us * (d2 * g - u1 - h2 * u2);
      dx[u] = ws * (d3 * g - w1 - h3 * w2);
      g = gamma[j + 1];
      d0 = dy[q + 1];
      h0 = xhat[q + 1];
      d1 = dy[p + 1];
      h1 = xhat[p + 1];
      d2 = dy[t + 1];
      h2 = xhat[t + 1];
      d3 = dy[u + 1];
      h3 = xhat[u + 1];
      dgamma[j + 1] = dgamma[j + 1] + (d0 * h0 + d1 * h1) + (d2 * h2 + d3 * h3);
      dbeta[j + 1] = dbeta[j + 1] + (d0 + d1) + (d2 + d3);
      dx[q + 1] = is * (d0 * g - m1 - h0 * m2);
      dx[p + 1] = js * (d1 * g - n1 - h1 * n2);
      dx[t + 1] = us * (d2 * g - u1 - h2 * u2);
      dx[u + 1] = ws * (d3 * g - w1 - h3 * w2);
      g = gamma[j + 2];
      d0 = dy[q + 2];
      h0 = xhat[q + 2];
      d1 = dy[p + 2];
      h1 = xhat[p + 2];
      d2 = dy[t + 2];
      h2 = xhat[t + 2];
      d3 = dy[u + 2];
      h3 = xhat[u + 2];
      dgamma[j + 2] = dgamma[j + 2] + (d0 * h0 + d1 * h1) + (d2 * h2 + d3 * h3);
      dbeta[j + 2] = dbeta[j + 2] + (d0 + d1) + (d2 + d3);
      dx[q + 2] = is * (d0 * g - m1 - h0 * m2);
      dx[p + 2] = js * (d1 * g - n1 - h1 * n2);
      dx[t + 2] = us * (d2 * g - u1 - h2 * u2);
      dx[u + 2] = ws * (d3 * g - w1 - h3 * w2);
      g = gamma[j + 3];
      d0 = dy[q + 3];
      h0 = xhat[q + 3];
      d1 = dy[p + 3];
      h1 = xhat[p + 3];
      d2 = dy[t + 3];
      h2 = xhat[t + 3];
      d3 = dy[u + 3];
      h3 = xhat[u + 3];
      dgamma[j + 3] = dgamma[j + 3] + (d0 * h0 + d1 * h1) + (d2 * h2 + d3 * h3);
      dbeta[j + 3] = dbeta[j + 3] + (d0 + d1) + (d2 + d3);
      dx[q + 3] = is * (d0 * g - m1 - h0 * m2);
      dx[p + 3] = js * (d1 * g - n1 - h1 * n2);
      dx[t + 3] = us * (d2 * g - u1 - h2 * u2);
      dx[u + 3] = ws * (d3 * g - w1 - h3 * w2);
    }
    for (; j < len; q++, j++) {
      const p = q + len;
      const t = p + len;
      const u = t + len;
      g = gamma[j];
      d0 = dy[q];
      h0 = xhat[q];
      d1 = dy[p];
      h1 = xhat[p];
      d2 = dy[t];
      h2 = xhat[t];
      d3 = dy[u];
      h3 = xhat[u];
      dgamma[j] = dgamma[j] + (d0 * h0 + d1 * h1) + (d2 * h2 + d3 * h3);
      dbeta[j] = dbeta[j] + (d0 + d1) + (d2 + d3);
      dx[q] = is * (d0 * g - m1 - h0 * m2);
      dx[p] = js * (d1 * g - n1 - h1 * n2);
      dx[t] = us * (d2 * g - u1 - h2 * u2);
      dx[u] = ws * (d3 * g - w1 - h3 * w2);
    }
  }
  // Two rows per sweep: γ is loaded and dγ, dβ are read and written once for two samples.
  for (let o = r * len; r + 1 < rows; r += 2, o += 2 * len) {
    const m1 = sums[2 * r] / len;
    const m2 = sums[2 * r + 1] / len;
    const is = invStd[r];
    const n1 = sums[2 * r + 2] / len;
    const n2 = sums[2 * r + 3] / len;
    const js = invStd[r + 1];
    let q = o;
    let p = o + len;
    let j = 0;
    // Four columns of the two rows per iteration: V8 re-checks every array once per iteration.
    for (const l4 = len - 3; j < l4; q += 4, p += 4, j += 4) {
      let d0 = dy[q];
      let h0 = xhat[q];
      let d1 = dy[p];
      let h1 = xhat[p];
      let g = gamma[j];
      dgamma[j] += d0 * h0 + d1 * h1;
      dbeta[j] += d0 + d1;
      dx[q] = is * (d0 * g - m1 - h0 * m2);
      dx[p] = js * (d1 * g - n1 - h1 * n2);
      d0 = dy[q + 1];
      h0 = xhat[q + 1];
      d1 = dy[p + 1];
      h1 = xhat[p + 1];
      g = gamma[j + 1];
      dgamma[j + 1] += d0 * h0 + d1 * h1;
      dbeta[j + 1] += d0 + d1;
      dx[q + 1] = is * (d0 * g - m1 - h0 * m2);
      dx[p + 1] = js * (d1 * g - n1 - h1 * n2);
      d0 = dy[q + 2];
      h0 = xhat[q + 2];
      d1 = dy[p + 2];
      h1 = xhat[p + 2];
      g = gamma[j + 2];
      dgamma[j + 2] += d0 * h0 + d1 * h1;
      dbeta[j + 2] += d0 + d1;
      dx[q + 2] = is * (d0 * g - m1 - h0 * m2);
      dx[p + 2] = js * (d1 * g - n1 - h1 * n2);
      d0 = dy[q + 3];
      h0 = xhat[q + 3];
      d1 = dy[p + 3];
      h1 = xhat[p + 3];
      g = gamma[j + 3];
      dgamma[j + 3] += d0 * h0 + d1 * h1;
      dbeta[j + 3] += d0 + d1;
      dx[q + 3] = is * (d0 * g - m1 - h0 * m2);
      dx[p + 3] = js * (d1 * g - n1 - h1 * n2);
    }
    for (; j < len; q++, p++, j++) {
      const d0 = dy[q];
      const h0 = xhat[q];
      const d1 = dy[p];
      const h1 = xhat[p];
      const g = gamma[j];
      dgamma[j] += d0 * h0 + d1 * h1;
      dbeta[j] += d0 + d1;
      dx[q] = is * (d0 * g - m1 - h0 * m2);
      dx[p] = js * (d1 * g - n1 - h1 * n2);
    }
  }
  if (r < rows) {
    const o = r * len;
    const m1 = sums[2 * r] / len;
    const m2 = sums[2 * r + 1] / len;
    const is = invStd[r];
    let d: number;
    let h: number;
    let q = o;
    let j = 0;
    for (const l4 = len - 3; j < l4; q += 4, j += 4) {
      d = dy[q];
      h = xhat[q];
      dgamma[j] += d * h;
      dbeta[j] += d;
      dx[q] = is * (d * gamma[j] - m1 - h * m2);
      d = dy[q + 1];
      h = xhat[q + 1];
      dgamma[j + 1] += d * h;
      dbeta[j + 1] += d;
      dx[q + 1] = is * (d * gamma[j + 1] - m1 - h * m2);
      d = dy[q + 2];
      h = xhat[q + 2];
      dgamma[j + 2] += d * h;
      dbeta[j + 2] += d;
      dx[q + 2] = is * (d * gamma[j + 2] - m1 - h * m2);
      d = dy[q + 3];
      h = xhat[q + 3];
      dgamma[j + 3] += d * h;
      dbeta[j + 3] += d;
      dx[q + 3] = is * (d * gamma[j + 3] - m1 - h * m2);
    }
    for (; j < len; q++, j++) {
      d = dy[q];
      h = xhat[q];
      dgamma[j] += d * h;
      dbeta[j] += d;
      dx[q] = is * (d * gamma[j] - m1 - h * m2);
    }
  }
}

function rowsApplyChannel(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  gamma: Float64Array,
  chunk: number,
  channelsPerRow: number,
  rowsPerSample: number,
  sums: Float64Array,
  dgamma: Float64Array | null,
  dbeta: Float64Array | null,
  dx: Float64Array,
): void {
  if (dgamma !== null) dgamma.fill(0);
  if (dbeta !== null) dbeta.fill(0);
  for (let r = 0, o = 0, p = 2 * rows; r < rows; r++, o += len) {
    const ch0 = (r % rowsPerSample) * channelsPerRow;
    const m1 = sums[2 * r] / len;
    const m2 = sums[2 * r + 1] / len;
    const is = invStd[r];
    for (let q = 0, s = o; q < channelsPerRow; q++, s += chunk, p += 2) {
      const ch = ch0 + q;
      if (dbeta !== null) dbeta[ch] += sums[p];
      if (dgamma !== null) dgamma[ch] += sums[p + 1];
      const gm = gamma[ch];
      const e = s + chunk;
      let k = s;
      for (const e4 = e - 3; k < e4; k += 4) {
        dx[k] = is * (gm * dy[k] - m1 - xhat[k] * m2);
        dx[k + 1] = is * (gm * dy[k + 1] - m1 - xhat[k + 1] * m2);
        dx[k + 2] = is * (gm * dy[k + 2] - m1 - xhat[k + 2] * m2);
        dx[k + 3] = is * (gm * dy[k + 3] - m1 - xhat[k + 3] * m2);
      }
      for (; k < e; k++) dx[k] = is * (gm * dy[k] - m1 - xhat[k] * m2);
    }
  }
}
