/**
 * The model family and its options as `run`, `replay` and `compare` take them (`--model`, `--loss`,
 * `--regularizer`, `--optimizer`, `--lr`, `--hidden`, ...) and as a config file's variants spell them: one
 * grammar, parsed here, mapped onto each family by its descriptor (`ModelFamily.optionsFrom`).
 *
 * - `--model linear|mlp|windownet|rnn` (the families of modelFamilies.ts)
 * - `--loss squared|logistic|hinge|exponential|softmax` (linear; squared = regression)
 * - `--regularizer none|l1:λ|l2:λ|elastic:λ1,λ2|l0:k|lp:p,λ` (nets: l1, l2, elastic)
 * - `--optimizer sgd[:lr[,constant|invscaling|optimal]]|adagrad[:lr]|adam[:lr]|ftrl[:alpha[,beta]]`
 * - `--task classification|regression`
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../errors.js';
import { lossNames } from '../models/losses/createLoss.js';
import type { LossName } from '../models/losses/loss.js';
import { modelFamilies, modelFamilyNames } from '../models/modelFamilies.js';
import type { OptimizerConfig, ScheduleName } from '../models/optim/optimizer.js';
import type { RegularizerConfig } from '../models/regularizers/regularizer.js';
import type { Task } from '../models/types.js';
import { isNormalizerSpec, normalizerGrammar } from '../normalizers/descriptors.js';
import type { VariantConfig } from './config.js';
import { didYouMean } from './suggest.js';
import { positiveInt } from './options.js';

/** A grammar mismatch; its message names what was expected (the caller adds the flag or field). */
export class GrammarError extends Error {}

const quoted = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(' | ');

/** `text` if it is one of `names`, else a GrammarError listing them with a did-you-mean. */
export function oneOf<T extends string>(text: string, names: readonly T[]): T {
  if ((names as readonly string[]).includes(text)) return text as T;
  throw new GrammarError(`expected ${quoted(names)}, got '${text}'${didYouMean(text, names)}`);
}

/** A finite number > 0 (or >= 0 with `zero`) written in plain or exponent notation. */
function number(text: string, what: string, zero = false): number {
  const t = text.trim();
  const n = Number(t);
  if (t === '' || !Number.isFinite(n) || (zero ? n < 0 : n <= 0))
    throw new GrammarError(`${what}: expected a number ${zero ? '>= 0' : '> 0'}, got '${text}'`);
  return n;
}

export const regularizerNames = ['none', 'l1', 'l2', 'elastic', 'l0', 'lp'] as const;
export const regularizerGrammar = 'none | l1:λ | l2:λ | elastic:λ1,λ2 | l0:k | lp:p,λ';

/** `l1:1e-4` → `{ l1: 1e-4 }`; `elastic:1e-4,1e-3`, `l0:10` (keep 10 weights), `lp:1.5,0.01`, `none` → null. */
export function parseRegularizer(text: string): RegularizerConfig | null {
  const [name, args = ''] = splitSpec(text);
  const kind = oneOf(name, regularizerNames);
  const parts = args === '' ? [] : args.split(',');
  const want = { none: 0, l1: 1, l2: 1, elastic: 2, l0: 1, lp: 2 }[kind];
  if (parts.length !== want)
    throw new GrammarError(
      `expected ${regularizerGrammar}, got '${text}' (${kind} takes ${want === 0 ? 'no value' : want === 1 ? 'one value' : 'two values'})`,
    );
  switch (kind) {
    case 'none':
      return null;
    case 'l1':
      return { l1: number(parts[0], 'l1', true) };
    case 'l2':
      return { l2: number(parts[0], 'l2', true) };
    case 'elastic':
      return { l1: number(parts[0], 'elastic l1', true), l2: number(parts[1], 'elastic l2', true) };
    case 'l0': {
      const k = Number(parts[0]);
      if (!/^\d+$/.test(parts[0].trim()))
        throw new GrammarError(
          `l0: expected the number of weights to keep (an integer >= 0), got '${parts[0]}'`,
        );
      return { l0: { k } };
    }
    case 'lp': {
      const p = number(parts[0], 'lp p');
      if (p < 1) throw new GrammarError(`lp: p must be >= 1 (‖·‖ₚ is not a norm for p < 1), got ${p}`);
      return { lp: { p, lambda: number(parts[1], 'lp λ', true) } };
    }
  }
}

