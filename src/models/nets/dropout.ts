import type { Rng } from '../../core/rng.js';
import type { Tensor } from '../../core/tensor.js';

/**
 * Inverted dropout (Srivastava et al. 2014, "Dropout: a simple way to prevent neural networks from
 * overfitting"): in training each unit is zeroed with probability `rate` and the survivors are scaled
 * by 1 / (1 − rate), so inference needs no rescaling and is the identity. The mask comes from the net's
 * seeded RNG, which is checkpointed with the model, so a restored run drops the same units.
 */
export class Dropout {
  private mask: Float64Array | null = null;

  constructor(readonly rate: number) {}

  /** `active` false (inference, or training-mode predictions) is the identity. */
  forward(x: Tensor, active: boolean, rng: Rng): Tensor {
    if (!active || this.rate === 0) {
      this.mask = null;
      return x;
    }
    const keep = 1 - this.rate;
    const scale = 1 / keep;
    const n = x.data.length;
    const mask = new Float64Array(n);
    const y = new Float64Array(n);
    const xd = x.data;
    for (let i = 0; i < n; i++) {
      const m = rng.next() < keep ? scale : 0;
      mask[i] = m;
      y[i] = xd[i] * m;
    }
    this.mask = mask;
    return { data: y, shape: x.shape };
  }

  backward(dy: Tensor): Tensor {
    const mask = this.mask;
    if (mask === null) return dy;
    const dx = new Float64Array(dy.data.length);
    for (let i = 0; i < dx.length; i++) dx[i] = dy.data[i] * mask[i];
    return { data: dx, shape: dy.shape };
  }
}
