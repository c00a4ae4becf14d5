/**
 * Model variants for the CLI's live and replay pipelines: parsed from `--variant` / `--into-models` lists
 * or a config file's `variants`, built once the stream's shape is known (the first valid event's), and
 * rebuilt from a checkpoint's saved states.
 *
 * A list item is `NORMALIZER` (a WindowNet with that normalizer, named after it) or `NAME=NORMALIZER`;
 * `linear` is a logistic LinearModel (the default for vector events), `mlp` / `mlp:NORMALIZER` an Mlp.
 */
import { ConfigError, ModelError } from '../errors.js';
import type { Features, ModelState, OnlineModel } from '../models/types.js';
import { createVariant, defaultVariantFor, modelFromState, type VariantSpec } from '../models/variant.js';
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
    const mlp = /^mlp(?::(.+))?$/.exec(what);
    if (what === 'linear') out.push({ name, model: 'linear' });
    else if (mlp !== null && (mlp[1] === undefined || NORMALIZER.test(mlp[1])))
      out.push({ name, model: 'mlp', normalizer: mlp[1] ?? 'layer' });
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

/**
 * The default variant for a stream: a WindowNet with LayerNorm for windows, a logistic LinearModel for vectors
 * (DESIGN "CLI"), learning robustly as `defaultVariantFor` says; `clip` overrides its clip (0: raw inputs).
 */
export function defaultVariants(shape: XShape, clip?: number): VariantConfig[] {
  const spec = defaultVariantFor(exampleFeatures(shape), sparseDim(shape));
  const robust =
    spec.robust === undefined || clip === 0 ? undefined : { clip: clip ?? spec.robust.clip ?? 5 };
  return [
    {
      name: spec.name,
      model: spec.model,
      ...(spec.model === 'windownet' ? { normalizer: 'layer' } : {}),
      ...(robust === undefined ? {} : { robust }),
    },
  ];
}

/** The model module's robust options for a variant config (none when it has none). */
function robustOf(v: VariantConfig): Pick<VariantSpec, 'robust'> {
  if (v.robust === undefined || v.robust === false) return {};
  return {
    robust: {
      ...(v.robust.clip === undefined ? {} : { clip: v.robust.clip }),
      ...(v.robust.stepFactor === undefined ? {} : { step: { factor: v.robust.stepFactor } }),
    },
  };
}

/** Weight count of a sparse stream: the schema's `dim`, else 2^18 (the bundled spam stream's hashing size). */
function sparseDim(shape: XShape): number | undefined {
  return shape.kind === 'sparse' ? (shape.dim ?? 1 << 18) : undefined;
}

/** A zero event of the stream's shape: what createVariant reads the input size from. */
function exampleFeatures(shape: XShape): Features {
  if (shape.kind === 'window')
    return Array.from({ length: shape.shape[0] }, () => new Array<number>(shape.shape[1]).fill(0));
  if (shape.kind === 'vector') return new Array<number>(shape.dim).fill(0);
  return { indices: [], values: [] };
}

/** The model module's VariantSpec for a CLI / config-file variant. */
export function toVariantSpec(v: VariantConfig, shape: XShape, classes = 2): VariantSpec {
  const model = v.model ?? (shape.kind === 'window' ? 'windownet' : 'linear');
  const common = {
    ...(v.dropout === undefined ? {} : { dropout: v.dropout }),
    ...(v.weightDecay === undefined ? {} : { weightDecay: v.weightDecay }),
    ...(v.l1 === undefined ? {} : { l1: v.l1 }),
    ...(v.l2 === undefined ? {} : { l2: v.l2 }),
    ...(v.singletonPolicy === undefined ? {} : { singletonPolicy: v.singletonPolicy }),
    ...(v.lr === undefined ? {} : { optimizer: { type: 'adam' as const, lr: v.lr } }),
    normalizer: v.normalizer ?? 'layer',
    classes,
    seed: v.seed ?? 1,
  };
  if (model === 'windownet') {
    return {
      name: v.name,
      model,
      ...robustOf(v),
      options: {
        ...common,
        ...(typeof v.hidden === 'number' ? { hidden: v.hidden } : {}),
        ...(v.kernel === undefined ? {} : { kernel: v.kernel }),
      },
    };
  }
  if (model === 'mlp') {
    const hidden = v.hidden === undefined ? undefined : Array.isArray(v.hidden) ? v.hidden : [v.hidden];
    return {
      name: v.name,
      model,
      ...robustOf(v),
      options: { ...common, ...(hidden === undefined ? {} : { hidden }) },
    };
  }
  const regularizer =
    v.l1 !== undefined || v.l2 !== undefined
      ? { ...(v.l1 === undefined ? {} : { l1: v.l1 }), ...(v.l2 === undefined ? {} : { l2: v.l2 }) }
      : null;
  const dim = sparseDim(shape);
  return {
    name: v.name,
    model: 'linear',
    ...robustOf(v),
    options: {
      loss: classes > 2 ? 'softmax' : 'logistic',
      regularizer,
      ...(v.lr === undefined ? {} : { optimizer: { type: 'sgd', lr: v.lr } }),
      ...(dim === undefined ? {} : { dim }),
      ...(classes > 2 ? { classes } : {}),
    },
  };
}

/** Builds one model for a stream of the given shape with `classes` classes. */
export function buildModel(v: VariantConfig, shape: XShape, classes = 2): OnlineModel {
  try {
    return createVariant(toVariantSpec(v, shape, classes), exampleFeatures(shape));
  } catch (err) {
    if (err instanceof ModelError) throw new ConfigError(err.message, { cause: err });
    throw err;
  }
}

/** Builds every variant, or restores them from a checkpoint's states (same names required). */
export function buildModels(
  variants: VariantConfig[],
  shape: XShape | null,
  classes = 2,
  states: Readonly<Record<string, ModelState>> | null = null,
): Record<string, OnlineModel> {
  const out: Record<string, OnlineModel> = {};
  for (const v of variants) {
    const s = states?.[v.name];
    if (s !== undefined) out[v.name] = modelFromState(s);
    else if (shape === null)
      throw new ConfigError(
        `variant ${v.name}: not in the checkpoint, and the stream's shape is not known yet`,
      );
    else out[v.name] = buildModel(v, shape, classes);
  }
  return out;
}
