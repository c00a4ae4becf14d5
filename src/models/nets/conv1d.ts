import type { Tensor } from '../../core/tensor.js';
import { ModelError } from '../../errors.js';
import {
  type StandardizedWeights,
  weightStandardize,
  weightStandardizeBackward,
} from '../../normalizers/weightStandardization.js';

/**
 * A 1-D convolution (cross-correlation, PyTorch's Conv1d with stride 1, no padding) over windows
 * `[N, C, L]` → `[N, H, L − K + 1]`, weights `[H, C, K]`. "Valid" padding keeps every output computed
 * from real samples only, so a normalizer after it never sees padding zeros in its statistics.
 *
 * With `standardize` the layer computes with Weight Standardization of its kernel (Qiao et al. 2019): each
 * output channel's `[C, K]` fan-in is shifted to mean 0 and scaled to variance 1 before use, and the
 * gradient flows back through that standardization to the raw `weight` (what the optimizer updates).
 */
export class Conv1d {
  readonly weight: Float64Array;
  readonly bias: Float64Array;
  readonly weightGrad: Float64Array;
  readonly biasGrad: Float64Array;
  private lastX: Tensor | null = null;
  private ws: StandardizedWeights | undefined;
  private wsGrad: Float64Array = new Float64Array(0);

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly options: { standardize?: boolean } = {},
  ) {
    if (options.standardize === true && inChannels * kernel < 2) {
      throw new ModelError(
        `Weight Standardization needs a fan-in of at least 2, got ${inChannels} channel(s) x kernel ${kernel}`,
      );
    }
    this.weight = new Float64Array(outChannels * inChannels * kernel);
    this.bias = new Float64Array(outChannels);
    this.weightGrad = new Float64Array(this.weight.length);
    this.biasGrad = new Float64Array(outChannels);
  }

  /** Output length for an input of length `length`. */
  outLength(length: number): number {
    return length - this.kernel + 1;
  }

  forward(x: Tensor): Tensor {
    const [n, c, l] = x.shape;
    const h = this.outChannels;
    const k = this.kernel;
    const lo = l - k + 1;
    const y = new Float64Array(n * h * lo);
    const w = this.effectiveWeight();
    const xd = x.data;
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < h; o++) {
        const yo = (i * h + o) * lo;
        const b = this.bias[o];
        for (let t = 0; t < lo; t++) y[yo + t] = b;
        for (let ci = 0; ci < c; ci++) {
          const xo = (i * c + ci) * l;
          const wo = (o * c + ci) * k;
          for (let j = 0; j < k; j++) {
            const wv = w[wo + j];
            const xs = xo + j;
            for (let t = 0; t < lo; t++) y[yo + t] += wv * xd[xs + t];
          }
        }
      }
    }
    this.lastX = x;
    return { data: y, shape: [n, h, lo] };
  }

  /** Sets the parameter gradients and returns dL/dx for the last forward. */
  backward(dy: Tensor): Tensor {
    const x = this.lastX;
    if (x === null) throw new Error('Conv1d.backward called before forward');
    const [n, c, l] = x.shape;
    const h = this.outChannels;
    const k = this.kernel;
    const lo = l - k + 1;
    const ws = this.options.standardize === true ? this.ws! : undefined;
    if (ws !== undefined && this.wsGrad.length !== this.weight.length)
      this.wsGrad = new Float64Array(this.weight.length);
    const gw = ws === undefined ? this.weightGrad : this.wsGrad;
    const gb = this.biasGrad;
    const w = ws === undefined ? this.weight : ws.data;
    const xd = x.data;
    const dyd = dy.data;
    gw.fill(0);
    gb.fill(0);
    const dx = new Float64Array(n * c * l);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < h; o++) {
        const yo = (i * h + o) * lo;
        let sb = 0;
        for (let t = 0; t < lo; t++) sb += dyd[yo + t];
        gb[o] += sb;
        for (let ci = 0; ci < c; ci++) {
          const xo = (i * c + ci) * l;
          const wo = (o * c + ci) * k;
          for (let j = 0; j < k; j++) {
            const wv = w[wo + j];
            const xs = xo + j;
            let sw = 0;
            for (let t = 0; t < lo; t++) {
              const g = dyd[yo + t];
              sw += g * xd[xs + t];
              dx[xs + t] += g * wv;
            }
            gw[wo + j] += sw;
          }
        }
      }
    }
    if (ws !== undefined) weightStandardizeBackward(gw, ws, this.weightGrad);
    return { data: dx, shape: [n, c, l] };
  }

  /** The kernel the layer computes with: `weight`, or its standardization (recomputed every forward). */
  private effectiveWeight(): Float64Array {
    if (this.options.standardize !== true) return this.weight;
    const h = this.outChannels;
    this.ws = weightStandardize(this.weight, h, this.inChannels * this.kernel, 1e-5, this.ws);
    return this.ws.data;
  }
}
