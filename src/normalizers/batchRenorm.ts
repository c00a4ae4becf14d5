/**
 * Batch Renormalization (Ioffe 2017, "Batch Renormalization: Towards Reducing Minibatch Dependence in
 * Batch-Normalized Models").
 */
import type { Tensor } from '../core/tensor.js';
import { NormalizationError } from '../errors.js';
import { batchMoments, channelBackward, normalizeChannels } from './channelKernels.js';
import { family } from './descriptor.js';
import type { StatisticsMerge } from './moments.js';
import { type Dims, ensure, outputBuffer, readDims, readGrad, shapeText } from './input.js';
import type { ForwardOptions, Normalizer } from './normalizer.js';
import { normalizerBase } from './normalizerBase.js';
import {
  type DefaultedField,
  type LayoutInput,
  type StateOf,
  atLeast,
  boolField,
  epsField,
  normalizerLayout,
  positiveInt,
  unitInterval,
} from './stateCodec.js';

/**
 * Warm-up of the clipping limits, as in the paper: rMax rises linearly from 1 to `rMaxEnd` over
 * `warmupSteps` training steps and dMax from 0 to `dMaxEnd` over `dWarmupSteps`, both starting after
 * `startStep` steps of plain BatchNorm (Ioffe 2017, §4: rMax = 1, dMax = 0 for the first 5k steps, then
 * rMax reaches 3 at 40k steps and dMax reaches 5 at 25k).
 */
export interface RenormSchedule {
  rMaxEnd: number;
  dMaxEnd: number;
  /** Steps of rMax's ramp. */
  warmupSteps: number;
  /** Steps of dMax's ramp. Default `warmupSteps`. */
  dWarmupSteps?: number;
  /** Training steps spent at rMax = 1, dMax = 0 before the ramps start. Default 0. */
  startStep?: number;
}

const scheduleField: DefaultedField<Required<RenormSchedule> | null, RenormSchedule | null> = {
  default: null,
  check: (who, _name, v) => (v === null ? null : checkSchedule(who, v as RenormSchedule)),
};

const layout = normalizerLayout({
  kind: 'batchrenorm',
  who: 'BatchRenorm',
  traits: { perSample: false, needsWindows: false, needsBatchStatistics: true },
  options: {
    channels: positiveInt(),
    /** Added to the variances inside the square roots. Default 1e-5. */
    eps: epsField(),
    /** Running-statistics update rate (the paper's α). Default 0.1, as BatchNorm, so the two compare fairly. */
    momentum: unitInterval(0.1),
    /** Learnable per-channel γ and β. Default true. */
    affine: boolField(true),
    /** Fixed clip for r ∈ [1/rMax, rMax], rMax ≥ 1. Default 3 (the paper's final value). Not with `schedule`. */
    rMax: atLeast(1, 3),
    /** Fixed clip for d ∈ [−dMax, dMax], dMax ≥ 0. Default 5 (the paper's final value). Not with `schedule`. */
    dMax: atLeast(0, 5),
    /** Warm-up schedule for rMax and dMax instead of fixed values (null: none). */
    schedule: scheduleField,
  },
  affine: (o) => ({ size: o.channels, enabled: o.affine }),
  buffers: { runningMean: true, runningVar: true },
  /** Training steps taken: the schedule position. */
  counters: ['steps'],
  // A state holds both the fixed clips and the schedule; the constructor takes one or the other.
  restoreOptions: ({ rMax, dMax, schedule, ...rest }) =>
    schedule === null ? { ...rest, rMax, dMax } : { ...rest, schedule },
});

export type BatchRenormOptions = LayoutInput<typeof layout>;
export type BatchRenormState = StateOf<typeof layout>;

/**
 * BatchNorm whose training output is corrected toward the running statistics:
 * y = γ·(x̂_B·r + d) + β with r = clip(σ_B/σ, 1/rMax, rMax), d = clip((μ_B − μ)/σ, −dMax, dMax),
 * σ_B = √(σ²_B + ε), σ = √(runningVar + ε). While r and d are not clipped, training output equals
 * the inference output (x − μ)/σ, which removes BatchNorm's train/inference gap for small batches.
 * r and d are constants in backward (the paper's definition), so gradients flow as in BatchNorm with
 * γ·r in place of γ. Running statistics follow BatchNorm's (unbiased variance, momentum), rather than the
 * paper's running σ, so that inference is exactly BatchNorm's inference.
 *
 * @example
 * const brn = new BatchRenorm({ channels: 4, schedule: { rMaxEnd: 3, dMaxEnd: 5, warmupSteps: 1000 } });
 */
