/**
 * Layer Normalization (Ba, Kiros & Hinton 2016, "Layer Normalization"), with PyTorch's `LayerNorm`
 * semantics.
 */
import type { Tensor } from '../core/tensor.js';
import { NormalizationError } from '../errors.js';
import { elementwiseRows } from './affine.js';
import { family, trailingShape } from './descriptor.js';
import { type Dims, assertFinite, ensure, outputBuffer, readDims, readGrad, shapeText } from './input.js';
import type { ForwardOptions, Normalizer } from './normalizer.js';
import {
  type RowAffine,
  rowGradSums,
  rowGradSumsSize,
  rowMoments,
  rowsBackwardFromSums,
  rowsForward,
} from './rowKernels.js';
import { normalizerBase } from './normalizerBase.js';
import {
  type OptionField,
  type LayoutInput,
  type StateOf,
  boolField,
  epsField,
  normalizerLayout,
} from './stateCodec.js';

/** The normalized shape: `[C]`, `[L]` or `[C, L]` of positive integers (copied). */
const shapeField: OptionField<number[]> = {
  check(who, name, v) {
    if (!Array.isArray(v) || v.length < 1 || v.length > 2 || !v.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new NormalizationError(
        `${who}: ${name} must be [C], [L] or [C, L] of positive integers, got ${Array.isArray(v) ? shapeText(v) : String(v)}`,
      );
    }
    return [...(v as number[])];
  },
};

const layout = normalizerLayout({
  kind: 'layer',
  who: 'LayerNorm',
  traits: { perSample: true, needsWindows: false, needsBatchStatistics: false },
  options: {
    /** Trailing normalized shape: `[C]` for `[N, C]` inputs, `[C, L]` (or `[L]`) for `[N, C, L]`. */
    shape: shapeField,
    /** Added to the variance inside the square root. Default 1e-5. */
    eps: epsField(),
    /** Learnable γ (init 1) and β (init 0), elementwise over `shape`. Default true. */
    elementwiseAffine: boolField(true),
  },
  affine: (o) => ({ size: o.shape.reduce((a, b) => a * b, 1), enabled: o.elementwiseAffine }),
  buffers: {},
  counters: [],
});

export type LayerNormOptions = LayoutInput<typeof layout>;
export type LayerNormState = StateOf<typeof layout>;

/**
 * Normalizes each sample over its trailing `shape` (biased variance, ε inside the root), then applies
 * an elementwise affine. The same computation runs in training and inference, and no sample sees
 * another: that is why it suits streams with varying or singleton batches.
 *
 * @example
 * const ln = new LayerNorm({ shape: [3] });
 * const y = ln.forward(tensor([1, 2, 4], [1, 3]));
 */
export class LayerNorm extends normalizerBase(layout) implements Normalizer {
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
    super(opts);
    this.size = this.shape.reduce((a, b) => a * b, 1);
    this.affine = elementwiseRows(this.params);
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
}

/** `'layer'`: LayerNorm over `[C]` for vectors, `[C, L]` for windows, elementwise affine. */
export const layerNormDescriptor = family(layout, LayerNorm, {
  shapeOptions: (shape) => ({ shape: trailingShape(shape) }),
  cases: { LayerNorm: {} },
});
