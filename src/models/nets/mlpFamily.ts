import { type ModelConformanceCase, type ModelFamily, inputMismatch } from '../modelFamily.js';
import { sampleDense } from '../sampleInputs.js';
import { Mlp, type MlpOptions } from './mlp.js';
import { netLabel, netOptionsFrom, netWeights } from './netFamily.js';
import type { NetState } from './softmaxNet.js';

const D = 6;

function mlpCase(name: string, opts: Omit<MlpOptions, 'inputs' | 'classes'>): ModelConformanceCase {
  const full = (seed: number): MlpOptions => ({ inputs: D, hidden: [8], classes: 2, ...opts, seed });
  return {
    name,
    make: (seed) => new Mlp(full(seed)),
    makeWith: (extra) => new Mlp({ ...full(0), ...extra } as MlpOptions),
    fromState: (s) => Mlp.fromState(s as NetState),
    sampleX: (rng) => sampleDense(rng, D),
    sampleY: (rng) => rng.int(2),
    wrongDimX: (rng) => sampleDense(rng, D + 1),
    badLabel: 2,
    weights: netWeights,
  };
}

/** The Mlp family: a multilayer perceptron classifier for dense vectors, a normalizer per hidden layer. */
export const mlpFamily: ModelFamily<MlpOptions> = {
  name: 'mlp',
  kind: 'Mlp',
  summary: '(dense → normalizer → ReLU → dropout) per hidden layer → dense, for dense vectors [d]',
  traits: { inputs: ['vector'], tasks: ['classification'] },
  // One hidden layer of 64: beats the majority baseline on MNIST and dense spam at every batch size and
  // clearly improves on 16 units on MNIST (docs/nets.md has the measurements).
  defaults: { classes: 2, hidden: [64] },
  itemSyntax: 'mlp[:NORMALIZER]',
  parseItem(item, isNormalizer) {
    const m = /^mlp(?::(.+))?$/.exec(item);
    if (m === null || (m[1] !== undefined && !isNormalizer(m[1]))) return null;
    return { normalizer: m[1] ?? 'layer' };
  },
  optionsFrom(v, classes) {
    const hidden = v.hidden === undefined ? undefined : Array.isArray(v.hidden) ? v.hidden : [v.hidden];
    return { ...netOptionsFrom(v, classes), ...(hidden === undefined ? {} : { hidden }) };
  },
  create(options, shape) {
    if (shape.kind !== 'vector') throw inputMismatch(mlpFamily, shape);
    return new Mlp({ ...mlpFamily.defaults, ...options, inputs: shape.dim } as MlpOptions);
  },
  fromState: (s) => Mlp.fromState(s as NetState),
  label: netLabel,
  conformance: [
    mlpCase('mlp/batch/running-stats', { normalizer: 'batch', singletonPolicy: 'running-stats' }),
    mlpCase('mlp/layer/per-layer-dropout/l2-decay', {
      normalizer: 'layer',
      hidden: [8, 4],
      dropout: [0.3, 0.1],
      weightDecay: 0.01,
      weightDecayMode: 'l2',
    }),
    mlpCase('mlp/none/sgd', { optimizer: { type: 'sgd', lr: 0.1 } }),
  ],
};
