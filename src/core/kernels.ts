/**
 * Allocation-free BLAS-1 style kernels over Float64Array with explicit length, strides and offsets
 * (the stdlib-js calling convention). Hot loops elsewhere call these or inline the same shape of loop.
 */

/** Dot product of two strided vectors, summed in index order. */
export function ddot(
  n: number,
  x: Float64Array,
  sx: number,
  ox: number,
  y: Float64Array,
  sy: number,
  oy: number,
): number {
  let s = 0;
  for (let i = 0, ix = ox, iy = oy; i < n; i++, ix += sx, iy += sy) s += x[ix] * y[iy];
  return s;
}

/**
 * Σ x[ox + i]·y[i] for i < n (unit strides), with four accumulators so the additions do not wait on each
 * other: (s0 + s1) + (s2 + s3), where s_r sums i ≡ r (mod 4) and s0 also takes the tail. Not the summation
 * order of `ddot`, so the two may differ in the last bits.
 */
export function ddot4(n: number, x: Float64Array, ox: number, y: ArrayLike<number>): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += x[ox + i] * y[i];
    s1 += x[ox + i + 1] * y[i + 1];
    s2 += x[ox + i + 2] * y[i + 2];
    s3 += x[ox + i + 3] * y[i + 3];
  }
  for (; i < n; i++) s0 += x[ox + i] * y[i];
  return s0 + s1 + (s2 + s3);
}

/** True when every one of the n strided values is finite. */
export function allFinite(n: number, x: Float64Array, sx = 1, ox = 0): boolean {
  for (let i = 0, ix = ox; i < n; i++, ix += sx) if (!Number.isFinite(x[ix])) return false;
  return true;
}
