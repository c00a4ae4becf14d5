import { describe, expect, it } from 'vitest';
import { tensor } from '../../../src/core/tensor.js';
import { NormalizationError } from '../../../src/errors.js';
import {
  BatchNorm,
  BatchRenorm,
  GroupNorm,
  InstanceNorm,
  LayerNorm,
  OnlineNorm,
  createNormalizer,
  normalizerFromState,
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
