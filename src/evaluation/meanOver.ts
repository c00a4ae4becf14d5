/**
 * The mean of score(a[i], b[i]) over a batch, summed in order: how every per-event score here becomes a batch
 * score. NaN for an empty batch; a length mismatch is a programming error and throws, naming `what`.
 */
export function meanOver<A, B>(
  what: string,
  a: readonly A[],
  b: readonly B[],
  score: (a: A, b: B) => number,
): number {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} rows but ${b.length} to compare`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += score(a[i], b[i]);
  return a.length === 0 ? NaN : sum / a.length;
}
