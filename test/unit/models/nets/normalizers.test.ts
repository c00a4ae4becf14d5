import { describe, expect, it } from 'vitest';
import { ModelError } from '../../../../src/errors.js';
import { Mlp } from '../../../../src/models/nets/mlp.js';
import { WindowNet } from '../../../../src/models/nets/windowNet.js';
import { prequentialAccuracy, vectorTask, windowTask } from './helpers.js';

const windowSpecs = ['batch', 'layer', 'instance', 'group:2', 'batchrenorm', 'online', 'none'];

describe('nets with every normalizer', () => {
  it.each(['layer', 'batch'])(
    'WindowNet with %s learns the window task well above chance (prequential, batch 8)',
    (normalizer) => {
      const { X, Y } = windowTask(1200, 7);
      const net = new WindowNet({
        inChannels: 2,
        length: 16,
        hidden: 8,
        kernel: 3,
        classes: 2,
        normalizer,
        seed: 1,
      });
      // Chance is 0.5; the margin asks for real learning, not a lucky bias.
      expect(prequentialAccuracy(net, X, Y, 8)).toBeGreaterThan(0.75);
    },
  );

  it.each(['layer', 'batch', 'group:4'])(
    'Mlp with %s learns the vector task well above chance (prequential, batch 8)',
    (normalizer) => {
      const { X, Y } = vectorTask(1200, 8);
      const net = new Mlp({ inputs: 6, hidden: [16], classes: 2, normalizer, seed: 2 });
      expect(prequentialAccuracy(net, X, Y, 8)).toBeGreaterThan(0.8);
    },
  );

  it.each(windowSpecs)('WindowNet/%s: state round trip through JSON continues identically', (normalizer) => {
    const { X, Y } = windowTask(48, 3);
    const a = new WindowNet({
      inChannels: 2,
      length: 16,
      hidden: 4,
      classes: 2,
      normalizer,
      dropout: 0.2,
      seed: 5,
    });
    for (let i = 0; i < 24; i += 4) a.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
    const b = WindowNet.fromState(JSON.parse(JSON.stringify(a.state())));
    for (let i = 24; i < 48; i += 4) {
      a.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
      b.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
    }
    expect(b.predictProbaMany(X.slice(0, 4))).toEqual(a.predictProbaMany(X.slice(0, 4)));
    expect(JSON.stringify(b.state())).toBe(JSON.stringify(a.state()));
  });

  it.each(['batch', 'layer', 'group:2', 'batchrenorm', 'online', 'none'])(
    'Mlp/%s: same seed gives identical runs; round trip continues identically',
    (normalizer) => {
      const { X, Y } = vectorTask(48, 4);
      const run = (): Mlp => {
        const m = new Mlp({
          inputs: 6,
          hidden: [8, 4],
          classes: 2,
          normalizer,
          dropout: [0.3, 0.1],
          seed: 9,
        });
        for (let i = 0; i < 24; i += 4) m.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
        return m;
      };
      const a = run();
      expect(JSON.stringify(run().state())).toBe(JSON.stringify(a.state()));
      const b = Mlp.fromState(JSON.parse(JSON.stringify(a.state())));
      for (let i = 24; i < 48; i += 4) {
        a.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
        b.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
      }
      expect(JSON.stringify(b.state())).toBe(JSON.stringify(a.state()));
    },
  );

  it('training-mode predictions: BatchNorm differs from inference and leaves running stats alone; per-sample normalizers show no gap', () => {
    const { X, Y } = windowTask(64, 6);
    const gap = (normalizer: string): number => {
      const net = new WindowNet({ inChannels: 2, length: 16, hidden: 6, classes: 2, normalizer, seed: 2 });
      for (let i = 0; i < 32; i += 8) net.learnMany(X.slice(i, i + 8), Y.slice(i, i + 8));
      const before = JSON.stringify(net.state());
      const xb = X.slice(32, 40);
      const train = net.predictProbaMany(xb, { training: true });
      expect(JSON.stringify(net.state())).toBe(before);
      const infer = net.predictProbaMany(xb);
      let s = 0;
      train.forEach((p, i) => (s += Math.abs(p[1] - infer[i][1])));
      return s / train.length;
    };
    expect(gap('batch')).toBeGreaterThan(1e-4);
    for (const n of ['layer', 'instance', 'group:2', 'none']) expect(gap(n)).toBe(0);
  });

  it('learnMany is one step on the whole batch (BatchNorm sees it at once), not a loop of learnOne', () => {
    const { X, Y } = windowTask(8, 12);
    const opts = { inChannels: 2, length: 16, hidden: 6, classes: 2, normalizer: 'batch', seed: 4 };
    const many = new WindowNet(opts);
    many.learnMany(X, Y);
    expect(many.steps).toBe(1);
    expect(many.normalizerStats().layers[0].numBatchesTracked).toBe(1);
    const loop = new WindowNet(opts);
    X.forEach((x, i) => loop.learnOne(x, Y[i]));
    expect(loop.steps).toBe(8);
    expect(loop.normalizerStats().layers[0].numBatchesTracked).toBe(8);
    expect(loop.state().params['conv.weight']).not.toEqual(many.state().params['conv.weight']);
  });

  it('normalizerStats reports BatchNorm running statistics and their drift', () => {
    const { X, Y } = windowTask(32, 6);
    const net = new WindowNet({
      inChannels: 2,
      length: 16,
      hidden: 6,
      classes: 2,
      normalizer: 'batch',
      seed: 2,
    });
    for (let i = 0; i < 32; i += 8) net.learnMany(X.slice(i, i + 8), Y.slice(i, i + 8));
    const s = net.normalizerStats();
    expect(s.normalizer).toBe('batch');
    expect(s.layers[0].numBatchesTracked).toBe(4);
    expect(Number.isFinite(s.layers[0].runningMeanAvg)).toBe(true);
    expect(s.layers[0].runningVarAvg).toBeGreaterThan(0);
    expect(s.runningMeanDrift).toBeGreaterThan(0);
    expect(s.runningVarianceDrift).toBeGreaterThan(0);
    const ln = new WindowNet({
      inChannels: 2,
      length: 16,
      classes: 2,
      normalizer: 'layer',
    }).normalizerStats();
    expect(ln.runningMeanDrift).toBeUndefined();
    expect(ln.layers[0]).toEqual({ kind: 'layer' });
  });

  it('rejects unsupported combinations at construction, naming the field', () => {
    expect(() => new Mlp({ inputs: 4, hidden: [8], classes: 2, normalizer: 'instance' })).toThrow(ModelError);
    expect(() => new Mlp({ inputs: 4, hidden: [8], classes: 2, normalizer: 'instance' })).toThrow(
      /normalizer/,
    );
    expect(() => new Mlp({ inputs: 4, hidden: [6], classes: 2, normalizer: 'group:4' })).toThrow(
      /hidden\[0\]/,
    );
    expect(
      () => new WindowNet({ inChannels: 1, length: 8, hidden: 6, classes: 2, normalizer: 'group:4' }),
    ).toThrow(/hidden/);
    expect(() => new Mlp({ inputs: 4, hidden: [8, 8], classes: 2, dropout: [0.1] })).toThrow(/dropout/);
    expect(() => new Mlp({ inputs: 4, hidden: [8, 0], classes: 2 })).toThrow(/hidden\[1\]/);
    expect(() => new Mlp({ inputs: 4, classes: 2, singletonPolicy: 'ignore' as never })).toThrow(
      /singletonPolicy/,
    );
    const m = new Mlp({ inputs: 4, classes: 2 });
    expect(() => m.learnOne({ indices: [1], values: [1] }, 0)).toThrow(/dense vectors/);
    expect(() => m.learnOne([1, 2, 3], 0)).toThrow(/expected 4 features/);
  });
});
