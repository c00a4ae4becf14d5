import type { Tensor } from '../../core/tensor.js';
import { ddot } from '../../core/kernels.js';
import { ModelError } from '../../errors.js';
import {
  type StandardizedWeights,
  weightStandardize,
  weightStandardizeBackward,
} from '../../normalizers/weightStandardization.js';

/**
 * A fully connected layer y = x·Wᵀ + b over a batch `[N, in]` → `[N, out]`, W row-major `[out, in]`.
 * `backward` overwrites the gradients with the sums over the batch of dL/dW, dL/db for the upstream
 * gradient it receives (the loss already carries the 1/N of a mean).
 *
 * With `standardize` the layer computes with Weight Standardization of W (Qiao et al. 2019): each output
 * unit's fan-in row is shifted to mean 0 and scaled to variance 1 before use, and the gradient flows back
 * through that standardization to the raw `weight` (what the optimizer updates).
 */
export class Dense {
  readonly weight: Float64Array;
  readonly bias: Float64Array;
  readonly weightGrad: Float64Array;
  readonly biasGrad: Float64Array;
  private lastX: Tensor | null = null;
  private ws: StandardizedWeights | undefined;
  private wsGrad: Float64Array = new Float64Array(0);

  constructor(
    readonly inputs: number,
    readonly outputs: number,
    readonly options: { standardize?: boolean } = {},
  ) {
    if (options.standardize === true && inputs < 2) {
      throw new ModelError(`Weight Standardization needs a fan-in of at least 2, got ${inputs} input(s)`);
    }
    this.weight = new Float64Array(inputs * outputs);
    this.bias = new Float64Array(outputs);
    this.weightGrad = new Float64Array(inputs * outputs);
    this.biasGrad = new Float64Array(outputs);
  }

  forward(x: Tensor): Tensor {
    const n = x.shape[0];
    const nin = this.inputs;
    const nout = this.outputs;
    const y = new Float64Array(n * nout);
    const w = this.effectiveWeight();
    const b = this.bias;
    const xd = x.data;
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < nout; o++) y[i * nout + o] = b[o] + ddot(nin, w, 1, o * nin, xd, 1, i * nin);
    }
    this.lastX = x;
    return { data: y, shape: [n, nout] };
  }

  /** Sets the parameter gradients and returns dL/dx for the last forward. */
  backward(dy: Tensor): Tensor {
    const x = this.lastX;
    if (x === null) throw new Error('Dense.backward called before forward');
    const n = x.shape[0];
    const nin = this.inputs;
    const nout = this.outputs;
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
    const dx = new Float64Array(n * nin);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < nout; o++) {
        const g = dyd[i * nout + o];
        if (g === 0) continue;
        gb[o] += g;
        const wo = o * nin;
        const xi = i * nin;
        for (let j = 0; j < nin; j++) {
          gw[wo + j] += g * xd[xi + j];
          dx[xi + j] += g * w[wo + j];
        }
      }
    }
    if (ws !== undefined) weightStandardizeBackward(gw, ws, this.weightGrad);
    return { data: dx, shape: [n, nin] };
  }

  /** The weights the layer computes with: `weight`, or its standardization (recomputed every forward). */
  private effectiveWeight(): Float64Array {
    if (this.options.standardize !== true) return this.weight;
    this.ws = weightStandardize(this.weight, this.outputs, this.inputs, 1e-5, this.ws);
    return this.ws.data;
  }
}
