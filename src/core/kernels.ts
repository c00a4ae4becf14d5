/**
 * Allocation-free BLAS-1 style kernels over Float64Array with explicit length, strides and offsets
 * (the stdlib-js calling convention). Hot loops elsewhere call these or inline the same shape of loop.
 */

/** y[oy + i*sy] += alpha * x[ox + i*sx], i < n. */
export function daxpy(
  n: number,
  alpha: number,
  x: Float64Array,
  sx: number,
  ox: number,
  y: Float64Array,
  sy: number,
  oy: number,
): void {
  for (let i = 0, ix = ox, iy = oy; i < n; i++, ix += sx, iy += sy) y[iy] += alpha * x[ix];
}

/** Dot product of two strided vectors. */
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

/** x[ox + i*sx] *= alpha. */
export function dscal(n: number, alpha: number, x: Float64Array, sx: number, ox: number): void {
  for (let i = 0, ix = ox; i < n; i++, ix += sx) x[ix] *= alpha;
}

/** Sum of |x|. */
export function dasum(n: number, x: Float64Array, sx: number, ox: number): number {
  let s = 0;
  for (let i = 0, ix = ox; i < n; i++, ix += sx) s += Math.abs(x[ix]);
  return s;
}

/** Euclidean norm (scaled to avoid overflow is unnecessary at our magnitudes; plain sum of squares). */
export function dnrm2(n: number, x: Float64Array, sx: number, ox: number): number {
  let s = 0;
  for (let i = 0, ix = ox; i < n; i++, ix += sx) s += x[ix] * x[ix];
  return Math.sqrt(s);
}

/** True when every one of the n strided values is finite. */
export function allFinite(n: number, x: Float64Array, sx = 1, ox = 0): boolean {
  for (let i = 0, ix = ox; i < n; i++, ix += sx) if (!Number.isFinite(x[ix])) return false;
  return true;
}
