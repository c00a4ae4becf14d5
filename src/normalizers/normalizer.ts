import type { Tensor } from '../core/tensor.js';

/** Learnable affine parameters of a normalizer (absent when the layer has none). */
export interface NormalizerParams {
  gamma?: Float64Array;
  beta?: Float64Array;
}

export interface ForwardOptions {
  /** Training mode (default true): batch statistics, running statistics updated. */
  training?: boolean;
}

/**
 * The contract every normalization layer implements (PyTorch semantics unless its doc says otherwise).
 * Input shapes are `[N, C]` or `[N, C, L]`; the output has the input's shape.
 */
export interface Normalizer {
  /** Registry name: 'batch' | 'layer' | 'instance' | 'group' | 'batchrenorm' | 'online' | ... */
  readonly kind: string;
  /** True when one sample's output never depends on the other samples of its batch. */
  readonly perSample: boolean;
  readonly params: NormalizerParams;
  readonly grads: NormalizerParams;
  forward(x: Tensor, opts?: ForwardOptions): Tensor;
  /** dx for the last forward; also sets `grads`. */
  backward(dy: Tensor): Tensor;
  /** JSON-safe snapshot (parameters, running statistics, counters, schedule position). */
  state(): NormalizerState;
}

export interface NormalizerState {
  kind: string;
  [key: string]: unknown;
}
