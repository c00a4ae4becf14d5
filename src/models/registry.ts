import type { Rng } from '../core/rng.js';
import type { Features, ModelState, OnlineModel } from './types.js';
import { LinearModel, type LinearModelOptions, type LinearModelState } from './linearModel.js';
import { EarlyStopping, type EarlyStoppingState } from './earlyStopping.js';
import { Mlp, type MlpOptions } from './nets/mlp.js';
import { modelFromState } from './variant.js';
import type { NetState } from './nets/softmaxNet.js';
import { WindowNet, type WindowNetOptions } from './nets/windowNet.js';

/**
 * One entry of the model conformance registry (River's `check_estimator` idea): every model variant the
 * pipeline can train is listed here, and test/conformance/models.test.ts runs the same checks on each
 * (state round trip, seed determinism, input never mutated, bad input rejected with a named error).
 * To add a model, append an entry; opting out of a check needs a written reason in the suite.
 */
export interface ModelEntry {
  name: string;
  /** A fresh model; the seed drives every random choice it makes (initialization, dropout, ...). */
  make(seed: number): OnlineModel;
  /** The same model built with extra options merged in (the suite passes an unknown one). */
  makeWith(extra: Record<string, unknown>): OnlineModel;
  fromState(s: ModelState): OnlineModel;
  /** A valid input for this model. */
  sampleX(rng: Rng): Features;
  /** A valid label. */
  sampleY(rng: Rng): number;
  /** An input of the wrong dimension or shape. */
  wrongDimX(rng: Rng): Features;
  /** A label out of range; absent when every finite label is valid (regression). */
  badLabel?: number;
}

const D = 6;
const SPARSE_DIM = 64;

function dense(rng: Rng, d = D): number[] {
  return Array.from({ length: d }, () => rng.normal());
}

function sparse(rng: Rng): Features {
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < 5; i++) {
    indices.push(rng.int(SPARSE_DIM));
    values.push(rng.normal());
  }
  return { indices, values };
}

function linear(
  name: string,
  opts: LinearModelOptions,
  input: 'dense' | 'sparse',
  label: (rng: Rng) => number,
  badLabel?: number,
): ModelEntry {
  return {
    name,
    make: () => new LinearModel(opts),
    makeWith: (extra) => new LinearModel({ ...opts, ...extra } as LinearModelOptions),
    fromState: (s) => LinearModel.fromState(s as LinearModelState),
    sampleX: input === 'dense' ? (rng) => dense(rng) : sparse,
    sampleY: label,
    wrongDimX:
      input === 'dense' ? (rng) => dense(rng, D + 1) : () => ({ indices: [SPARSE_DIM], values: [1] }),
    ...(badLabel === undefined ? {} : { badLabel }),
  };
}

const real = (rng: Rng): number => rng.normal();
const bit = (rng: Rng): number => rng.int(2);

/** Every model variant, in one easy-to-append array. */
export const modelRegistry: ModelEntry[] = [
  linear(
    'linear/squared/sgd/elasticnet',
    { loss: 'squared', regularizer: { l1: 0.01, l2: 0.01 }, optimizer: { type: 'sgd', lr: 0.05 }, dim: D },
    'dense',
    real,
  ),
  linear(
    'linear/logistic/sgd-invscaling/l2',
    {
      loss: 'logistic',
      regularizer: { l2: 0.01 },
      optimizer: { type: 'sgd', lr: 0.5, schedule: 'invscaling' },
    },
    'dense',
    bit,
    2,
  ),
  linear(
    'linear/hinge/sgd-optimal/l1',
    { loss: 'hinge', regularizer: { l1: 0.01 }, optimizer: { type: 'sgd', schedule: 'optimal' }, dim: D },
    'dense',
    bit,
    -1,
  ),
  linear(
    'linear/exponential/adam',
    { loss: 'exponential', optimizer: { type: 'adam', lr: 0.05 }, dim: D },
    'dense',
    bit,
    0.5,
  ),
  linear(
    'linear/softmax/adagrad/l1',
    {
      loss: 'softmax',
      classes: 3,
      regularizer: { l1: 0.01 },
      optimizer: { type: 'adagrad', lr: 0.1 },
      dim: D,
    },
    'dense',
    (rng) => rng.int(3),
    3,
  ),
  linear(
    'linear/squared/adagrad/lp1.5',
    {
      loss: 'squared',
      regularizer: { lp: { p: 1.5, lambda: 0.05 } },
      optimizer: { type: 'adagrad', lr: 0.1 },
      dim: D,
    },
    'dense',
    real,
  ),
  linear(
    'linear/squared/sgd/l0',
    { loss: 'squared', regularizer: { l0: { k: 3 } }, optimizer: { type: 'sgd', lr: 0.05 }, dim: D },
    'dense',
    real,
  ),
  linear(
    'linear/logistic/ftrl/sparse',
    {
      loss: 'logistic',
      regularizer: { l1: 0.01, l2: 0.01 },
      optimizer: { type: 'ftrl', alpha: 0.5, beta: 1 },
      dim: SPARSE_DIM,
    },
    'sparse',
    bit,
    2,
  ),
  linear(
    'linear/squared/sgd/sparse-lazy-l1',
    {
      loss: 'squared',
      regularizer: { l1: 0.01, l2: 0.001 },
      optimizer: { type: 'sgd', lr: 0.05 },
      dim: SPARSE_DIM,
    },
    'sparse',
    real,
  ),
  linear(
    'linear/softmax/adagrad/sparse-lazy',
    {
      loss: 'softmax',
      classes: 4,
      regularizer: { l1: 0.005, l2: 0.01 },
      optimizer: { type: 'adagrad', lr: 0.2 },
      dim: SPARSE_DIM,
    },
    'sparse',
    (rng) => rng.int(4),
    4,
  ),
];

