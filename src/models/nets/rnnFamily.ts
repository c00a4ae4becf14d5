import { type ModelConformanceCase, type ModelFamily, inputMismatch } from '../modelFamily.js';
import { sampleWindow } from '../sampleInputs.js';
import { netLabel, netOptionsFrom, netWeights } from './netFamily.js';
import { Rnn, type RnnOptions } from './rnn.js';
import type { NetState } from './softmaxNet.js';

const WIN = { inChannels: 2, length: 5 };

/** A conformance case: a small Rnn on `[2, 5]` windows, 3 classes, with `opts` on top. */
export function rnnCase(
  name: string,
  opts: Omit<RnnOptions, 'inChannels' | 'length' | 'classes'>,
): ModelConformanceCase {
  const full = (seed: number): RnnOptions => ({ ...WIN, hidden: 4, classes: 3, ...opts, seed });
  return {
    name,
    make: (seed) => new Rnn(full(seed)),
    makeWith: (extra) => new Rnn({ ...full(0), ...extra } as RnnOptions),
    fromState: (s) => Rnn.fromState(s as NetState),
    sampleX: (rng) => sampleWindow(rng, WIN.inChannels, WIN.length),
    sampleY: (rng) => rng.int(3),
    wrongDimX: (rng) => sampleWindow(rng, WIN.inChannels, WIN.length + 1),
    badLabel: 3,
    weights: netWeights,
  };
}

/**
 * The recurrent family: an Elman cell over a window's time steps with a normalizer per step (BatchNorm per
 * time step against LayerNorm: the design's "unfriendly to recurrent nets"). `hidden` is the cell's width.
 */
export const rnnFamily: ModelFamily<RnnOptions> = {
  name: 'rnn',
  kind: 'Rnn',
  summary:
    'Elman cell over the L time steps of [C, L] windows, normalizer per step → tanh → dense on the mean state',
  traits: { inputs: ['window'], tasks: ['classification'] },
  // 64 units and the mean of the hidden states: the setting with which 'none' beats the majority baseline on
  // the synthetic stream (32 units or the last state stayed at chance) and does better on MNIST read row by
  // row (docs/nets.md has the measurements).
  defaults: { classes: 2, hidden: 64, readout: 'mean' },
  itemSyntax: 'rnn[:NORMALIZER]',
  parseItem(item, isNormalizer) {
    const m = /^rnn(?::(.+))?$/.exec(item);
    if (m === null || (m[1] !== undefined && !isNormalizer(m[1]))) return null;
    return { normalizer: m[1] ?? 'layer' };
  },
  optionsFrom(v, classes) {
    return {
      ...netOptionsFrom(v, classes),
      ...(typeof v.hidden === 'number' ? { hidden: v.hidden } : {}),
      ...(Array.isArray(v.hidden) && v.hidden.length === 1 ? { hidden: v.hidden[0] } : {}),
      ...(v.readout === undefined ? {} : { readout: v.readout }),
    };
  },
  create(options, shape) {
    if (shape.kind !== 'window') throw inputMismatch(rnnFamily, shape);
    return new Rnn({
      ...rnnFamily.defaults,
      ...options,
      inChannels: shape.channels,
      length: shape.length,
    } as RnnOptions);
  },
  fromState: (s) => Rnn.fromState(s as NetState),
  label: netLabel,
  conformance: [
    rnnCase('rnn/layer/adam', { normalizer: 'layer' }),
    rnnCase('rnn/batch/sgd-momentum/dropout', {
      normalizer: 'batch',
      dropout: 0.2,
      optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
    }),
    rnnCase('rnn/group:2/l2', { normalizer: 'group:2', l2: 0.01 }),
    rnnCase('rnn/none/l1', { normalizer: 'none', l1: 0.001 }),
  ],
};