export class BatchRenorm extends normalizerBase(layout) implements Normalizer {
  readonly runningMean: Float64Array;
  readonly runningVar: Float64Array;
  /** Training steps taken (the schedule position). */
  steps = 0;
  /** r and d of the last training forward, per channel (read-only use). */
  readonly r: Float64Array;
  readonly d: Float64Array;

  private xhat: Float64Array = new Float64Array(0);
  private readonly mean: Float64Array;
  private readonly invStd: Float64Array;
  private readonly gEff: Float64Array;
  private readonly bEff: Float64Array;
  private readonly sum1: Float64Array;
  private readonly sum2: Float64Array;
  private last: Dims | null = null;
  private lastTraining = true;

  constructor(opts: BatchRenormOptions) {
    super(opts);
    if (opts.schedule !== undefined && (opts.rMax !== undefined || opts.dMax !== undefined)) {
      throw new NormalizationError(`BatchRenorm: give either fixed rMax/dMax or a schedule, not both`);
    }
    const c = this.channels;
    this.runningMean = new Float64Array(c);
    this.runningVar = new Float64Array(c).fill(1);
    this.r = new Float64Array(c).fill(1);
    this.d = new Float64Array(c);
    this.mean = new Float64Array(c);
    this.invStd = new Float64Array(c);
    this.gEff = new Float64Array(c);
    this.bEff = new Float64Array(c);
    this.sum1 = new Float64Array(c);
    this.sum2 = new Float64Array(c);
  }

  /** The clipping limits the next training step uses (from the schedule when there is one). */
  limits(): { rMax: number; dMax: number } {
    const s = this.schedule;
    if (s === null) return { rMax: this.rMax, dMax: this.dMax };
    const progress = (steps: number): number =>
      steps === 0
        ? this.steps >= s.startStep
          ? 1
          : 0
        : Math.min(1, Math.max(0, (this.steps - s.startStep) / steps));
    return {
      rMax: 1 + (s.rMaxEnd - 1) * progress(s.warmupSteps),
      dMax: s.dMaxEnd * progress(s.dWarmupSteps),
    };
  }

  forward(x: Tensor, opts: ForwardOptions = {}): Tensor {
    const training = opts.training ?? true;
    const dims = readDims(x, 'BatchRenorm', this.channels);
    const out = outputBuffer(opts.out, x.data.length, 'BatchRenorm', x.data);
    const { n, c, l } = dims;
    const m = n * l;
    if (training && m <= 1) {
      throw new NormalizationError(
        `BatchRenorm: Expected more than 1 value per channel when training, got input size ${shapeText(x.shape)}`,
      );
    }
    const size = n * c * l;
    const gamma = this.params.gamma;
    const beta = this.params.beta;
    const mean = this.mean;
    const invStd = this.invStd;
    if (training) {
      const { rMax, dMax } = this.limits();
      batchMoments(n, c, l, x.data, mean, invStd);
      const unbias = m / (m - 1);
      const f = this.momentum;
      for (let j = 0; j < c; j++) {
        const varB = invStd[j];
        const sigmaB = Math.sqrt(varB + this.eps);
        const sigma = Math.sqrt(this.runningVar[j] + this.eps);
        const r = Math.min(rMax, Math.max(1 / rMax, sigmaB / sigma));
        const dd = Math.min(dMax, Math.max(-dMax, (mean[j] - this.runningMean[j]) / sigma));
        this.r[j] = r;
        this.d[j] = dd;
        const g = gamma ? gamma[j] : 1;
        this.gEff[j] = g * r;
        this.bEff[j] = g * dd + (beta ? beta[j] : 0);
        invStd[j] = 1 / sigmaB;
        this.runningMean[j] = (1 - f) * this.runningMean[j] + f * mean[j];
        this.runningVar[j] = (1 - f) * this.runningVar[j] + f * varB * unbias;
      }
      this.steps++;
    } else {
      for (let j = 0; j < c; j++) {
        mean[j] = this.runningMean[j];
        invStd[j] = 1 / Math.sqrt(this.runningVar[j] + this.eps);
        this.gEff[j] = gamma ? gamma[j] : 1;
        this.bEff[j] = beta ? beta[j] : 0;
      }
    }
    this.xhat = ensure(this.xhat, size);
    normalizeChannels(n, c, l, x.data, mean, invStd, this.gEff, this.bEff, this.xhat, out);
    this.last = dims;
    this.lastTraining = training;
    return { data: out, shape: [...x.shape] };
  }

