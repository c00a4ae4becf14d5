/**
 * Online Normalization (Chiley, Sharapov, Kosson, Koster, Reece, Samaniego de la Fuente, Subbiah &
 * James 2019, "Online Normalization for Training Neural Networks", NeurIPS).
 */
import type { Tensor } from '../core/tensor.js';
import { NormalizationError } from '../errors.js';
import {
  type Dims,
  checkBool,
  checkEps,
  checkKind,
  checkPositiveInt,
  ensure,
  floatsFromState,
  readDims,
  outputBuffer,
  readGrad,
} from './input.js';
import type { ForwardOptions, Normalizer, NormalizerParams, NormalizerState } from './normalizer.js';

export interface OnlineNormOptions {
  channels: number;
  /** Decay of the forward running mean/variance (the paper's α_f). Default 0.999. */
  alphaForward?: number;
  /** Decay of the backward control process (the paper's α_b). Default 0.99. */
  alphaBackward?: number;
  /** Added to the running variance inside the square root. Default 1e-5. */
  eps?: number;
  /** Learnable per-channel γ and β after normalization. Default true. */
  affine?: boolean;
}

export interface OnlineNormState extends NormalizerState {
  kind: 'online';
  channels: number;
  alphaForward: number;
  alphaBackward: number;
  eps: number;
  affine: boolean;
  gamma: number[] | null;
  beta: number[] | null;
  /** Forward control process: running mean and variance per channel. */
  mu: number[];
  variance: number[];
  /** Backward control process: accumulated projections of the gradient on 1 (u) and on y (v). */
  u: number[];
  v: number[];
}

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
export class OnlineNorm implements Normalizer {
  readonly kind = 'online';
  readonly perSample = false;
  readonly channels: number;
  readonly alphaForward: number;
  readonly alphaBackward: number;
  readonly eps: number;
  readonly affine: boolean;
  readonly params: NormalizerParams;
  readonly grads: NormalizerParams;
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
    const who = 'OnlineNorm';
    if (opts === null || typeof opts !== 'object')
      throw new NormalizationError(`${who}: options object required`);
    this.channels = checkPositiveInt(who, 'channels', opts.channels);
    this.alphaForward = checkAlpha(who, 'alphaForward', opts.alphaForward ?? 0.999);
    this.alphaBackward = checkAlpha(who, 'alphaBackward', opts.alphaBackward ?? 0.99);
    this.eps = checkEps(who, opts.eps ?? 1e-5);
    this.affine = checkBool(who, 'affine', opts.affine ?? true);
    const c = this.channels;
    this.params = this.affine ? { gamma: new Float64Array(c).fill(1), beta: new Float64Array(c) } : {};
    this.grads = this.affine ? { gamma: new Float64Array(c), beta: new Float64Array(c) } : {};
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

  state(): OnlineNormState {
    return {
      kind: 'online',
      channels: this.channels,
      alphaForward: this.alphaForward,
      alphaBackward: this.alphaBackward,
      eps: this.eps,
      affine: this.affine,
      gamma: this.params.gamma ? Array.from(this.params.gamma) : null,
      beta: this.params.beta ? Array.from(this.params.beta) : null,
      mu: Array.from(this.mu),
      variance: Array.from(this.variance),
      u: Array.from(this.u),
      v: Array.from(this.v),
    };
  }

  static fromState(s: OnlineNormState): OnlineNorm {
    const who = 'OnlineNorm';
    const st = checkKind(who, s, 'online') as OnlineNormState;
    const on = new OnlineNorm({
      channels: st.channels,
      alphaForward: st.alphaForward,
      alphaBackward: st.alphaBackward,
      eps: st.eps,
      affine: st.affine,
    });
    const c = on.channels;
    if (on.affine) {
      on.params.gamma!.set(floatsFromState(who, 'gamma', st.gamma, c));
      on.params.beta!.set(floatsFromState(who, 'beta', st.beta, c));
    }
    on.mu.set(floatsFromState(who, 'mu', st.mu, c));
    on.variance.set(floatsFromState(who, 'variance', st.variance, c));
    on.u.set(floatsFromState(who, 'u', st.u, c));
    on.v.set(floatsFromState(who, 'v', st.v, c));
    return on;
  }
}

function checkAlpha(who: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
    throw new NormalizationError(`${who}: ${name} must be a number in [0, 1], got ${String(v)}`);
  }
  return v;
}
