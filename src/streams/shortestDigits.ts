/**
 * A probability's text, exactly as `String` (and so `JSON.stringify`) writes it, without `String`: the
 * shortest decimal that reads back as the same double, the closest one to it when several are as short.
 * `String` costs about half a microsecond for a double such as a sigmoid's output (a call into the runtime, a
 * digit generator, a heap string), and a published prediction has two of them.
 *
 * Only doubles in [1e-5, 1) are written, the range where `String` uses plain notation "0.000ddd" with a
 * power of ten times the double landing in [1e16, 1e17] as an exactly known sum of two doubles; anything else
 * (and an exact tie between two shortest candidates) is declined, and the caller uses `String`.
 *
 * The method (a free-format printer in the sense of Steele & White, on error-free float arithmetic):
 * - X = p·10^k with k = 16 − ⌊log10 p⌋ is computed exactly as hi + lo (Dekker's product; 10^k ≤ 10^21 is an
 *   exact double), hi an integer;
 * - the doubles next to p bound the interval of reals that read back as p: half an ulp on either side (a
 *   quarter below a power of two), scaled by 10^k, exact too;
 * - the coarsest multiple of 10^m in that interval gives the shortest text (17 − m digits): m = 0 always
 *   has one (the interval is wider than 1 in this range), and each coarser m is tried until none fits. At
 *   each m only the three multiples nearest X can lie within the interval (its half-width is at most 11), and
 *   every distance to X is compared exactly (Knuth's two-sum).
 * Property tests hold it to `String` bit for bit (test/property/shortestDigits.test.ts).
 */

const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** 2^27 + 1: Veltkamp's splitter, halves of at most 26 bits whose products are exact. */
const SPLIT = 134217729;
/** The exact thresholds double(10^-e) > 10^-e, e = 1..5: p ≥ double(10^-e) ⟺ p ≥ 10^-e for a double p. */
const DECADES = [0.1, 0.01, 0.001, 0.0001, 0.00001];

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
/** Index of the high word (sign, exponent, top of the significand) on this platform. */
const HI = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f ? 1 : 0;

/** "00" to "99" as ASCII pairs (predictionRecords.ts writes its integers with them too). */
export const TWO_DIGITS = Uint8Array.from(
  { length: 200 },
  (_, i) => 0x30 + (i % 2 === 0 ? Math.floor(i / 20) : (i >> 1) % 10),
);

/** The 8 digits of an integer 0 ≤ n < 10^8, leading zeros included, ending at `end` (exclusive). */
export function writeEightDigits(buf: Uint8Array, end: number, n: number): void {
  let m = n | 0;
  for (let at = end; at > end - 8; at -= 2) {
    const d = m % 100;
    m = (m - d) / 100;
    buf[at - 1] = TWO_DIGITS[2 * d + 1];
    buf[at - 2] = TWO_DIGITS[2 * d];
  }
}

/** Veltkamp halves of 10^k, k = 0..22 (the factors of the exact product). */
const POW10_HIGH = POW10.map((v) => {
  const t = SPLIT * v;
  return t - (t - v);
});
const POW10_LOW = POW10.map((v, i) => v - POW10_HIGH[i]);

/**
 * Whether the exact real d + e (|e| at most half an ulp of d) lies outside (−below, above). Rounding is
 * monotonic, so d alone decides unless d is an end itself. Whether the ends count (they do for an even
 * significand) never matters here: an end is (2·significand ± 1) · 2^(exponent − 1) · 10^k, an odd multiple
 * of 5^k over a power of two (exponent − 1 + k < 0 throughout the range), never an integer.
 */
function outside(d: number, e: number, above: number, below: number): boolean {
  if (d > above || d < -below) return true;
  if (d === above) return e >= 0;
  if (d === -below) return e <= 0;
  return false;
}

/** -1, 0 or 1: where an integer b within 10^8 of [0, 10^8) lies, in units of 10^8 (the carry into the digits above). */
function carryOf(b: number): number {
  return b < 0 ? -1 : b >= 1e8 ? 1 : 0;
}

