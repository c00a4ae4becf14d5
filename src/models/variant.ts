import { ModelError } from '../errors.js';
import { EarlyStopping, type EarlyStoppingOptions, type EarlyStoppingState } from './earlyStopping.js';
import { LinearModel, type LinearModelOptions, type LinearModelState } from './linearModel.js';
import { Mlp, type MlpOptions } from './nets/mlp.js';
import type { NetState } from './nets/softmaxNet.js';
import { WindowNet, type WindowNetOptions } from './nets/windowNet.js';
import { RobustModel, type RobustModelState, type RobustOptions } from './robust.js';
import { type Features, type ModelState, type OnlineModel, isSparse } from './types.js';

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

const MODELS = ['linear', 'windownet', 'mlp'];

/** The shape of one event's features, as the variants need it. */
export type FeatureKind =
  { kind: 'vector'; dim: number } | { kind: 'sparse' } | { kind: 'window'; channels: number; length: number };

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
  if (spec === null || typeof spec !== 'object') throw new ModelError('variant: expected an object');
  if (typeof spec.name !== 'string' || spec.name.length === 0) {
    throw new ModelError(`variant.name: expected a non-empty string, got ${JSON.stringify(spec.name)}`);
  }
  const where = `variant ${spec.name}`;
  if (!MODELS.includes(spec.model)) {
    throw new ModelError(
      `${where}: model: expected 'linear' | 'windownet' | 'mlp', got ${JSON.stringify(spec.model)}`,
    );
  }
  const opts = (spec.options ?? {}) as Record<string, unknown>;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new ModelError(`${where}: options: expected an object`);
  }
  const shape = featureKind(x);
  let model: OnlineModel;
  try {
    model = build(spec.model, opts, shape, where);
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

function build(model: string, opts: Record<string, unknown>, shape: FeatureKind, where: string): OnlineModel {
  const classes = opts.classes ?? 2;
  if (model === 'windownet') {
    if (shape.kind !== 'window') {
      throw new ModelError(
        `${where}: model: a WindowNet needs window events [C, L], the first event is a ${shape.kind}`,
      );
    }
    return new WindowNet({
      ...opts,
      inChannels: shape.channels,
      length: shape.length,
      classes,
    } as WindowNetOptions);
  }
  if (model === 'mlp') {
    if (shape.kind !== 'vector') {
      throw new ModelError(
        `${where}: model: an Mlp needs dense vector events, the first event is a ${shape.kind}`,
      );
    }
    return new Mlp({ ...opts, inputs: shape.dim, classes } as MlpOptions);
  }
  if (shape.kind === 'window') {
    throw new ModelError(`${where}: model: a LinearModel needs vector events, the first event is a window`);
  }
  if (shape.kind === 'sparse' && opts.dim === undefined) {
    throw new ModelError(
      `${where}: options.dim: sparse events need the weight count (e.g. 2^20 for hashed features)`,
    );
  }
  const o = { loss: 'logistic', ...opts } as LinearModelOptions;
  if (shape.kind === 'vector' && o.dim === undefined) o.dim = shape.dim;
  return new LinearModel(o);
}

/** Robust learning of the default models: inputs standardized and clipped at ±5 standard deviations, step guard on. */
export const DEFAULT_ROBUST: RobustOptions = { clip: 5 };

/**
 * The default variant for a stream (DESIGN "CLI"): a logistic LinearModel for vectors (sparse vectors need
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

/** Rebuilds any model of this package from its `state()` (dispatch on `kind`). */
export function modelFromState(s: ModelState): OnlineModel {
  const kind = s !== null && typeof s === 'object' ? s.kind : undefined;
  switch (kind) {
    case 'LinearModel':
      return LinearModel.fromState(s as LinearModelState);
    case 'WindowNet':
      return WindowNet.fromState(s as NetState);
    case 'Mlp':
      return Mlp.fromState(s as NetState);
    case 'RobustModel':
      return RobustModel.fromState(s as RobustModelState, modelFromState);
    case 'EarlyStopping':
      return EarlyStopping.fromState(s as EarlyStoppingState, modelFromState);
    default:
      throw new ModelError(`modelFromState: unknown model kind ${JSON.stringify(kind)}`);
  }
}
