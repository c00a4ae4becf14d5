/**
 * Input validation and small shared helpers for the normalization layers. Every check runs before a
 * layer touches its state, so a call that throws leaves the layer exactly as it was.
 */
import type { Tensor } from '../core/tensor.js';
import { NormalizationError } from '../errors.js';

/** The `[N, C, L]` reading of an input (`L = 1` for `[N, C]`). */
export interface Dims {
  n: number;
  c: number;
  l: number;
  /** Rank of the input as given (2 or 3). */
  rank: 2 | 3;
}

/** `[2, 3, 4]` as text, for error messages. */
export function shapeText(shape: readonly unknown[]): string {
  return `[${shape.map((d) => String(d)).join(', ')}]`;
}

/**
 * Reads `[N, C]` or `[N, C, L]`, checks the channel count, the data length and that every value is
 * finite. `who` names the layer in the message. `checkValues = false` skips the finiteness scan for a
 * caller that folds it into its first reduction (then it must call {@link assertFinite} itself when
 * that reduction comes out non-finite, before touching any state).
 */
export function readDims(x: Tensor, who: string, channels: number | null, checkValues = true): Dims {
  if (x === null || typeof x !== 'object' || !(x.data instanceof Float64Array) || !Array.isArray(x.shape)) {
    throw new NormalizationError(`${who}: input must be a Tensor { data: Float64Array, shape: number[] }`);
  }
  const shape = x.shape;
  if (shape.length !== 2 && shape.length !== 3) {
    throw new NormalizationError(
      `${who}: expected input of shape [N, C] or [N, C, L], got rank ${shape.length} shape ${shapeText(shape)}`,
    );
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new NormalizationError(`${who}: bad dimension ${String(d)} in input shape ${shapeText(shape)}`);
    }
  }
  const n = shape[0];
  const c = shape[1];
  const l = shape.length === 3 ? shape[2] : 1;
  if (n === 0) throw new NormalizationError(`${who}: empty batch, input shape ${shapeText(shape)}`);
  if (c === 0 || l === 0) throw new NormalizationError(`${who}: empty input, shape ${shapeText(shape)}`);
  if (channels !== null && c !== channels) {
    throw new NormalizationError(
      `${who}: expected ${channels} channels (input shape [N, ${channels}] or [N, ${channels}, L]), got shape ${shapeText(shape)}`,
    );
  }
  const size = n * c * l;
  if (x.data.length !== size) {
    throw new NormalizationError(
      `${who}: input data has ${x.data.length} values but shape ${shapeText(shape)} needs ${size}`,
    );
  }
  if (checkValues) assertFinite(x.data, size, who, 'input', shape);
  return { n, c, l, rank: shape.length as 2 | 3 };
}

/** Throws a NormalizationError naming the first non-finite value and its flat index. */
export function assertFinite(
  data: Float64Array,
  size: number,
  who: string,
  what: string,
  shape: readonly number[],
): void {
  // v·0 is 0 for finite v and NaN for NaN and ±Infinity. Four independent branch-free chains keep this
  // pass far cheaper than a compare-and-branch per value; the slow scan only runs to name the culprit.
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let i = 0;
  for (const e = size - 3; i < e; i += 4) {
    a0 += data[i] * 0;
    a1 += data[i + 1] * 0;
    a2 += data[i + 2] * 0;
    a3 += data[i + 3] * 0;
  }
  for (; i < size; i++) a0 += data[i] * 0;
  if (a0 + a1 + a2 + a3 === 0) return;
  for (let k = 0; k < size; k++) {
    const v = data[k];
    if (!Number.isFinite(v)) {
      throw new NormalizationError(
        `${who}: non-finite ${what} value ${String(v)} at flat index ${k} of shape ${shapeText(shape)}`,
      );
    }
  }
}

/**
 * Checks that `dy` has exactly the shape of the last forward input and finite values (the latter left to
 * the caller when `checkValues` is false, as in {@link readDims}).
 */
export function readGrad(dy: Tensor, who: string, last: Dims | null, checkValues = true): Dims {
  if (last === null) throw new NormalizationError(`${who}: backward called before any forward`);
  if (
    dy === null ||
    typeof dy !== 'object' ||
    !(dy.data instanceof Float64Array) ||
    !Array.isArray(dy.shape)
  ) {
    throw new NormalizationError(`${who}: dy must be a Tensor { data: Float64Array, shape: number[] }`);
  }
  const expected = last.rank === 3 ? [last.n, last.c, last.l] : [last.n, last.c];
  const same = dy.shape.length === expected.length && dy.shape.every((d, i) => d === expected[i]);
  if (!same || dy.data.length !== last.n * last.c * last.l) {
    throw new NormalizationError(
      `${who}: dy shape ${shapeText(dy.shape)} does not match the last forward input shape ${shapeText(expected)}`,
    );
  }
  if (checkValues) assertFinite(dy.data, dy.data.length, who, 'dy', dy.shape);
  return last;
}

