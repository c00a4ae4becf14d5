/**
 * Spread of a score over seeds: mean, sample standard deviation and the half-width of a Student-t
 * confidence interval. The t quantile is computed (regularized incomplete beta, inverted by safeguarded
 * Newton steps), not read from a table, so it holds for any number of seeds.
 */

/** Arithmetic mean, summed left to right; 0 for no values (the comparison's placeholder for failed cells). */
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1 in the denominator), 0 for fewer than two values. */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) * (b - m), 0) / (xs.length - 1));
}

/**
 * Half-width of the two-sided `level` (default 95 %) confidence interval of the mean of xs:
 * t_{(1+level)/2, n−1} · s / √n. NaN for fewer than two values (one seed says nothing about the spread).
 */
export function tHalfWidth(xs: readonly number[], level = 0.95): number {
  if (!(level > 0 && level < 1)) throw new RangeError(`tHalfWidth: level must be in (0, 1), got ${level}`);
  const n = xs.length;
  if (n < 2) return NaN;
  return (studentTQuantile((1 + level) / 2, n - 1) * sampleStd(xs)) / Math.sqrt(n);
}

/** The quantile t_p of Student's t distribution with `df` > 0 degrees of freedom (p in (0, 1)). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0 && Number.isFinite(df))) {
    throw new RangeError(`studentTQuantile: df must be a finite number > 0, got ${df}`);
  }
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  // Bracket [lo, hi] with cdf(lo) < p ≤ cdf(hi), then Newton steps that fall back to bisection when they
  // leave the bracket: the density is smooth and unimodal, so this converges in a handful of steps.
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
  }
  let t = (lo + hi) / 2;
  for (let it = 0; it < 200; it++) {
    const f = studentTCdf(t, df) - p;
    if (f === 0) return t;
    if (f < 0) lo = t;
    else hi = t;
    let next = t - f / studentTDensity(t, df);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-15 * Math.max(1, t)) return next;
    t = next;
  }
  return t;
}

/** P(T ≤ t) for Student's t with df degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  // x = df/(df + t²) and 1 − x = t²/(df + t²), each computed directly: near t = 0 with a large df, x is
  // within rounding of 1 and 1 − x would lose every digit.
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), (t * t) / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

function studentTDensity(t: number, df: number): number {
  const logC = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(logC - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/**
 * I_x(a, b) by its continued fraction (Numerical Recipes §6.4, modified Lentz); y = 1 − x, given exactly.
 * With y given exactly the t CDF built on it is within 1e-13 of p at its own quantiles for df up to 1e4
 * (test/property/evaluation.test.ts).
 */
function regularizedIncompleteBeta(x: number, y: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(y));
  // The fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(y, b, a)) / b;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Γ(z) for z > 0 (Lanczos approximation, g = 7; relative error about 1e-15). */
function logGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const x = z - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < 9; i++) s += LANCZOS[i] / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
}
