import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Mlp } from '../../../../src/models/nets/mlp.js';
import { Rnn } from '../../../../src/models/nets/rnn.js';
import type { SoftmaxNet } from '../../../../src/models/nets/softmaxNet.js';
import { WindowNet } from '../../../../src/models/nets/windowNet.js';
import type { NetOptimizerSpec } from '../../../../src/models/optim/paramOptimizer.js';

/**
 * The recurrent net (a normalizer per time step, reading out the last hidden state or their mean) and the 'group:G+ws' nets (GroupNorm after a layer with
 * Weight Standardization) against PyTorch 1.13 in float64 (fixtures from
 * test/fixtures/models/nets/generate_rnn_ws.py): same weights and batches → same objective and gradients,
 * and the same parameters, per-step BatchNorm running statistics and inference probabilities after three
 * steps of AdamW or Nesterov SGD.
 */
interface Case {
  kind: 'Rnn' | 'WindowNet' | 'Mlp';
  normalizer: string;
  /** Rnn cases: the readout the reference computed. */
  readout?: 'last' | 'mean';
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
}

const fx = JSON.parse(
  readFileSync(new URL('../../../fixtures/models/nets/torch_rnn_ws.json', import.meta.url), 'utf8'),
) as {
  rnn: { C: number; L: number; H: number };
  window: { C: number; L: number; H: number; K: number };
  mlp: { D: number; hidden: number[] };
  classes: number;
  cases: Case[];
};

function build(c: Case): SoftmaxNet {
  const common = { normalizer: c.normalizer, ...c.options, classes: fx.classes, seed: 0 };
  const net =
    c.kind === 'Rnn'
      ? new Rnn({ inChannels: fx.rnn.C, length: fx.rnn.L, hidden: fx.rnn.H, readout: c.readout, ...common })
      : c.kind === 'WindowNet'
        ? new WindowNet({
            inChannels: fx.window.C,
            length: fx.window.L,
            hidden: fx.window.H,
            kernel: fx.window.K,
            ...common,
          })
        : new Mlp({ inputs: fx.mlp.D, hidden: fx.mlp.hidden, ...common });
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
  fx.cases.map(
    (c, i) =>
      [
        `${i}: ${c.kind}/${c.normalizer}/${c.options.optimizer.type}${c.readout ? `/${c.readout}` : ''}`,
        c,
      ] as const,
  ),
)('PyTorch reference %s', (_name, c) => {
  it('gives the same objective and gradients on the first batch', () => {
    const net = build(c);
    const { loss, grads } = net.gradients(c.X[0] as never, c.Y[0]);
    expect(Math.abs(loss - c.first.loss)).toBeLessThan(1e-12);
    for (const [name, g] of Object.entries(c.first.grads))
      expect(maxDiff(grads[name], g), name).toBeLessThan(1e-12);
  });

  it('lands on the same parameters, running statistics and probabilities after three steps', () => {
    const net = build(c);
    for (let s = 0; s < c.X.length; s++) net.learnMany(c.X[s] as never, c.Y[s]);
    expect(net.steps).toBe(3);
    // A bias in front of BatchNorm has gradient 0 in exact arithmetic; Adam divides its round-off by
    // √v̂ + ε (ε = 1e-8), so it may move by up to lr·1e-7 per step differently in each implementation.
    const adam = c.options.optimizer.type === 'adam';
    const tol = adam ? 1e-10 : 1e-12;
    const roundOffOnly = (name: string): boolean =>
      c.first.grads[name]?.every((v) => Math.abs(v) <= 1e-12) ?? false;
    for (const p of net.parameters()) {
      const bound = adam && roundOffOnly(p.name) ? 3 * c.options.optimizer.lr * 1e-7 : tol;
      expect(maxDiff(p.value, c.after[p.name]), p.name).toBeLessThan(bound);
    }
    const states = net.state().normalizers;
    if (c.running !== null) {
      expect(states).toHaveLength(c.running.length);
      c.running.forEach((r, t) => {
        expect(maxDiff(states[t]!.runningMean as number[], r.mean), `step ${t} mean`).toBeLessThan(tol);
        expect(maxDiff(states[t]!.runningVar as number[], r.var), `step ${t} var`).toBeLessThan(tol);
      });
    }
    const proba = net.predictProbaMany(c.X[0] as never);
    expect(maxDiff(proba.flat(), c.inferenceProba.flat())).toBeLessThan(tol);
  });
});