// ---- Small nets (WindowNet, Mlp): one entry per normalizer family, with the regularizers spread over them.

const WIN = { inChannels: 2, length: 8 };

function window(rng: Rng, channels = WIN.inChannels, length = WIN.length): number[][] {
  return Array.from({ length: channels }, () => Array.from({ length }, () => rng.normal()));
}

function windowNet(
  name: string,
  opts: Omit<WindowNetOptions, 'inChannels' | 'length' | 'classes'>,
): ModelEntry {
  const full = (seed: number): WindowNetOptions => ({
    ...WIN,
    hidden: 4,
    kernel: 3,
    classes: 3,
    ...opts,
    seed,
  });
  return {
    name,
    make: (seed) => new WindowNet(full(seed)),
    makeWith: (extra) => new WindowNet({ ...full(0), ...extra } as WindowNetOptions),
    fromState: (s) => WindowNet.fromState(s as NetState),
    sampleX: (rng) => window(rng),
    sampleY: (rng) => rng.int(3),
    wrongDimX: (rng) => window(rng, WIN.inChannels + 1),
    badLabel: 3,
  };
}

function mlp(name: string, opts: Omit<MlpOptions, 'inputs' | 'classes'>): ModelEntry {
  const full = (seed: number): MlpOptions => ({ inputs: D, hidden: [8], classes: 2, ...opts, seed });
  return {
    name,
    make: (seed) => new Mlp(full(seed)),
    makeWith: (extra) => new Mlp({ ...full(0), ...extra } as MlpOptions),
    fromState: (s) => Mlp.fromState(s as NetState),
    sampleX: (rng) => dense(rng),
    sampleY: bit,
    wrongDimX: (rng) => dense(rng, D + 1),
    badLabel: 2,
  };
}

modelRegistry.push(
  windowNet('windownet/layer/adam', { normalizer: 'layer' }),
  windowNet('windownet/batch/sgd-momentum/dropout', {
    normalizer: 'batch',
    dropout: 0.2,
    optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
  }),
  windowNet('windownet/instance/l2', { normalizer: 'instance', l2: 0.01 }),
  windowNet('windownet/group:2/adamw/augment', {
    normalizer: 'group:2',
    weightDecay: 0.01,
    augment: { jitter: 0.05, scale: 0.1, shift: 1 },
  }),
  windowNet('windownet/batchrenorm', { normalizer: 'batchrenorm' }),
  windowNet('windownet/online/l1', { normalizer: 'online', l1: 0.001 }),
  mlp('mlp/batch/running-stats', { normalizer: 'batch', singletonPolicy: 'running-stats' }),
  mlp('mlp/layer/per-layer-dropout/l2-decay', {
    normalizer: 'layer',
    hidden: [8, 4],
    dropout: [0.3, 0.1],
    weightDecay: 0.01,
    weightDecayMode: 'l2',
  }),
  mlp('mlp/none/sgd', { optimizer: { type: 'sgd', lr: 0.1 } }),
);

// Early stopping wraps any model; small rounds so restores happen within the suite's 120 events.
const esOpts = { holdoutEvery: 3, evalEvery: 4, patience: 2 };
const esInner = windowNet('inner', { normalizer: 'layer' });
modelRegistry.push({
  ...esInner,
  name: 'earlystopping/windownet/layer',
  make: (seed) => new EarlyStopping(esInner.make(seed), modelFromState, esOpts),
  makeWith: (extra) => new EarlyStopping(esInner.make(0), modelFromState, { ...esOpts, ...extra }),
  fromState: (s) => EarlyStopping.fromState(s as EarlyStoppingState, modelFromState),
});
