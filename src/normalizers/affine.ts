/**
 * The learnable affine step y = γ·x̂ + β shared by every normalizer: γ (init 1) and β (init 0), their
 * gradients, and how the row kernels read them. A normalizer's state saves `params.gamma` and
 * `params.beta` through its {@link StateCodec} buffers.
 */
import type { NormalizerParams } from './normalizer.js';
import type { RowAffine } from './rowKernels.js';

const NONE: RowAffine = { mode: 'none' };

export class Affine {
  /** `{ gamma, beta }` of `size` entries, or `{}` when the layer has no affine step. */
  readonly params: NormalizerParams;
  /** Their gradients, written by backward (`{}` without an affine step). */
  readonly grads: NormalizerParams;
  private rows: RowAffine = NONE;

  constructor(size: number, enabled: boolean) {
    this.params = enabled ? { gamma: new Float64Array(size).fill(1), beta: new Float64Array(size) } : {};
    this.grads = enabled ? { gamma: new Float64Array(size), beta: new Float64Array(size) } : {};
  }

  /** γ and β elementwise over each row (LayerNorm), or no affine step. */
  elementwise(): RowAffine {
    const { gamma, beta } = this.params;
    if (!gamma || !beta) return NONE;
    if (this.rows.mode !== 'elementwise') this.rows = { mode: 'elementwise', gamma, beta };
    return this.rows;
  }

  /**
   * γ and β per channel for rows made of `channelsPerRow` channels of `chunk` values each, a sample
   * being `rowsPerSample` rows (GroupNorm: C/G channels per row, G rows; InstanceNorm: 1 and C). The
   * description is kept while the shape stays, so a steady stream allocates nothing here.
   */
  channelRows(chunk: number, channelsPerRow: number, rowsPerSample: number): RowAffine {
    const { gamma, beta } = this.params;
    if (!gamma || !beta) return NONE;
    const r = this.rows;
    if (
      r.mode === 'channel' &&
      r.chunk === chunk &&
      r.channelsPerRow === channelsPerRow &&
      r.rowsPerSample === rowsPerSample
    ) {
      return r;
    }
    this.rows = { mode: 'channel', gamma, beta, chunk, channelsPerRow, rowsPerSample };
    return this.rows;
  }
}
