import type { Rng } from '../core/rng.js';
import { ModelError } from '../errors.js';
import type { LossName } from './losses/loss.js';
import type { OptimizerConfig } from './optim/optimizer.js';
import type { RegularizerConfig } from './regularizers/regularizer.js';
import type { Features, ModelState, OnlineModel, Task } from './types.js';

/** The input a family takes: dense vectors `[d]`, sparse vectors, or windows `[C, L]`. */
export type InputKind = 'vector' | 'sparse' | 'window';

/** The shape of a stream's features, fixed before its first event is learned. */
export type StreamShape =
  | { kind: 'vector'; dim: number }
  | { kind: 'sparse'; dim?: number }
  | { kind: 'window'; channels: number; length: number };

/** What a family's models can do, read by the CLI, the comparison and the conformance suite. */
export interface ModelTraits {
  /** The inputs it accepts; a stream of another kind is refused before the model is built. */
  inputs: readonly InputKind[];
  /** Classifier, regressor, or (LinearModel, by its loss) either. */
  tasks: readonly Task[];
}

/**
 * A variant's options as the CLI flags and a config file's `variants` give them: one flat set shared by
 * every family, which each family maps onto its own options ({@link ModelFamily.optionsFrom}).
 */
export interface FlatVariantOptions {
  normalizer?: string;
  hidden?: number | number[];
  kernel?: number;
  /** Rnn: what the classifier reads, the mean of the hidden states over time or the last one. */
  readout?: 'mean' | 'last';
  dropout?: number | number[];
  lr?: number;
  weightDecay?: number;
  l1?: number;
  l2?: number;
  singletonPolicy?: 'error' | 'running-stats' | 'skip';
  seed?: number;
  /** What the labels are: classes (default) or numbers; only families whose traits list the task take it. */
  task?: Task;
  /** The loss of a linear model ('squared' means regression); nets always learn softmax cross-entropy. */
  loss?: LossName;
  /** A regularizer: any for a linear model, `{ l1?, l2? }` for a net (`l1` / `l2` above say the same). */
  regularizer?: RegularizerConfig | null;
  /** The optimizer; `lr` supplies its rate (FTRL's alpha) when it names none. */
  optimizer?: OptimizerConfig;
}

/**
 * One model the conformance suite checks (River's `_unit_test_params`): a family lists a few, chosen to
 * cover its losses, optimizers, regularizers, normalizers and input kinds.
 */
export interface ModelConformanceCase {
  name: string;
  /** A fresh model; the seed drives every random choice it makes (initialization, dropout, ...). */
  make(seed: number): OnlineModel;
  /** The same model built with extra options merged in (the suite passes an unknown one). */
  makeWith(extra: Record<string, unknown>): OnlineModel;
  fromState(s: ModelState): OnlineModel;
  /** A valid input for this model. */
  sampleX(rng: Rng): Features;
  /** A valid label. */
  sampleY(rng: Rng): number;
  /** An input of the wrong dimension or shape. */
  wrongDimX(rng: Rng): Features;
  /** A label out of range; absent when every finite label is valid (regression). */
  badLabel?: number;
  /** The penalized weights `weightStats()` summarizes (biases and normalizer parameters excluded). */
  weights(m: OnlineModel): ArrayLike<number>;
}

/**
 * Everything the package knows about one model family, beside its class: the `model` key of a variant, the
 * `kind` of its states, its traits, defaults, how the CLI's flat options map onto it, how it is built from a
 * stream's shape and restored from a state, and its conformance cases. The CLI, the config schema, the
 * comparison, state restore and the conformance suite all read {@link modelFamilies} (modelFamilies.ts).
 */
export interface ModelFamily<O extends object = object> {
  /** The `model` key of a variant ('linear', 'windownet', 'mlp'). */
  readonly name: string;
  /** `kind` of its models and of their states. */
  readonly kind: string;
  /** One line for help texts. */
  readonly summary: string;
  readonly traits: ModelTraits;
  /** Options a variant of this family starts from, under its own (the class fills in the rest). */
  readonly defaults: Readonly<Partial<O>>;
  /** How a `--variant` list item names this family: 'linear', 'mlp[:NORMALIZER]', 'NORMALIZER'. */
  readonly itemSyntax: string;
  /**
   * The flat options of a `--variant` list item (the part after `NAME=`) when it names this family, null
   * when it does not; `isNormalizer` is the CLI's normalizer grammar.
   */
  parseItem(item: string, isNormalizer: (spec: string) => boolean): FlatVariantOptions | null;
  /** The family's options from a CLI / config-file variant; `classes` is the stream's class count. */
  optionsFrom(flat: FlatVariantOptions, classes: number): Partial<O>;
  /**
   * Builds a model for a stream of `shape` (its input size comes from the shape, not from `options`);
   * throws a ModelError naming the mismatch when the family does not take that input.
   */
  create(options: Partial<O>, shape: StreamShape): OnlineModel;
  fromState(s: ModelState): OnlineModel;
  /** A short label for tables, e.g. 'WindowNet(layer)'. */
  label(m: OnlineModel): string;
  readonly conformance: readonly ModelConformanceCase[];
}

const INPUT_TEXT: Record<InputKind, string> = {
  vector: 'dense vector',
  sparse: 'sparse vector',
  window: 'window',
};

/** The error for a stream whose input kind a family does not take (its traits say which it takes). */
export function inputMismatch(family: Pick<ModelFamily, 'kind' | 'traits'>, shape: StreamShape): ModelError {
  const inputs = family.traits.inputs;
  const wanted = `${inputs.map((k) => INPUT_TEXT[k]).join(' or ')} events${inputs.includes('window') ? ' [C, L]' : ''}`;
  const article = /^[AEIOU]/.test(family.kind) ? 'an' : 'a';
  return new ModelError(
    `model: ${article} ${family.kind} needs ${wanted}, the first event is a ${INPUT_TEXT[shape.kind]}`,
  );
}
