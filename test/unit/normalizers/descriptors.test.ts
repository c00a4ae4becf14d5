import { describe, expect, it } from 'vitest';
import { variantSchema } from '../../../src/cli/config.js';
import { parseVariantList } from '../../../src/cli/variants.js';
import { tensor } from '../../../src/core/tensor.js';
import { NormalizationError } from '../../../src/errors.js';
import { isPerSampleSpec } from '../../../src/experiment/cell.js';
import { validateGrid } from '../../../src/experiment/compare.js';
import { checkNormalizerSpec } from '../../../src/models/nets/normalizerFactory.js';
import {
  BatchNorm,
  BatchRenorm,
  GroupNorm,
  InstanceNorm,
  LayerNorm,
  OnlineNorm,
  createNormalizer,
  normalizerFromState,
  normalizerDescriptors,
  parseNormalizerSpec,
} from '../../../src/normalizers/index.js';

describe('parseNormalizerSpec', () => {
  it('parses every documented spec', () => {
    expect(parseNormalizerSpec('batch')).toEqual({ kind: 'batch' });
    expect(parseNormalizerSpec('group:4')).toEqual({ kind: 'group', groups: 4 });
    expect(parseNormalizerSpec('none')).toEqual({ kind: 'none' });
  });
  it.each(['bn', 'group:', 'group:0', 'group:x', 'Batch', ''])('rejects %j naming it', (spec) => {
    expect(() => parseNormalizerSpec(spec)).toThrow(NormalizationError);
    expect(() => parseNormalizerSpec(spec)).toThrow(`'${spec}'`);
  });
});

describe('createNormalizer', () => {
  it('builds the class each spec names', () => {
    expect(createNormalizer('batch', { channels: 3 })).toBeInstanceOf(BatchNorm);
    expect(createNormalizer('batchrenorm', { channels: 3 })).toBeInstanceOf(BatchRenorm);
    expect(createNormalizer('online', { channels: 3 })).toBeInstanceOf(OnlineNorm);
    expect(createNormalizer('instance', { channels: 3, length: 4 })).toBeInstanceOf(InstanceNorm);
    expect(createNormalizer('group:3', { channels: 3, length: 4 })).toBeInstanceOf(GroupNorm);
    expect(createNormalizer('none', { channels: 3 })).toBeNull();
  });
  it('gives LayerNorm [C] for vectors and [C, L] for windows', () => {
    expect((createNormalizer('layer', { channels: 3 }) as LayerNorm).shape).toEqual([3]);
    expect((createNormalizer('layer', { channels: 3, length: 5 }) as LayerNorm).shape).toEqual([3, 5]);
  });
  it('refuses instance norm on vectors and groups that do not divide channels', () => {
    expect(() => createNormalizer('instance', { channels: 3 })).toThrow(NormalizationError);
    expect(() => createNormalizer('group:2', { channels: 3 })).toThrow(/divisible/);
  });
  it('round-trips through normalizerFromState', () => {
    const n = createNormalizer('batch', { channels: 2 })!;
    n.forward(tensor([1, 2, 3, 5], [2, 2]));
    const back = normalizerFromState(JSON.parse(JSON.stringify(n.state())));
    expect(back.state()).toEqual(n.state());
    expect(() => normalizerFromState({ kind: 'nope' })).toThrow(/nope/);
  });
});

describe('the descriptors', () => {
  it('give each family one kind, and each class the perSample trait of its descriptor', () => {
    const kinds = normalizerDescriptors.map((d) => d.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    for (const d of normalizerDescriptors) {
      const example = d.compareDefault ?? d.grammar;
      const n = createNormalizer(example, { channels: 4, length: 3 });
      if (n !== null) {
        expect(n.kind, example).toBe(d.kind);
        expect(n.perSample, example).toBe(d.traits.perSample);
      }
    }
  });
  it.each(['group:0', 'group:00', 'group:-1', 'group:1.5', 'group:x'])(
    'refuse %j everywhere a spec is read (the nets, the CLI grammar, the config schema, compare)',
    (spec) => {
      expect(() => parseNormalizerSpec(spec)).toThrow(NormalizationError);
      expect(() => checkNormalizerSpec(spec)).toThrow(/normalizer: expected/);
      expect(() => parseVariantList(spec)).toThrow(/is not a normalizer/);
      expect(() => parseVariantList(`mlp:${spec}`)).toThrow(/is not a normalizer/);
      expect(variantSchema.safeParse({ name: 'v', normalizer: spec }).success).toBe(false);
      expect(() => validateGrid([spec], 1)).toThrow(/normalizers:/);
      expect(isPerSampleSpec(spec)).toBe(false);
    },
  );
  it('accept group:G with G a positive integer everywhere', () => {
    for (const spec of ['group:1', 'group:4', 'group:12']) {
      expect(checkNormalizerSpec(spec)).toBe(spec);
      expect(parseVariantList(spec)[0].normalizer).toBe(spec);
      expect(variantSchema.parse({ name: 'v', normalizer: spec }).normalizer).toBe(spec);
      expect(isPerSampleSpec(spec)).toBe(true);
    }
  });
});
