import { describe, expect, it } from 'vitest';
import { NormalizationError } from '../../../../src/errors.js';
import { Mlp, type MlpOptions } from '../../../../src/models/nets/mlp.js';
import { WindowNet } from '../../../../src/models/nets/windowNet.js';
import { vectorTask, windowTask } from './helpers.js';

const opts: MlpOptions = { inputs: 6, hidden: [8], classes: 2, normalizer: 'batch', seed: 1 };
const { X, Y } = vectorTask(4, 1);

describe('singleton-batch policy (BatchNorm with one value per channel)', () => {
  it("'error' rethrows NormalizationError and leaves the model untouched", () => {
    const net = new Mlp({ ...opts, singletonPolicy: 'error' });
    const before = JSON.stringify(net.state());
    expect(() => net.learnOne(X[0], Y[0])).toThrow(NormalizationError);
    expect(JSON.stringify(net.state())).toBe(before);
    expect(() => net.predictProbaOne(X[0], { training: true })).toThrow(NormalizationError);
    // Batches of two are fine.
    net.learnMany(X.slice(0, 2), Y.slice(0, 2));
    expect(net.steps).toBe(1);
  });

  it("'skip' skips the update and counts it", () => {
    const net = new Mlp({ ...opts, singletonPolicy: 'skip' });
    const before = net.state().params;
    net.learnOne(X[0], Y[0]);
    net.learnMany([X[1]], [Y[1]]);
    expect(net.state().params).toEqual(before);
    expect(net.steps).toBe(0);
    expect(net.normalizerStats().singletonEvents).toEqual({ skipped: 2, runningStats: 0 });
  });

  it("'running-stats' trains through the running statistics without updating them", () => {
    const net = new Mlp({ ...opts, singletonPolicy: 'running-stats' });
    const before = net.state();
    net.learnOne(X[0], Y[0]);
    const after = net.state();
    expect(after.params['dense0.weight']).not.toEqual(before.params['dense0.weight']);
    expect(after.normalizers[0]!.runningMean).toEqual(before.normalizers[0]!.runningMean);
    expect(after.normalizers[0]!.runningVar).toEqual(before.normalizers[0]!.runningVar);
    expect(after.normalizers[0]!.numBatchesTracked).toBe(0);
    // γ/β still learn.
    expect(after.normalizers[0]!.beta).not.toEqual(before.normalizers[0]!.beta);
    expect(net.normalizerStats().singletonEvents).toEqual({ skipped: 0, runningStats: 1 });
    // Training-mode predictions of a single event fall back to the running statistics.
    expect(net.predictProbaOne(X[0], { training: true })).toEqual(net.predictProbaOne(X[0]));
  });

  it('WindowNet BatchNorm sees N·L′ values per channel: one event trains when L′ > 1, is a singleton when L′ = 1', () => {
    const w = windowTask(2, 2, 2, 4);
    const long = new WindowNet({
      inChannels: 2,
      length: 4,
      kernel: 2,
      classes: 2,
      normalizer: 'batch',
      singletonPolicy: 'skip',
    });
    long.learnOne(w.X[0], w.Y[0]);
    expect(long.steps).toBe(1);
    expect(long.normalizerStats().layers[0].numBatchesTracked).toBe(1);
    const short = new WindowNet({
      inChannels: 2,
      length: 4,
      kernel: 4,
      classes: 2,
      normalizer: 'batch',
      singletonPolicy: 'skip',
    });
    short.learnOne(w.X[0], w.Y[0]);
    expect(short.steps).toBe(0);
    expect(short.singletonEvents.skipped).toBe(1);
    short.learnMany(w.X, w.Y);
    expect(short.steps).toBe(1);
  });

  it('per-sample normalizers never hit the policy', () => {
    const net = new Mlp({ ...opts, normalizer: 'layer', singletonPolicy: 'error' });
    net.learnOne(X[0], Y[0]);
    expect(net.steps).toBe(1);
    expect(net.singletonEvents).toEqual({ skipped: 0, runningStats: 0 });
  });
});
