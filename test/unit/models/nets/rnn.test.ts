import { describe, expect, it } from 'vitest';
import { ModelError } from '../../../../src/errors.js';
import { modelFamily, modelFromState } from '../../../../src/models/modelFamilies.js';
import { Rnn, type RnnOptions } from '../../../../src/models/nets/rnn.js';
import type { NetState } from '../../../../src/models/nets/softmaxNet.js';
import { gradCheck, prequentialAccuracy, windowTask } from './helpers.js';

const base: RnnOptions = { inChannels: 2, length: 8, hidden: 5, classes: 3, seed: 4 };

describe('Rnn (Elman cell, a normalizer per time step)', () => {
  it.each([
    ['none', 'mean'],
    ['batch', 'mean'],
    ['layer', 'mean'],
    ['group:5', 'mean'],
    ['online', 'mean'],
    ['none', 'last'],
    ['batch', 'last'],
    ['layer', 'last'],
  ] as const)(
    'gradients equal finite differences through time (normalizer %s, readout %s, L1 + L2)',
    (normalizer, readout) => {
      const made = new Rnn({ ...base, normalizer, readout, l1: 0.01, l2: 0.1 });
      // Move off the initial point so γ/β and the recurrent weights are in general position.
      const warm = windowTask(12, 5, 2, 8);
      for (let i = 0; i < 12; i += 4) made.learnMany(warm.X.slice(i, i + 4), warm.Y.slice(i, i + 4));
      const s = JSON.parse(JSON.stringify(made.state())) as NetState;
      // OnlineNorm's backward is its forward's derivative only with the backward control off (αb = 1).
      for (const n of s.normalizers) if (n !== null && n.kind === 'online') n.alphaBackward = 1;
      const net = Rnn.fromState(s);
      const n = normalizer === 'online' ? 1 : 5;
      const { X, Y } = windowTask(n, 9, 2, 8);
      const r = gradCheck(
        net,
        X,
        Y.map((y, j) => (y + j) % 3),
      );
      expect(r.checked).toBeGreaterThanOrEqual(58);
      expect(r.maxRelError, r.worst).toBeLessThan(1e-5);
    },
  );

  it('keeps one normalizer per time step: BatchNorm running statistics differ from step to step', () => {
    const net = new Rnn({ ...base, normalizer: 'batch' });
    const { X, Y } = windowTask(40, 3, 2, 8);
    for (let i = 0; i < 40; i += 8) net.learnMany(X.slice(i, i + 8), Y.slice(i, i + 8));
    const st = net.state().normalizers;
    expect(st).toHaveLength(8);
    expect(st.every((s) => s !== null && s.kind === 'batch' && s.numBatchesTracked === 5)).toBe(true);
    expect(st[0]!.runningMean).not.toEqual(st[7]!.runningMean);
    expect(net.normalizerStats().layers).toHaveLength(8);
  });

  it('learns a frequency task above chance at batch 4 with LayerNorm', () => {
    const net = new Rnn({ inChannels: 2, length: 16, hidden: 12, classes: 2, normalizer: 'layer', seed: 1 });
    const { X, Y } = windowTask(600, 7, 2, 16);
    prequentialAccuracy(net, X.slice(0, 400), Y.slice(0, 400), 4);
    const acc = prequentialAccuracy(net, X.slice(400), Y.slice(400), 4);
    expect(acc).toBeGreaterThan(0.8);
  });

  it('continues identically after a state round trip through JSON and modelFromState', () => {
    const { X, Y } = windowTask(48, 4, 2, 8);
    const a = new Rnn({ ...base, classes: 2, normalizer: 'batch', dropout: 0.2 });
    for (let i = 0; i < 24; i += 4) a.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
    const b = modelFromState(JSON.parse(JSON.stringify(a.state())) as NetState) as Rnn;
    expect(b).toBeInstanceOf(Rnn);
    expect(b.predictProbaMany(X.slice(0, 5))).toEqual(a.predictProbaMany(X.slice(0, 5)));
    for (let i = 24; i < 48; i += 4) {
      a.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
      b.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
    }
    expect(b.state()).toEqual(a.state());
  });

  it('reads out the mean of the hidden states by default, the last one on request, and keeps it in its state', () => {
    const { X, Y } = windowTask(16, 6, 2, 8);
    const mean = new Rnn({ ...base, normalizer: 'none' });
    const last = new Rnn({ ...base, normalizer: 'none', readout: 'last' });
    expect([mean.readout, last.readout]).toEqual(['mean', 'last']);
    // same seed, same weights: only the readout differs
    expect(last.state().params).toEqual(mean.state().params);
    expect(mean.predictProbaMany(X)).not.toEqual(last.predictProbaMany(X));
    for (const net of [mean, last]) {
      net.learnMany(X, Y);
      const s = JSON.parse(JSON.stringify(net.state())) as NetState;
      expect(s.options.readout).toBe(net.readout);
      expect(Rnn.fromState(s).predictProbaMany(X)).toEqual(net.predictProbaMany(X));
    }
    // a state saved before the option existed (no readout) was trained on the last state
    const old = JSON.parse(JSON.stringify(last.state())) as NetState;
    delete old.options.readout;
    expect(Rnn.fromState(old).readout).toBe('last');
    expect(Rnn.fromState(old).predictProbaMany(X)).toEqual(last.predictProbaMany(X));
    expect(() => new Rnn({ ...base, readout: 'max' as never })).toThrow(
      /readout: expected mean or last, got max/,
    );
  });

  it('refuses normalizers that need a length axis or a layer to standardize, and groups that do not divide H', () => {
    expect(() => new Rnn({ ...base, normalizer: 'instance' })).toThrow(ModelError);
    expect(() => new Rnn({ ...base, normalizer: 'instance' })).toThrow(/length axis/);
    expect(() => new Rnn({ ...base, normalizer: 'group:5+ws' })).toThrow(/standardizes the weights/);
    expect(() => new Rnn({ ...base, normalizer: 'group:2' })).toThrow(/divisible by 2/);
    expect(() => new Rnn({ ...base, hidden: 0 })).toThrow(/hidden: expected an integer >= 1/);
    expect(() => new Rnn({ ...base, stride: 2 } as RnnOptions)).toThrow(/stride: unknown Rnn option/);
  });

  it('rejects a window of the wrong shape naming the field', () => {
    const net = new Rnn(base);
    expect(() => net.predictOne([[1, 2, 3]])).toThrow(/expected 2 channels/);
    expect(() => net.predictOne([new Array(8).fill(0), new Array(7).fill(0)])).toThrow(
      /x\[1\].*8 time steps/,
    );
    expect(() => net.predictOne(new Array(15).fill(0))).toThrow(/\[2, 8\] window/);
  });

  it('is built by the rnn family from a window stream shape and refuses vectors', () => {
    const f = modelFamily('rnn');
    const m = f.create(f.optionsFrom({ normalizer: 'batch', hidden: 7 }, 4), {
      kind: 'window',
      channels: 3,
      length: 10,
    }) as Rnn;
    expect([m.inChannels, m.length, m.hidden, m.classes, m.opts.normalizer]).toEqual([3, 10, 7, 4, 'batch']);
    expect(f.label(m)).toBe('Rnn(batch)');
    expect(f.parseItem('rnn:layer', (s) => s === 'layer')).toEqual({ normalizer: 'layer' });
    expect(f.parseItem('rnn:bogus', () => false)).toBeNull();
    expect(() => f.create({}, { kind: 'vector', dim: 4 })).toThrow(/needs window events/);
  });
});
