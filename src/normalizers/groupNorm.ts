/**
 * Group Normalization (Wu & He 2018, "Group Normalization"), with PyTorch's `GroupNorm` semantics.
 */
import type { Tensor } from '../core/tensor.js';
import { NormalizationError } from '../errors.js';
import { channelRows } from './affine.js';
import { family } from './descriptor.js';
import { type Dims, assertFinite, ensure, outputBuffer, readDims, readGrad } from './input.js';
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
  type LayoutInput,
  type StateOf,
  boolField,
  epsField,
  positiveInt,
  normalizerLayout,
} from './stateCodec.js';

const layout = normalizerLayout({
  kind: 'group',
  who: 'GroupNorm',
  traits: { perSample: true, needsWindows: false, needsBatchStatistics: false },
  options: {
    /** Number of groups G; must divide `channels`. */
    groups: positiveInt(),
    channels: positiveInt(),
    /** Added to the variance inside the square root. Default 1e-5. */
    eps: epsField(),
    /** Learnable per-channel γ (init 1) and β (init 0). Default true. */
    affine: boolField(true),
  },
  affine: (o) => ({ size: o.channels, enabled: o.affine }),
  buffers: {},
  counters: [],
});

export type GroupNormOptions = LayoutInput<typeof layout>;
export type GroupNormState = StateOf<typeof layout>;

/**
 * Normalizes each sample over groups of C/G consecutive channels (and L), then a per-channel affine.
 * Independent of the batch, identical in training and inference: Wu & He's answer to BatchNorm's
 * error growing as batches shrink (ResNet-50, batch 32 → 2: BN 23.6 → 34.7 %, GN 24.1 → 24.1 %).
 * `groups = 1` is LayerNorm over `[C, L]` with a per-channel affine; `groups = C` is InstanceNorm.
 *
 * @example
 * const gn = new GroupNorm({ groups: 2, channels: 4 });
 * const y = gn.forward(tensor(new Float64Array(4 * 3).map((_, i) => i * i), [1, 4, 3]));
 */
export class GroupNorm extends normalizerBase(layout) implements Normalizer {
  private xhat: Float64Array = new Float64Array(0);
  private invStd: Float64Array = new Float64Array(0);
  private rowMean: Float64Array = new Float64Array(0);
  private rowVar: Float64Array = new Float64Array(0);
  private gradSums: Float64Array = new Float64Array(0);
  private last: Dims | null = null;
  private affineSpec: RowAffine = { mode: 'none' };

  constructor(opts: GroupNormOptions) {
    super(opts);
    if (this.channels % this.groups !== 0) {
      throw new NormalizationError(
        `GroupNorm: channels (${this.channels}) must be divisible by groups (${this.groups})`,
      );
    }
  }

  forward(x: Tensor, opts: ForwardOptions = {}): Tensor {
    // The finiteness check rides on the row-moments pass (rowMoments), before any state changes.
    const d = readDims(x, 'GroupNorm', this.channels, false);
    const out = outputBuffer(opts.out, x.data.length, 'GroupNorm', x.data);
    const { n, c, l } = d;
    const total = n * c * l;
    const cpg = c / this.groups;
    const rows = n * this.groups;
    this.rowMean = ensure(this.rowMean, rows);
    this.rowVar = ensure(this.rowVar, rows);
    if (!Number.isFinite(rowMoments(rows, cpg * l, x.data, this.rowMean, this.rowVar))) {
      assertFinite(x.data, total, 'GroupNorm', 'input', x.shape);
    }
    this.affineSpec = channelRows(this.params, l, cpg, this.groups, this.affineSpec);
    this.xhat = ensure(this.xhat, total);
    this.invStd = ensure(this.invStd, rows);
    rowsForward(rows, cpg * l, x.data, this.eps, this.affineSpec, this.xhat, this.invStd, out, {
      mean: this.rowMean,
      variance: this.rowVar,
    });
    this.last = d;
    return { data: out, shape: [...x.shape] };
  }

  backward(dy: Tensor, out?: Float64Array): Tensor {
    const { n, c, l } = readGrad(dy, 'GroupNorm', this.last, false);
    const dx = outputBuffer(out, dy.data.length, 'GroupNorm', dy.data);
    const rows = n * this.groups;
    const len = (c / this.groups) * l;
    this.gradSums = ensure(this.gradSums, rowGradSumsSize(rows, this.affineSpec));
    const sums = this.gradSums;
    if (!Number.isFinite(rowGradSums(rows, len, dy.data, this.xhat, this.affineSpec, sums))) {
      assertFinite(dy.data, dy.data.length, 'GroupNorm', 'dy', dy.shape);
    }
    rowsBackwardFromSums(
      rows,
      len,
      dy.data,
      this.xhat,
      this.invStd,
      this.affineSpec,
      sums,
      this.grads.gamma ?? null,
      this.grads.beta ?? null,
      dx,
    );
    return { data: dx, shape: [...dy.shape] };
  }
}

/**
 * `'group:G'`: GroupNorm with G groups (G a positive integer dividing the channels), per-channel affine.
 * `'group:G+ws'`: the same GroupNorm with Weight Standardization of the conv or dense layer before it (Qiao
 * et al. 2019, weightStandardization.ts); the normalizer is the same class, the net standardizes that layer's
 * weights (the parsed spec's `ws` flag tells it).
 */
export const groupNormDescriptor = family<GroupNormOptions, { kind: 'group'; groups: number; ws?: true }>(
  layout,
  GroupNorm,
  {
    shapeOptions: ({ channels }) => ({ channels, groups: 1 }),
    factoryOptions: ({ groups }) => ({ groups }),
    grammar: {
      text: 'group:G[+ws]',
      note: 'G a positive integer; +ws: Weight Standardization of the layer before',
      compareDefault: 'group:4',
      parse(text) {
        const m = /^group:([1-9]\d*)(\+ws)?$/.exec(text);
        if (m === null) return null;
        return { kind: 'group', groups: Number(m[1]), ...(m[2] === undefined ? {} : { ws: true as const }) };
      },
    },
    cases: { 'GroupNorm(groups=2)': { options: { groups: 2 } } },
  },
);
