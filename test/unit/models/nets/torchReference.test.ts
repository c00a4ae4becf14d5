import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Mlp } from '../../../../src/models/nets/mlp.js';
import type { NetOptimizerSpec } from '../../../../src/models/optim/paramOptimizer.js';
import type { SoftmaxNet } from '../../../../src/models/nets/softmaxNet.js';
import { WindowNet } from '../../../../src/models/nets/windowNet.js';

/**
 * The nets against PyTorch 1.13 in float64 (fixtures from ./fixtures/generate.py): same weights, same
 * batches → same objective and gradients, and the same parameters and BatchNorm running statistics after
 * three steps of AdamW (decoupled decay) or Nesterov SGD (L2-mode decay), with L1/L2 penalties; and
 * BatchNorm's 'running-stats' singleton policy equals a torch step with the BN layers in eval mode followed
 * by the exponentially weighted running-statistics update of the event (NormSlot).
 */
interface Case {
  kind: 'WindowNet' | 'Mlp';
  normalizer: string;
  options: {
    optimizer: NetOptimizerSpec;
    weightDecay: number;
    weightDecayMode: 'decoupled' | 'l2';
    l1: number;
    l2: number;
  };
  init: Record<string, number[]>;
  X: unknown[][];
  Y: number[][];
  first: { loss: number; grads: Record<string, number[]> };
  after: Record<string, number[]>;
  running: { mean: number[]; var: number[] }[] | null;
  inferenceProba: number[][];
  singletonPolicy: 'running-stats' | null;
}

const fx = JSON.parse(
  readFileSync(new URL('../../../fixtures/models/nets/torch_nets.json', import.meta.url), 'utf8'),
) as {
  C: number;
  L: number;
  H: number;
  K: number;
  D: number;
  hidden: number[];
  cases: Case[];
};

function build(c: Case): SoftmaxNet {
  const common = {
    normalizer: c.normalizer,
    ...c.options,
    seed: 0,
    ...(c.singletonPolicy ? { singletonPolicy: c.singletonPolicy } : {}),
  };
  const net =
    c.kind === 'WindowNet'
      ? new WindowNet({ inChannels: fx.C, length: fx.L, hidden: fx.H, kernel: fx.K, classes: 3, ...common })
      : new Mlp({ inputs: fx.D, hidden: fx.hidden, classes: 2, ...common });
  const params = net.parameters();
  expect(params.map((p) => p.name).sort()).toEqual(Object.keys(c.init).sort());
  for (const p of params) p.value.set(c.init[p.name]);
  return net;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe.each(
  fx.cases.map((c, i) => {
    const tag = c.singletonPolicy === 'running-stats' ? ' (one-event batches, running-stats policy)' : '';
    return [`${i}: ${c.kind}/${c.normalizer}/${c.options.optimizer.type}${tag}`, c] as const;
  }),
)('PyTorch reference %s', (_name, c) => {
  it('gives the same objective and gradients on the first batch', () => {
    const net = build(c);
    const { loss, grads } = net.gradients(c.X[0] as never, c.Y[0]);
    expect(Math.abs(loss - c.first.loss)).toBeLessThan(1e-12);
    for (const [name, g] of Object.entries(c.first.grads))
      expect(maxDiff(grads[name], g), name).toBeLessThan(1e-12);
  });

  it('lands on the same parameters and running statistics after three optimizer steps', () => {
    const net = build(c);
    for (let s = 0; s < c.X.length; s++) net.learnMany(c.X[s] as never, c.Y[s]);
    expect(net.steps).toBe(3);
    expect(net.singletonEvents.runningStats).toBe(c.singletonPolicy === 'running-stats' ? 3 : 0);
    // A bias in front of BatchNorm/InstanceNorm has gradient 0 in exact arithmetic (torch's first-step
    // gradient for it is round-off, ≤ 1e-12). Adam divides that round-off (up to ~1e-15, and different in
    // each implementation's summation order) by √v̂ + ε with ε = 1e-8, so such a bias may move by up to
    // lr·1e-7 per step differently in each implementation: its bound is steps·lr·1e-7. Every other
    // parameter agrees to 1e-10 under Adam and 1e-12 under SGD.
    const adam = c.options.optimizer.type === 'adam';
    const tol = adam ? 1e-10 : 1e-12;
    const roundOffOnly = (name: string): boolean => {
      const g = c.first.grads[name];
      return g !== undefined && g.every((v) => Math.abs(v) <= 1e-12);
    };
    for (const p of net.parameters()) {
      const bound = adam && roundOffOnly(p.name) ? 3 * c.options.optimizer.lr * 1e-7 : tol;
      expect(maxDiff(p.value, c.after[p.name]), p.name).toBeLessThan(bound);
    }
    if (c.running !== null) {
      net.normalizerStats().layers.forEach((_, i) => {
        const st = net.state().normalizers[i]!;
        expect(maxDiff(st.runningMean as number[], c.running![i].mean)).toBeLessThan(tol);
        expect(maxDiff(st.runningVar as number[], c.running![i].var)).toBeLessThan(tol);
      });
    }
    const proba = net.predictProbaMany(c.X[0] as never);
    expect(maxDiff(proba.flat(), c.inferenceProba.flat())).toBeLessThan(tol);
  });
});
