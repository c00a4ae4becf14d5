/**
 * Plain (not unrolled) reference loops for the unrolled kernels in src/normalizers/reduce.ts. Each keeps
 * the accumulation chains of its kernel (four chains by position mod 4, combined as (a0 + a1) + (a2 + a3))
 * so equality is exact, bit for bit: unrolling may change how many values one iteration takes, never
 * which chain a value joins or the order of the adds.
 */

/** Σ x[k] over [o, e) in four chains by position. */
export function refSumRange(x: Float64Array, o: number, e: number): number {
  const a = [0, 0, 0, 0];
  const full = o + Math.floor((e - o) / 4) * 4;
  for (let k = o; k < full; k++) a[(k - o) % 4] += x[k];
  for (let k = full; k < e; k++) a[0] += x[k];
  return a[0] + a[1] + (a[2] + a[3]);
}

/** Σ (x[k] − mu)² over [o, e) in four chains by position. */
export function refSqDevRange(x: Float64Array, o: number, e: number, mu: number): number {
  const a = [0, 0, 0, 0];
  const full = o + Math.floor((e - o) / 4) * 4;
  for (let k = o; k < full; k++) a[(k - o) % 4] += (x[k] - mu) * (x[k] - mu);
  for (let k = full; k < e; k++) a[0] += (x[k] - mu) * (x[k] - mu);
  return a[0] + a[1] + (a[2] + a[3]);
}

/** Σ x[k]·y[k] over [o, e) in four chains by position. */
export function refDotRange(x: Float64Array, y: Float64Array, o: number, e: number): number {
  const a = [0, 0, 0, 0];
  const full = o + Math.floor((e - o) / 4) * 4;
  for (let k = o; k < full; k++) a[(k - o) % 4] += x[k] * y[k];
  for (let k = full; k < e; k++) a[0] += x[k] * y[k];
  return a[0] + a[1] + (a[2] + a[3]);
}

/** Σ (x − s) and Σ (x − s)² over [o, e) in two chains each (even and odd positions). */
export function refShiftedSums(x: Float64Array, o: number, e: number, s: number): [number, number] {
  const a = [0, 0];
  const q = [0, 0];
  for (let k = o; k < e; k++) {
    const t = x[k] - s;
    a[(k - o) % 2] += t;
    q[(k - o) % 2] += t * t;
  }
  return [a[0] + a[1], q[0] + q[1]];
}
