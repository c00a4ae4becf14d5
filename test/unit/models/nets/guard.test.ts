import { describe, expect, it } from 'vitest';
import { Mlp } from '../../../../src/models/nets/mlp.js';
import { WindowNet } from '../../../../src/models/nets/windowNet.js';
import { vectorTask, windowTask } from './helpers.js';

function withoutCounter(s: Record<string, unknown>): string {
  return JSON.stringify({ ...s, rejectedUpdates: 0 });
}

describe('non-finite guard', () => {
  it('rejects a step whose update overflows (SGD lr = 1e308) and keeps the last good state', () => {
    const { X, Y } = windowTask(4, 1);
    const big = X.map((w) => w.map((r) => r.map((v) => v * 100)));
    for (const normalizer of ['none', 'batch', 'online']) {
      const net = new WindowNet({
        inChannels: 2,
        length: 16,
        classes: 2,
        normalizer,
        optimizer: { type: 'sgd', lr: 1e308 },
        dropout: 0.3,
      });
      // The first step may land on huge but finite weights (normalized gradients are small); the next
      // forward or update overflows. Each rejected step must leave the state exactly as it was.
      let rejectedAt = -1;
      for (let step = 0; step < 5 && rejectedAt < 0; step++) {
        const before = net.state();
        net.learnMany(big, Y);
        if (net.rejectedUpdates === 1) {
          rejectedAt = step;
          expect(withoutCounter(net.state())).toBe(withoutCounter(before));
        }
      }
      expect(rejectedAt, normalizer).toBeGreaterThanOrEqual(0);
      expect(net.steps).toBe(rejectedAt);
      for (const p of net.parameters()) expect(p.value.every(Number.isFinite)).toBe(true);
    }
  });

  it('rejects a step whose forward overflows (huge but finite input) and keeps the last good state', () => {
    const net = new Mlp({ inputs: 6, hidden: [8], classes: 2, normalizer: 'batch' });
    const { X, Y } = vectorTask(4, 2);
    net.learnMany(X, Y);
    const before = net.state();
    net.learnMany(
      X.map((x) => x.map(() => 1.7e308)),
      Y,
    );
    expect(net.rejectedUpdates).toBe(1);
    expect(withoutCounter(net.state())).toBe(withoutCounter(before));
    // And keeps learning afterwards.
    net.learnMany(X, Y);
    expect(net.steps).toBe(2);
  });

  it('rejects non-finite inputs before touching the model', () => {
    const net = new Mlp({ inputs: 3, hidden: [4], classes: 2 });
    expect(() => net.learnOne([1, Infinity, 0], 1)).toThrow(/x\[1\]/);
    expect(() =>
      net.learnMany(
        [
          [0, 0, 0],
          [0, NaN, 0],
        ],
        [0, 1],
      ),
    ).toThrow(/X\[1\]\[1\]/);
    expect(() => net.learnOne([1, 2, 3], 1, -1)).toThrow(/w:/);
    expect(net.steps).toBe(0);
    expect(net.rejectedUpdates).toBe(0);
  });
});