/** Validation helpers for constructor options: each error names the option and its value. */
export function checkPositiveInt(who: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new NormalizationError(`${who}: ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

export function checkEps(who: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new NormalizationError(`${who}: eps must be a finite number > 0, got ${String(v)}`);
  }
  return v;
}

export function checkMomentum(who: string, v: unknown, allowNull: boolean): number | null {
  if (v === null && allowNull) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
    throw new NormalizationError(
      `${who}: momentum must be a number in [0, 1]${allowNull ? ' or null' : ''}, got ${String(v)}`,
    );
  }
  return v;
}

export function checkBool(who: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean')
    throw new NormalizationError(`${who}: ${name} must be a boolean, got ${String(v)}`);
  return v;
}

/** Float64Array from a JSON number array of the expected length (fromState). */
export function floatsFromState(who: string, name: string, v: unknown, length: number): Float64Array {
  if (
    !Array.isArray(v) ||
    v.length !== length ||
    !v.every((e) => typeof e === 'number' && Number.isFinite(e))
  ) {
    throw new NormalizationError(`${who}.fromState: ${name} must be ${length} finite numbers`);
  }
  return Float64Array.from(v as number[]);
}

/** Checks the `kind` tag of a state object. */
export function checkKind(who: string, s: unknown, kind: string): Record<string, unknown> {
  if (s === null || typeof s !== 'object' || (s as { kind?: unknown }).kind !== kind) {
    throw new NormalizationError(
      `${who}.fromState: expected a state with kind '${kind}', got ${s === null || typeof s !== 'object' ? String(s) : String((s as { kind?: unknown }).kind)}`,
    );
  }
  return s as Record<string, unknown>;
}

/**
 * Returns `buf` when it holds at least `size` slots, else a fresh one with room to spare, so scratch
 * buffers follow the largest recent shape without reallocating on every varying streaming batch.
 */
export function ensure(buf: Float64Array, size: number): Float64Array {
  return buf.length >= size ? buf : new Float64Array(Math.max(size, buf.length * 2));
}

/**
 * The buffer a forward/backward writes into: the caller's `out` (checked: exact size, not aliasing the
 * input) or a fresh array. Called before any state changes, so a bad `out` leaves the layer untouched.
 */
export function outputBuffer(
  out: Float64Array | undefined,
  size: number,
  who: string,
  input: Float64Array,
): Float64Array {
  if (out === undefined) return new Float64Array(size);
  if (!(out instanceof Float64Array) || out.length !== size) {
    throw new NormalizationError(
      `${who}: out must be a Float64Array of ${size} values, got ${out instanceof Float64Array ? out.length : String(out)}`,
    );
  }
  if (
    out.buffer === input.buffer &&
    out.byteOffset < input.byteOffset + input.byteLength &&
    input.byteOffset < out.byteOffset + out.byteLength
  ) {
    throw new NormalizationError(`${who}: out must not overlap the input`);
  }
  return out;
}

/**
 * Validates one feature vector for a streaming scaler: non-empty, `expected` features when the scaler has
 * seen data (null before), every value finite. Returns its length.
 */
export function checkScalerRow(who: string, x: ArrayLike<number>, expected: number | null): number {
  const d = x.length;
  if (d === 0) throw new NormalizationError(`${who}: empty feature vector`);
  if (expected !== null && d !== expected)
    throw new NormalizationError(`${who}: expected ${expected} features, got ${d}`);
  for (let j = 0; j < d; j++) {
    if (!Number.isFinite(x[j]))
      throw new NormalizationError(`${who}: non-finite value ${String(x[j])} at feature ${j}`);
  }
  return d;
}

/** Validates a non-empty `[N, d]` batch for a streaming scaler (d as in checkScalerRow, values finite). */
export function checkScalerBatch(who: string, x: Tensor, expected: number | null): { n: number; d: number } {
  if (x.shape.length !== 2 || x.shape[0] < 1 || x.shape[1] < 1 || x.data.length !== x.shape[0] * x.shape[1]) {
    throw new NormalizationError(
      `${who}: expected a non-empty [N, d] batch, got shape ${shapeText(x.shape)}`,
    );
  }
  const [n, d] = x.shape;
  if (expected !== null && d !== expected) {
    throw new NormalizationError(`${who}: expected ${expected} features, got shape ${shapeText(x.shape)}`);
  }
  assertFinite(x.data, n * d, who, 'input', x.shape);
  return { n, d };
}
