/**
 * Allocation-free kernels for the per-sample layers (LayerNorm, InstanceNorm, GroupNorm): each
 * normalization set is one contiguous row of `len` values in the `[N, C, L]` row-major layout
 * (LayerNorm: one sample; GroupNorm: C/G channels of one sample; InstanceNorm: one channel of one sample).
 *
 * Affine modes: `none`; `elementwise` (γ, β have `len` entries, LayerNorm); `channel` (the row is
 * `channelsPerRow` chunks of `chunk` values and row r starts at channel (r mod rowsPerSample)·channelsPerRow,
 * GroupNorm and InstanceNorm).
 */

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

/** Normalizes `rows` rows of `len`: x̂ into `xhat`, 1/√(σ² + ε) into `invStd[r]`, y into `out`. */
export function rowsForward(
  rows: number,
  len: number,
  x: Float64Array,
  eps: number,
  affine: RowAffine,
  xhat: Float64Array,
  invStd: Float64Array,
  out: Float64Array,
): void {
  for (let r = 0, o = 0; r < rows; r++, o += len) {
    const e = o + len;
    let s = 0;
    for (let k = o; k < e; k++) s += x[k];
    const mu = s / len;
    let v = 0;
    for (let k = o; k < e; k++) {
      const t = x[k] - mu;
      v += t * t;
    }
    const is = 1 / Math.sqrt(v / len + eps);
    invStd[r] = is;
    if (affine.mode === 'none') {
      for (let k = o; k < e; k++) {
        const h = (x[k] - mu) * is;
        xhat[k] = h;
        out[k] = h;
      }
    } else if (affine.mode === 'elementwise') {
      const g = affine.gamma;
      const b = affine.beta;
      for (let k = o, i = 0; k < e; k++, i++) {
        const h = (x[k] - mu) * is;
        xhat[k] = h;
        out[k] = g[i] * h + b[i];
      }
    } else {
      const { gamma, beta, chunk, channelsPerRow, rowsPerSample } = affine;
      let ch = (r % rowsPerSample) * channelsPerRow;
      for (let q = 0, k = o; q < channelsPerRow; q++, ch++) {
        const g = gamma[ch];
        const b = beta[ch];
        for (const ce = k + chunk; k < ce; k++) {
          const h = (x[k] - mu) * is;
          xhat[k] = h;
          out[k] = g * h + b;
        }
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
  if (dgamma !== null) dgamma.fill(0);
  if (dbeta !== null) dbeta.fill(0);
  for (let r = 0, o = 0; r < rows; r++, o += len) {
    const e = o + len;
    let s1 = 0;
    let s2 = 0;
    if (affine.mode === 'none') {
      for (let k = o; k < e; k++) {
        const g = dy[k];
        s1 += g;
        s2 += g * xhat[k];
      }
      const m1 = s1 / len;
      const m2 = s2 / len;
      const is = invStd[r];
      for (let k = o; k < e; k++) dx[k] = is * (dy[k] - m1 - xhat[k] * m2);
    } else if (affine.mode === 'elementwise') {
      const gm = affine.gamma;
      for (let k = o, i = 0; k < e; k++, i++) {
        const g = dy[k];
        const h = xhat[k];
        const gg = g * gm[i];
        s1 += gg;
        s2 += gg * h;
        if (dgamma !== null) dgamma[i] += g * h;
        if (dbeta !== null) dbeta[i] += g;
      }
      const m1 = s1 / len;
      const m2 = s2 / len;
      const is = invStd[r];
      for (let k = o, i = 0; k < e; k++, i++) dx[k] = is * (dy[k] * gm[i] - m1 - xhat[k] * m2);
    } else {
      const { gamma, chunk, channelsPerRow, rowsPerSample } = affine;
      const ch0 = (r % rowsPerSample) * channelsPerRow;
      for (let q = 0, k = o, ch = ch0; q < channelsPerRow; q++, ch++) {
        let a = 0;
        let b = 0;
        for (const ce = k + chunk; k < ce; k++) {
          const g = dy[k];
          a += g;
          b += g * xhat[k];
        }
        const gm = gamma[ch];
        s1 += gm * a;
        s2 += gm * b;
        if (dgamma !== null) dgamma[ch] += b;
        if (dbeta !== null) dbeta[ch] += a;
      }
      const m1 = s1 / len;
      const m2 = s2 / len;
      const is = invStd[r];
      for (let q = 0, k = o, ch = ch0; q < channelsPerRow; q++, ch++) {
        const gm = gamma[ch];
        for (const ce = k + chunk; k < ce; k++) dx[k] = is * (gm * dy[k] - m1 - xhat[k] * m2);
      }
    }
  }
}
