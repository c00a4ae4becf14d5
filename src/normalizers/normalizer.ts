import type { Tensor } from '../core/tensor.js';

/** Learnable affine parameters of a normalizer (absent when the layer has none). */
export interface NormalizerParams {
  gamma?: Float64Array;
  beta?: Float64Array;
}

export interface ForwardOptions {
  /** Training mode (default true): batch statistics, running statistics updated. */
  training?: boolean;
  /**
   * Caller-owned buffer (exactly the input's size, not overlapping it) to write the output into instead of
   * allocating one; the returned tensor's `data` is then this buffer. For hot loops at large shapes.
   */
  out?: Float64Array;
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
  /** dx for the last forward; also sets `grads`. `out`, when given, receives dx (as `ForwardOptions.out`). */
  backward(dy: Tensor, out?: Float64Array): Tensor;
  /** JSON-safe snapshot (parameters, running statistics, counters, schedule position). */
  state(): NormalizerState;
}

export interface NormalizerState {
  kind: string;
  [key: string]: unknown;
}
