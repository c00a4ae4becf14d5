/**
 * Plain (not unrolled) reference loops for every export of src/normalizers/rowKernels.ts. One value per
 * iteration, one row at a time; each states the order of its sums, which is the contract the unrolled
 * kernels keep (they may take more values or rows per iteration, never change which chain a value joins
 * or the order of the adds). They return fresh arrays instead of writing caller-owned buffers.
 *
 * The chains: "four chains" is reduce.ts's (position mod 4, the tail in chain 0, (c0 + c1) + (c2 + c3)),
 * see referenceKernels.ts; "two chains" is even and odd positions of the row, c0 + c1, the tail in c0.
 */
import type { RowAffine } from '../../../src/normalizers/rowKernels.js';
import { refDotRange, refShiftedSums, refSumRange } from './referenceKernels.js';

/** The affine value of (row r, position i) in channel mode: channel (r mod rowsPerSample)·channelsPerRow + ⌊i/chunk⌋. */
function channelOf(affine: Extract<RowAffine, { mode: 'channel' }>, r: number, i: number): number {
  return (r % affine.rowsPerSample) * affine.channelsPerRow + Math.floor(i / affine.chunk);
}

/**
 * Mean and biased variance of one row from its sums shifted by the row's first value (two chains, see
 * refShiftedSums): d = Σ(x − s)/len, v = Σ(x − s)²/len − d², mean = s + d. `v` is returned unclamped.
 */
function refRowStats(x: Float64Array, o: number, len: number): [number, number] {
  const s = x[o];
  const [a, q] = refShiftedSums(x, o, o + len, s);
  const d = a / len;
  return [s + d, q / len - d * d];
}

/** v if v > 0, else 0 (so −0 and NaN become +0). */
function clampVariance(v: number): number {
  return v > 0 ? v : 0;
}

/**
 * rowMoments: each row's mean and clamped variance; total = Σ_r (mean[r] + v[r]) with v unclamped, added
 * row after row from 0.
 */
export function refRowMoments(
  rows: number,
  len: number,
  x: Float64Array,
): { mean: Float64Array; variance: Float64Array; total: number } {
  const mean = new Float64Array(rows);
  const variance = new Float64Array(rows);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const [mu, v] = refRowStats(x, r * len, len);
    mean[r] = mu;
    variance[r] = clampVariance(v);
    total += mu + v;
  }
  return { mean, variance, total };
}

/**
 * rowsForward: per row μ, σ² (given, or refRowStats with σ² clamped), invStd = 1/√(σ² + ε), and per value
 * t = x − μ, x̂ = t·invStd; y = x̂ (none), γ_i·x̂ + β_i (elementwise), (γ_c·invStd)·t + β_c (channel: the
 * scale is folded first, so y is not γ_c·x̂ + β_c to the bit).
 */
export function refRowsForward(
  rows: number,
  len: number,
  x: Float64Array,
  eps: number,
  affine: RowAffine,
  moments: { mean: Float64Array; variance: Float64Array } | null,
): { xhat: Float64Array; invStd: Float64Array; out: Float64Array } {
  const xhat = new Float64Array(rows * len);
  const invStd = new Float64Array(rows);
  const out = new Float64Array(rows * len);
  for (let r = 0; r < rows; r++) {
    const o = r * len;
    let mu: number;
    let v: number;
    if (moments === null) {
      const [m, w] = refRowStats(x, o, len);
      mu = m;
      v = clampVariance(w);
    } else {
      mu = moments.mean[r];
      v = moments.variance[r];
    }
    const is = 1 / Math.sqrt(v + eps);
    invStd[r] = is;
    for (let i = 0; i < len; i++) {
      const t = x[o + i] - mu;
      const h = t * is;
      xhat[o + i] = h;
      if (affine.mode === 'none') out[o + i] = h;
      else if (affine.mode === 'elementwise') out[o + i] = affine.gamma[i] * h + affine.beta[i];
      else {
        const ch = channelOf(affine, r, i);
        out[o + i] = affine.gamma[ch] * is * t + affine.beta[ch];
      }
    }
  }
  return { xhat, invStd, out };
}

