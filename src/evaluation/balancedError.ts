/** Per class: [correctly predicted, seen]. */
export type ClassCounts = [number, number][];

/** Zeroed counts for `classes` classes. */
export function emptyClassCounts(classes: number): ClassCounts {
  return Array.from({ length: classes }, () => [0, 0] as [number, number]);
}

/** Counts one prediction of class `predicted` for an event of class y. */
export function countPrediction(counts: ClassCounts, y: number, predicted: number): void {
  const c = counts[y];
  c[1]++;
  if (predicted === y) c[0]++;
}

/**
 * Balanced error: 1 − the mean recall over the classes that occurred (scikit-learn's
 * `1 - balanced_accuracy_score`). The honest figure when one class is rare: always answering the majority
 * class scores 1 − 1/K, not its frequency. 1 when no class occurred (nothing was recalled).
 */
export function balancedError(counts: ClassCounts): number {
  let sum = 0;
  let seen = 0;
  for (const [correct, total] of counts) {
    if (total === 0) continue;
    sum += correct / total;
    seen++;
  }
  return seen === 0 ? 1 : 1 - sum / seen;
}
