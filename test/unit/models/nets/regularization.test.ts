import { describe, expect, it } from 'vitest';
import { Mlp, type MlpOptions } from '../../../../src/models/nets/mlp.js';
import { WindowNet, type WindowNetOptions } from '../../../../src/models/nets/windowNet.js';
import { vectorTask, windowTask } from './helpers.js';

const win: WindowNetOptions = { inChannels: 2, length: 16, hidden: 8, kernel: 3, classes: 2, seed: 21 };
const mlp: MlpOptions = { inputs: 6, hidden: [12], classes: 2, seed: 22 };

function trainWindow(opts: WindowNetOptions): WindowNet {
  const net = new WindowNet(opts);
  const { X, Y } = windowTask(400, 31);
  for (let i = 0; i < 400; i += 8) net.learnMany(X.slice(i, i + 8), Y.slice(i, i + 8));
  return net;
}

function trainMlp(opts: MlpOptions): Mlp {
  const net = new Mlp(opts);
  const { X, Y } = vectorTask(400, 32);
  for (let i = 0; i < 400; i += 8) net.learnMany(X.slice(i, i + 8), Y.slice(i, i + 8));
  return net;
}

describe('net regularization', () => {
  it('decoupled weight decay shrinks the weight norm against none (Adam and SGD with momentum)', () => {
    for (const optimizer of [
      { type: 'adam' as const, lr: 0.01 },
      { type: 'sgd' as const, lr: 0.05, momentum: 0.9 },
    ]) {
      const none = trainWindow({ ...win, optimizer }).weightStats().l2;
      const wd = trainWindow({ ...win, optimizer, weightDecay: 0.5 }).weightStats().l2;
      expect(wd).toBeLessThan(0.8 * none);
    }
  });

  it('L2-in-loss weight decay shrinks the weight norm as well', () => {
    const none = trainMlp(mlp).weightStats().l2;
    const wd = trainMlp({ ...mlp, weightDecay: 0.5, weightDecayMode: 'l2' }).weightStats().l2;
    expect(wd).toBeLessThan(0.8 * none);
  });

  it('an L1 penalty shrinks the L1 norm and an L2 penalty the L2 norm', () => {
    const base = trainMlp(mlp).weightStats();
    expect(trainMlp({ ...mlp, l1: 0.5 }).weightStats().l1).toBeLessThan(0.8 * base.l1);
    expect(trainMlp({ ...mlp, l2: 2 }).weightStats().l2).toBeLessThan(0.8 * base.l2);
  });

  it('decoupled decay with plain SGD is w ← w − lr·(g + λw)·… : one step equals the l2-mode step', () => {
    // Without momentum the two modes coincide to rounding: (1 − lr·λ)·w − lr·g  vs  w − lr·(g + λ·w).
    const { X, Y } = vectorTask(8, 3);
    const a = new Mlp({ ...mlp, optimizer: { type: 'sgd', lr: 0.1 }, weightDecay: 0.3 });
    const b = new Mlp({
      ...mlp,
      optimizer: { type: 'sgd', lr: 0.1 },
      weightDecay: 0.3,
      weightDecayMode: 'l2',
    });
    a.learnMany(X, Y);
    b.learnMany(X, Y);
    const wa = a.state().params['dense0.weight'];
    const wb = b.state().params['dense0.weight'];
    wa.forEach((v, i) => expect(v).toBeCloseTo(wb[i], 12));
  });

  it('biases are not penalized: with only a huge L2 penalty the bias gradient is the data term alone', () => {
    const { X, Y } = vectorTask(4, 5);
    const plain = new Mlp(mlp).gradients(X, Y).grads;
    const pen = new Mlp({ ...mlp, l2: 100 }).gradients(X, Y).grads;
    expect(pen['dense0.bias']).toEqual(plain['dense0.bias']);
    expect(pen['out.bias']).toEqual(plain['out.bias']);
    expect(pen['dense0.weight']).not.toEqual(plain['dense0.weight']);
  });

  it('reports weight statistics over the weights', () => {
    const s = new Mlp({ inputs: 3, hidden: [4], classes: 2 }).weightStats();
    expect(s.count).toBe(3 * 4 + 4 * 2);
    expect(s.l1).toBeGreaterThan(0);
    expect(s.sparsity).toBe(0);
  });
});
