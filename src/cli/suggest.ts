/** Did-you-mean for names a user typed (normalizers, models, config fields), by edit distance. */
import { distance } from 'fastest-levenshtein';

/** The closest of `candidates` to `input`, if it is close enough to be a typo (at most a third of its length). */
export function closestName(input: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const lower = input.toLowerCase();
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === null) return null;
  return bestD <= Math.max(1, Math.floor(Math.max(input.length, best.length) / 3)) ? best : null;
}

/** ` (did you mean 'x'?)`, or '' when nothing is close. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const c = closestName(input, candidates);
  return c === null ? '' : ` (did you mean '${c}'?)`;
}
