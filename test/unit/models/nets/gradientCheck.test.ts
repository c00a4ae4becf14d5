import { describe, expect, it } from 'vitest';
import { Mlp } from '../../../../src/models/nets/mlp.js';
import type { NetState } from '../../../../src/models/nets/softmaxNet.js';
import { WindowNet } from '../../../../src/models/nets/windowNet.js';
import { gradCheck, vectorTask, windowTask } from './helpers.js';

/**
 * Puts a normalizer in the configuration where its backward is, by its paper's definition, the derivative
 * of its forward (the registry's `gradientCheck` entries): BatchRenorm with d pinned (dMax = 0) and r
 * clipped (running variance 100), OnlineNorm with the backward control process off (αb = 1), checked on
 * one-sample batches.
 */
function exactBackward(s: NetState): NetState {
  const copy = JSON.parse(JSON.stringify(s)) as NetState;
  for (const n of copy.normalizers) {
    if (n === null) continue;
    if (n.kind === 'batchrenorm') {
      n.dMax = 0;
      n.runningVar = (n.runningVar as number[]).map(() => 100);
    }
    if (n.kind === 'online') n.alphaBackward = 1;
  }
  return copy;
}

const windowSpecs = ['batch', 'layer', 'instance', 'group:3', 'batchrenorm', 'online', 'none'];
const vectorSpecs = ['batch', 'layer', 'group:2', 'batchrenorm', 'online', 'none'];

describe('WindowNet gradients equal finite differences (float64, dropout off)', () => {
  it.each(windowSpecs)('normalizer %s', (normalizer) => {
    const made = new WindowNet({
      inChannels: 2,
      length: 10,
      hidden: 6,
      kernel: 3,
      classes: 3,
      normalizer,
      seed: 11,
      l2: 0.1,
      l1: 0.01,
    });
    const net = WindowNet.fromState(exactBackward(made.state()));
    // Move away from the initial point (γ = 1, β = 0) so the affine gradients are exercised in general position.
    const warm = windowTask(16, 5, 2, 10);
    for (let i = 0; i < 16; i += 4)
      net.learnMany(
        warm.X.slice(i, i + 4),
        warm.Y.slice(i, i + 4).map((y, j) => (y + j) % 3),
      );
    const fresh = WindowNet.fromState(exactBackward(net.state()));
    const n = normalizer === 'online' ? 1 : 5;
    const { X, Y } = windowTask(n, 9, 2, 10);
    const r = gradCheck(
      fresh,
      X,
      Y.map((y, j) => (y + j) % 3),
    );
    expect(r.checked).toBeGreaterThan(60);
    expect(r.maxRelError, r.worst).toBeLessThan(1e-5);
  });
});

describe('Mlp gradients equal finite differences (float64, dropout off)', () => {
  it.each(vectorSpecs)('normalizer %s', (normalizer) => {
    const made = new Mlp({ inputs: 5, hidden: [6, 4], classes: 3, normalizer, seed: 12, l2: 0.1, l1: 0.01 });
    const net = Mlp.fromState(exactBackward(made.state()));
    const warm = vectorTask(16, 6, 5);
    for (let i = 0; i < 16; i += 4) net.learnMany(warm.X.slice(i, i + 4), warm.Y.slice(i, i + 4));
    const fresh = Mlp.fromState(exactBackward(net.state()));
    const n = normalizer === 'online' ? 1 : 6;
    const { X, Y } = vectorTask(n, 8, 5);
    const r = gradCheck(
      fresh,
      X,
      Y.map((y, j) => (y + j) % 3),
    );
    expect(r.checked).toBeGreaterThan(60);
    expect(r.maxRelError, r.worst).toBeLessThan(1e-5);
  });
});
