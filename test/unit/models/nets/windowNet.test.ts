import { describe, expect, it } from 'vitest';
import { ModelError } from '../../../../src/errors.js';
import { WindowNet, type WindowNetOptions } from '../../../../src/models/nets/windowNet.js';
import { gradCheck, prequentialAccuracy, windowTask } from './helpers.js';

const base: WindowNetOptions = { inChannels: 2, length: 16, hidden: 6, kernel: 3, classes: 2, seed: 3 };

describe('WindowNet', () => {
  it('gradients match finite differences (no normalizer, L1 + L2 + l2-mode weight decay)', () => {
    const net = new WindowNet({ ...base, l1: 0.01, l2: 0.05, weightDecay: 0.02, weightDecayMode: 'l2' });
    const { X, Y } = windowTask(5, 1);
    const r = gradCheck(net, X, Y);
    expect(r.checked).toBe(56);
    expect(r.maxRelError, r.worst).toBeLessThan(1e-6);
  });

  it('same seed gives identical weights after 30 steps; another seed differs', () => {
    const { X, Y } = windowTask(120, 2);
    const run = (seed: number): number[] => {
      const net = new WindowNet({ ...base, seed, dropout: 0.3 });
      for (let i = 0; i < 120; i += 4) net.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
      return (net.state().params['conv.weight'] as number[]).slice();
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('continues identically after a state round trip through JSON (dropout, augmentation and Adam moments included)', () => {
    const { X, Y } = windowTask(80, 4);
    const opts: WindowNetOptions = { ...base, dropout: 0.2, augment: { jitter: 0.05, shift: 1, scale: 0.1 } };
    const a = new WindowNet(opts);
    for (let i = 0; i < 40; i += 4) a.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
    const b = WindowNet.fromState(JSON.parse(JSON.stringify(a.state())));
    expect(b.predictProbaMany(X.slice(0, 5))).toEqual(a.predictProbaMany(X.slice(0, 5)));
    for (let i = 40; i < 80; i += 4) {
      a.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
      b.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
    }
    expect(b.state()).toEqual(a.state());
  });

  it('learns the synthetic window task above chance (no normalizer, batch 8)', () => {
    const { X, Y } = windowTask(1600, 7);
    const net = new WindowNet({ ...base, hidden: 8 });
    const acc = prequentialAccuracy(net, X, Y, 8);
    expect(acc).toBeGreaterThan(0.75);
  });

  it('does not mutate its inputs', () => {
    const { X, Y } = windowTask(4, 9);
    const copy = JSON.parse(JSON.stringify(X)) as number[][][];
    const net = new WindowNet({ ...base, augment: { jitter: 0.5 } });
    net.learnMany(X, Y);
    net.predictProbaMany(X, { training: true });
    expect(X).toEqual(copy);
  });

  it('rejects bad options and inputs with errors naming the field', () => {
    expect(() => new WindowNet({ ...base, kernel: 17 })).toThrow(/kernel/);
    expect(() => new WindowNet({ ...base, classes: 1 })).toThrow(/classes/);
    expect(() => new WindowNet({ ...base, dropout: 1 })).toThrow(/dropout/);
    expect(() => new WindowNet({ ...base, normalizer: 'bogus' })).toThrow(/normalizer/);
    expect(() => new WindowNet({ ...base, optimizer: { type: 'adam', lr: NaN } })).toThrow(/optimizer\.lr/);
    expect(() => new WindowNet({ ...base, l1: -1 })).toThrow(ModelError);
    expect(() => new WindowNet({ ...base, length: 3, kernel: 3, normalizer: 'instance' })).toThrow(
      /instance/,
    );
    const net = new WindowNet(base);
    const { X } = windowTask(1, 1);
    expect(() => net.learnOne(X[0], 2)).toThrow(/y=2 is not a class label/);
    const bad = JSON.parse(JSON.stringify(X[0])) as number[][];
    bad[1][4] = NaN;
    expect(() => net.learnOne(bad, 0)).toThrow(/x\[1\]\[4\]/);
    expect(() => net.predictOne([[1, 2]])).toThrow(/channels/);
    expect(() => net.learnMany([X[0], X[0]], [0])).toThrow(/equal length/);
  });
});
