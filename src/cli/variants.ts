/**
 * Model variants for the CLI's live and replay pipelines: parsed from `--variant` / `--into-models` lists
 * or a config file's `variants`, built once the stream's shape is known (the first valid event's), and
 * rebuilt from a checkpoint's saved states.
 *
 * A list item is `NORMALIZER` (a WindowNet with that normalizer, named after it) or `NAME=NORMALIZER`;
 * `linear` is a logistic LinearModel (the default for vector events).
 */
import { ConfigError } from '../errors.js';
import { LinearModel, type LinearModelState } from '../models/linearModel.js';
import { WindowNet } from '../models/nets/windowNet.js';
import type { NetState } from '../models/nets/softmaxNet.js';
import type { ModelState, OnlineModel } from '../models/types.js';
import type { XShape } from '../streams/decodeEvents.js';
import type { VariantConfig } from './config.js';

const NORMALIZER = /^(batch|layer|instance|group:\d+|batchrenorm|online|none)$/;

/** Parses 'batch,layer,ln=layer,linear' into variant configs; names must be unique. */
export function parseVariantList(text: string, flag = '--variant'): VariantConfig[] {
  const out: VariantConfig[] = [];
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const what = eq < 0 ? item : item.slice(eq + 1);
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(name))
      throw new ConfigError(`${flag}: bad variant name '${name}' (use [A-Za-z0-9_.:-])`);
    if (what === 'linear') out.push({ name, model: 'linear' });
    else if (NORMALIZER.test(what)) out.push({ name, model: 'windownet', normalizer: what });
    else
      throw new ConfigError(
        `${flag}: '${what}' is not a normalizer (batch, layer, instance, group:G, batchrenorm, online, none) or 'linear'`,
      );
  }
  if (out.length === 0) throw new ConfigError(`${flag}: no variants given`);
  const seen = new Set<string>();
  for (const v of out) {
    if (seen.has(v.name)) throw new ConfigError(`${flag}: variant name '${v.name}' given twice`);
    seen.add(v.name);
  }
  return out;
}

/** The default variant for a stream: a WindowNet with LayerNorm for windows, a logistic LinearModel for vectors (DESIGN "CLI"). */
export function defaultVariants(shape: XShape): VariantConfig[] {
  return shape.kind === 'window'
    ? [{ name: 'default', model: 'windownet', normalizer: 'layer' }]
    : [{ name: 'default', model: 'linear' }];
}

/** Builds one model for a stream of the given shape with `classes` classes. */
export function buildModel(v: VariantConfig, shape: XShape, classes = 2): OnlineModel {
  const model = v.model ?? (shape.kind === 'window' ? 'windownet' : 'linear');
  if (model === 'windownet') {
    if (shape.kind !== 'window')
      throw new ConfigError(
        `variant ${v.name}: a WindowNet needs window events [C, L], the stream has ${shape.kind} events`,
      );
    return new WindowNet({
      inChannels: shape.shape[0],
      length: shape.shape[1],
      hidden: typeof v.hidden === 'number' ? v.hidden : 16,
      kernel: v.kernel ?? 3,
      normalizer: v.normalizer ?? 'layer',
      dropout: typeof v.dropout === 'number' ? v.dropout : 0,
      classes,
      optimizer: { type: 'adam', lr: v.lr ?? 0.01 },
      weightDecay: v.weightDecay ?? 0,
      l1: v.l1 ?? 0,
      l2: v.l2 ?? 0,
      singletonPolicy: v.singletonPolicy ?? 'running-stats',
      seed: v.seed ?? 1,
    });
  }
  if (model === 'linear') {
    const dim =
      shape.kind === 'vector'
        ? shape.dim
        : shape.kind === 'sparse'
          ? (shape.dim ?? 1 << 18)
          : shape.shape[0] * shape.shape[1];
    if (shape.kind === 'window')
      throw new ConfigError(`variant ${v.name}: a LinearModel needs vector events, the stream has windows`);
    const regularizer =
      v.l1 !== undefined || v.l2 !== undefined
        ? { ...(v.l1 === undefined ? {} : { l1: v.l1 }), ...(v.l2 === undefined ? {} : { l2: v.l2 }) }
        : null;
    return new LinearModel({
      loss: classes > 2 ? 'softmax' : 'logistic',
      regularizer,
      optimizer: { type: 'adagrad', lr: v.lr ?? 0.1 },
      dim,
      ...(classes > 2 ? { classes } : {}),
    });
  }
  throw new ConfigError(`variant ${v.name}: model '${model}' is not available from the CLI yet`);
}

/** Builds every variant, or restores them from a checkpoint's states (same names required). */
export function buildModels(
  variants: VariantConfig[],
  shape: XShape,
  classes = 2,
  states: Readonly<Record<string, ModelState>> | null = null,
): Record<string, OnlineModel> {
  const out: Record<string, OnlineModel> = {};
  for (const v of variants) {
    const s = states?.[v.name];
    if (s === undefined) out[v.name] = buildModel(v, shape, classes);
    else if (s.kind === 'WindowNet') out[v.name] = WindowNet.fromState(s as NetState);
    else if (s.kind === 'LinearModel') out[v.name] = LinearModel.fromState(s as LinearModelState);
    else
      throw new ConfigError(
        `checkpoint: variant ${v.name} has a model of kind '${s.kind}' the CLI cannot restore`,
      );
  }
  return out;
}
