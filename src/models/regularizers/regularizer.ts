/**
 * Regularizer options of `LinearModel`: `{ l1?, l2? }` (elastic net when both), `{ lp: { p, lambda } }`,
 * `{ l0: { k } }`, or none. The model owns regularization; optimizers never see it (FTRL excepted, which
 * is regularized by construction and receives l1/l2 from its weight store, `FtrlStore`).
 */
export type RegularizerConfig =
  { l1?: number; l2?: number } | { lp: { p: number; lambda: number } } | { l0: { k: number } };

/**
 * A penalty J(w) on the weights (never the intercept). The objective is mean loss + J(w).
 * Separable penalties act through `prox`, applied after every gradient step, so L1 reaches exact zeros
 * instead of a subgradient that hovers around zero (proximal gradient / FOBOS, Duchi & Singer 2009).
 */
export interface Regularizer {
  readonly kind: 'none' | 'elasticnet' | 'lp' | 'l0';
  /** Total strength, scikit-learn's `alpha` (used by the 'optimal' SGD schedule). */
  readonly strength: number;
  /**
   * The l1 and l2 of a (nonzero) elastic net, for the updates that apply it in closed form (the fused SGD
   * step, lazy prox debts, FTRL); null for every other penalty and for none.
   */
  readonly elastic: { readonly l1: number; readonly l2: number } | null;
  /** J(w) over w[0..n). */
  value(w: Float64Array, n: number): number;
  /** Adds ∂J/∂w_j to out[j] for j < n (where J is differentiable; 0 at kinks). */
  addGradient(w: Float64Array, n: number, out: Float64Array): void;
  /** prox_{η·J} of one coordinate: argmin_u ½(u − v)² + η·J(u). Identity for non-separable J. */
  prox(v: number, eta: number): number;
  /** Non-separable projection applied after the step (L0's hard thresholding); absent otherwise. */
  project?(w: Float64Array, n: number): void;
  /** The options that rebuild it. */
  config(): RegularizerConfig | undefined;
}

/** The soft-thresholding operator sign(v)·max(|v| − a, 0). */
export function softThreshold(v: number, a: number): number {
  return v > a ? v - a : v < -a ? v + a : 0;
}
