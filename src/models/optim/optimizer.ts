/**
 * Optimizer options of `LinearModel` and the nets. Defaults are documented on each optimizer. Momentum is
 * for the nets (a `LinearModel` takes plain SGD), FTRL for `LinearModel` (it is a linear model's update).
 */
export type OptimizerConfig =
  | {
      type: 'sgd';
      lr?: number;
      schedule?: ScheduleName;
      powerT?: number;
      momentum?: number;
      nesterov?: boolean;
    }
  | { type: 'adagrad'; lr?: number; eps?: number }
  | { type: 'adam'; lr?: number; beta1?: number; beta2?: number; eps?: number }
  | { type: 'ftrl'; alpha?: number; beta?: number };

export type ScheduleName = 'constant' | 'invscaling' | 'optimal';

export interface OptimizerState {
  type: OptimizerConfig['type'];
  config: OptimizerConfig;
  /** Per-coordinate state arrays (SGD's momentum, AdaGrad's G, Adam's m and v, FTRL's z and n), packed. */
  arrays: PackedArray[];
}

/**
 * A Float64Array in JSON: a plain array, or `{ length, indices, values }` when at most a quarter of it is
 * non-zero (hashed models hold 2^20 mostly-zero weights, and a checkpoint should not be 20 MB of zeros).
 * Exact: JSON numbers round-trip doubles bit for bit (the sign of a zero is not kept).
 */
export type PackedArray = number[] | { length: number; indices: number[]; values: number[] };

export function packArray(a: Float64Array): PackedArray {
  let nz = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) nz++;
  if (nz * 4 > a.length) return Array.from(a, (v) => (v === 0 ? 0 : v));
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== 0) {
      indices.push(i);
      values.push(a[i]);
    }
  }
  return { length: a.length, indices, values };
}

/** Writes a packed array into `out` (which must have its length); throws a plain Error on mismatch. */
export function unpackArray(p: PackedArray, out: Float64Array, what: string): void {
  const length = Array.isArray(p) ? p.length : p.length;
  if (length !== out.length) throw new Error(`${what} has ${length} values; expected ${out.length}`);
  if (Array.isArray(p)) out.set(p);
  else {
    out.fill(0);
    for (let i = 0; i < p.indices.length; i++) out[p.indices[i]] = p.values[i];
  }
}

/**
 * One optimizer step over a set of coordinates (River `optim/base.py`, stdlib-js calling convention):
 * for i < n, coordinate j = idx ? idx[i] : off + i takes gradient g[i]. The caller owns every buffer and
 * the step counter t (1-based index of the step being taken), so an optimizer holds only per-coordinate
 * state and a restored model continues bit for bit. It knows nothing of regularization: the model applies
 * its prox with `rate(t, j)`, the step size coordinate j just used.
 */
export interface Optimizer {
  readonly type: OptimizerConfig['type'];
  /** Every coordinate uses the same rate at step t (plain SGD), so `rate(t, 0)` is everyone's. */
  readonly uniform: boolean;
  /** Applies L1/L2 itself (FTRL-Proximal); the model then skips its prox step. */
  readonly proximal: boolean;
  /** A zero gradient still moves a weight (Adam's momentum), so sparse steps must touch every weight. */
  readonly dense: boolean;
  /** Allocates per-coordinate state for `size` parameters (zeros). */
  init(size: number): void;
  step(t: number, w: Float64Array, g: Float64Array, n: number, idx: Int32Array | null, off: number): void;
  /** The step size coordinate j used at step t (after that step's update of its statistics). */
  rate(t: number, j: number): number;
  /** Per-coordinate state arrays, for the non-finite guard and for state(). */
  stateArrays(): Float64Array[];
  state(): OptimizerState;
  /** Restores `stateArrays()` from a state (after `init`). */
  restore(s: OptimizerState): void;
  config(): OptimizerConfig;
}
