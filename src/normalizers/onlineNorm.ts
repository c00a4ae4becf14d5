/**
 * Online Normalization (Chiley, Sharapov, Kosson, Koster, Reece, Samaniego de la Fuente, Subbiah &
 * James 2019, "Online Normalization for Training Neural Networks", NeurIPS).
 */
import type { Tensor } from '../core/tensor.js';
import { family } from './descriptor.js';
import type { StatisticsMerge } from './moments.js';
import { type Dims, ensure, outputBuffer, readDims, readGrad } from './input.js';
import type { ForwardOptions, Normalizer } from './normalizer.js';
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
  kind: 'online',
  who: 'OnlineNorm',
  traits: { perSample: false, needsWindows: false, needsBatchStatistics: false },
  options: {
    channels: positiveInt(),
    /** Decay of the forward running mean/variance (the paper's α_f). Default 0.999. */
    alphaForward: unitInterval(0.999),
    /** Decay of the backward control process (the paper's α_b). Default 0.99. */
    alphaBackward: unitInterval(0.99),
    /** Added to the running variance inside the square root. Default 1e-5. */
    eps: epsField(),
    /** Learnable per-channel γ and β after normalization. Default true. */
    affine: boolField(true),
  },
  affine: (o) => ({ size: o.channels, enabled: o.affine }),
  /** Forward control process (mu, variance) and backward one (u, v), per channel. */
  buffers: { mu: true, variance: true, u: true, v: true },
  counters: [],
});

export type OnlineNormOptions = LayoutInput<typeof layout>;
export type OnlineNormState = StateOf<typeof layout>;

/**
 * Normalizes each sample with statistics estimated from the samples before it, in stream order, so the
 * result does not depend on how the stream is cut into batches (a batch of 4 gives exactly what 4 batches
 * of 1 give). Per channel, for sample t with per-sample mean m_t and variance s²_t over L:
 *
 *   forward:  y_t = (x_t − μ_{t−1}) / √(σ²_{t−1} + ε)
 *             σ²_t = α_f·σ²_{t−1} + (1 − α_f)·s²_t + α_f(1 − α_f)·(m_t − μ_{t−1})²,  μ_t = α_f·μ_{t−1} + (1 − α_f)·m_t
 *   backward: g̃ = g − (1 − α_b)·v·y_t,  v += mean_L(g̃·y_t)
 *             x' = g̃/√(σ²_{t−1} + ε) − (1 − α_b)·u,  u += mean_L(x')
 *
 * The backward control process replaces BatchNorm's projection of the gradient off 1 and off y (which
 * needs the whole batch) with exponentially averaged estimates of those projections, keeping the
 * gradient orthogonal to them on average. The statistics themselves are constants in backward.
 * Simplifications, honestly: no error-compensation layer after the norm (the paper's activation
 * clamping or layer scaling), so keep it after a layer whose scale you trust; the control processes
 * run in sample order within a batch exactly as the reference implementation's loop does.
 *
 * @example
 * const on = new OnlineNorm({ channels: 8 });
 */
export class OnlineNorm extends normalizerBase(layout) implements Normalizer {
  /** Forward running mean and variance per channel. */
  readonly mu: Float64Array;
  readonly variance: Float64Array;
  /** Backward control state per channel. */
  readonly u: Float64Array;
  readonly v: Float64Array;

  private y: Float64Array = new Float64Array(0);
  private scale: Float64Array = new Float64Array(0);
  private last: Dims | null = null;
  private lastTraining = true;

  constructor(opts: OnlineNormOptions) {
    super(opts);
    const c = this.channels;
    this.mu = new Float64Array(c);
    this.variance = new Float64Array(c).fill(1);
    this.u = new Float64Array(c);
    this.v = new Float64Array(c);
  }