/** Per-row sums of the backward pass: m1 = S1/len, m2 = S2/len, and dx = invStd·(ĝ − m1 − x̂·m2). */
type Grads = { dx: Float64Array; dgamma: Float64Array | null; dbeta: Float64Array | null };

function gradBuffers(rows: number, len: number, affine: RowAffine, withGrads: boolean): Grads {
  const size = affine.mode === 'elementwise' ? len : affine.mode === 'channel' ? affine.gamma.length : 0;
  return {
    dx: new Float64Array(rows * len),
    dgamma: withGrads && affine.mode !== 'none' ? new Float64Array(size) : null,
    dbeta: withGrads && affine.mode !== 'none' ? new Float64Array(size) : null,
  };
}

/**
 * The per-row sums S1 = Σ ĝ, S2 = Σ ĝ·x̂ (ĝ = γ·dy) and, in channel mode, each channel's Σ dy and Σ dy·x̂:
 * - none: S1, S2 over the row in four chains (refSumRange, refDotRange);
 * - elementwise: ĝ_i = dy_i·γ_i, S1 = Σ ĝ_i and S2 = Σ ĝ_i·x̂_i in two chains;
 * - channel: per channel q of the row, A_q = Σ dy, B_q = Σ dy·x̂ over its chunk in four chains each; then
 *   S1 = Σ_q γ_q·A_q and S2 = Σ_q γ_q·B_q added channel after channel from 0.
 */
function refRowSums(
  r: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  affine: RowAffine,
): { s1: number; s2: number; a: number[]; b: number[] } {
  const o = r * len;
  const e = o + len;
  if (affine.mode === 'none')
    return { s1: refSumRange(dy, o, e), s2: refDotRange(dy, xhat, o, e), a: [], b: [] };
  if (affine.mode === 'elementwise') {
    const c1 = [0, 0];
    const c2 = [0, 0];
    for (let i = 0; i < len; i++) {
      const g = dy[o + i] * affine.gamma[i];
      c1[i % 2] += g;
      c2[i % 2] += g * xhat[o + i];
    }
    return { s1: c1[0] + c1[1], s2: c2[0] + c2[1], a: [], b: [] };
  }
  const a: number[] = [];
  const b: number[] = [];
  let s1 = 0;
  let s2 = 0;
  for (let q = 0; q < affine.channelsPerRow; q++) {
    const s = o + q * affine.chunk;
    a.push(refSumRange(dy, s, s + affine.chunk));
    b.push(refDotRange(dy, xhat, s, s + affine.chunk));
    const gm = affine.gamma[channelOf(affine, r, q * affine.chunk)];
    s1 += gm * a[q];
    s2 += gm * b[q];
  }
  return { s1, s2, a, b };
}

/** dx of one row from its sums: invStd·(ĝ − m1 − x̂·m2), ĝ = dy (none), dy·γ_i (elementwise), γ_c·dy (channel). */
function refRowDx(
  r: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  affine: RowAffine,
  s1: number,
  s2: number,
  dx: Float64Array,
): void {
  const o = r * len;
  const m1 = s1 / len;
  const m2 = s2 / len;
  const is = invStd[r];
  for (let i = 0; i < len; i++) {
    const d = dy[o + i];
    const h = xhat[o + i];
    let g: number;
    if (affine.mode === 'none') g = d;
    else if (affine.mode === 'elementwise') g = d * affine.gamma[i];
    else g = affine.gamma[channelOf(affine, r, i)] * d;
    dx[o + i] = is * (g - m1 - h * m2);
  }
}

/**
 * rowsBackward (the one-call backward): per row the sums of refRowSums, then dx. dγ, dβ start at 0 and
 * take each row in turn, from row 0: elementwise dγ_i += dy·x̂, dβ_i += dy, one row at a time (not in
 * pairs: compare refRowsBackwardFromSums); channel dγ_c += B_q, dβ_c += A_q. No gradients with
 * `withGrads` false (and none in mode none).
 */
