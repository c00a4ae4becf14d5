import type { Rng } from '../../core/rng.js';

/**
 * He (Kaiming) normal initialization, N(0, 2 / fanIn), for weights that feed a ReLU.
 * He et al. 2015, "Delving Deep into Rectifiers": keeps the activation variance constant through ReLU
 * layers, which Xavier's 1 / fanIn scaling halves at every layer.
 */
export function heNormalInit(rng: Rng, fanIn: number, out: Float64Array): Float64Array {
  const std = Math.sqrt(2 / fanIn);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal(0, std);
  return out;
}

/**
 * Xavier (Glorot) uniform initialization, U(−a, a) with a = √(6 / (fanIn + fanOut)).
 * Glorot & Bengio 2010: balances forward and backward variance for layers without a ReLU after them
 * (here the output layer feeding the softmax).
 */
export function xavierUniformInit(rng: Rng, fanIn: number, fanOut: number, out: Float64Array): Float64Array {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-a, a);
  return out;
}
