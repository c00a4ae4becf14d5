import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../src/core/rng.js';
import { NormalizationError } from '../../../../src/errors.js';
import { NormSlot } from '../../../../src/models/nets/normSlot.js';
import { BatchNorm } from '../../../../src/normalizers/batchNorm.js';
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

  it("'skip' skips the update and counts it: at batch 1 the model never learns", () => {
    const net = new Mlp({ ...opts, singletonPolicy: 'skip' });
    const before = net.state().params;
    net.learnOne(X[0], Y[0]);
    net.learnMany([X[1]], [Y[1]]);
    expect(net.state().params).toEqual(before);
    expect(net.steps).toBe(0);
    expect(net.normalizerStats().singletonEvents).toEqual({ skipped: 2, runningStats: 0 });
  });

  it("'running-stats' trains through the running statistics, then moves them toward the event", () => {
    const net = new Mlp({ ...opts, singletonPolicy: 'running-stats' });
    const before = net.state();
    net.learnOne(X[0], Y[0]);
    const after = net.state();
    expect(after.params['dense0.weight']).not.toEqual(before.params['dense0.weight']);
    // The BN layer saw z = W·x + b (pre-step weights); with momentum 0.1 from (0, 1):
    // mean = 0.1·z, var = 0.9·(1 + 0.1·z²).
    const w = before.params['dense0.weight'];
    const b = before.params['dense0.bias'];
    const z = b.map((bj, j) => bj + X[0].reduce((a, xi, i) => a + w[j * 6 + i] * xi, 0));
    const rm = after.normalizers[0]!.runningMean as number[];
    const rv = after.normalizers[0]!.runningVar as number[];
    z.forEach((zj, j) => {
      expect(rm[j]).toBeCloseTo(0.1 * zj, 14);
      expect(rv[j]).toBeCloseTo(0.9 * (1 + 0.1 * zj * zj), 14);
    });
    expect(after.normalizers[0]!.numBatchesTracked).toBe(1);
    // γ/β still learn.
    expect(after.normalizers[0]!.beta).not.toEqual(before.normalizers[0]!.beta);
    expect(net.normalizerStats().singletonEvents).toEqual({ skipped: 0, runningStats: 1 });
    // Training-mode predictions of a single event fall back to the running statistics and change nothing.
    const s = JSON.stringify(net.state());
    expect(net.predictProbaOne(X[0], { training: true })).toEqual(net.predictProbaOne(X[0]));
    expect(JSON.stringify(net.state())).toBe(s);
    // Neither do gradients() nor plain predictions.
    net.gradients([X[1]], [Y[1]]);
    net.predictProbaMany([X[1]]);
    expect(JSON.stringify(net.state())).toBe(s);
  });

  it("'running-stats' with momentum null is Welford's running mean and population variance of the events", () => {
    const bn = new BatchNorm({ channels: 2, momentum: null });
    const slot = new NormSlot('norm', bn);
    const rng = new Rng(3);
    const xs = Array.from({ length: 50 }, () => [rng.normal(5, 2), rng.normal(-1, 0.5)]);
    slot.measuring = true;
    for (const x of xs) slot.forward({ data: Float64Array.from(x), shape: [1, 2] }, false);
    slot.measuring = false;
    for (let j = 0; j < 2; j++) {
      const col = xs.map((x) => x[j]);
      const mean = col.reduce((a, v) => a + v, 0) / col.length;
      const pvar = col.reduce((a, v) => a + (v - mean) ** 2, 0) / col.length;
      expect(bn.runningMean[j]).toBeCloseTo(mean, 12);
      expect(bn.runningVar[j]).toBeCloseTo(pvar, 12);
    }
    expect(bn.numBatchesTracked).toBe(50);
    // Outside a learning step (measuring off), an inference forward leaves the statistics alone.
    const m0 = Array.from(bn.runningMean);
    slot.forward({ data: Float64Array.from([100, 100]), shape: [1, 2] }, false);
    expect(Array.from(bn.runningMean)).toEqual(m0);
  });

  it("at batch 1 'running-stats' tracks a shifted input's statistics where the old frozen policy could not", () => {
    // Inputs with a large common offset: BN's running mean must find it for the normalized activations to
    // be centred. After 300 one-event steps the running mean is within reach of the activations' mean.
    const net = new Mlp({ ...opts, singletonPolicy: 'running-stats' });
    const rng = new Rng(4);
    const events = Array.from({ length: 300 }, () => Array.from({ length: 6 }, () => 10 + rng.normal()));
    for (const x of events) net.learnOne(x, x[0] > 10 ? 1 : 0);
    const st = net.state();
    const w = st.params['dense0.weight'];
    const b = st.params['dense0.bias'];
    const rm = st.normalizers[0]!.runningMean as number[];
    const zMean = b.map(
      (bj, j) =>
        events.slice(-50).reduce((a, x) => a + bj + x.reduce((s, xi, i) => s + w[j * 6 + i] * xi, 0), 0) / 50,
    );
    const spread = Math.max(...zMean.map(Math.abs));
    expect(spread).toBeGreaterThan(1);
    zMean.forEach((m, j) => expect(Math.abs(rm[j] - m)).toBeLessThan(0.25 * spread));
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

describe('singleton policy descriptions', () => {
  it('describe exactly the policies the nets accept', async () => {
    const { singletonPolicyDescriptions } = await import('../../../../src/models/nets/normSlot.js');
    const policies = Object.keys(singletonPolicyDescriptions);
    expect(policies.sort()).toEqual(['error', 'running-stats', 'skip']);
    for (const p of policies) expect(() => new Mlp({ ...opts, singletonPolicy: p as never })).not.toThrow();
    expect(() => new Mlp({ ...opts, singletonPolicy: 'ignore' as never })).toThrow(/singletonPolicy/);
  });
});
