/**
 * Area under the precision-recall curve of a binary stream, as average precision (scikit-learn's
 * `average_precision_score`): AP = Σ_n (R_n − R_{n−1})·P_n over the distinct score thresholds in decreasing
 * order, tied scores entering together. Unlike the trapezoidal area it never interpolates linearly between
 * points, which would be optimistic. `scores` are P(y = 1) (or any score ordered like it), `labels` 0 or 1.
 * NaN when no label is 1 (recall is undefined).
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) {
    throw new RangeError(`averagePrecision: ${n} scores but ${labels.length} labels`);
  }
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new RangeError(`averagePrecision: labels[${i}]=${y} is not 0 or 1`);
    if (!Number.isFinite(scores[i])) {
      throw new RangeError(`averagePrecision: scores[${i}]=${scores[i]} is not finite`);
    }
    positives += y;
  }
  if (positives === 0) return NaN;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let tp = 0;
  let fp = 0;
  let prevRecall = 0;
  let ap = 0;
  for (let i = 0; i < n; i++) {
    const j = order[i];
    if (labels[j] === 1) tp++;
    else fp++;
    // A threshold ends where the next score differs (or at the last event).
    if (i + 1 < n && scores[order[i + 1]] === scores[j]) continue;
    const recall = tp / positives;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}