export const optimizerNames = ['sgd', 'adagrad', 'adam', 'ftrl'] as const;
export const optimizerGrammar =
  'sgd[:lr[,constant|invscaling|optimal]] | adagrad[:lr] | adam[:lr] | ftrl[:alpha[,beta]]';
const schedules: readonly ScheduleName[] = ['constant', 'invscaling', 'optimal'];

/** `adam:0.01` → `{ type: 'adam', lr: 0.01 }`; `ftrl:0.1,1` → `{ type: 'ftrl', alpha: 0.1, beta: 1 }`. */
export function parseOptimizer(text: string): OptimizerConfig {
  const [name, args = ''] = splitSpec(text);
  const type = oneOf(name, optimizerNames);
  const parts = args === '' ? [] : args.split(',').map((s) => s.trim());
  const most = type === 'adagrad' || type === 'adam' ? 1 : 2;
  if (parts.length > most) throw new GrammarError(`expected ${optimizerGrammar}, got '${text}'`);
  if (type === 'ftrl')
    return {
      type,
      ...(parts[0] === undefined ? {} : { alpha: number(parts[0], 'ftrl alpha') }),
      ...(parts[1] === undefined ? {} : { beta: number(parts[1], 'ftrl beta', true) }),
    };
  const lr = parts[0] === undefined || parts[0] === '' ? undefined : number(parts[0], `${type} lr`);
  if (type === 'sgd')
    return {
      type,
      ...(lr === undefined ? {} : { lr }),
      ...(parts[1] === undefined ? {} : { schedule: oneOf(parts[1], schedules) }),
    };
  return { type, ...(lr === undefined ? {} : { lr }) };
}

export const taskNames: readonly Task[] = ['classification', 'regression'];

/** `--hidden 64,64`: one size, or one per layer. */
export function parseHidden(text: string): number | number[] {
  const parts = text.split(',').map((t) => t.trim());
  const sizes = parts.map((t) => (/^\d+$/.test(t) ? Number(t) : NaN));
  if (parts.length === 0 || sizes.some((n) => !(n >= 1)))
    throw new GrammarError(`expected positive integers separated by commas, got '${text}'`);
  return sizes.length === 1 ? sizes[0] : sizes;
}

/** `--dropout 0.2` or one rate per hidden layer, `0.3,0.1`. */
export function parseDropout(text: string): number | number[] {
  const rates = text.split(',').map((t) => Number(t.trim()));
  if (rates.some((r, i) => text.split(',')[i].trim() === '' || !(r >= 0 && r < 1)))
    throw new GrammarError(`expected rates in [0, 1) separated by commas, got '${text}'`);
  return rates.length === 1 ? rates[0] : rates;
}

/** A normalizer spec of the descriptors' grammar, with a did-you-mean. */
export function parseNormalizer(text: string): string {
  const name = text.split(':')[0];
  if (isNormalizerSpec(text)) return text;
  const grammar = normalizerGrammar();
  throw new GrammarError(
    `expected ${quoted(grammar)}, got '${text}'${didYouMean(
      name,
      grammar.map((g) => g.split(':')[0]),
    )}`,
  );
}

/** A model family's name, with a did-you-mean; `allowed` narrows the families (compare: the nets). */
export function parseModelFamily(text: string, allowed: readonly string[] = modelFamilyNames): string {
  return oneOf(text, allowed);
}

/** `NAME` or `NAME:ARGS`. */
function splitSpec(text: string): [string, string | undefined] {
  const t = text.trim();
  const i = t.indexOf(':');
  return i < 0 ? [t, undefined] : [t.slice(0, i), t.slice(i + 1)];
}

/** Runs a grammar parser for a flag: a mismatch becomes a one-line usage error naming the flag. */
export function forFlag<T>(flag: string, parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (e) {
      if (e instanceof GrammarError) throw new ConfigError(`${flag}: ${e.message}`);
      throw e;
    }
  };
}

