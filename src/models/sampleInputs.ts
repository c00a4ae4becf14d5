import type { Rng } from '../core/rng.js';
import type { SparseVector } from './types.js';

/**
 * Seeded random inputs of each kind, for the families' conformance cases (modelFamily.ts) and for anyone
 * running those checks on a model of their own.
 */
export function sampleDense(rng: Rng, d: number): number[] {
  return Array.from({ length: d }, () => rng.normal());
}

/** `nnz` random indices below `dim` (repeats allowed: a sparse input may name an index twice). */
export function sampleSparse(rng: Rng, dim: number, nnz = 5): SparseVector {
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < nnz; i++) {
    indices.push(rng.int(dim));
    values.push(rng.normal());
  }
  return { indices, values };
}

/** A `[channels, length]` window. */
export function sampleWindow(rng: Rng, channels: number, length: number): number[][] {
  return Array.from({ length: channels }, () => Array.from({ length }, () => rng.normal()));
}
