/**
 * Layer Normalization (Ba, Kiros & Hinton 2016, "Layer Normalization"), with PyTorch's `LayerNorm`
 * semantics.
 */
import type { Tensor } from '../core/tensor.js';
import { NormalizationError } from '../errors.js';
import { Affine } from './affine.js';
import { type NormalizerDescriptor, trailingShape } from './descriptor.js';
import { type Dims, assertFinite, ensure, outputBuffer, readDims, readGrad, shapeText } from './input.js';
import type { ForwardOptions, Normalizer, NormalizerParams } from './normalizer.js';
import {
  type RowAffine,
  rowGradSums,
  rowGradSumsSize,
  rowMoments,
  rowsBackwardFromSums,
  rowsForward,
} from './rowKernels.js';
import { StateCodec, type OptionField, type StateOf, boolField, epsField } from './stateCodec.js';

export interface LayerNormOptions {
  /** Trailing normalized shape: `[C]` for `[N, C]` inputs, `[C, L]` (or `[L]`) for `[N, C, L]`. */
  shape: number[];
  /** Added to the variance inside the square root. Default 1e-5. */
  eps?: number;
  /** Learnable γ (init 1) and β (init 0), elementwise over `shape`. Default true. */
  elementwiseAffine?: boolean;
}

const traits = { perSample: true, needsWindows: false, needsBatchStatistics: false };

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

const options = { shape: shapeField, eps: epsField(), elementwiseAffine: boolField(true) };

const codec = new StateCodec('layer', 'LayerNorm', options, (ln: LayerNorm) => ({
  gamma: ln.params.gamma,
  beta: ln.params.beta,
}));

export type LayerNormState = StateOf<'layer', typeof options, 'gamma' | 'beta'>;

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
  readonly perSample = traits.perSample;
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
    const o = codec.options(opts);
    this.shape = o.shape;
    this.size = o.shape.reduce((a, b) => a * b, 1);
    this.eps = o.eps;
    this.elementwiseAffine = o.elementwiseAffine;
    const affine = new Affine(this.size, this.elementwiseAffine);
    ({ params: this.params, grads: this.grads } = affine);
    this.affine = affine.elementwise();
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
    return codec.state(this) as LayerNormState;
  }

  static fromState(s: LayerNormState): LayerNorm {
    return codec.restore(s, (o) => new LayerNorm(o));
  }
}

/** `'layer'`: LayerNorm over `[C]` for vectors, `[C, L]` for windows, elementwise affine. */
export const layerNormDescriptor: NormalizerDescriptor<{ kind: 'layer' }> = {
  kind: 'layer',
  grammar: 'layer',
  compareDefault: 'layer',
  parse: (text) => (text === 'layer' ? { kind: 'layer' } : null),
  create: (_spec, shape) => new LayerNorm({ shape: trailingShape(shape) }),
  fromState: (s) => LayerNorm.fromState(s as LayerNormState),
  traits,
  conformance: [
    {
      name: 'LayerNorm',
      create: (shape) => new LayerNorm({ shape: trailingShape(shape) }),
      hasRunningStats: false,
    },
  ],
};
