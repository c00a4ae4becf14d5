/**
 * The list of normalizer families, one descriptor each (kept beside its class), and what is derived from
 * it: spec parsing, the factory the nets use, state restore, the per-sample test, compare's default grid
 * and the conformance cases. Adding a normalizer is its file (class + descriptor) and one line here.
 */
import { NormalizationError } from '../errors.js';
import { batchNormDescriptor } from './batchNorm.js';
import { batchRenormDescriptor } from './batchRenorm.js';
import type {
  ConformanceCase,
  FeatureShape,
  NormalizerDescriptor,
  NormalizerSpec,
  NormalizerTraits,
} from './descriptor.js';
import { groupNormDescriptor } from './groupNorm.js';
import { instanceNormDescriptor } from './instanceNorm.js';
import { layerNormDescriptor } from './layerNorm.js';
import type { Normalizer, NormalizerState } from './normalizer.js';
import type { StatisticsMerge } from './moments.js';
import { onlineNormDescriptor } from './onlineNorm.js';
import { standardScalerMerge } from './standardScaler.js';

/** No normalization layer: the net passes its activations on unchanged. */
export const noneDescriptor: NormalizerDescriptor = {
  kind: 'none',
  grammar: 'none',
  compareDefault: 'none',
  parse: (text) => (text === 'none' ? { kind: 'none' } : null),
  create: () => null,
  traits: { perSample: true, needsWindows: false, needsBatchStatistics: false },
  conformance: [],
};

const list: NormalizerDescriptor[] = [
  batchNormDescriptor,
  layerNormDescriptor,
  instanceNormDescriptor,
  groupNormDescriptor,
  batchRenormDescriptor,
  onlineNormDescriptor,
  noneDescriptor,
] as NormalizerDescriptor[];

/** Every normalizer family, in the order help text and compare's defaults list them. */
export const normalizerDescriptors: readonly NormalizerDescriptor[] = list;

/**
 * Adds a family to the list (a plugin, or a test's throwaway normalizer); returns the function that
 * removes it again. Refuses a kind that is already listed.
 */
export function registerNormalizer<S extends NormalizerSpec>(d: NormalizerDescriptor<S>): () => void {
  if (list.some((e) => e.kind === d.kind)) {
    throw new NormalizationError(`registerNormalizer: kind '${d.kind}' is already registered`);
  }
  const entry = d as unknown as NormalizerDescriptor;
  list.push(entry);
  return () => {
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
  };
}

/** The spec strings `createNormalizer` accepts, as help text writes them (`'group:G'`). */
export function normalizerGrammar(): string[] {
  return list.map((d) => d.grammar);
}

/** The spec strings, as of import (kept for callers of the old constant; {@link normalizerGrammar} is live). */
export const normalizerSpecs: readonly string[] = normalizerGrammar();

function lookup(text: string): { descriptor: NormalizerDescriptor; spec: NormalizerSpec } | null {
  if (typeof text !== 'string') return null;
  for (const descriptor of list) {
    const spec = descriptor.parse(text);
    if (spec !== null) return { descriptor, spec };
  }
  return null;
}

/** What a spec may be, for error messages: `batch, layer, ..., group:G (G a positive integer)`. */
export function normalizerSpecHelp(): string {
  return list.map((d) => (d.grammarNote ? `${d.grammar} (${d.grammarNote})` : d.grammar)).join(', ');
}

/** True when `text` is a normalizer spec some family accepts. */
export function isNormalizerSpec(text: unknown): text is string {
  return typeof text === 'string' && lookup(text) !== null;
}

function resolve(text: string): { descriptor: NormalizerDescriptor; spec: NormalizerSpec } {
  const found = lookup(text);
  if (found === null) {
    throw new NormalizationError(
      `unknown normalizer spec ${typeof text === 'string' ? `'${text}'` : String(text)} (expected one of ${normalizerSpecHelp()})`,
    );
  }
  return found;
}

/** Parses a spec (`'batch'`, `'group:4'`, ...); throws a NormalizationError naming an unknown or malformed one. */
export function parseNormalizerSpec(text: string): NormalizerSpec {
  return resolve(text).spec;
}

/** The traits of the family a spec names (throws on an unknown spec). */
export function normalizerTraits(text: string): NormalizerTraits {
  return resolve(text).descriptor.traits;
}

/**
 * Builds the normalizer a net puts after a layer with per-sample feature shape `shape`; null for 'none'.
 * `seed` is accepted for symmetry with the models: every normalizer initializes deterministically
 * (γ = 1, β = 0), so it changes nothing today.
 */
export function createNormalizer(text: string, shape: FeatureShape, _seed?: number): Normalizer | null {
  const { descriptor, spec } = resolve(text);
  const length = shape.length;
  if (length !== undefined && (!Number.isInteger(length) || length < 1)) {
    throw new NormalizationError(
      `createNormalizer: length must be a positive integer, got ${String(length)}`,
    );
  }
  if (descriptor.traits.needsWindows && (length === undefined || length < 2)) {
    throw new NormalizationError(
      `createNormalizer: '${text}' needs windows [C, L] with L > 1, got ${length === undefined ? `vectors [${shape.channels}]` : `[${shape.channels}, ${length}]`}`,
    );
  }
  return descriptor.create(spec, shape);
}

/** Rebuilds any listed normalizer from its `state()`. */
export function normalizerFromState(s: NormalizerState): Normalizer {
  const kind = s !== null && typeof s === 'object' ? s.kind : undefined;
  const descriptor = list.find((d) => d.kind === kind && d.fromState !== undefined);
  if (descriptor === undefined) {
    throw new NormalizationError(`normalizerFromState: unknown normalizer kind ${String(kind)}`);
  }
  return descriptor.fromState!(s);
}

/** The specs compare runs when none are given. */
export function defaultNormalizerSpecs(): string[] {
  return list.flatMap((d) => (d.compareDefault === undefined ? [] : [d.compareDefault]));
}

/** Every conformance case with its family's traits, for the conformance suite. */
export function conformanceCases(): (ConformanceCase & { kind: string; traits: NormalizerTraits })[] {
  return list.flatMap((d) => d.conformance.map((c) => ({ ...c, kind: d.kind, traits: d.traits })));
}

/**
 * How each kind of state with running statistics merges across replicas: the normalizer families' merges
 * (from their descriptors) and the streaming input scaler's. Keyed by the state's `kind`.
 */
export function statisticsMerges(): ReadonlyMap<string, StatisticsMerge> {
  const out = new Map<string, StatisticsMerge>([[standardScalerMerge.kind, standardScalerMerge]]);
  for (const d of list) if (d.merge !== undefined) out.set(d.merge.kind, d.merge);
  return out;
}
