/**
 * The learnable affine step y = γ·x̂ + β shared by every normalizer: γ (init 1) and β (init 0) with their
 * gradients, and how the row kernels read them. The state saves γ and β (stateCodec.ts).
 */
import type { NormalizerParams } from './normalizer.js';
import type { RowAffine } from './rowKernels.js';

const NONE: RowAffine = { mode: 'none' };

export class Affine {
  /** `{ gamma, beta }` of `size` entries, or `{}` when the layer has no affine step. */
  readonly params: NormalizerParams;
  /** Their gradients, written by backward (`{}` without an affine step). */
  readonly grads: NormalizerParams;

  constructor(size: number, enabled: boolean) {
    this.params = enabled ? { gamma: new Float64Array(size).fill(1), beta: new Float64Array(size) } : {};
    this.grads = enabled ? { gamma: new Float64Array(size), beta: new Float64Array(size) } : {};
  }
}

/** γ and β elementwise over each row (LayerNorm), or no affine step. */
export function elementwiseRows(params: NormalizerParams): RowAffine {
  const { gamma, beta } = params;
  return gamma && beta ? { mode: 'elementwise', gamma, beta } : NONE;
}

/**
 * γ and β per channel for rows made of `channelsPerRow` channels of `chunk` values each, a sample being
 * `rowsPerSample` rows (GroupNorm: C/G channels per row, G rows; InstanceNorm: 1 and C). Returns `prev`
 * while it still describes that layout, so a steady stream allocates nothing here.
 */
export function channelRows(
  params: NormalizerParams,
  chunk: number,
  channelsPerRow: number,
  rowsPerSample: number,
  prev: RowAffine,
): RowAffine {
  const { gamma, beta } = params;
  if (!gamma || !beta) return NONE;
  if (
    prev.mode === 'channel' &&
    prev.gamma === gamma &&
    prev.chunk === chunk &&
    prev.channelsPerRow === channelsPerRow &&
    prev.rowsPerSample === rowsPerSample
  ) {
    return prev;
  }
  return { mode: 'channel', gamma, beta, chunk, channelsPerRow, rowsPerSample };
}
