import type { Normalizer, NormalizerState } from '../../normalizers/normalizer.js';
import { createNormalizer, normalizerFromState } from '../../normalizers/registry.js';
import { ModelError } from '../../errors.js';

const SPEC = /^(batch|layer|instance|group:[1-9]\d*|batchrenorm|online|none)$/;

/**
 * Checks a net's `normalizer` option, so a bad spec is a ModelError naming the field before anything is
 * built (the registry's own error would name the layer, not the option the user wrote).
 */
export function checkNormalizerSpec(spec: unknown): string {
  if (typeof spec !== 'string' || !SPEC.test(spec)) {
    throw new ModelError(
      `normalizer: expected 'batch' | 'layer' | 'instance' | 'group:G' | 'batchrenorm' | 'online' | 'none', got ${JSON.stringify(spec)}`,
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

/** Rebuilds a normalizer from its state (any registered kind). */
export function restoreNormalizer(s: NormalizerState): Normalizer {
  return normalizerFromState(s);
}
