import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../src/core/rng.js';
import { Dropout } from '../../../../src/models/nets/dropout.js';
import { Mlp } from '../../../../src/models/nets/mlp.js';
import { WindowNet } from '../../../../src/models/nets/windowNet.js';
import { vectorTask, windowTask } from './helpers.js';

describe('inverted dropout', () => {
  it.each([0.1, 0.3, 0.5])('at rate %s zeroes about that fraction and scales survivors by 1/(1-p)', (p) => {
    const n = 50_000;
    const x = { data: new Float64Array(n).fill(2), shape: [n] };
    const y = new Dropout(p).forward(x, true, new Rng(1));
    let zeros = 0;
    let offScale = 0;
    for (const v of y.data) {
      if (v === 0) zeros++;
      else if (Math.abs(v - 2 / (1 - p)) > 1e-12) offScale++;
    }
    expect(offScale).toBe(0);
    // 4.5 binomial standard deviations: sqrt(p(1-p)/n) <= 0.0023.
    expect(Math.abs(zeros / n - p)).toBeLessThan(0.011);
    // The expectation is preserved (the point of scaling at train time).
    const mean = y.data.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(mean - 2)).toBeLessThan(0.05);
  });

  it('backward passes the gradient through the same mask', () => {
    const d = new Dropout(0.5);
    const x = { data: Float64Array.from({ length: 100 }, (_, i) => i + 1), shape: [100] };
    const y = d.forward(x, true, new Rng(2));
    const g = d.backward({ data: new Float64Array(100).fill(1), shape: [100] });
    for (let i = 0; i < 100; i++) expect(g.data[i]).toBe(y.data[i] / x.data[i]);
  });

  it('is the identity when inactive (inference)', () => {
    const x = { data: Float64Array.from([1, 2, 3]), shape: [3] };
    expect(new Dropout(0.9).forward(x, false, new Rng(3)).data).toEqual(x.data);
  });

  it('nets predict without dropout: inference is deterministic and equals the dropout-free net with the same weights', () => {
    const { X } = windowTask(6, 1);
    const a = new WindowNet({ inChannels: 2, length: 16, classes: 2, dropout: 0.5, seed: 4 });
    const b = new WindowNet({ inChannels: 2, length: 16, classes: 2, dropout: 0, seed: 4 });
    expect(a.predictProbaMany(X)).toEqual(a.predictProbaMany(X));
    expect(a.predictProbaMany(X)).toEqual(b.predictProbaMany(X));
    expect(a.predictProbaMany(X, { training: true })).toEqual(b.predictProbaMany(X, { training: true }));
    const v = vectorTask(6, 2);
    const m1 = new Mlp({ inputs: 6, hidden: [8, 8], dropout: [0.5, 0.2], classes: 2, seed: 5 });
    const m0 = new Mlp({ inputs: 6, hidden: [8, 8], classes: 2, seed: 5 });
    expect(m1.predictProbaMany(v.X)).toEqual(m0.predictProbaMany(v.X));
  });

  it('changes training: with dropout the same data moves the weights differently', () => {
    const { X, Y } = windowTask(8, 3);
    const a = new WindowNet({ inChannels: 2, length: 16, classes: 2, dropout: 0.5, seed: 4 });
    const b = new WindowNet({ inChannels: 2, length: 16, classes: 2, dropout: 0, seed: 4 });
    a.learnMany(X, Y);
    b.learnMany(X, Y);
    expect(a.state().params['conv.weight']).not.toEqual(b.state().params['conv.weight']);
  });
});