/** Commander's form of {@link forFlag}: the message follows commander's "option '--x <v>' argument ... is invalid." */
function commanderArg<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (e) {
      if (e instanceof GrammarError) throw new InvalidArgumentError(e.message);
      throw e;
    }
  };
}

/** The family flags of `run` and `replay`. */
export interface ModelFlags {
  model?: string;
  loss?: LossName;
  regularizer?: RegularizerConfig | null;
  optimizer?: OptimizerConfig;
  lr?: number;
  task?: Task;
  hidden?: number | number[];
  kernel?: number;
  readout?: 'mean' | 'last';
  dropout?: number | number[];
  weightDecay?: number;
  normalizer?: string;
  hashDim?: number;
}

/** Adds `--model` and the family options to `run` or `replay`. */
export function addModelOptions(cmd: Command): Command {
  const families = modelFamilies.map((f) => f.name).join('|');
  return cmd
    .option(
      '--model <family>',
      `model family: ${families} (one variant, named after it; default: linear for vectors, windownet for windows; docs/models.md)`,
      commanderArg((t) => parseModelFamily(t)),
    )
    .option(
      '--loss <loss>',
      `linear: ${lossNames.join('|')} (default logistic, softmax above 2 classes, squared for --task regression)`,
      commanderArg((t) => oneOf(t, lossNames)),
    )
    .option('--regularizer <spec>', regularizerGrammar, commanderArg(parseRegularizer))
    .option(
      '--optimizer <spec>',
      `${optimizerGrammar} (linear: all; nets: sgd, adagrad, adam)`,
      commanderArg(parseOptimizer),
    )
    .option(
      '--lr <rate>',
      "learning rate of the optimizer (FTRL's alpha) when --optimizer names none",
      commanderArg((t) => number(t, 'lr')),
    )
    .option(
      '--task <task>',
      "'classification' (default) or 'regression' (a linear model with the squared loss, numeric labels)",
      commanderArg((t) => oneOf(t, taskNames)),
    )
    .option(
      '--hash-dim <n>',
      'linear on sparse (hashed) events: the weight count; an index >= n is a dead letter',
      positiveInt,
    )
    .option(
      '--hidden <list>',
      'nets: conv channels of a WindowNet, cell width of an Rnn, layer sizes of an Mlp (64,64 = two layers)',
      commanderArg(parseHidden),
    )
    .option('--kernel <n>', 'windownet: conv kernel width', positiveInt)
    .option(
      '--readout <readout>',
      "rnn: what the classifier reads, 'mean' of the hidden states (default) or the 'last' one",
      commanderArg((t) => oneOf(t, ['mean', 'last'] as const)),
    )
    .option('--dropout <rates>', 'nets: dropout rate, or one per hidden layer', commanderArg(parseDropout))
    .option(
      '--weight-decay <λ>',
      'nets: decoupled weight decay',
      commanderArg((t) => number(t, 'weight decay', true)),
    )
    .option('--normalizer <spec>', 'nets: the normalizer (default layer)', commanderArg(parseNormalizer));
}

/** Options that only a net reads, and the flag of each. */
const NET_ONLY: readonly [keyof ModelFlags, string][] = [
  ['hidden', '--hidden'],
  ['kernel', '--kernel'],
  ['readout', '--readout'],
  ['dropout', '--dropout'],
  ['weightDecay', '--weight-decay'],
  ['normalizer', '--normalizer'],
];
/** Options that only a linear model reads. */
const LINEAR_ONLY: readonly [keyof ModelFlags, string][] = [
  ['loss', '--loss'],
  ['hashDim', '--hash-dim'],
];

/** The flat variant options the family flags set (the ones given). */
export function flatOptionsFromFlags(f: ModelFlags): Omit<VariantConfig, 'name'> {
  return {
    ...(f.loss === undefined ? {} : { loss: f.loss }),
    ...(f.regularizer === undefined ? {} : { regularizer: f.regularizer }),
    ...(f.optimizer === undefined ? {} : { optimizer: f.optimizer }),
    ...(f.lr === undefined ? {} : { lr: f.lr }),
    ...(f.task === undefined ? {} : { task: f.task }),
    ...(f.hidden === undefined ? {} : { hidden: f.hidden }),
    ...(f.kernel === undefined ? {} : { kernel: f.kernel }),
    ...(f.readout === undefined ? {} : { readout: f.readout }),
    ...(f.dropout === undefined ? {} : { dropout: f.dropout }),
    ...(f.weightDecay === undefined ? {} : { weightDecay: f.weightDecay }),
    ...(f.normalizer === undefined ? {} : { normalizer: f.normalizer }),
  } as Omit<VariantConfig, 'name'>;
}

