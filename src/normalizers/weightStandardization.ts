/**
 * Weight Standardization (Qiao, Wang, Liu, Shen & Yuille 2019, "Micro-Batch Training with Batch-Channel
 * Normalization and Weight Standardization"), for the dense/conv layer placed before a GroupNorm.
 */
import { NormalizationError } from '../errors.js';
import { assertFinite, checkEps, checkPositiveInt } from './input.js';
import { rowsBackward, rowsForward } from './rowKernels.js';

/** Standardized weights and what the backward needs (reusable across steps: pass it back as `into`). */
export interface StandardizedWeights {
  /** Ŵ, `rows × cols` row-major. */
  data: Float64Array;
  /** 1/√(σ²_row + ε) per output row. */
  invStd: Float64Array;
  rows: number;
  cols: number;
}

/**
 * Ŵ = (W − μ_row)/√(σ²_row + ε) for each output unit's fan-in row of a `rows × cols` weight matrix
 * (a conv1d kernel `[out, in, k]` is `rows = out`, `cols = in·k`). Why: with GroupNorm after it, WS
 * smooths the loss landscape the way BatchNorm does without any batch statistics, which is what small
 * streaming batches need. Biased variance and ε inside the root as in the paper's equation (their code
 * adds 1e-5 to the unbiased std instead; the difference is immaterial and this keeps one convention).
 *
 * @example
 * const ws = weightStandardize(w, outChannels, inChannels * kernel);
 * // use ws.data as the layer's weights; after backward gives dŴ:
 * const dw = weightStandardizeBackward(dWhat, ws);
 */
export function weightStandardize(
  w: Float64Array,
  rows: number,
  cols: number,
  eps = 1e-5,
  into?: StandardizedWeights,
): StandardizedWeights {
  const who = 'weightStandardize';
  checkPositiveInt(who, 'rows', rows);
  checkPositiveInt(who, 'cols', cols);
  checkEps(who, eps);
  if (w.length !== rows * cols) {
    throw new NormalizationError(`${who}: ${w.length} weights do not fill [${rows}, ${cols}]`);
  }
  assertFinite(w, w.length, who, 'weight', [rows, cols]);
  const out =
    into && into.rows === rows && into.cols === cols
      ? into
      : { data: new Float64Array(rows * cols), invStd: new Float64Array(rows), rows, cols };
  rowsForward(rows, cols, w, eps, { mode: 'none' }, out.data, out.invStd, out.data);
  return out;
}

/**
 * dW from dŴ: dW = invStd·(dŴ − mean(dŴ) − Ŵ·mean(dŴ·Ŵ)) per row (the statistics are functions of W).
 */
export function weightStandardizeBackward(
  dwHat: Float64Array,
  s: StandardizedWeights,
  into?: Float64Array,
): Float64Array {
  const who = 'weightStandardizeBackward';
  if (dwHat.length !== s.rows * s.cols) {
    throw new NormalizationError(`${who}: ${dwHat.length} gradients do not fill [${s.rows}, ${s.cols}]`);
  }
  assertFinite(dwHat, dwHat.length, who, 'gradient', [s.rows, s.cols]);
  const dw = into && into.length === dwHat.length ? into : new Float64Array(dwHat.length);
  rowsBackward(s.rows, s.cols, dwHat, s.data, s.invStd, { mode: 'none' }, null, null, dw);
  return dw;
}
