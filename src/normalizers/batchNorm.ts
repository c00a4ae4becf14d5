/**
 * Batch Normalization (Ioffe & Szegedy 2015, "Batch Normalization: Accelerating Deep Network Training by
 * Reducing Internal Covariate Shift"), with PyTorch's `BatchNorm1d` semantics.
 */
import type { Tensor } from '../core/tensor.js';
import { NormalizationError } from '../errors.js';
import {
  channelBackwardFromSums,
  channelGradSums,
  channelMoments,
  normalizeChannels,
} from './channelKernels.js';
import { family } from './descriptor.js';
import type { Moments, StatisticsMerge } from './moments.js';
import { type Dims, assertFinite, ensure, outputBuffer, readDims, readGrad, shapeText } from './input.js';
import type { ForwardOptions, Normalizer } from './normalizer.js';
import { normalizerBase } from './normalizerBase.js';
import { type StatisticsReducer, momentsLength } from './statisticsReducer.js';
import {
  type LayoutInput,
  type StateOf,
  boolField,
  epsField,
  positiveInt,
  unitIntervalOrNull,
  normalizerLayout,
} from './stateCodec.js';

const layout = normalizerLayout({
  kind: 'batch',
  who: 'BatchNorm',
  traits: { perSample: false, needsWindows: false, needsBatchStatistics: true },
  options: {
    channels: positiveInt(),
    /** Added to the variance inside the square root. Default 1e-5. */
    eps: epsField(),
    /** Running-statistics update rate; `null` = cumulative average (1 / numBatchesTracked). Default 0.1. */
    momentum: unitIntervalOrNull(0.1),
    /** Learnable per-channel γ (init 1) and β (init 0). Default true. */
    affine: boolField(true),
    /** Keep running mean/var for inference; when false, batch statistics are used in eval too. Default true. */
    trackRunningStats: boolField(true),
  },
  affine: (o) => ({ size: o.channels, enabled: o.affine }),
  buffers: { runningMean: 'trackRunningStats', runningVar: 'trackRunningStats' },
  counters: ['numBatchesTracked'],
});

export type BatchNormOptions = LayoutInput<typeof layout>;
export type BatchNormState = StateOf<typeof layout>;

/**
 * Normalizes each channel over the batch (and length): x̂ = (x − μ_B)/√(σ²_B + ε), y = γ·x̂ + β.
 *
 * Why PyTorch semantics: the comparison in this project is only meaningful if "BatchNorm" means what
 * practitioners run. So: the biased batch variance normalizes, the unbiased one feeds `runningVar`,
 * running statistics start at (0, 1) and move only in training, `momentum = null` is a cumulative
 * average, and training on one value per channel throws instead of silently emitting zeros.
 *
 * Synchronized BatchNorm is this class with a {@link StatisticsReducer} in `reducer`: in training its batch
 * statistics and its backward sums are pooled across replicas, so the replicas compute what one BatchNorm computes
 * over their concatenated batches (γ/β gradients stay local, as in PyTorch's SyncBatchNorm: the data-parallel
 * gradient all-reduce sums them). A replica may then hold a single value per channel; only the pooled count must
 * exceed 1.
 *
 * @example
 * const bn = new BatchNorm({ channels: 2 });
 * const y = bn.forward(tensor([1, 2, 3, 5], [2, 2]));
 * const dx = bn.backward(tensor([1, 0, 0, 1], [2, 2]));
 */
export class BatchNorm extends normalizerBase(layout) implements Normalizer {
  /** Running mean per channel (zeros when trackRunningStats is false: never read then). */
  readonly runningMean: Float64Array;
  /** Running unbiased variance per channel. */
  readonly runningVar: Float64Array;
  numBatchesTracked = 0;
  /** Pools training-mode statistics across replicas (synchronized BatchNorm); null = this batch alone. Not state. */
  reducer: StatisticsReducer | null = null;

