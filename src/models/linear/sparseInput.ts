import { ModelError } from '../../errors.js';
import type { SparseVector } from '../types.js';

/**
 * A validated, coalesced sparse input `{ indices, values }`: `idx[0..nnz)` distinct feature indices in
 * first-seen order, `val[i]` the sum of the values given for `idx[i]` (hash collisions add up). The buffers
 * are reused from one input to the next and grow on demand, so parsing allocates nothing once warm.
 *
 * One pass validates and copies, marking each index in a 2^20-bit filter (`copySparse`); only an input in
 * which the filter saw a repeat is coalesced, with a small open-addressing table sized to the input.
 * Neither is dim-sized, so parsing stays in cache even with 2^20 hashed features.
 */
export class SparseInput {
  idx = new Int32Array(16);
  val = new Float64Array(16);
  nnz = 0;
  private hKeys = new Int32Array(0);
  private hPos = new Int32Array(0);
  private hStamp = new Int32Array(0);
  private hEpoch = 0;

  /** Parses x for a model of `dim` features; throws a ModelError naming the bad entry (`name` is x's name). */
  parse(x: SparseVector, name: string, dim: number): void {
    if (dim === 0) throw new ModelError(`${name} is sparse: the 'dim' option is required for sparse inputs`);
    const { indices, values } = x;
    if (!Array.isArray(indices) || !Array.isArray(values) || indices.length !== values.length) {
      throw new ModelError(`${name}.indices and ${name}.values must be arrays of the same length`);
    }
    const m = indices.length;
    if (this.idx.length < m) {
      this.idx = new Int32Array(Math.max(m, 2 * this.idx.length));
      this.val = new Float64Array(this.idx.length);
    }
    const r = copySparse(indices, values, m, dim, this.idx, this.val);
    const i = r >>> 1;
    if (i < m) {
      const j = indices[i];
      if (!Number.isInteger(j) || j < 0 || j >= dim) {
        throw new ModelError(`${name}.indices[${i}]=${j} is out of range [0, ${dim})`);
      }
      throw new ModelError(`${name}.values[${i}]=${values[i]} is not a finite number (feature ${j})`);
    }
    this.nnz = (r & 1) !== 0 ? this.coalesce(m) : m;
  }

  /** Sums the values of repeated indices in idx / val[0..m) in place, in first-seen order; returns nnz. */
  private coalesce(m: number): number {
    let bits = 4;
    while (1 << bits < 2 * m) bits++;
    const size = 1 << bits;
    if (this.hKeys.length < size) {
      this.hKeys = new Int32Array(size);
      this.hPos = new Int32Array(size);
      this.hStamp = new Int32Array(size);
    }
    // A slot is occupied when its stamp is this call's epoch: no clearing pass per event.
    let epoch = this.hEpoch + 1;
    if (epoch > 0x3fffffff) {
      this.hStamp.fill(0);
      epoch = 1;
    }
    this.hEpoch = epoch;
    const keys = this.hKeys;
    const hpos = this.hPos;
    const stamp = this.hStamp;
    const mask = size - 1;
    const shift = 32 - bits;
    const { idx, val } = this;
    let nnz = 0;
    for (let i = 0; i < m; i++) {
      const j = idx[i];
      const v = val[i];
      let h = Math.imul(j, 0x9e3779b1) >>> shift;
      while (stamp[h] === epoch && keys[h] !== j) h = (h + 1) & mask;
      if (stamp[h] === epoch) val[hpos[h]] += v;
      else {
        stamp[h] = epoch;
        keys[h] = j;
        hpos[h] = nnz;
        idx[nnz] = j;
        val[nnz] = v;
        nnz++;
      }
    }
    return nnz;
  }
}

/**
 * `copySparse`'s bit filter, 2^20 bits (128 KB): bit j & SEEN_MASK marks index j while an input is copied.
 * Exact up to dim = 2^20; past it two indices may share a bit, which only costs a needless coalescing pass.
 * One filter serves every model because copying is synchronous and leaves it all clear; and as a module
 * constant V8 compiles its accesses to a fixed address (commit 5975093: parsing measured ~25% faster than
 * with a per-model field).
 */
const SEEN = new Int32Array(1 << 15);
const SEEN_MASK = (1 << 20) - 1;

/**
 * Copies the entries of a sparse input into idx / val up to the first invalid one (index not an integer
 * in [0, d), value not finite). Returns 2·(entries copied) + 1 when two of them shared a filter bit (a
 * possible repeat), + 0 when none did.
 */
function copySparse(
  indices: number[],
  values: number[],
  m: number,
  d: number,
  idx: Int32Array,
  val: Float64Array,
): number {
  const seen = SEEN;
  const mask = SEEN_MASK;
  let repeat = 0;
  let i = 0;
  for (; i < m; i++) {
    const j = indices[i];
    const v = values[i];
    if (!Number.isInteger(j) || j < 0 || j >= d || !Number.isFinite(v)) break;
    const b = j & mask;
    const word = seen[b >>> 5];
    const bit = 1 << (b & 31);
    if ((word & bit) !== 0) repeat = 1;
    seen[b >>> 5] = word | bit;
    idx[i] = j;
    val[i] = v;
  }
  // Every bit set belongs to this input, so clearing whole words is exact.
  for (let q = 0; q < i; q++) seen[(idx[q] & mask) >>> 5] = 0;
  return 2 * i + repeat;
}
