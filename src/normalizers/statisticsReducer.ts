/**
 * The seam of synchronized BatchNorm (SyncBN: Ioffe & Szegedy 2015 §3 normalize over "the mini-batch"; PyTorch's
 * `SyncBatchNorm`, torch/nn/modules/_functions.py): a training-mode BatchNorm that is given a reducer pools its
 * per-channel statistics with its peers' before normalizing, and its backward sums before differentiating, so N
 * replicas with batches b_1..b_N compute what one BatchNorm computes over their concatenation.
 *
 * What crosses the seam is small and fixed (per channel, never per event):
 * - forward: the local counted moments `[count, mean_0..mean_{C−1}, m2_0..m2_{C−1}]` (M2 = Σ (x − mean)²), merged
 *   with Chan et al.'s parallel formula ({@link poolMoments}) rather than raw Σx, Σx² (which cancel badly when
 *   |mean| ≫ std);
 * - backward: `[Σdy_0..Σdy_{C−1}, Σdy·x̂_0..Σdy·x̂_{C−1}]`, summed ({@link poolGradientSums}).
 * A reducer returns the pooled array of the same layout, and must return the same result on every replica (pool
 * the contributions in one agreed replica order: floating-point sums are not associative).
 */
export interface StatisticsReducer {
  /** Pools the local forward moments (layout above) with the other replicas' of the same step. */
  poolMoments(local: Float64Array): Float64Array;
  /** Pools the local backward sums (layout above) with the other replicas' of the same step. */
  poolGradients(local: Float64Array): Float64Array;
}

/** The length of a moments contribution for `channels` channels. */
export function momentsLength(channels: number): number {
  return 1 + 2 * channels;
}

/**
 * Chan et al.'s merge of counted per-channel moments, folded in the given order (the order is part of the
 * result's last bits: every replica must pass the contributions in the same order to agree bit for bit).
 */
export function poolMoments(parts: readonly Float64Array[]): Float64Array {
  if (parts.length === 0) throw new RangeError('poolMoments: no contribution');
  const len = parts[0].length;
  const c = (len - 1) / 2;
  if (!Number.isInteger(c) || c < 1) throw new RangeError(`poolMoments: bad contribution length ${len}`);
  const out = new Float64Array(len);
  for (const p of parts) {
    if (p.length !== len)
      throw new RangeError(`poolMoments: contributions of lengths ${len} and ${p.length}`);
    const nb = p[0];
    if (!(nb >= 0)) throw new RangeError(`poolMoments: bad count ${nb}`);
    if (nb === 0) continue;
    const na = out[0];
    const n = na + nb;
    const fb = nb / n;
    const w = (na * nb) / n;
    for (let j = 0; j < c; j++) {
      const d = p[1 + j] - out[1 + j];
      out[1 + j] += d * fb;
      out[1 + c + j] += p[1 + c + j] + d * d * w;
    }
    out[0] = n;
  }
  return out;
}

/** Sums the backward contributions in the given order. */
export function poolGradientSums(parts: readonly Float64Array[]): Float64Array {
  if (parts.length === 0) throw new RangeError('poolGradientSums: no contribution');
  const len = parts[0].length;
  const out = new Float64Array(len);
  for (const p of parts) {
    if (p.length !== len) {
      throw new RangeError(`poolGradientSums: contributions of lengths ${len} and ${p.length}`);
    }
    for (let j = 0; j < len; j++) out[j] += p[j];
  }
  return out;
}
