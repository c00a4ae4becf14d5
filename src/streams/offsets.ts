/**
 * Kafka offsets are int64, carried as decimal strings. These helpers compare and advance them without
 * converting every offset to a BigInt.
 */

/** Compare two non-negative decimal offset strings numerically. */
export function compareOffsets(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The offset after `offset` (the "next offset to read" once `offset` is done). */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/** Raise each partition's offset in `into` to the larger of the two maps' (in place); returns `into`. */
export function mergeOffsets(
  into: Record<string, string>,
  from: Readonly<Record<string, string>>,
): Record<string, string> {
  for (const key of Object.keys(from)) {
    const v = from[key];
    const cur = into[key];
    if (cur === undefined || compareOffsets(v, cur) > 0) into[key] = v;
  }
  return into;
}
