/** Did-you-mean for names a user typed (normalizers, models, config fields), by edit distance. */
import { distance } from 'fastest-levenshtein';

/** The closest of `candidates` to `input`, if it is close enough to be a typo (at most a third of its length). */
export function closestName(input: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const lower = input.toLowerCase();
  for (const c of candidates) {
    const d = Math.min(distance(lower, c.toLowerCase()), swapped(lower, c.toLowerCase()) ? 1 : Infinity);
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

/** Whether `a` is `b` with two adjacent letters swapped ('mpl' for 'mlp'): one typo, not two edits. */
function swapped(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i + 1 < a.length && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}
