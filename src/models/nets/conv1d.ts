import type { Tensor } from '../../core/tensor.js';

/**
 * A 1-D convolution (cross-correlation, PyTorch's Conv1d with stride 1, no padding) over windows
 * `[N, C, L]` → `[N, H, L − K + 1]`, weights `[H, C, K]`. "Valid" padding keeps every output computed
 * from real samples only, so a normalizer after it never sees padding zeros in its statistics.
 */
export class Conv1d {
  readonly weight: Float64Array;
  readonly bias: Float64Array;
  readonly weightGrad: Float64Array;
  readonly biasGrad: Float64Array;
  private lastX: Tensor | null = null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
  ) {
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
    const w = this.weight;
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
    const gw = this.weightGrad;
    const gb = this.biasGrad;
    const w = this.weight;
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
    return { data: dx, shape: [n, c, l] };
  }
}
