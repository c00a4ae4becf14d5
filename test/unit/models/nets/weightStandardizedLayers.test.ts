import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../src/core/rng.js';
import { ModelError } from '../../../../src/errors.js';
import { Conv1d } from '../../../../src/models/nets/conv1d.js';
import { Dense } from '../../../../src/models/nets/dense.js';
import { Mlp } from '../../../../src/models/nets/mlp.js';
import { WindowNet } from '../../../../src/models/nets/windowNet.js';
import {
  createNormalizer,
  isNormalizerSpec,
  parseNormalizerSpec,
} from '../../../../src/normalizers/descriptors.js';
import { GroupNorm } from '../../../../src/normalizers/groupNorm.js';
import { gradCheck, vectorTask, windowTask } from './helpers.js';

describe("'group:G+ws': GroupNorm with Weight Standardization of the layer before", () => {
  it('parses as GroupNorm with the ws flag; plain group:G has none; malformed suffixes are refused', () => {
    expect(parseNormalizerSpec('group:4+ws')).toEqual({ kind: 'group', groups: 4, ws: true });
    expect(parseNormalizerSpec('group:4')).toEqual({ kind: 'group', groups: 4 });
    expect(createNormalizer('group:2+ws', { channels: 4, length: 3 })).toBeInstanceOf(GroupNorm);
    for (const bad of ['group:4+', 'group:4+WS', 'group:+ws', 'group:4 +ws', 'layer+ws'])
      expect(isNormalizerSpec(bad), bad).toBe(false);
  });

  it('a standardized conv computes with zero-mean, unit-variance kernels per output channel', () => {
    const rng = new Rng(1);
    const conv = new Conv1d(2, 3, 3, { standardize: true });
    for (let i = 0; i < conv.weight.length; i++) conv.weight[i] = rng.normal(0.7, 2);
    // A one-hot input reads out each kernel tap: y[o][t] = Ŵ[o][c][j] when x has a 1 at (c, t + j).
    for (let c = 0; c < 2; c++) {
      for (let j = 0; j < 3; j++) {
        const x = new Float64Array(2 * 3);
        x[c * 3 + j] = 1;
        const y = conv.forward({ data: x, shape: [1, 2, 3] }).data;
        for (let o = 0; o < 3; o++) {
          const row = conv.weight.subarray(o * 6, o * 6 + 6);
          const mu = row.reduce((a, b) => a + b, 0) / 6;
          const v = row.reduce((a, b) => a + (b - mu) ** 2, 0) / 6;
          expect(y[o]).toBeCloseTo((row[c * 3 + j] - mu) / Math.sqrt(v + 1e-5), 12);
        }
      }
    }
  });

  it('WindowNet and Mlp gradients with group:G+ws equal finite differences (raw weights)', () => {
    const wn = new WindowNet({
      inChannels: 2,
      length: 9,
      hidden: 4,
      kernel: 3,
      classes: 3,
      normalizer: 'group:2+ws',
      seed: 2,
      l2: 0.1,
    });
    const w = windowTask(4, 3, 2, 9);
    const r1 = gradCheck(
      wn,
      w.X,
      w.Y.map((y, j) => (y + j) % 3),
    );
    expect(r1.maxRelError, r1.worst).toBeLessThan(1e-5);
    const mlp = new Mlp({
      inputs: 5,
      hidden: [4, 4],
      classes: 2,
      normalizer: 'group:2+ws',
      seed: 3,
      l1: 0.01,
    });
    const v = vectorTask(5, 4, 5);
    const r2 = gradCheck(mlp, v.X, v.Y);
    expect(r2.maxRelError, r2.worst).toBeLessThan(1e-5);
  });

  it('refuses a layer whose fan-in of 1 would standardize to zeros', () => {
    expect(() => new Dense(1, 4, { standardize: true })).toThrow(ModelError);
    expect(() => new Conv1d(1, 4, 1, { standardize: true })).toThrow(/fan-in of at least 2/);
    expect(() => new Mlp({ inputs: 1, hidden: [4], classes: 2, normalizer: 'group:2+ws' })).toThrow(/fan-in/);
  });

  it('survives a state round trip (the spec with +ws is in the saved options)', () => {
    const { X, Y } = vectorTask(16, 5, 5);
    const a = new Mlp({ inputs: 5, hidden: [4], classes: 2, normalizer: 'group:2+ws', seed: 1 });
    a.learnMany(X.slice(0, 8), Y.slice(0, 8));
    const b = Mlp.fromState(JSON.parse(JSON.stringify(a.state())));
    a.learnMany(X.slice(8), Y.slice(8));
    b.learnMany(X.slice(8), Y.slice(8));
    expect(b.predictProbaMany(X)).toEqual(a.predictProbaMany(X));
  });
});
