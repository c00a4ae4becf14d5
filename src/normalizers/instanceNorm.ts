/**
 * Instance Normalization (Ulyanov, Vedaldi & Lempitsky 2016, "Instance Normalization: The Missing
 * Ingredient for Fast Stylization"), with PyTorch's `InstanceNorm1d` semantics except for one deliberate
 * difference: `[N, C]` input is an error here, not PyTorch's silent reading of it as one unbatched `[C, L]`.
 */
import type { Tensor } from '../core/tensor.js';
import { NormalizationError } from '../errors.js';
import { channelRows } from './affine.js';
import { channelBackward, normalizeChannels } from './channelKernels.js';
import { family } from './descriptor.js';
import { type Dims, ensure, outputBuffer, readDims, readGrad, shapeText } from './input.js';
import type { ForwardOptions, Normalizer } from './normalizer.js';
import { type RowAffine, rowsBackward, rowsForward } from './rowKernels.js';
import { normalizerBase } from './normalizerBase.js';
import {
  type LayoutInput,
  type StateOf,
  boolField,
  epsField,
  positiveInt,
  unitInterval,
  normalizerLayout,
} from './stateCodec.js';

const layout = normalizerLayout({
  kind: 'instance',
  who: 'InstanceNorm',
  traits: { perSample: true, needsWindows: true, needsBatchStatistics: false },
  options: {
    channels: positiveInt(),
    /** Added to the variance inside the square root. Default 1e-5. */
    eps: epsField(),
    /** Learnable per-channel γ (init 1) and β (init 0). Default false (as PyTorch). */
    affine: boolField(false),
    /** Keep running statistics (batch average of the per-instance stats) for inference. Default false. */
    trackRunningStats: boolField(false),
    /** Running-statistics update rate. Default 0.1. */
    momentum: unitInterval(0.1),
  },
  affine: (o) => ({ size: o.channels, enabled: o.affine }),
  buffers: { runningMean: 'trackRunningStats', runningVar: 'trackRunningStats' },
  counters: [],
});

export type InstanceNormOptions = LayoutInput<typeof layout>;
export type InstanceNormState = StateOf<typeof layout>;

/**
 * Normalizes each channel of each sample over L. Needs `[N, C, L]` with L > 1: with one value the
 * variance is 0 and the output is β whatever the input, so we refuse it rather than learn nothing.
 * With `trackRunningStats`, inference uses the running averages of the per-instance statistics
 * (unbiased variance), as PyTorch does; then it is no longer per-sample in inference.
 *
 * @example
 * const inorm = new InstanceNorm({ channels: 2 });
 * const y = inorm.forward(tensor([1, 2, 3, 4, 0, 8], [1, 2, 3]));
 */
export class InstanceNorm extends normalizerBase(layout) implements Normalizer {
  readonly runningMean: Float64Array;
  readonly runningVar: Float64Array;

  private xhat: Float64Array = new Float64Array(0);
  private invStd: Float64Array = new Float64Array(0);
  private readonly chMean: Float64Array;
  private readonly chVar: Float64Array;
  private readonly chInvStd: Float64Array;
  private readonly sum1: Float64Array;
  private readonly sum2: Float64Array;
  private last: Dims | null = null;
  private lastUsedRunning = false;
  private affineSpec: RowAffine = { mode: 'none' };

  constructor(opts: InstanceNormOptions) {
    super(opts);
    const c = this.channels;
    this.runningMean = new Float64Array(c);
    this.runningVar = new Float64Array(c).fill(1);
    this.chMean = new Float64Array(c);
    this.chVar = new Float64Array(c);
    this.chInvStd = new Float64Array(c);
    this.sum1 = new Float64Array(c);
    this.sum2 = new Float64Array(c);
  }

  forward(x: Tensor, opts: ForwardOptions = {}): Tensor {
    const training = opts.training ?? true;
    const d = readDims(x, 'InstanceNorm', this.channels);
    const out = outputBuffer(opts.out, x.data.length, 'InstanceNorm', x.data);
    const { n, c, l } = d;
    if (d.rank !== 3 || l < 2) {
      throw new NormalizationError(
        `InstanceNorm: expected input [N, C, L] with L > 1 (statistics are over L), got shape ${shapeText(x.shape)}`,
      );
    }
    const total = n * c * l;
    this.xhat = ensure(this.xhat, total);
    const useRunning = !training && this.trackRunningStats;
    if (useRunning) {
      for (let j = 0; j < c; j++) {
        this.chMean[j] = this.runningMean[j];
        this.chInvStd[j] = 1 / Math.sqrt(this.runningVar[j] + this.eps);
      }
      normalizeChannels(
        n,
        c,
        l,
        x.data,
        this.chMean,
        this.chInvStd,
        this.params.gamma ?? null,
        this.params.beta ?? null,
        this.xhat,
        out,
      );
    } else {
      if (training && this.trackRunningStats) this.updateRunning(n, c, l, x.data);
      this.affineSpec = channelRows(this.params, l, 1, c, this.affineSpec);
      this.invStd = ensure(this.invStd, n * c);
      rowsForward(n * c, l, x.data, this.eps, this.affineSpec, this.xhat, this.invStd, out);
    }
    this.last = d;
    this.lastUsedRunning = useRunning;
    return { data: out, shape: [...x.shape] };
  }

  /** running ← (1 − m)·running + m·(batch mean of the per-instance mean / unbiased variance). */
  private updateRunning(n: number, c: number, l: number, x: Float64Array): void {
    const mean = this.chMean;
    const v = this.chVar;
    mean.fill(0);
    v.fill(0);
    for (let i = 0, o = 0; i < n; i++) {
      for (let j = 0; j < c; j++, o += l) {
        let s = 0;
        for (let k = o; k < o + l; k++) s += x[k];
        const mu = s / l;
        let q = 0;
        for (let k = o; k < o + l; k++) {
          const t = x[k] - mu;
          q += t * t;
        }
        mean[j] += mu;
        v[j] += q / (l - 1);
      }
    }
    const m = this.momentum;
    for (let j = 0; j < c; j++) {
      this.runningMean[j] = (1 - m) * this.runningMean[j] + (m * mean[j]) / n;
      this.runningVar[j] = (1 - m) * this.runningVar[j] + (m * v[j]) / n;
    }
  }

  backward(dy: Tensor, out?: Float64Array): Tensor {
    const { n, c, l } = readGrad(dy, 'InstanceNorm', this.last);
    const dx = outputBuffer(out, dy.data.length, 'InstanceNorm', dy.data);
    const dgamma = this.grads.gamma ?? null;
    const dbeta = this.grads.beta ?? null;
    if (this.lastUsedRunning) {
      channelBackward(
        n,
        c,
        l,
        dy.data,
        this.xhat,
        this.chInvStd,
        this.params.gamma ?? null,
        false,
        dx,
        dgamma,
        dbeta,
        this.sum1,
        this.sum2,
      );
    } else {
      rowsBackward(n * c, l, dy.data, this.xhat, this.invStd, this.affineSpec, dgamma, dbeta, dx);
    }
    return { data: dx, shape: [...dy.shape] };
  }
}

/**
 * `'instance'`: InstanceNorm over L (windows only). It gets a learnable affine here (PyTorch defaults to
 * none) so every variant in a comparison has the same capacity.
 */
export const instanceNormDescriptor = family(layout, InstanceNorm, {
  shapeOptions: ({ channels }) => ({ channels }),
  factoryOptions: () => ({ affine: true }),
  cases: {
    'InstanceNorm(affine, trackRunningStats)': { options: { affine: true, trackRunningStats: true } },
    InstanceNorm: {},
  },
});