/**
 * Writes the shortest decimal of `p` (1e-5 ≤ p < 1) into `buf` at `pos` as `String(p)` would, and returns
 * the position after it; returns -1, writing nothing, for any other `p` or a tie (use `String`). `buf` needs
 * 24 bytes of room at `pos`, all of which it may write (digits past the returned position are scratch).
 */
export function writeShortestUnit(p: number, buf: Uint8Array, pos: number): number {
  if (!(p >= 0.00001 && p < 1)) return -1;
  let decade = 1;
  while (p < DECADES[decade - 1]) decade++;
  const k = 16 + decade;
  // X = p · 10^k = hi + lo exactly (Dekker's product), 1e16 ≤ X < 1e17.
  const hi = p * POW10[k];
  const t = SPLIT * p;
  const ph = t - (t - p);
  const pl = p - ph;
  const qh = POW10_HIGH[k];
  const ql = POW10_LOW[k];
  const lo = ph * qh - hi + ph * ql + pl * qh + pl * ql;

  // The interval that reads back as p, around X: [X − below, X + above].
  bits[0] = p;
  const high = words[HI];
  const low = words[1 - HI];
  const exponent = ((high >>> 20) & 0x7ff) - 1075; // p = significand · 2^exponent
  const above = 2 ** (exponent - 1) * POW10[k];
  const below = (high & 0xfffff) === 0 && low === 0 ? above / 2 : above;

  // hi = a · 10^8 + b exactly (a < 10^9, b < 10^8: both int32), so remainders and digits are integer work.
  let a = Math.floor(hi / 1e8);
  let b = hi - a * 1e8;
  let c = carryOf(b); // the quotient's rounding may leave it off by one
  a += c;
  b -= c * 1e8;

  // The coarsest 10^m with a multiple in the interval. m = 0: the integer nearest X is in it (the interval
  // reaches more than half a unit to each side of X in this range), and it is the closest one.
  let bestJ = Math.round(lo);
  if (bestJ - lo === 0.5) return -1; // X halfway between two integers: a tie
  for (let m = 1; m <= 16; m++) {
    const q = POW10[m];
    // r = hi mod 10^m, exactly.
    const r = m <= 8 ? (b | 0) % (q | 0) : (a % POW10[m - 8]) * 1e8 + b;
    const nearest = Math.round((lo + r) / q);
    let fitJ = 0;
    let fits = 0;
    for (let n = nearest - 1; n <= nearest + 1; n++) {
      const j = n * q - r; // hi + j is a multiple of 10^m (exact when |j| is small)
      if (j > 64 || j < -64) continue;
      // d + e = (hi + j) − X = j − lo, exactly (Knuth's two-sum).
      const d = j - lo;
      const back = d - j;
      const e = j - (d - back) + (-lo - back);
      if (outside(d, e, above, below)) continue;
      if (fits > 0) {
        // Another fits (only when 10^m is narrower than the interval): keep the one closer to X. With
        // fitJ < j, hi + j is closer ⟺ 2·lo − fitJ − j > 0, whichever sides of X the two are on (the sign is
        // exact: 2·lo is, and so is the small integer fitJ + j).
        const c = 2 * lo - (fitJ + j);
        if (c === 0) return -1; // a tie: String's choice is not worth guessing
        if (c < 0) continue;
      }
      fitJ = j;
      fits++;
    }
    if (fits === 0) break;
    bestJ = fitJ;
  }

  // The digits of F = hi + bestJ (up to 17 of them, past 2^53): a · 10^8 + (b + bestJ).
  b += bestJ;
  c = carryOf(b);
  a += c;
  b -= c * 1e8;
  if (a < 1e8 || a >= 1e9) return -1; // F left [1e16, 1e17): not in this method's range
  // "0." and decade − 1 zeros, then the 17 digits without their trailing zeros.
  buf[pos++] = 0x30;
  buf[pos++] = 0x2e;
  for (let z = 1; z < decade; z++) buf[pos++] = 0x30;
  const start = pos;
  writeEightDigits(buf, start + 17, b);
  writeEightDigits(buf, start + 9, a % 1e8);
  buf[start] = 0x30 + Math.floor(a / 1e8);
  let end = start + 17;
  while (buf[end - 1] === 0x30) end--;
  return end;
}
