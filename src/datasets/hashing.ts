/**
 * Feature hashing ("the hashing trick", Weinberger et al. 2009, "Feature Hashing for Large Scale Multitask
 * Learning"): tokens map to a fixed number of buckets without a vocabulary, so a stream never needs a
 * dictionary that grows with it. Same hash and sign convention as scikit-learn's `HashingVectorizer`
 * (MurmurHash3 x86 32-bit, seed 0, bucket = |h| mod n, value sign = sign of h with `alternateSign`), so a
 * hashed event can be checked against Python.
 */
import type { SparseVector } from '../models/types.js';

const encoder = new TextEncoder();

/**
 * MurmurHash3 x86_32 of the UTF-8 bytes of `key`, as a signed 32-bit integer (what sklearn's
 * `murmurhash3_32(key, seed, positive=False)` returns).
 */
export function murmur3Signed(key: string, seed = 0): number {
  const bytes = encoder.encode(key);
  const n = bytes.length;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = n & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2] << 16;
    if (tail >= 2) k ^= bytes[blocks + 1] << 8;
    k ^= bytes[blocks];
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** MurmurHash3 x86_32 as an unsigned 32-bit integer. */
export function murmur3(key: string, seed = 0): number {
  return murmur3Signed(key, seed) >>> 0;
}

export interface HashingOptions {
  /** Number of buckets (default 2^18, scikit-learn's 2^20 is more than a few thousand emails need). */
  dim?: number;
  /** Value per bucket: `log1p` of the (signed) count, the raw count, or 1 for presence. Default 'log1p'. */
  transform?: 'log1p' | 'count' | 'binary';
  /** Sign each token's contribution by its hash so collisions cancel in expectation (default true). */
  alternateSign?: boolean;
  seed?: number;
}

/**
 * Hashes a bag of tokens into a sparse vector with sorted indices and no zeros.
 * Collisions add (with alternate signs), then `transform` applies to the bucket's total, keeping its sign.
 */
export function hashTokens(tokens: Iterable<string>, opts: HashingOptions = {}): SparseVector {
  const dim = opts.dim ?? 1 << 18;
  if (!Number.isInteger(dim) || dim < 1 || dim > 2 ** 31)
    throw new RangeError(`hashTokens: dim must be an integer in [1, 2^31], got ${dim}`);
  const transform = opts.transform ?? 'log1p';
  const alternateSign = opts.alternateSign ?? true;
  const seed = opts.seed ?? 0;
  const buckets = new Map<number, number>();
  for (const t of tokens) {
    const h = murmur3Signed(t, seed);
    const idx = Math.abs(h) % dim;
    const s = alternateSign && h < 0 ? -1 : 1;
    buckets.set(idx, (buckets.get(idx) ?? 0) + s);
  }
  const indices = [...buckets.keys()].filter((i) => buckets.get(i) !== 0).sort((a, b) => a - b);
  const values = indices.map((i) => {
    const v = buckets.get(i) as number;
    const a = Math.abs(v);
    const m = transform === 'log1p' ? Math.log1p(a) : transform === 'count' ? a : 1;
    return v < 0 ? -m : m;
  });
  return { indices, values };
}

/** Lower-cased alphanumeric tokens of 2 to 30 characters (scikit-learn's default token pattern, bounded). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /[a-z0-9][a-z0-9_]+/g;
  const lower = text.toLowerCase();
  let m: RegExpExecArray | null;
  while ((m = re.exec(lower)) !== null) {
    if (m[0].length <= 30) out.push(m[0]);
  }
  return out;
}

/**
 * A hashed sparse vector as a dense `dim`-vector, for models that take dense inputs (an Mlp). `norm: 'l2'`
 * (the default, as scikit-learn's `HashingVectorizer`) scales it to unit Euclidean length, so a long email
 * and a short one with the same word mix get the same input; `'none'` keeps the bucket values.
 */
export function hashedDense(v: SparseVector, dim: number, opts: { norm?: 'l2' | 'none' } = {}): number[] {
  if (!Number.isInteger(dim) || dim < 1)
    throw new RangeError(`hashedDense: dim must be a positive integer, got ${dim}`);
  const out = new Array<number>(dim).fill(0);
  for (let k = 0; k < v.indices.length; k++) {
    const i = v.indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= dim)
      throw new RangeError(`hashedDense: index ${i} is outside [0, ${dim})`);
    out[i] += v.values[k];
  }
  if ((opts.norm ?? 'l2') === 'l2') {
    let sq = 0;
    for (const x of out) sq += x * x;
    if (sq > 0) {
      const inv = 1 / Math.sqrt(sq);
      for (let i = 0; i < dim; i++) out[i] *= inv;
    }
  }
  return out;
}
