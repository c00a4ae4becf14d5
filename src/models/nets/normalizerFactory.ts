import type { Normalizer, NormalizerState } from '../../normalizers/normalizer.js';
import {
  createNormalizer,
  isNormalizerSpec,
  normalizerFromState,
  normalizerGrammar,
} from '../../normalizers/descriptors.js';
import { ModelError } from '../../errors.js';

/**
 * Checks a net's `normalizer` option against the normalizer descriptors, so a bad spec is a ModelError
 * naming the field before anything is built (the descriptors' own error would name the layer, not the
 * option the user wrote).
 */
export function checkNormalizerSpec(spec: unknown): string {
  if (!isNormalizerSpec(spec)) {
    throw new ModelError(
      `normalizer: expected ${normalizerGrammar()
        .map((g) => `'${g}'`)
        .join(' | ')}, got ${JSON.stringify(spec)}`,
    );
  }
  return spec;
}

/** The normalizer a net puts after a layer with per-sample shape `[channels]` or `[channels, length]`; null for 'none'. */
export function makeNormalizer(
  spec: string,
  dims: { channels: number; length?: number },
  seed: number,
): Normalizer | null {
  return createNormalizer(checkNormalizerSpec(spec), dims, seed);
}

/** Rebuilds a normalizer from its state (any listed kind). */
export function restoreNormalizer(s: NormalizerState): Normalizer {
  return normalizerFromState(s);
}
