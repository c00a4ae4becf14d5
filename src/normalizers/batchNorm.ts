/**
 * Batch Normalization (Ioffe & Szegedy 2015, "Batch Normalization: Accelerating Deep Network Training by
 * Reducing Internal Covariate Shift"), with PyTorch's `BatchNorm1d` semantics.
 */
import type { Tensor } from '../core/tensor.js';
import { NormalizationError } from '../errors.js';
import {
  type Dims,
  assertFinite,
  checkBool,
  checkEps,
  checkKind,
  checkMomentum,
  checkPositiveInt,
  ensure,
  floatsFromState,
  readDims,
  outputBuffer,
  readGrad,
  shapeText,
} from './input.js';
import {
  channelBackwardFromSums,
  channelGradSums,
  channelMoments,
  normalizeChannels,
} from './channelKernels.js';
import type { ForwardOptions, Normalizer, NormalizerParams, NormalizerState } from './normalizer.js';

export interface BatchNormOptions {
  channels: number;
  /** Added to the variance inside the square root. Default 1e-5. */
  eps?: number;
  /** Running-statistics update rate; `null` = cumulative average (1 / numBatchesTracked). Default 0.1. */
  momentum?: number | null;
  /** Learnable per-channel γ (init 1) and β (init 0). Default true. */
  affine?: boolean;
  /** Keep running mean/var for inference; when false, batch statistics are used in eval too. Default true. */
  trackRunningStats?: boolean;
}

export interface BatchNormState extends NormalizerState {
  kind: 'batch';
  channels: number;
  eps: number;
  momentum: number | null;
  affine: boolean;
  trackRunningStats: boolean;
  gamma: number[] | null;
  beta: number[] | null;
  runningMean: number[] | null;
  runningVar: number[] | null;
  numBatchesTracked: number;
}

/**
 * Normalizes each channel over the batch (and length): x̂ = (x − μ_B)/√(σ²_B + ε), y = γ·x̂ + β.
 *
 * Why PyTorch semantics: the comparison in this project is only meaningful if "BatchNorm" means what
 * practitioners run. So: the biased batch variance normalizes, the unbiased one feeds `runningVar`,
 * running statistics start at (0, 1) and move only in training, `momentum = null` is a cumulative
 * average, and training on one value per channel throws instead of silently emitting zeros.
 *
 * @example
 * const bn = new BatchNorm({ channels: 2 });
 * const y = bn.forward(tensor([1, 2, 3, 5], [2, 2]));
 * const dx = bn.backward(tensor([1, 0, 0, 1], [2, 2]));
 */
export class BatchNorm implements Normalizer {
  readonly kind = 'batch';
  readonly perSample = false;
  readonly channels: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly params: NormalizerParams;
  readonly grads: NormalizerParams;
  /** Running mean per channel (zeros when trackRunningStats is false: never read then). */
  readonly runningMean: Float64Array;
  /** Running unbiased variance per channel. */
  readonly runningVar: Float64Array;
  numBatchesTracked = 0;

  private xhat: Float64Array = new Float64Array(0);
  private readonly invStd: Float64Array;
  /** Scratch: the batch variance (kept apart from invStd, which backward reads, until x is known finite). */
  private readonly variance: Float64Array;
  private readonly mean: Float64Array;
  private readonly sumDy: Float64Array;
  private readonly sumDyXhat: Float64Array;
  private last: Dims | null = null;
  private lastUsedBatchStats = true;

  constructor(opts: BatchNormOptions) {
    const who = 'BatchNorm';
    if (opts === null || typeof opts !== 'object')
      throw new NormalizationError(`${who}: options object required`);
    this.channels = checkPositiveInt(who, 'channels', opts.channels);
    this.eps = checkEps(who, opts.eps ?? 1e-5);
    this.momentum = checkMomentum(who, opts.momentum === undefined ? 0.1 : opts.momentum, true);
    this.affine = checkBool(who, 'affine', opts.affine ?? true);
    this.trackRunningStats = checkBool(who, 'trackRunningStats', opts.trackRunningStats ?? true);
    const c = this.channels;
    this.params = this.affine ? { gamma: new Float64Array(c).fill(1), beta: new Float64Array(c) } : {};
    this.grads = this.affine ? { gamma: new Float64Array(c), beta: new Float64Array(c) } : {};
    this.runningMean = new Float64Array(c);
    this.runningVar = new Float64Array(c).fill(1);
    this.invStd = new Float64Array(c);
    this.variance = new Float64Array(c);
    this.mean = new Float64Array(c);
    this.sumDy = new Float64Array(c);
    this.sumDyXhat = new Float64Array(c);
  }

