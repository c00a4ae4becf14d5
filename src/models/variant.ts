import { ModelError } from '../errors.js';
import { EarlyStopping, type EarlyStoppingOptions } from './earlyStopping.js';
import type { LinearModelOptions } from './linear/index.js';
import { modelFamily, modelFromState } from './modelFamilies.js';
import type { StreamShape } from './modelFamily.js';
import type { MlpOptions } from './nets/mlp.js';
import type { WindowNetOptions } from './nets/windowNet.js';
import { type Features, type OnlineModel, isSparse } from './types.js';
import { RobustModel, type RobustOptions } from './robust.js';

/**
 * A named model variant of a run or a comparison. `options` are the model's own options minus what the
 * first event's shape determines (`dim` of dense vectors, `inChannels`/`length` of windows, `inputs` of
 * an Mlp); `earlyStopping` wraps the model in {@link EarlyStopping}.
 */
export type VariantSpec =
  | {
      name: string;
      model: 'linear';
      options?: Partial<LinearModelOptions>;
      earlyStopping?: EarlyStoppingOptions;
      robust?: RobustOptions;
    }
  | {
      name: string;
      model: 'windownet';
      options?: Partial<WindowNetOptions>;
      earlyStopping?: EarlyStoppingOptions;
      robust?: RobustOptions;
    }
  | {
      name: string;
      model: 'mlp';
      options?: Partial<MlpOptions>;
      earlyStopping?: EarlyStoppingOptions;
      robust?: RobustOptions;
    };

/** The shape of one event's features, as the variants need it. */
export type FeatureKind = StreamShape;

/** Reads the shape of a first event's `x`, naming what is wrong with it. */
export function featureKind(x: Features): FeatureKind {
  if (isSparse(x)) return { kind: 'sparse' };
  if (x instanceof Float64Array) return { kind: 'vector', dim: x.length };
  if (!Array.isArray(x) || x.length === 0)
    throw new ModelError(`x: expected a vector, a window or a sparse vector`);
  if (Array.isArray(x[0])) {
    const rows = x as number[][];
    const length = rows[0].length;
    if (length === 0 || rows.some((r) => !Array.isArray(r) || r.length !== length)) {
      throw new ModelError(`x: a window needs C rows of equal, non-zero length L`);
    }
    return { kind: 'window', channels: rows.length, length };
  }
  return { kind: 'vector', dim: x.length };
}

/**
 * Builds the model a variant describes for a stream whose first valid event has features `x`.
 * Classifier class count: `options.classes` (default 2).
 *
 * @example
 * const m = createVariant({ name: 'bn', model: 'windownet', options: { normalizer: 'batch' } }, firstEvent.x);
 */
export function createVariant(spec: VariantSpec, x: Features): OnlineModel {
  checkName(spec);
  return createModel(spec, featureKind(x));
}

/**
 * Builds the model a variant describes for a stream of the given shape: the one path every model of a run,
 * a replay or a comparison is built along (through its family's descriptor, modelFamilies.ts).
 */
export function createModel(spec: VariantSpec, shape: StreamShape): OnlineModel {
  checkName(spec);
  const where = `variant ${spec.name}`;
  let model: OnlineModel;
  try {
    const family = modelFamily(spec.model);
    const opts = (spec.options ?? {}) as Record<string, unknown>;
    if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
      throw new ModelError(`options: expected an object`);
    }
    model = family.create(opts, shape);
  } catch (e) {
    if (e instanceof ModelError && !e.message.startsWith(where)) {
      throw new ModelError(`${where}: ${e.message}`, { cause: e });
    }
    throw e;
  }
  // Robust inputs and steps (standardize, clip, step guard): see RobustModel.
  if (spec.robust !== undefined) model = new RobustModel(model, modelFromState, spec.robust);
  if (spec.earlyStopping === undefined) return model;
  return new EarlyStopping(model, modelFromState, spec.earlyStopping);
}

function checkName(spec: VariantSpec): void {
  if (spec === null || typeof spec !== 'object') throw new ModelError('variant: expected an object');
  if (typeof spec.name !== 'string' || spec.name.length === 0) {
    throw new ModelError(`variant.name: expected a non-empty string, got ${JSON.stringify(spec.name)}`);
  }
}

/** Robust learning of the default models: inputs standardized and clipped at ±5 standard deviations, step guard on. */
export const DEFAULT_ROBUST: RobustOptions = { clip: 5 };

/**
 * The default variant for a stream (README "The CLI"): a logistic LinearModel for vectors (sparse vectors need
 * `dim`), a WindowNet with LayerNorm for windows — LayerNorm because it trains the same at every arrival
 * batch size, so a default consumer never meets BatchNorm's singleton-batch failure. Dense vectors and
 * windows learn robustly ({@link DEFAULT_ROBUST}: streaming scaler, clip, step guard), so one extreme event
 * cannot wreck a trained default model; hashed sparse vectors have no stable per-feature scale and learn raw.
 */
export function defaultVariantFor(x: Features, dim?: number): VariantSpec {
  const shape = featureKind(x);
  if (shape.kind === 'window')
    return { name: 'default', model: 'windownet', options: { normalizer: 'layer' }, robust: DEFAULT_ROBUST };
  if (shape.kind === 'sparse') {
    if (dim === undefined || !Number.isInteger(dim) || dim < 1) {
      throw new ModelError(`dim: sparse events need the weight count, got ${String(dim)}`);
    }
    return { name: 'default', model: 'linear', options: { loss: 'logistic', dim } };
  }
  return { name: 'default', model: 'linear', options: { loss: 'logistic' }, robust: DEFAULT_ROBUST };
}

export { modelFromState };