/**
 * The variants of a run or replay given the family flags: `--model F` is one variant named F (a config
 * file's variants yield to it, as flags override the file; `--variants` and `--model` together are refused);
 * the options apply to each variant of `--variants` or the config file when those are given; options without
 * either choose the linear family when only a linear model reads them. Undefined: nothing chose variants.
 */
export function variantsWithModelFlags(
  f: ModelFlags,
  fromFlag: VariantConfig[] | undefined,
  fromConfig: VariantConfig[] | undefined,
  variantsFlag: string,
): VariantConfig[] | undefined {
  const flat = flatOptionsFromFlags(f);
  const given = Object.keys(flat).length > 0 || f.hashDim !== undefined;
  if (f.model !== undefined) {
    if (fromFlag !== undefined) throw new ConfigError(`--model: give --model or ${variantsFlag}, not both`);
    checkFamilyFlags(f, f.model);
    return [{ name: f.model, model: f.model, ...flat } as VariantConfig];
  }
  const variants = fromFlag ?? fromConfig;
  if (!given) return variants;
  if (variants !== undefined) return variants.map((v) => ({ ...v, ...flat }) as VariantConfig);
  const net = NET_ONLY.find(([k]) => f[k] !== undefined);
  if (net !== undefined)
    throw new ConfigError(
      `${net[1]}: needs --model ${modelFamilies
        .filter((x) => x.name !== 'linear')
        .map((x) => x.name)
        .join('|')} (or ${variantsFlag})`,
    );
  return [{ name: 'linear', model: 'linear', ...flat } as VariantConfig];
}

/** A family flag the chosen family does not read is a usage error naming both. */
function checkFamilyFlags(f: ModelFlags, family: string): void {
  const wrong =
    family === 'linear'
      ? NET_ONLY.find(([k]) => f[k] !== undefined)
      : LINEAR_ONLY.find(([k]) => f[k] !== undefined);
  if (wrong !== undefined)
    throw new ConfigError(
      `${wrong[1]}: ${family === 'linear' ? 'a net option' : 'a linear-model option'}, not read by --model ${family}`,
    );
  if (family === 'windownet' && Array.isArray(f.hidden))
    throw new ConfigError(`--hidden: a windownet has one conv layer (one size), got ${f.hidden.join(',')}`);
  if (family !== 'windownet' && f.kernel !== undefined)
    throw new ConfigError(`--kernel: only --model windownet has a kernel`);
  if (family !== 'rnn' && f.readout !== undefined)
    throw new ConfigError(`--readout: only --model rnn has a readout`);
}

/** Whether a variant learns numbers (regression): its task says so, or its loss is the squared loss. */
export function isRegressionVariant(v: Pick<VariantConfig, 'task' | 'loss'>): boolean {
  return v.task === 'regression' || v.loss === 'squared';
}

/**
 * Whether the stream's labels are numbers: every variant a regressor. A mix cannot share one label schema
 * (a class label is a number too, but a number is not a class), so it is refused; so are classes given for
 * a regression.
 */
export function streamIsRegression(
  variants: readonly VariantConfig[] | undefined,
  classes?: number,
): boolean {
  if (variants === undefined || variants.length === 0) return false;
  const reg = variants.filter(isRegressionVariant);
  if (reg.length === 0) return false;
  if (reg.length < variants.length) {
    const cls = variants.find((v) => !isRegressionVariant(v))!;
    throw new ConfigError(
      `variants: '${reg[0].name}' is a regression and '${cls.name}' a classifier; one stream's labels are one or the other`,
    );
  }
  if (classes !== undefined)
    throw new ConfigError(`--classes: a regression has no classes (drop --classes or --task regression)`);
  return true;
}