  backward(dy: Tensor, out?: Float64Array): Tensor {
    const { n, c, l } = readGrad(dy, 'BatchRenorm', this.last);
    const dx = outputBuffer(out, dy.data.length, 'BatchRenorm', dy.data);
    const dgamma = this.grads.gamma ?? null;
    const dbeta = this.grads.beta ?? null;
    channelBackward(
      n,
      c,
      l,
      dy.data,
      this.xhat,
      this.invStd,
      this.gEff,
      this.lastTraining,
      dx,
      dgamma,
      dbeta,
      this.sum1,
      this.sum2,
    );
    if (dgamma !== null && this.lastTraining) {
      // ∂y/∂γ = x̂·r + d, with sum1 = Σ dy and sum2 = Σ dy·x̂ from the kernel.
      for (let j = 0; j < c; j++) dgamma[j] = this.r[j] * this.sum2[j] + this.d[j] * this.sum1[j];
    }
    return { data: dx, shape: [...dy.shape] };
  }
}

/** A parsed `batchrenorm[:keyVALUE...]` spec: fixed clips, or a warm-up schedule when one is asked for. */
export type BatchRenormSpec = {
  kind: 'batchrenorm';
  rMax: number;
  dMax: number;
  /** Present when the spec has `warmup`, `dwarmup` or `start`: the clips ramp up as in the paper. */
  schedule?: Required<RenormSchedule>;
};

/** The spec's keys and their defaults (`rmax`/`dmax`: the paper's final clips). */
const SPEC_DEFAULTS = { rmax: 3, dmax: 5, start: 0, warmup: 0 } as const;
type SpecKey = keyof typeof SPEC_DEFAULTS | 'dwarmup';

/**
 * Parses `batchrenorm` or `batchrenorm:keyVALUE:keyVALUE...` (no `,` or `=`, so a spec fits in the CLI's
 * comma lists and `NAME=SPEC` items) with keys `rmax` (≥ 1, default 3), `dmax` (≥ 0,
 * default 5), `start` (steps of plain BatchNorm first, default 0), `warmup` (steps of rMax's ramp from 1
 * to rmax, default 0) and `dwarmup` (steps of dMax's ramp from 0 to dmax, default `warmup`). Without
 * `start`, `warmup` or `dwarmup` the clips are fixed at rmax/dmax from the first step; with any of them
 * the limits follow the schedule. The paper's ImageNet run is
 * `batchrenorm:start5000:warmup35000:dwarmup20000`. Null when `text` is not such a spec.
 */
export function parseBatchRenormSpec(text: string): BatchRenormSpec | null {
  const m = /^batchrenorm(?::(.+))?$/.exec(text);
  if (m === null) return null;
  const v: Partial<Record<SpecKey, number>> = {};
  if (m[1] !== undefined) {
    for (const item of m[1].split(':')) {
      const kv = /^(rmax|dmax|start|warmup|dwarmup)(\d+(?:\.\d+)?)$/.exec(item);
      if (kv === null) return null;
      const key = kv[1] as SpecKey;
      if (key in v) return null;
      const num = Number(kv[2]);
      if (key !== 'rmax' && key !== 'dmax' && !Number.isInteger(num)) return null;
      if (key === 'rmax' && num < 1) return null;
      v[key] = num;
    }
  }
  const rMax = v.rmax ?? SPEC_DEFAULTS.rmax;
  const dMax = v.dmax ?? SPEC_DEFAULTS.dmax;
  if (v.start === undefined && v.warmup === undefined && v.dwarmup === undefined) {
    return { kind: 'batchrenorm', rMax, dMax };
  }
  const warmupSteps = v.warmup ?? SPEC_DEFAULTS.warmup;
  return {
    kind: 'batchrenorm',
    rMax,
    dMax,
    schedule: {
      rMaxEnd: rMax,
      dMaxEnd: dMax,
      warmupSteps,
      dWarmupSteps: v.dwarmup ?? warmupSteps,
      startStep: v.start ?? SPEC_DEFAULTS.start,
    },
  };
}

/**
 * Replicas' BatchRenorm statistics: exponential moving averages (momentum is never null), exchanged by value
 * and mixed weighted by events; `steps` (the schedule position) adds up like a counter.
 */