  forward(x: Tensor, opts: ForwardOptions = {}): Tensor {
    const training = opts.training ?? true;
    // The finiteness check rides on the moments pass (channelMoments) when batch statistics are used.
    const d = readDims(x, 'BatchNorm', this.channels, false);
    const out = outputBuffer(opts.out, x.data.length, 'BatchNorm', x.data);
    const { n, c, l } = d;
    const useBatch = training || !this.trackRunningStats;
    const m = n * l;
    if (!useBatch || m <= 1) assertFinite(x.data, x.data.length, 'BatchNorm', 'input', x.shape);
    if (useBatch && m <= 1) {
      throw new NormalizationError(
        `BatchNorm: Expected more than 1 value per channel when training, got input size ${shapeText(x.shape)}`,
      );
    }
    const size = n * c * l;
    const xs = x.data;
    const mean = this.mean;
    const invStd = this.invStd;
    if (useBatch) {
      const variance = this.variance;
      if (!Number.isFinite(channelMoments(n, c, l, xs, mean, variance))) {
        assertFinite(xs, size, 'BatchNorm', 'input', x.shape);
      }
      if (training && this.trackRunningStats) {
        this.numBatchesTracked++;
        const f = this.momentum ?? 1 / this.numBatchesTracked;
        const unbias = m / (m - 1);
        const rm = this.runningMean;
        const rv = this.runningVar;
        for (let j = 0; j < c; j++) {
          rm[j] = (1 - f) * rm[j] + f * mean[j];
          rv[j] = (1 - f) * rv[j] + f * variance[j] * unbias;
        }
      }
      for (let j = 0; j < c; j++) invStd[j] = 1 / Math.sqrt(variance[j] + this.eps);
    } else {
      for (let j = 0; j < c; j++) {
        mean[j] = this.runningMean[j];
        invStd[j] = 1 / Math.sqrt(this.runningVar[j] + this.eps);
      }
    }
    this.xhat = ensure(this.xhat, size);
    normalizeChannels(
      n,
      c,
      l,
      xs,
      mean,
      invStd,
      this.params.gamma ?? null,
      this.params.beta ?? null,
      this.xhat,
      out,
    );
    this.last = d;
    this.lastUsedBatchStats = useBatch;
    return { data: out, shape: [...x.shape] };
  }

  backward(dy: Tensor, out?: Float64Array): Tensor {
    const { n, c, l } = readGrad(dy, 'BatchNorm', this.last, false);
    const dx = outputBuffer(out, dy.data.length, 'BatchNorm', dy.data);
    if (!Number.isFinite(channelGradSums(n, c, l, dy.data, this.xhat, this.sumDy, this.sumDyXhat))) {
      assertFinite(dy.data, dy.data.length, 'BatchNorm', 'dy', dy.shape);
    }
    channelBackwardFromSums(
      n,
      c,
      l,
      dy.data,
      this.xhat,
      this.invStd,
      this.params.gamma ?? null,
      this.lastUsedBatchStats,
      dx,
      this.grads.gamma ?? null,
      this.grads.beta ?? null,
      this.sumDy,
      this.sumDyXhat,
    );
    return { data: dx, shape: [...dy.shape] };
  }

  state(): BatchNormState {
    return {
      kind: 'batch',
      channels: this.channels,
      eps: this.eps,
      momentum: this.momentum,
      affine: this.affine,
      trackRunningStats: this.trackRunningStats,
      gamma: this.params.gamma ? Array.from(this.params.gamma) : null,
      beta: this.params.beta ? Array.from(this.params.beta) : null,
      runningMean: this.trackRunningStats ? Array.from(this.runningMean) : null,
      runningVar: this.trackRunningStats ? Array.from(this.runningVar) : null,
      numBatchesTracked: this.numBatchesTracked,
    };
  }

  static fromState(s: BatchNormState): BatchNorm {
    const who = 'BatchNorm';
    const st = checkKind(who, s, 'batch') as BatchNormState;
    const bn = new BatchNorm({
      channels: st.channels,
      eps: st.eps,
      momentum: st.momentum,
      affine: st.affine,
      trackRunningStats: st.trackRunningStats,
    });
    const c = bn.channels;
    if (bn.affine) {
      bn.params.gamma!.set(floatsFromState(who, 'gamma', st.gamma, c));
      bn.params.beta!.set(floatsFromState(who, 'beta', st.beta, c));
    }
    if (bn.trackRunningStats) {
      bn.runningMean.set(floatsFromState(who, 'runningMean', st.runningMean, c));
      bn.runningVar.set(floatsFromState(who, 'runningVar', st.runningVar, c));
    }
    if (!Number.isInteger(st.numBatchesTracked) || st.numBatchesTracked < 0) {
      throw new NormalizationError(
        `${who}.fromState: numBatchesTracked must be an integer >= 0, got ${String(st.numBatchesTracked)}`,
      );
    }
    bn.numBatchesTracked = st.numBatchesTracked;
    return bn;
  }
}
