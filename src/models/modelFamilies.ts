import { ModelError } from '../errors.js';
import { RobustModel, type RobustModelState } from './robust.js';
import { EarlyStopping, type EarlyStoppingState } from './earlyStopping.js';
import { linearFamily } from './linear/linearFamily.js';
import type { ModelConformanceCase, ModelFamily } from './modelFamily.js';
import { mlpFamily } from './nets/mlpFamily.js';
import { rnnFamily } from './nets/rnnFamily.js';
import { windowNetCase, windowNetFamily } from './nets/windowNetFamily.js';
import type { ModelState, OnlineModel } from './types.js';

/**
 * Every model family, in one list: the CLI's `model` choices, the config schema, state restore and the
 * conformance suite read it. Adding a family is one file with its class and descriptor, and one line here.
 */
export const modelFamilies: readonly ModelFamily[] = [
  linearFamily as ModelFamily,
  windowNetFamily as ModelFamily,
  mlpFamily as ModelFamily,
  rnnFamily as ModelFamily,
];

/** The `model` keys of a variant, for schemas and help texts. */
export const modelFamilyNames = modelFamilies.map((f) => f.name) as [string, ...string[]];

/** The family a variant's `model` key names, or a ModelError listing the known ones. */
export function modelFamily(name: string): ModelFamily {
  const f = modelFamilies.find((x) => x.name === name);
  if (f === undefined) {
    throw new ModelError(
      `model: expected ${modelFamilyNames.map((n) => `'${n}'`).join(' | ')}, got ${JSON.stringify(name)}`,
    );
  }
  return f;
}

/** Rebuilds any model of this package from its `state()` (dispatch on `kind`), early stopping included. */
export function modelFromState(s: ModelState): OnlineModel {
  const kind = s !== null && typeof s === 'object' ? s.kind : undefined;
  if (kind === 'EarlyStopping') return EarlyStopping.fromState(s as EarlyStoppingState, modelFromState);
  if (kind === 'RobustModel') return RobustModel.fromState(s as RobustModelState, modelFromState);
  const f = modelFamilies.find((x) => x.kind === kind);
  if (f === undefined) throw new ModelError(`modelFromState: unknown model kind ${JSON.stringify(kind)}`);
  return f.fromState(s);
}

/** 'WindowNet(layer)', 'LinearModel', 'EarlyStopping': a short label for a model in tables. */
export function modelLabel(m: OnlineModel): string {
  return modelFamilies.find((f) => f.kind === m.kind)?.label(m) ?? m.kind;
}

// Early stopping wraps any model; small rounds so restores happen within the suite's 120 events.
const esOpts = { holdoutEvery: 3, evalEvery: 4, patience: 2 };
const esInner = windowNetCase('inner', { normalizer: 'layer' });
const earlyStoppingCase: ModelConformanceCase = {
  ...esInner,
  name: 'earlystopping/windownet/layer',
  make: (seed) => new EarlyStopping(esInner.make(seed), modelFromState, esOpts),
  makeWith: (extra) => new EarlyStopping(esInner.make(0), modelFromState, { ...esOpts, ...extra }),
  fromState: (s) => EarlyStopping.fromState(s as EarlyStoppingState, modelFromState),
  weights: (m) => esInner.weights(modelFromState((m.state() as EarlyStoppingState).inner)),
};

/** Every conformance case: each family's own, then the early-stopping wrapper's. */
export const modelConformanceCases: readonly ModelConformanceCase[] = [
  ...modelFamilies.flatMap((f) => f.conformance),
  earlyStoppingCase,
];
