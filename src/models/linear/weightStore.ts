import type { OptimizerState } from '../optim/optimizer.js';
import type { Features } from '../types.js';
import type { SparseInput } from './sparseInput.js';

/**
 * Where a `LinearModel` keeps its parameters and how it steps them: eager (`EagerStore`), elastic net
 * owed lazily on sparse steps (`LazyElasticNetStore`) or FTRL-Proximal's per-coordinate z and n
 * (`FtrlStore`). The model chooses one at construction (`createWeightStore`) and calls it without knowing
 * which; each keeps its tuned loops in its own methods, so their call sites stay monomorphic.
 *
 * Layout: `params` holds the weights row-major [outputs × dim] (output k's row at k·dim), then one
 * intercept per output. An entry may be stale (a lazy prox debt, an FTRL weight not yet evaluated): `read`
 * always gives the current value, and `materialize` makes every entry current. The model owns the step
 * counter t (steps taken so far); every `learn*` method takes step t + 1 and returns true when it did,
 * false when it rejected the update as non-finite (counted by the shared guard, the model left as it was).
 */
export interface WeightStore {
  /** Feature count (0 until `allocate`). */
  readonly dim: number;
  /** Weights then intercepts (see the layout above). */
  readonly params: Float64Array;
  /** The raw scores (one per output) of the last input scored. */
  readonly scores: Float64Array;
  /** Sizes the store for `dim` features, every parameter and statistic zero. */
  allocate(dim: number): void;
  /** Current value of parameter j after t steps, without bringing anything up to date. */
  read(t: number, j: number): number;
  /** scores ← W·x + b for a dense x of length dim (a pure read); throws naming x's first non-finite value. */
  readScores(t: number, x: number[] | Float64Array, name: string): void;
  /** scores ← W·x + b for a parsed sparse input (a pure read). */
  readScoresSparse(t: number, x: SparseInput): void;
  /** Makes every entry of `params` current. */
  materialize(t: number): void;
  /** `materialize`, for a caller that may write `params` (the model's live `weights` view). */
  expose(t: number): Float64Array;
  /** One step on a dense event of length dim (y its label, w its sample weight). */
  learnDense(t: number, x: number[] | Float64Array, y: number, w: number): boolean;
  /** `learnDense` for a Float64Array: the monomorphic entry point a store may specialize. */
  learnFloat64(t: number, x: Float64Array, y: number, w: number): boolean;
  /** One step on a parsed sparse event. */
  learnSparse(t: number, x: SparseInput, y: number, w: number): boolean;
  /**
   * One step on the mean gradient of a validated batch (sparse items are parsed again into `input`);
   * every score is computed at the current weights first.
   */
  learnBatch(t: number, X: readonly Features[], Y: readonly number[], input: SparseInput): boolean;
  /** The optimizer's per-coordinate statistics. */
  optimizerState(): OptimizerState;
  /** The optimizer's live per-coordinate arrays (what {@link optimizerState} packs). */
  optimizerArrays(): Float64Array[];
  /** Restores `optimizerState()` (after `allocate`). */
  restore(s: OptimizerState): void;
}