export function refRowsBackward(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  affine: RowAffine,
  withGrads: boolean,
): Grads {
  const g = gradBuffers(rows, len, affine, withGrads);
  for (let r = 0; r < rows; r++) {
    const { s1, s2, a, b } = refRowSums(r, len, dy, xhat, affine);
    const o = r * len;
    if (g.dgamma !== null && g.dbeta !== null) {
      if (affine.mode === 'elementwise') {
        for (let i = 0; i < len; i++) {
          g.dgamma[i] += dy[o + i] * xhat[o + i];
          g.dbeta[i] += dy[o + i];
        }
      } else if (affine.mode === 'channel') {
        for (let q = 0; q < affine.channelsPerRow; q++) {
          const ch = channelOf(affine, r, q * affine.chunk);
          g.dgamma[ch] += b[q];
          g.dbeta[ch] += a[q];
        }
      }
    }
    refRowDx(r, len, dy, xhat, invStd, affine, s1, s2, g.dx);
  }
  return g;
}

/** rowGradSumsSize: two slots per row, plus two per (row, channel) in channel mode. */
export function refRowGradSumsSize(rows: number, affine: RowAffine): number {
  return 2 * rows + (affine.mode === 'channel' ? 2 * rows * affine.channelsPerRow : 0);
}

/**
 * rowGradSums: S1, S2 of row r (refRowSums) at [2r, 2r + 1]; in channel mode A_q, B_q of (row r, channel
 * q) at 2·rows + 2·(r·channelsPerRow + q) and after. total adds, from 0 and in that order, S1 + S2 of
 * each row (none, elementwise) or A_q + B_q of each (row, channel) (channel mode: the raw sums, so an
 * infinite dy shows even where γ = 0).
 */
export function refRowGradSums(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  affine: RowAffine,
): { sums: Float64Array; total: number } {
  const sums = new Float64Array(refRowGradSumsSize(rows, affine));
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const { s1, s2, a, b } = refRowSums(r, len, dy, xhat, affine);
    sums[2 * r] = s1;
    sums[2 * r + 1] = s2;
    if (affine.mode === 'channel') {
      for (let q = 0; q < affine.channelsPerRow; q++) {
        const p = 2 * rows + 2 * (r * affine.channelsPerRow + q);
        sums[p] = a[q];
        sums[p + 1] = b[q];
        total += a[q] + b[q];
      }
    } else total += s1 + s2;
  }
  return { sums, total };
}

/**
 * rowsBackwardFromSums: dx per row from the given sums (as refRowDx). Gradients start at 0 and take:
 * - elementwise: the rows in pairs, dγ_i ← dγ_i + (dy_r·x̂_r + dy_{r+1}·x̂_{r+1}) for r = 0, 2, 4, …, so
 *   ((dγ + (r0 + r1)) + (r2 + r3)) + …, then dγ_i + dy·x̂ of a last odd row; dβ the same with dy;
 * - channel: each (row, channel) in turn, dβ_c += A_q, dγ_c += B_q, read from `sums`.
 */
export function refRowsBackwardFromSums(
  rows: number,
  len: number,
  dy: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
  affine: RowAffine,
  sums: Float64Array,
  withGrads: boolean,
): Grads {
  const g = gradBuffers(rows, len, affine, withGrads);
  for (let r = 0; r < rows; r++)
    refRowDx(r, len, dy, xhat, invStd, affine, sums[2 * r], sums[2 * r + 1], g.dx);
  if (g.dgamma === null || g.dbeta === null) return g;
  if (affine.mode === 'elementwise') {
    for (let r = 0; r < rows; r += 2) {
      for (let i = 0; i < len; i++) {
        const k = r * len + i;
        if (r + 1 < rows) {
          const k1 = k + len;
          g.dgamma[i] = g.dgamma[i] + (dy[k] * xhat[k] + dy[k1] * xhat[k1]);
          g.dbeta[i] = g.dbeta[i] + (dy[k] + dy[k1]);
        } else {
          g.dgamma[i] = g.dgamma[i] + dy[k] * xhat[k];
          g.dbeta[i] = g.dbeta[i] + dy[k];
        }
      }
    }
  } else if (affine.mode === 'channel') {
    for (let r = 0; r < rows; r++) {
      for (let q = 0; q < affine.channelsPerRow; q++) {
        const ch = channelOf(affine, r, q * affine.chunk);
        const p = 2 * rows + 2 * (r * affine.channelsPerRow + q);
        g.dbeta[ch] += sums[p];
        g.dgamma[ch] += sums[p + 1];
      }
    }
  }
  return g;
}
