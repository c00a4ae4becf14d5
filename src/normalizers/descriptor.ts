/**
 * What the rest of the project knows about a normalizer family, kept beside its class (River's estimators
 * carry their own test parameters the same way): its spec grammar, factory, state restore, traits and
 * conformance cases. `descriptors.ts` lists them; the nets, the CLI grammar, the config schema, compare and
 * the conformance suite read that list instead of keeping copies.
 */
import type { StatisticsMerge } from './moments.js';
import type { Normalizer, NormalizerState } from './normalizer.js';
import { type AnyLayout, readOptions } from './stateCodec.js';

/** The feature shape a normalizer sees per sample: `[C]` (length undefined) or `[C, L]`. */
export interface FeatureShape {
  channels: number;
  length?: number;
}

/** A parsed normalizer spec: the family's kind and its parameters (e.g. `{ kind: 'group', groups: 4 }`). */
export interface NormalizerSpec {
  kind: string;
  [param: string]: unknown;
}

export interface NormalizerTraits {
  /** One sample's output never depends on the rest of its batch (in training; no train-inference gap). */
  perSample: boolean;
  /** Needs windows `[C, L]` with L > 1 (refuses vectors `[C]`). */
  needsWindows: boolean;
  /** Training needs more than one value per channel in the batch (N·L > 1). */
  needsBatchStatistics: boolean;
}

/** One configuration the conformance suite exercises (test/conformance/normalizerChecks.ts). */
export interface ConformanceCase {
  /** Display name, unique across all descriptors. */
  name: string;
  /** Builds a fresh instance for per-sample feature shape `shape`. */
  create(shape: FeatureShape): Normalizer;
  /** Has running statistics that move in training and stay put in inference. */
  hasRunningStats: boolean;
  /**
   * When the layer's backward is, by the paper's definition, not the derivative of its forward, a
   * configuration where it is, and why. Finite differences check that configuration (on one-sample
   * batches when `oneSample`).
   */
  gradientCheck?: { create(shape: FeatureShape): Normalizer; why: string; oneSample?: boolean };
}

export interface NormalizerDescriptor<S extends NormalizerSpec = NormalizerSpec> {
  /** The family's kind: the spec's head and the `kind` of its `state()`. */
  kind: string;
  /** The spec as help text writes it: `'batch'`, `'group:G'`. */
  grammar: string;
  /** What the grammar's placeholders must be, for error messages (`'G a positive integer'`). */
  grammarNote?: string;
  /** The spec compare runs by default (e.g. `'group:4'`); absent: not in compare's default grid. */
  compareDefault?: string;
  /** The one parser of this family's specs: the parsed spec, or null when `text` is not one of them. */
  parse(text: string): S | null;
  /**
   * Builds the normalizer a net puts after a layer with per-sample shape `shape` (null: no normalizer).
   * Throws a NormalizationError when the shape does not suit it.
   */
  create(spec: S, shape: FeatureShape): Normalizer | null;
  /** Rebuilds an instance from its `state()` (absent for 'none', which has no state). */
  fromState?(s: NormalizerState): Normalizer;
  traits: NormalizerTraits;
  /** How replicas' running statistics merge (scale-out); absent: the family keeps none. */
  merge?: StatisticsMerge;
  /** Configurations for the conformance suite (empty for 'none'). */
  conformance: readonly ConformanceCase[];
}

/** A normalizer class as a family needs it: its constructor and its static `fromState`. */
export interface NormalizerClass<O> {
  new (opts: O): Normalizer;
  fromState(s: never): Normalizer;
}

/** What a family adds to its class's layout (see {@link family}). */
export interface FamilySpec<O, S extends NormalizerSpec> {
  /** The constructor options a per-sample feature shape gives (`{ channels }`, LayerNorm's `{ shape }`). */
  shapeOptions(shape: FeatureShape): O;
  /** The factory's options beyond the shape's and the class defaults: from the parsed spec, or fixed ones. */
  factoryOptions?(spec: S): Partial<O>;
  /** Spec grammar when it is more than the kind as one word: help text, note, parser, compare's default. */
  grammar?: { text: string; note: string; parse(text: string): S | null; compareDefault: string };
  /**
   * Conformance cases by name: the options beyond the shape's, and the gradient-check configuration where
   * the layer's backward is by definition not its forward's derivative.
   */
  cases: Record<string, { options?: Partial<O>; gradientCheck?: ConformanceCase['gradientCheck'] }>;
  /** How replicas' running statistics merge (scale-out), when the family keeps any. */
  merge?: StatisticsMerge;
}

/**
 * A family's descriptor from its class, the layout the class is built from (kind, traits, options,
 * buffers) and what only the family knows: how a feature shape and a spec become options, and its
 * conformance cases. A case has running statistics when the layout keeps a buffer for its options.
 */
export function family<O extends object, S extends NormalizerSpec = { kind: string }>(
  layout: AnyLayout,
  cls: NormalizerClass<O>,
  spec: FamilySpec<NoInfer<O>, S>,
): NormalizerDescriptor<S> {
  const make = (shape: FeatureShape, extra: Partial<O> | undefined): Normalizer =>
    new cls({ ...spec.shapeOptions(shape), ...extra });
  const keepsStatistics = (extra: Partial<O> | undefined): boolean => {
    const o = readOptions(layout.who, layout.options, {
      ...spec.shapeOptions({ channels: 4, length: 5 }),
      ...extra,
    });
    return Object.values(layout.buffers).some((when) => when === true || o[when] === true);
  };
  const word = layout.kind;
  return {
    kind: word,
    grammar: spec.grammar?.text ?? word,
    grammarNote: spec.grammar?.note,
    compareDefault: spec.grammar?.compareDefault ?? word,
    parse: spec.grammar?.parse ?? ((text) => (text === word ? ({ kind: word } as S) : null)),
    create: (s, shape) => make(shape, spec.factoryOptions?.(s)),
    fromState: (s) => cls.fromState(s as never),
    traits: layout.traits,
    ...(spec.merge ? { merge: spec.merge } : {}),
    conformance: Object.entries(spec.cases).map(([name, c]) => ({
      name,
      create: (shape: FeatureShape) => make(shape, c.options),
      hasRunningStats: keepsStatistics(c.options),
      ...(c.gradientCheck ? { gradientCheck: c.gradientCheck } : {}),
    })),
  };
}

/** `[C]` or `[C, L]` as the trailing shape LayerNorm-like layers normalize over. */
export function trailingShape({ channels, length }: FeatureShape): number[] {
  return length === undefined ? [channels] : [channels, length];
}
