import { type ModelConformanceCase, type ModelFamily, inputMismatch } from '../modelFamily.js';
import { sampleWindow } from '../sampleInputs.js';
import { netLabel, netOptionsFrom, netWeights } from './netFamily.js';
import type { NetState } from './softmaxNet.js';
import { WindowNet, type WindowNetOptions } from './windowNet.js';

const WIN = { inChannels: 2, length: 8 };

/** A conformance case: a small WindowNet on `[2, 8]` windows, 3 classes, with `opts` on top. */
export function windowNetCase(
  name: string,
  opts: Omit<WindowNetOptions, 'inChannels' | 'length' | 'classes'>,
): ModelConformanceCase {
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
    sampleX: (rng) => sampleWindow(rng, WIN.inChannels, WIN.length),
    sampleY: (rng) => rng.int(3),
    wrongDimX: (rng) => sampleWindow(rng, WIN.inChannels + 1, WIN.length),
    badLabel: 3,
    weights: netWeights,
  };
}

/**
 * The WindowNet family: a 1-D conv classifier for `[C, L]` windows with a normalizer after the conv. Its
 * conformance cases give each normalizer one net, with the regularizers spread over them.
 */
export const windowNetFamily: ModelFamily<WindowNetOptions> = {
  name: 'windownet',
  kind: 'WindowNet',
  summary: 'conv1d → normalizer → ReLU → dropout → global average pool → dense, for windows [C, L]',
  traits: { inputs: ['window'], tasks: ['classification'] },
  // kernel 7 / 16 channels: the smallest setting with which 'none' beats the majority baseline on the
  // bundled window streams (docs/nets.md has the measurements); kernel 3 stayed near chance on slow signals.
  defaults: { classes: 2, hidden: 16, kernel: 7 },
  itemSyntax: 'NORMALIZER',
  parseItem: (item, isNormalizer) => (isNormalizer(item) ? { normalizer: item } : null),
  optionsFrom(v, classes) {
    return {
      ...netOptionsFrom(v, classes),
      ...(typeof v.hidden === 'number' ? { hidden: v.hidden } : {}),
      ...(v.kernel === undefined ? {} : { kernel: v.kernel }),
    };
  },
  create(options, shape) {
    if (shape.kind !== 'window') throw inputMismatch(windowNetFamily, shape);
    // The default kernel never exceeds a short window: it leaves a conv output of length ≥ 2 when it can.
    const kernel =
      options.kernel ?? Math.max(1, Math.min(windowNetFamily.defaults.kernel!, shape.length - 1));
    return new WindowNet({
      ...windowNetFamily.defaults,
      ...options,
      kernel,
      inChannels: shape.channels,
      length: shape.length,
    } as WindowNetOptions);
  },
  fromState: (s) => WindowNet.fromState(s as NetState),
  label: netLabel,
  conformance: [
    windowNetCase('windownet/layer/adam', { normalizer: 'layer' }),
    windowNetCase('windownet/batch/sgd-momentum/dropout', {
      normalizer: 'batch',
      dropout: 0.2,
      optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
    }),
    windowNetCase('windownet/instance/l2', { normalizer: 'instance', l2: 0.01 }),
    windowNetCase('windownet/group:2/adamw/augment', {
      normalizer: 'group:2',
      weightDecay: 0.01,
      augment: { jitter: 0.05, scale: 0.1, shift: 1 },
    }),
    windowNetCase('windownet/group:2+ws', { normalizer: 'group:2+ws' }),
    windowNetCase('windownet/batchrenorm', { normalizer: 'batchrenorm' }),
    windowNetCase('windownet/online/l1', { normalizer: 'online', l1: 0.001 }),
  ],
};
