import type { Normalizer, NormalizerState } from '../../normalizers/normalizer.js';
import { ModelError } from '../../errors.js';

/**
 * The one place the nets obtain normalization layers. It validates the spec string here, so a bad
 * spec is a ModelError naming the `normalizer` field before anything is built.
 * TEMPORARY: until src/normalizers/registry.ts lands, only 'none' is available.
 */
const SPEC = /^(batch|layer|instance|group:[1-9]\d*|batchrenorm|online|none)$/;

export function checkNormalizerSpec(spec: unknown): string {
  if (typeof spec !== 'string' || !SPEC.test(spec)) {
    throw new ModelError(
      `normalizer: expected 'batch' | 'layer' | 'instance' | 'group:G' | 'batchrenorm' | 'online' | 'none', got ${JSON.stringify(spec)}`,
    );
  }
  return spec;
}

export function makeNormalizer(
  spec: string,
  dims: { channels: number; length?: number },
  _seed: number,
): Normalizer | null {
  checkNormalizerSpec(spec);
  if (spec === 'none') return null;
  throw new ModelError(`normalizer: '${spec}' is not available yet (channels ${dims.channels})`);
}

export function restoreNormalizer(s: NormalizerState): Normalizer {
  throw new ModelError(`normalizer: cannot restore kind '${s.kind}' yet`);
}
