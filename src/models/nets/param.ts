/**
 * A trainable parameter tensor of a net: its live values, the gradient buffer the last backward filled,
 * and whether the L1/L2 penalties and weight decay apply to it (weights yes; biases and normalizer
 * gamma/beta no, as is customary: penalizing a shift or a scale does not reduce capacity).
 */
export interface Param {
  readonly name: string;
  readonly value: Float64Array;
  readonly grad: Float64Array;
  readonly decay: boolean;
}