export const batchRenormMerge: StatisticsMerge = {
  kind: 'batchrenorm',
  exact: () => false,
  fields: [],
  read: () => {
    throw new RangeError('BatchRenorm statistics are moving averages, not counted moments');
  },
  write: () => {
    throw new RangeError('BatchRenorm statistics are moving averages, not counted moments');
  },
  nonNegative: ['runningVar'],
  mixture: { mean: 'runningMean', variance: 'runningVar' },
};

/**
 * `'batchrenorm'`: Batch Renormalization with the paper's final clips (rMax = 3, dMax = 5) from the first
 * step; `'batchrenorm:startS:warmupW...'` with the paper's warm-up schedule (see
 * {@link parseBatchRenormSpec}).
 */
export const batchRenormDescriptor = family<BatchRenormOptions, BatchRenormSpec>(layout, BatchRenorm, {
  shapeOptions: ({ channels }) => ({ channels }),
  merge: batchRenormMerge,
  factoryOptions: (spec) =>
    spec.schedule === undefined ? { rMax: spec.rMax, dMax: spec.dMax } : { schedule: spec.schedule },
  grammar: {
    text: 'batchrenorm[:rmaxR][:dmaxD][:startS][:warmupW][:dwarmupV]',
    note: 'defaults rmax3, dmax5, start0, warmup0, dwarmup = warmup; with start/warmup/dwarmup the clips ramp from 1 and 0',
    // The warm-up form is how the paper trains (Ioffe 2017, §4: plain BatchNorm first, then relax the
    // clips); docs/nets.md has the reasoning and the step counts on a stream of a few thousand events.
    compareDefault: 'batchrenorm:start50:warmup500',
    parse: parseBatchRenormSpec,
  },
  cases: {
    BatchRenorm: {
      gradientCheck: {
        why:
          'r and d are constants in backward (Ioffe 2017), so backward is the derivative of the forward only where ' +
          'they are locally constant: dMax = 0 pins d, and a running variance of 100 puts σ_B/σ below 1/rMax so r is clipped',
        create: ({ channels }) => {
          const b = new BatchRenorm({ channels, rMax: 3, dMax: 0 });
          b.runningVar.fill(100);
          return b;
        },
      },
    },
    'BatchRenorm(warm-up schedule)': {
      options: { schedule: { rMaxEnd: 3, dMaxEnd: 5, warmupSteps: 6, dWarmupSteps: 4, startStep: 2 } },
      gradientCheck: {
        why: "at the schedule start (rMax = 1, dMax = 0) r = 1 and d = 0 are constants: backward is BatchNorm's",
        create: ({ channels }) =>
          new BatchRenorm({
            channels,
            schedule: { rMaxEnd: 3, dMaxEnd: 5, warmupSteps: 6, startStep: 1000 },
          }),
      },
    },
  },
});

function checkSchedule(who: string, s: RenormSchedule): Required<RenormSchedule> {
  const { rMaxEnd, dMaxEnd, warmupSteps } = s;
  const startStep = s.startStep ?? 0;
  const dWarmupSteps = s.dWarmupSteps ?? warmupSteps;
  if (typeof rMaxEnd !== 'number' || !Number.isFinite(rMaxEnd) || rMaxEnd < 1) {
    throw new NormalizationError(
      `${who}: schedule.rMaxEnd must be a finite number >= 1, got ${String(rMaxEnd)}`,
    );
  }
  if (typeof dMaxEnd !== 'number' || !Number.isFinite(dMaxEnd) || dMaxEnd < 0) {
    throw new NormalizationError(
      `${who}: schedule.dMaxEnd must be a finite number >= 0, got ${String(dMaxEnd)}`,
    );
  }
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new NormalizationError(
      `${who}: schedule.warmupSteps must be an integer >= 0, got ${String(warmupSteps)}`,
    );
  }
  if (!Number.isInteger(startStep) || startStep < 0) {
    throw new NormalizationError(
      `${who}: schedule.startStep must be an integer >= 0, got ${String(startStep)}`,
    );
  }
  if (!Number.isInteger(dWarmupSteps) || dWarmupSteps < 0) {
    throw new NormalizationError(
      `${who}: schedule.dWarmupSteps must be an integer >= 0, got ${String(dWarmupSteps)}`,
    );
  }
  return { rMaxEnd, dMaxEnd, warmupSteps, dWarmupSteps, startStep };
}
