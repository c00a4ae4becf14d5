/**
 * Range reductions with four independent accumulators. A single running sum is bound by the latency of
 * one floating-point add per element; four chains let the adds overlap (about 3x faster on long rows).
 * The summation order differs from a naive loop by rounding only (well inside the 1e-9 reference tolerance).
 */

/** Σ x[k], k ∈ [o, e). */
export function sumRange(x: Float64Array, o: number, e: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let k = o;
  for (const e4 = e - 3; k < e4; k += 4) {
    a0 += x[k];
    a1 += x[k + 1];
    a2 += x[k + 2];
    a3 += x[k + 3];
  }
  for (; k < e; k++) a0 += x[k];
  return a0 + a1 + (a2 + a3);
}

/** Σ (x[k] − mu)², k ∈ [o, e). */
export function sqDevRange(x: Float64Array, o: number, e: number, mu: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let k = o;
  for (const e4 = e - 3; k < e4; k += 4) {
    const t0 = x[k] - mu;
    const t1 = x[k + 1] - mu;
    const t2 = x[k + 2] - mu;
    const t3 = x[k + 3] - mu;
    a0 += t0 * t0;
    a1 += t1 * t1;
    a2 += t2 * t2;
    a3 += t3 * t3;
  }
  for (; k < e; k++) {
    const t = x[k] - mu;
    a0 += t * t;
  }
  return a0 + a1 + (a2 + a3);
}

/** Σ x[k]·y[k], k ∈ [o, e). */
export function dotRange(x: Float64Array, y: Float64Array, o: number, e: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let k = o;
  for (const e4 = e - 3; k < e4; k += 4) {
    a0 += x[k] * y[k];
    a1 += x[k + 1] * y[k + 1];
    a2 += x[k + 2] * y[k + 2];
    a3 += x[k + 3] * y[k + 3];
  }
  for (; k < e; k++) a0 += x[k] * y[k];
  return a0 + a1 + (a2 + a3);
}

/**
 * Σ x[k] and Σ x[k]·y[k], k ∈ [o, e), into `into[0]`, `into[1]`: {@link sumRange} and {@link dotRange}
 * in one sweep (the same four chains each, so the same sums), reading x once.
 */
export function sumDotRange(
  x: Float64Array,
  y: Float64Array,
  o: number,
  e: number,
  into: Float64Array,
): void {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  let k = o;
  for (const e4 = e - 3; k < e4; k += 4) {
    const x0 = x[k];
    const x1 = x[k + 1];
    const x2 = x[k + 2];
    const x3 = x[k + 3];
    a0 += x0;
    a1 += x1;
    a2 += x2;
    a3 += x3;
    b0 += x0 * y[k];
    b1 += x1 * y[k + 1];
    b2 += x2 * y[k + 2];
    b3 += x3 * y[k + 3];
  }
  for (; k < e; k++) {
    const v = x[k];
    a0 += v;
    b0 += v * y[k];
  }
  into[0] = a0 + a1 + (a2 + a3);
  into[1] = b0 + b1 + (b2 + b3);
}

/**
 * Σ (x[k] − shift) and Σ (x[k] − shift)², k ∈ [o, e), into `into[0]`, `into[1]`: mean and variance in
 * one pass. With the shift a value of the range, the cancellation in E[(x − s)²] − E[x − s]² costs at most
 * a factor (1 + (mean − s)²/σ²) ≤ 1 + count in relative error (one value's squared deviation is at most
 * the sum of them all), so unlike the textbook E[x²] − E[x]² it stays accurate when |mean| ≫ σ.
 */
export function shiftedSums(x: Float64Array, o: number, e: number, shift: number, into: Float64Array): void {
  let a0 = 0;
  let a1 = 0;
  let q0 = 0;
  let q1 = 0;
  let k = o;
  // Four values per iteration, still two chains per sum (even and odd positions), so the sums are
  // the same as two at a time; the unrolling only spreads V8's per-iteration checks over more values.
  for (const e4 = e - 3; k < e4; k += 4) {
    const t0 = x[k] - shift;
    const t1 = x[k + 1] - shift;
    const t2 = x[k + 2] - shift;
    const t3 = x[k + 3] - shift;
    a0 += t0;
    a1 += t1;
    q0 += t0 * t0;
    q1 += t1 * t1;
    a0 += t2;
    a1 += t3;
    q0 += t2 * t2;
    q1 += t3 * t3;
  }
  if (k < e - 1) {
    const t0 = x[k] - shift;
    const t1 = x[k + 1] - shift;
    a0 += t0;
    a1 += t1;
    q0 += t0 * t0;
    q1 += t1 * t1;
    k += 2;
  }
  if (k < e) {
    const t = x[k] - shift;
    a0 += t;
    q0 += t * t;
  }
  into[0] = a0 + a1;
  into[1] = q0 + q1;
}