  private xhat: Float64Array = new Float64Array(0);
  private readonly invStd: Float64Array;
  /** Scratch: the batch variance (kept apart from invStd, which backward reads, until x is known finite). */
  private readonly variance: Float64Array;
  private readonly mean: Float64Array;
  private readonly sumDy: Float64Array;
  private readonly sumDyXhat: Float64Array;
  private last: Dims | null = null;
  private lastUsedBatchStats = true;
  /** Values per channel the last training forward's statistics were taken over (pooled with a reducer). */
  private lastCount = 0;
  /** Whether the last forward pooled its statistics (then its backward must pool its sums too). */
  private lastPooled = false;

  constructor(opts: BatchNormOptions) {
    super(opts);
    const c = this.channels;
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
    // Only training pools (PyTorch's SyncBatchNorm: need_sync = bn_training and self.training).
    const reducer = training ? this.reducer : null;
    const m = n * l;
    if (!useBatch || m <= 1) assertFinite(x.data, x.data.length, 'BatchNorm', 'input', x.shape);
    if (useBatch && m <= 1 && reducer === null) throw this.singletonError(x.shape);
    const size = n * c * l;
    const xs = x.data;
    const mean = this.mean;
    const invStd = this.invStd;
    if (useBatch) {
      const variance = this.variance;
      if (!Number.isFinite(channelMoments(n, c, l, xs, mean, variance))) {
        assertFinite(xs, size, 'BatchNorm', 'input', x.shape);
      }
      const count = reducer === null ? m : this.pool(reducer, m, x.shape);
      if (training && this.trackRunningStats) {
        this.numBatchesTracked++;
        const f = this.momentum ?? 1 / this.numBatchesTracked;
        const unbias = count / (count - 1);
        const rm = this.runningMean;
        const rv = this.runningVar;
        for (let j = 0; j < c; j++) {
          rm[j] = (1 - f) * rm[j] + f * mean[j];
          rv[j] = (1 - f) * rv[j] + f * variance[j] * unbias;
        }
      }
      for (let j = 0; j < c; j++) invStd[j] = 1 / Math.sqrt(variance[j] + this.eps);
      this.lastCount = count;
      this.lastPooled = reducer !== null;
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
    if (this.lastUsedBatchStats && this.lastPooled) {
      if (this.reducer === null) {
        throw new NormalizationError(
          'BatchNorm: the last forward pooled its statistics; backward needs the reducer',
        );
      }
      return this.backwardPooled(this.reducer, dy, dx);
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

  /**
   * This replica's forward contribution to synchronized BatchNorm for batch `x` (`[count, means, M2s]`, see
   * {@link StatisticsReducer}), without normalizing or touching any state: what an asynchronous transport sends
   * before the forward that pools it (`SyncBatchNorm` in src/scale).
   */
  localMoments(x: Tensor): Float64Array {
    const { n, c, l } = readDims(x, 'BatchNorm', this.channels, false);
    if (!Number.isFinite(channelMoments(n, c, l, x.data, this.mean, this.variance))) {
      assertFinite(x.data, x.data.length, 'BatchNorm', 'input', x.shape);
    }
    return this.contribution(n * l);
  }

  /** This replica's backward contribution (`[Σdy, Σdy·x̂]` per channel) for `dy` of the last forward. */
  localGradientSums(dy: Tensor): Float64Array {
    const { n, c, l } = readGrad(dy, 'BatchNorm', this.last, false);
    if (!Number.isFinite(channelGradSums(n, c, l, dy.data, this.xhat, this.sumDy, this.sumDyXhat))) {
      assertFinite(dy.data, dy.data.length, 'BatchNorm', 'dy', dy.shape);
    }
    const local = new Float64Array(2 * c);
    local.set(this.sumDy.subarray(0, c), 0);
    local.set(this.sumDyXhat.subarray(0, c), c);
    return local;
  }

  /** `[m, mean, M2 = m·variance]` from the moments in `mean` and `variance`. */
  private contribution(m: number): Float64Array {
    const c = this.channels;
    const local = new Float64Array(momentsLength(c));
    local[0] = m;
    for (let j = 0; j < c; j++) {
      local[1 + j] = this.mean[j];
      local[1 + c + j] = this.variance[j] * m;
    }
    return local;
  }

  /**
   * Replaces this batch's moments (in `mean`, `variance`) by the pooled ones and returns the pooled count.
   * Local moments go out as count, mean and M2 = count·variance, merged by the reducer with Chan's formula.
   */
  private pool(reducer: StatisticsReducer, m: number, shape: readonly number[]): number {
    const c = this.channels;
    const local = this.contribution(m);
    const pooled = reducer.poolMoments(local);
    if (pooled.length !== local.length) {
      throw new NormalizationError(
        `BatchNorm: reducer returned ${pooled.length} moments, expected ${local.length}`,
      );
    }
    const count = pooled[0];
    if (!(count > 1)) throw this.singletonError(shape, count);
    for (let j = 0; j < c; j++) {
      this.mean[j] = pooled[1 + j];
      const v = pooled[1 + c + j] / count;
      this.variance[j] = v > 0 ? v : 0;
    }
    return count;
  }

  /** Backward with pooled Σdy and Σdy·x̂; dγ and dβ are this replica's own sums (PyTorch's SyncBatchNorm). */
  private backwardPooled(reducer: StatisticsReducer, dy: Tensor, dx: Float64Array): Tensor {
    const { n, c, l } = this.last!;
    this.grads.gamma?.set(this.sumDyXhat.subarray(0, c));
    this.grads.beta?.set(this.sumDy.subarray(0, c));
    const local = new Float64Array(2 * c);
    local.set(this.sumDy.subarray(0, c), 0);
    local.set(this.sumDyXhat.subarray(0, c), c);
    const pooled = reducer.poolGradients(local);
    if (pooled.length !== local.length) {
      throw new NormalizationError(
        `BatchNorm: reducer returned ${pooled.length} sums, expected ${local.length}`,
      );
    }
    const sumDy = pooled.subarray(0, c);
    const sumDyXhat = pooled.subarray(c, 2 * c);
    const gamma = this.params.gamma ?? null;
    channelBackwardFromSums(
      n,
      c,
      l,
      dy.data,
      this.xhat,
      this.invStd,
      gamma,
      true,
      dx,
      null,
      null,
      sumDy,
      sumDyXhat,
      this.lastCount,
    );
    return { data: dx, shape: [...dy.shape] };
  }

  private singletonError(shape: readonly number[], pooled?: number): NormalizationError {
    const over = pooled === undefined ? '' : ` (pooled over replicas: ${pooled})`;
    return new NormalizationError(
      `BatchNorm: Expected more than 1 value per channel when training, got input size ${shapeText(shape)}${over}`,
    );
  }
}

/**
 * Replicas' BatchNorm statistics. With `momentum: null` the running statistics are counted moments (the
 * mean over `numBatchesTracked` batches of the batch means and of the unbiased batch variances), so they
 * merge exactly by counts: N replicas' merged statistics equal one process's over the same batches, in any
 * order. An exponential moving average (numeric momentum) has no counted form: replicas exchange it by value and
 * mix it weighted by the events behind it (mean of means, variance by the law of total variance).
 */
export const batchNormMerge: StatisticsMerge = {
  kind: 'batch',
  exact: (s) => s.momentum === null && s.trackRunningStats === true,
  fields: ['numBatchesTracked', 'runningMean', 'runningVar'],
  read: (s) => ({
    count: s.numBatchesTracked as number,
    means: [[...(s.runningMean as number[])], [...(s.runningVar as number[])]],
    m2: null,
  }),
  write: (s, m: Moments) => ({
    ...s,
    numBatchesTracked: m.count,
    runningMean: m.count === 0 ? m.means[0].map(() => 0) : [...m.means[0]],
    runningVar: m.count === 0 ? m.means[1].map(() => 1) : [...m.means[1]],
  }),
  nonNegative: ['runningVar'],
  mixture: { mean: 'runningMean', variance: 'runningVar' },
};

/** `'batch'`: BatchNorm with PyTorch's defaults over the channels. */
export const batchNormDescriptor = family(layout, BatchNorm, {
  shapeOptions: ({ channels }) => ({ channels }),
  merge: batchNormMerge,
  cases: {
    BatchNorm: {},
    'BatchNorm(momentum=null, affine=false)': { options: { momentum: null, affine: false } },
  },
});
