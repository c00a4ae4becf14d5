/**
 * Model variants for the CLI's live and replay pipelines: parsed from `--variant` / `--into-models` lists
 * or a config file's `variants`, built once the stream's shape is known (the first valid event's), and
 * rebuilt from a checkpoint's saved states.
 *
 * A list item is `ITEM` or `NAME=ITEM`, each model family reading its own items (modelFamilies.ts):
 * `NORMALIZER` is a WindowNet with that normalizer (named after it), `linear` a logistic LinearModel (the
 * default for vector events), `mlp` / `mlp:NORMALIZER` an Mlp.
 */
import { didYouMean } from './suggest.js';
import { ConfigError, ModelError } from '../errors.js';
import type { Features, ModelState, OnlineModel } from '../models/types.js';
import { modelFamilies, modelFamily } from '../models/modelFamilies.js';
import type { StreamShape } from '../models/modelFamily.js';
import { createModel, defaultVariantFor, modelFromState, type VariantSpec } from '../models/variant.js';
import { isNormalizerSpec, normalizerGrammar } from '../normalizers/descriptors.js';
import type { XShape } from '../streams/decodeEvents.js';
import type { VariantConfig } from './config.js';

const isNormalizer = (spec: string): boolean => isNormalizerSpec(spec);

/** Words a variant item can be (normalizers and model families, parameters left out), for did-you-mean. */
function variantWords(): string[] {
  const words = new Set<string>();
  for (const g of normalizerGrammar()) words.add(g.split(':')[0]);
  for (const f of modelFamilies)
    for (const w of f.itemSyntax.split(/[^A-Za-z]+/)) if (w.length > 2) words.add(w);
  return [...words].filter((w) => w !== 'NORMALIZER');
}

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
    let parsed: VariantConfig | undefined;
    for (const f of modelFamilies) {
      const o = f.parseItem(what, isNormalizer);
      if (o === null) continue;
      parsed = { name, model: f.name as VariantConfig['model'], ...o };
      break;
    }
    if (parsed === undefined)
      throw new ConfigError(
        `${flag}: '${what}' is not a normalizer or a model${didYouMean(what, variantWords())}: it is not one of ${modelFamilies.map((f) => f.itemSyntax).join(' | ')} ` +
          `(NORMALIZER: ${normalizerGrammar().join(', ')})`,
      );
    out.push(parsed);
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
 * (README "The CLI"), learning robustly as `defaultVariantFor` says; `clip` overrides its clip (0: raw inputs).
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

/** The model module's VariantSpec for a CLI / config-file variant: its family maps the flat options. */
export function toVariantSpec(v: VariantConfig, shape: XShape, classes = 2): VariantSpec {
  const model = v.model ?? (shape.kind === 'window' ? 'windownet' : 'linear');
  return {
    name: v.name,
    model,
    ...robustOf(v),
    options: modelFamily(model).optionsFrom(v, classes),
  } as VariantSpec;
}

/** The model module's StreamShape for decodeEvents' schema (a sparse stream without `dim`: 2^18). */
function streamShape(shape: XShape): StreamShape {
  if (shape.kind === 'window') return { kind: 'window', channels: shape.shape[0], length: shape.shape[1] };
  if (shape.kind === 'vector') return shape;
  return { kind: 'sparse', dim: sparseDim(shape) };
}

/** Builds one model for a stream of the given shape with `classes` classes. */
export function buildModel(v: VariantConfig, shape: XShape, classes = 2): OnlineModel {
  try {
    return createModel(toVariantSpec(v, shape, classes), streamShape(shape));
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