  forward(x: Tensor, opts: ForwardOptions = {}): Tensor {
    const training = opts.training ?? true;
    const dims = readDims(x, 'OnlineNorm', this.channels);
    const out = outputBuffer(opts.out, x.data.length, 'OnlineNorm', x.data);
    const { n, c, l } = dims;
    const size = n * c * l;
    this.y = ensure(this.y, size);
    this.scale = ensure(this.scale, n * c);
    const xs = x.data;
    const ys = this.y;
    const gamma = this.params.gamma;
    const beta = this.params.beta;
    const af = this.alphaForward;
    for (let i = 0, o = 0, sc = 0; i < n; i++) {
      for (let j = 0; j < c; j++, o += l, sc++) {
        const mu = this.mu[j];
        const vr = this.variance[j];
        const std = Math.sqrt(vr + this.eps);
        this.scale[sc] = std;
        const is = 1 / std;
        const g = gamma ? gamma[j] : 1;
        const b = beta ? beta[j] : 0;
        let s = 0;
        for (let k = o, e = o + l; k < e; k++) {
          const xv = xs[k];
          s += xv;
          const h = (xv - mu) * is;
          ys[k] = h;
          out[k] = g * h + b;
        }
        if (training) {
          const m = s / l;
          let q = 0;
          for (let k = o, e = o + l; k < e; k++) {
            const t = xs[k] - m;
            q += t * t;
          }
          const dm = m - mu;
          this.variance[j] = af * vr + (1 - af) * (q / l) + af * (1 - af) * dm * dm;
          this.mu[j] = af * mu + (1 - af) * m;
        }
      }
    }
    this.last = dims;
    this.lastTraining = training;
    return { data: out, shape: [...x.shape] };
  }

  backward(dy: Tensor, out?: Float64Array): Tensor {
    const { n, c, l } = readGrad(dy, 'OnlineNorm', this.last);
    const dx = outputBuffer(out, dy.data.length, 'OnlineNorm', dy.data);
    const g = dy.data;
    const ys = this.y;
    const gamma = this.params.gamma;
    const dgamma = this.grads.gamma;
    const dbeta = this.grads.beta;
    if (dgamma) dgamma.fill(0);
    if (dbeta) dbeta.fill(0);
    const k1 = 1 - this.alphaBackward;
    const control = this.lastTraining;
    for (let i = 0, o = 0, sc = 0; i < n; i++) {
      for (let j = 0; j < c; j++, o += l, sc++) {
        const gm = gamma ? gamma[j] : 1;
        const is = 1 / this.scale[sc];
        const e = o + l;
        let sg = 0;
        let sgy = 0;
        for (let k = o; k < e; k++) {
          sg += g[k];
          sgy += g[k] * ys[k];
        }
        if (dgamma) dgamma[j] += sgy;
        if (dbeta) dbeta[j] += sg;
        if (!control) {
          for (let k = o; k < e; k++) dx[k] = gm * g[k] * is;
          continue;
        }
        // g̃ = γ·dy − k1·v·y; v += mean(g̃·y)
        const vj = this.v[j];
        let sty = 0;
        for (let k = o; k < e; k++) {
          const y = ys[k];
          const t = gm * g[k] - k1 * vj * y;
          sty += t * y;
          dx[k] = t * is;
        }
        this.v[j] = vj + sty / l;
        // x' = g̃/σ − k1·u; u += mean(x')
        const uj = this.u[j];
        let sx = 0;
        for (let k = o; k < e; k++) {
          const t = dx[k] - k1 * uj;
          dx[k] = t;
          sx += t;
        }
        this.u[j] = uj + sx / l;
      }
    }
    return { data: dx, shape: [...dy.shape] };
  }
}

/**
 * Replicas' OnlineNorm statistics: per-sample exponential averages with no count, exchanged by value and
 * mixed weighted by events (the backward control state u, v adds up as deltas).
 */
export const onlineNormMerge: StatisticsMerge = {
  kind: 'online',
  exact: () => false,
  fields: [],
  read: () => {
    throw new RangeError('OnlineNorm statistics are moving averages, not counted moments');
  },
  write: () => {
    throw new RangeError('OnlineNorm statistics are moving averages, not counted moments');
  },
  nonNegative: ['variance'],
  mixture: { mean: 'mu', variance: 'variance' },
};

/** `'online'`: Online Normalization with the paper's decays (α_f = 0.999, α_b = 0.99). */
export const onlineNormDescriptor = family(layout, OnlineNorm, {
  shapeOptions: ({ channels }) => ({ channels }),
  merge: onlineNormMerge,
  cases: {
    OnlineNorm: {
      gradientCheck: {
        why:
          'the backward control process (α_b < 1) deliberately replaces the true derivative; with α_b = 1 it is off and ' +
          'backward is the derivative of the forward with the running statistics of the previous samples held constant, ' +
          'which finite differences see exactly on one-sample batches',
        create: ({ channels }) => new OnlineNorm({ channels, alphaBackward: 1 }),
        oneSample: true,
      },
    },
  },
});
