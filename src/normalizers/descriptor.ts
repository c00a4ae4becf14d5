/**
 * What the rest of the project knows about a normalizer family, kept beside its class (River's estimators
 * carry their own test parameters the same way): its spec grammar, factory, state restore, traits and
 * conformance cases. `descriptors.ts` lists them; the nets, the CLI grammar, the config schema, compare and
 * the conformance suite read that list instead of keeping copies.
 */
import type { Normalizer, NormalizerState } from './normalizer.js';

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
  /** Configurations for the conformance suite (empty for 'none'). */
  conformance: readonly ConformanceCase[];
}

/** Parser of a spec that is one fixed word (`'batch'`, `'layer'`, ...). */
export function wordSpec<K extends string>(kind: K): (text: string) => { kind: K } | null {
  return (text) => (text === kind ? { kind } : null);
}

/** `[C]` or `[C, L]` as the trailing shape LayerNorm-like layers normalize over. */
export function trailingShape({ channels, length }: FeatureShape): number[] {
  return length === undefined ? [channels] : [channels, length];
}
