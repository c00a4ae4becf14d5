import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mlp } from '../../src/models/nets/mlp.js';
import type { SoftmaxNet } from '../../src/models/nets/softmaxNet.js';
import { WindowNet } from '../../src/models/nets/windowNet.js';
import type { Features } from '../../src/models/types.js';
import { vectorTask, windowTask } from '../unit/models/nets/helpers.js';

/**
 * Largest |mean of per-sample gradients − batch gradient| relative to the largest gradient entry (a
 * per-tensor scale would divide by round-off where a gradient is zero in exact arithmetic, e.g. the conv
 * bias under InstanceNorm, which removes every per-channel shift).
 */
function perSampleGap(net: SoftmaxNet, X: Features[], Y: number[]): number {
  const batch = net.gradients(X, Y).grads;
  let scale = 1e-12;
  for (const g of Object.values(batch)) for (const v of g) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (const name of Object.keys(batch)) {
    const mean = new Float64Array(batch[name].length);
    for (let i = 0; i < X.length; i++) {
      const g = net.gradients([X[i]], [Y[i]]).grads[name];
      for (let j = 0; j < mean.length; j++) mean[j] += g[j] / X.length;
    }
    for (let j = 0; j < mean.length; j++) worst = Math.max(worst, Math.abs(mean[j] - batch[name][j]) / scale);
  }
  return worst;
}

describe('per-sample normalizers: the batch gradient is the mean of the per-sample gradients', () => {
  it('WindowNet (layer, instance, group, none)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('layer', 'instance', 'group:2', 'none'),
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (normalizer, n, seed) => {
          const net = new WindowNet({
            inChannels: 2,
            length: 8,
            hidden: 4,
            kernel: 3,
            classes: 3,
            normalizer,
            seed,
          });
          const { X, Y } = windowTask(n, seed, 2, 8);
          expect(
            perSampleGap(
              net,
              X,
              Y.map((y, i) => (y + i) % 3),
            ),
          ).toBeLessThan(1e-10);
        },
      ),
      { numRuns: 25, seed: 42 },
    );
  });

  it('Mlp (layer, group, none)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('layer', 'group:2', 'none'),
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (normalizer, n, seed) => {
          const net = new Mlp({ inputs: 5, hidden: [6, 4], classes: 2, normalizer, seed });
          const { X, Y } = vectorTask(n, seed, 5);
          expect(perSampleGap(net, X, Y)).toBeLessThan(1e-10);
        },
      ),
      { numRuns: 25, seed: 43 },
    );
  });

  it('BatchNorm is the counterexample: its batch gradient is not the per-sample mean', () => {
    const net = new Mlp({ inputs: 5, hidden: [6], classes: 2, normalizer: 'batch', seed: 1 });
    const { X, Y } = vectorTask(4, 1, 5);
    // Per-sample BN gradients need one value per channel; use pairs instead of singletons.
    const batch = net.gradients(X, Y).grads['dense0.weight'];
    const a = net.gradients(X.slice(0, 2), Y.slice(0, 2)).grads['dense0.weight'];
    const b = net.gradients(X.slice(2), Y.slice(2)).grads['dense0.weight'];
    let diff = 0;
    batch.forEach((v, j) => (diff = Math.max(diff, Math.abs(v - (a[j] + b[j]) / 2))));
    expect(diff).toBeGreaterThan(1e-6);
  });
});
