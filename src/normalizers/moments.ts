/**
 * Counted moments and their parallel merge (Chan, Golub & LeVeque 1979, "Algorithms for computing the
 * sample variance"; Chan et al. 1982, "Updating formulae and a pairwise algorithm for computing sample
 * variances"): the statistics replicas of one model merge so that inference uses the whole stream's.
 */

/**
 * Statistics over `count` observations: count-weighted means (one array per statistic, e.g. BatchNorm's
 * mean of batch means and mean of batch variances) and, when kept, Chan's M2 (sum of squared deviations
 * from `means[0]`, per component).
 */
export interface Moments {
  count: number;
  means: number[][];
  m2: number[] | null;
}

/** The moments of no observation with `width` components per statistic (the identity of {@link mergeMoments}). */
export function emptyMoments(statistics: number, width: number, withM2: boolean): Moments {
  return {
    count: 0,
    means: Array.from({ length: statistics }, () => new Array<number>(width).fill(0)),
    m2: withM2 ? new Array<number>(width).fill(0) : null,
  };
}

function sameLayout(a: Moments, b: Moments, who: string): void {
  if (
    a.means.length !== b.means.length ||
    a.means.some((m, i) => m.length !== b.means[i].length) ||
    (a.m2 === null) !== (b.m2 === null)
  ) {
    throw new RangeError(`${who}: moments of different layouts`);
  }
}

/**
 * The moments of the union of `a`'s and `b`'s observations (pure): means weighted by counts, and
 * M2 = M2_a + M2_b + δ²·n_a·n_b/n with δ = mean_b − mean_a (Chan et al.'s parallel formula).
 */
export function mergeMoments(a: Moments, b: Moments): Moments {
  if (b.count === 0) return copyMoments(a);
  if (a.count === 0) return copyMoments(b);
  sameLayout(a, b, 'mergeMoments');
  const n = a.count + b.count;
  const fb = b.count / n;
  const means = a.means.map((ma, i) => ma.map((v, j) => v + (b.means[i][j] - v) * fb));
  let m2: number[] | null = null;
  if (a.m2 !== null && b.m2 !== null) {
    const w = (a.count * b.count) / n;
    const m0a = a.means[0];
    const m0b = b.means[0];
    m2 = a.m2.map((v, j) => {
      const d = m0b[j] - m0a[j];
      return v + b.m2![j] + d * d * w;
    });
  }
  return { count: n, means, m2 };
}

/**
 * The moments of the observations `total` has beyond `part` (the inverse of {@link mergeMoments}:
 * `mergeMoments(part, subtractMoments(total, part))` equals `total` up to rounding). Throws a RangeError
 * when `part` counts more observations than `total`.
 */
export function subtractMoments(total: Moments, part: Moments): Moments {
  const nb = total.count - part.count;
  if (nb < 0) throw new RangeError(`subtractMoments: part counts ${part.count} > total ${total.count}`);
  if (part.count === 0) return copyMoments(total);
  sameLayout(total, part, 'subtractMoments');
  if (nb === 0) return { ...emptyLike(total) };
  const n = total.count;
  const means = total.means.map((mt, i) =>
    mt.map((v, j) => part.means[i][j] + ((v - part.means[i][j]) * n) / nb),
  );
  let m2: number[] | null = null;
  if (total.m2 !== null && part.m2 !== null) {
    const w = (part.count * nb) / n;
    m2 = total.m2.map((v, j) => {
      const d = means[0][j] - part.means[0][j];
      return Math.max(0, v - part.m2![j] - d * d * w);
    });
  }
  return { count: nb, means, m2 };
}

function emptyLike(m: Moments): Moments {
  return emptyMoments(m.means.length, m.means[0]?.length ?? 0, m.m2 !== null);
}

function copyMoments(m: Moments): Moments {
  return { count: m.count, means: m.means.map((x) => [...x]), m2: m.m2 === null ? null : [...m.m2] };
}

/**
 * How a stateful normalizer's (or scaler's) statistics merge across replicas, read from and written back
 * into its JSON state. Fields it names are merged as counted moments; the scale-out code adds every other
 * numeric field (parameters, counters) as deltas, and keeps `nonNegative` fields ≥ 0 after doing so.
 */
export interface StatisticsMerge {
  /** The state `kind` this merge applies to. */
  kind: string;
  /** Whether the statistics of this particular state are counted moments (BatchNorm: `momentum: null`). */
  exact(s: Record<string, unknown>): boolean;
  /** The state fields {@link read} and {@link write} cover (only consulted when `exact`). */
  fields: readonly string[];
  read(s: Record<string, unknown>): Moments;
  /** A copy of `s` with the statistics `m`. */
  write(s: Record<string, unknown>, m: Moments): Record<string, unknown>;
  /** Fields (variances) that must stay ≥ 0 whenever they would be merged as summed deltas. */
  nonNegative: readonly string[];
  /**
   * For moving averages: the mean and variance fields replicas exchange by value instead of by delta, merged
   * as a count-weighted mixture ({@link mixStatistics}), so every replica's inference statistics are the whole
   * stream's and each keeps averaging its own batches from there (a contraction toward the group's mean).
   */
  mixture?: { mean: string; variance: string };
}

/** One replica's moving-average statistics and the events they stand for. */
export interface WeightedStatistics {
  weight: number;
  mean: number[];
  variance: number[];
}

/**
 * The mixture of replicas' statistics, weighted by events (Chan et al.'s merge of means and variances, the
 * law of total variance): mean = Σ w·μ / Σ w, variance = Σ w·(σ² + (μ − mean)²) / Σ w. Null when no weight.
 */
export function mixStatistics(
  parts: readonly WeightedStatistics[],
): { mean: number[]; variance: number[] } | null {
  const live = parts.filter((p) => p.weight > 0);
  if (live.length === 0) return null;
  const total = live.reduce((n, p) => n + p.weight, 0);
  const width = live[0].mean.length;
  const mean = new Array<number>(width).fill(0);
  for (const p of live) for (let j = 0; j < width; j++) mean[j] += (p.weight / total) * p.mean[j];
  const variance = new Array<number>(width).fill(0);
  for (const p of live) {
    for (let j = 0; j < width; j++) {
      const d = p.mean[j] - mean[j];
      variance[j] += (p.weight / total) * (Math.max(0, p.variance[j]) + d * d);
    }
  }
  return { mean, variance };
}
