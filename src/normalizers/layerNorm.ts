/**
 * Layer Normalization (Ba, Kiros & Hinton 2016, "Layer Normalization"), with PyTorch's `LayerNorm`
 * semantics.
 */
import type { Tensor } from '../core/tensor.js';
import { NormalizationError } from '../errors.js';
import {
  type Dims,
  assertFinite,
  checkBool,
  checkEps,
  checkKind,
  ensure,
  floatsFromState,
  readDims,
  outputBuffer,
  readGrad,
  shapeText,
} from './input.js';
import type { ForwardOptions, Normalizer, NormalizerParams, NormalizerState } from './normalizer.js';
import {
  type RowAffine,
  rowGradSums,
  rowGradSumsSize,
  rowMoments,
  rowsBackwardFromSums,
  rowsForward,
} from './rowKernels.js';

export interface LayerNormOptions {
  /** Trailing normalized shape: `[C]` for `[N, C]` inputs, `[C, L]` (or `[L]`) for `[N, C, L]`. */
  shape: number[];
  /** Added to the variance inside the square root. Default 1e-5. */
  eps?: number;
  /** Learnable γ (init 1) and β (init 0), elementwise over `shape`. Default true. */
  elementwiseAffine?: boolean;
}

export interface LayerNormState extends NormalizerState {
  kind: 'layer';
  shape: number[];
  eps: number;
  elementwiseAffine: boolean;
  gamma: number[] | null;
  beta: number[] | null;
}

/**
 * Normalizes each sample over its trailing `shape` (biased variance, ε inside the root), then applies
 * an elementwise affine. The same computation runs in training and inference, and no sample sees
 * another: that is why it suits streams with varying or singleton batches.
 *
 * @example
 * const ln = new LayerNorm({ shape: [3] });
 * const y = ln.forward(tensor([1, 2, 4], [1, 3]));
 */
export class LayerNorm implements Normalizer {
  readonly kind = 'layer';
  readonly perSample = true;
  readonly shape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  readonly params: NormalizerParams;
  readonly grads: NormalizerParams;
  /** Number of values normalized together (product of `shape`). */
  readonly size: number;

  private readonly affine: RowAffine;
  private xhat: Float64Array = new Float64Array(0);
  private invStd: Float64Array = new Float64Array(0);
  private rowMean: Float64Array = new Float64Array(0);
  private rowVar: Float64Array = new Float64Array(0);
  private gradSums: Float64Array = new Float64Array(0);
  private last: Dims | null = null;

  constructor(opts: LayerNormOptions) {
    const who = 'LayerNorm';
    if (opts === null || typeof opts !== 'object')
      throw new NormalizationError(`${who}: options object required`);
    const shape = opts.shape;
    if (
      !Array.isArray(shape) ||
      shape.length < 1 ||
      shape.length > 2 ||
      !shape.every((d) => Number.isInteger(d) && d >= 1)
    ) {
      throw new NormalizationError(
        `${who}: shape must be [C], [L] or [C, L] of positive integers, got ${Array.isArray(shape) ? shapeText(shape) : String(shape)}`,
      );
    }
    this.shape = [...shape];
    this.size = shape.reduce((a, b) => a * b, 1);
    this.eps = checkEps(who, opts.eps ?? 1e-5);
    this.elementwiseAffine = checkBool(who, 'elementwiseAffine', opts.elementwiseAffine ?? true);
    if (this.elementwiseAffine) {
      const gamma = new Float64Array(this.size).fill(1);
      const beta = new Float64Array(this.size);
      this.params = { gamma, beta };
      this.grads = { gamma: new Float64Array(this.size), beta: new Float64Array(this.size) };
      this.affine = { mode: 'elementwise', gamma, beta };
    } else {
      this.params = {};
      this.grads = {};
      this.affine = { mode: 'none' };
    }
  }

  forward(x: Tensor, opts: ForwardOptions = {}): Tensor {
    // The finiteness check rides on the row-moments pass (rowMoments), before any state changes.
    const d = readDims(x, 'LayerNorm', null, false);
    const out = outputBuffer(opts.out, x.data.length, 'LayerNorm', x.data);
    const rank = x.shape.length;
    const k = this.shape.length;
    // The trailing k dimensions must equal `shape` (k is 1 or 2), checked without allocating.
    if (
      rank <= k ||
      x.shape[rank - 1] !== this.shape[k - 1] ||
      (k === 2 && x.shape[rank - 2] !== this.shape[0])
    ) {
      throw new NormalizationError(
        `LayerNorm: input shape ${shapeText(x.shape)} does not end with the normalized shape ${shapeText(this.shape)}`,
      );
    }
    const total = d.n * d.c * d.l;
    const rows = total / this.size;
    this.rowMean = ensure(this.rowMean, rows);
    this.rowVar = ensure(this.rowVar, rows);
    if (!Number.isFinite(rowMoments(rows, this.size, x.data, this.rowMean, this.rowVar))) {
      assertFinite(x.data, total, 'LayerNorm', 'input', x.shape);
    }
    this.xhat = ensure(this.xhat, total);
    this.invStd = ensure(this.invStd, rows);
    rowsForward(rows, this.size, x.data, this.eps, this.affine, this.xhat, this.invStd, out, {
      mean: this.rowMean,
      variance: this.rowVar,
    });
    this.last = d;
    return { data: out, shape: [...x.shape] };
  }

  backward(dy: Tensor, out?: Float64Array): Tensor {
    const { n, c, l } = readGrad(dy, 'LayerNorm', this.last, false);
    const total = n * c * l;
    const dx = outputBuffer(out, dy.data.length, 'LayerNorm', dy.data);
    const rows = total / this.size;
    this.gradSums = ensure(this.gradSums, rowGradSumsSize(rows, this.affine));
    const sums = this.gradSums;
    if (!Number.isFinite(rowGradSums(rows, this.size, dy.data, this.xhat, this.affine, sums))) {
      assertFinite(dy.data, total, 'LayerNorm', 'dy', dy.shape);
    }
    rowsBackwardFromSums(
      rows,
      this.size,
      dy.data,
      this.xhat,
      this.invStd,
      this.affine,
      sums,
      this.grads.gamma ?? null,
      this.grads.beta ?? null,
      dx,
    );
    return { data: dx, shape: [...dy.shape] };
  }

  state(): LayerNormState {
    return {
      kind: 'layer',
      shape: [...this.shape],
      eps: this.eps,
      elementwiseAffine: this.elementwiseAffine,
      gamma: this.params.gamma ? Array.from(this.params.gamma) : null,
      beta: this.params.beta ? Array.from(this.params.beta) : null,
    };
  }

  static fromState(s: LayerNormState): LayerNorm {
    const who = 'LayerNorm';
    const st = checkKind(who, s, 'layer') as LayerNormState;
    const ln = new LayerNorm({ shape: st.shape, eps: st.eps, elementwiseAffine: st.elementwiseAffine });
    if (ln.elementwiseAffine) {
      ln.params.gamma!.set(floatsFromState(who, 'gamma', st.gamma, ln.size));
      ln.params.beta!.set(floatsFromState(who, 'beta', st.beta, ln.size));
    }
    return ln;
  }
}
