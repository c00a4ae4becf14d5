import type { Rng } from '../../core/rng.js';
import { ModelError } from '../../errors.js';
import { LinearModel, type LinearModelOptions, type LinearModelState } from './linearModel.js';
import { type ModelConformanceCase, type ModelFamily, inputMismatch } from '../modelFamily.js';
import type { OptimizerConfig } from '../optim/optimizer.js';
import { sampleDense, sampleSparse } from '../sampleInputs.js';

const D = 6;
const SPARSE_DIM = 64;

function linearCase(
  name: string,
  opts: LinearModelOptions,
  input: 'dense' | 'sparse',
  label: (rng: Rng) => number,
  badLabel?: number,
): ModelConformanceCase {
  return {
    name,
    make: () => new LinearModel(opts),
    makeWith: (extra) => new LinearModel({ ...opts, ...extra } as LinearModelOptions),
    fromState: (s) => LinearModel.fromState(s as LinearModelState),
    sampleX: input === 'dense' ? (rng) => sampleDense(rng, D) : (rng) => sampleSparse(rng, SPARSE_DIM),
    sampleY: label,
    wrongDimX:
      input === 'dense' ? (rng) => sampleDense(rng, D + 1) : () => ({ indices: [SPARSE_DIM], values: [1] }),
    ...(badLabel === undefined ? {} : { badLabel }),
    weights: (m) => (m as LinearModel).weights,
  };
}

/** The binary classification losses (labels 0 and 1). */
const BINARY: readonly string[] = ['logistic', 'hinge', 'exponential'];

/** `{ optimizer }` with `lr` as its rate when it names none (FTRL's rate is alpha); plain SGD at `lr` without one. */
function optimizerWithRate(
  o: OptimizerConfig | undefined,
  lr: number | undefined,
): { optimizer: OptimizerConfig } | null {
  if (o === undefined) return lr === undefined ? null : { optimizer: { type: 'sgd', lr } };
  if (lr === undefined) return { optimizer: o };
  if (o.type === 'ftrl') return { optimizer: { ...o, alpha: o.alpha ?? lr } };
  return { optimizer: { ...o, lr: o.lr ?? lr } };
}

const real = (rng: Rng): number => rng.normal();
const bit = (rng: Rng): number => rng.int(2);

/**
 * The LinearModel family: dense or sparse vectors, every loss (regression or classification by the loss),
 * regularizer and optimizer. A CLI variant takes its loss, regularizer and optimizer from the flat options;
 * by default it is a logistic model (softmax for more than two classes, squared for regression) with an
 * elastic net from `l1`/`l2` and plain SGD at `lr`.
 */
export const linearFamily: ModelFamily<LinearModelOptions> = {
  name: 'linear',
  kind: 'LinearModel',
  summary:
    'regularized linear model (squared, logistic, hinge, exponential or softmax loss), dense or sparse',
  traits: { inputs: ['vector', 'sparse'], tasks: ['classification', 'regression'] },
  defaults: { loss: 'logistic' },
  itemSyntax: 'linear',
  parseItem: (item) => (item === 'linear' ? {} : null),
  optionsFrom(v, classes) {
    const loss = v.loss ?? (v.task === 'regression' ? 'squared' : classes > 2 ? 'softmax' : 'logistic');
    if (v.task === 'regression' && loss !== 'squared')
      throw new ModelError(`loss: a regression model learns the squared loss, got '${loss}'`);
    if (v.task === 'classification' && loss === 'squared')
      throw new ModelError(
        `loss: 'squared' is a regression loss; a classifier takes ${BINARY.join(', ')} or softmax`,
      );
    if (classes > 2 && BINARY.includes(loss))
      throw new ModelError(
        `loss: '${loss}' is binary, the stream has ${classes} classes (use the softmax loss, or 2 classes)`,
      );
    const regularizer =
      v.regularizer !== undefined
        ? v.regularizer
        : v.l1 !== undefined || v.l2 !== undefined
          ? { ...(v.l1 === undefined ? {} : { l1: v.l1 }), ...(v.l2 === undefined ? {} : { l2: v.l2 }) }
          : null;
    return {
      loss,
      regularizer,
      ...(optimizerWithRate(v.optimizer, v.lr) ?? {}),
      ...(loss === 'softmax' ? { classes } : {}),
    };
  },
  create(options, shape) {
    if (shape.kind === 'window') throw inputMismatch(linearFamily, shape);
    const o = { ...linearFamily.defaults, ...options } as LinearModelOptions;
    o.dim ??= shape.dim;
    if (shape.kind === 'sparse' && o.dim === undefined) {
      throw new ModelError(
        `options.dim: sparse events need the weight count (e.g. 2^20 for hashed features)`,
      );
    }
    return new LinearModel(o);
  },
  fromState: (s) => LinearModel.fromState(s as LinearModelState),
  label: (m) => m.kind,
  conformance: [
    linearCase(
      'linear/squared/sgd/elasticnet',
      { loss: 'squared', regularizer: { l1: 0.01, l2: 0.01 }, optimizer: { type: 'sgd', lr: 0.05 }, dim: D },
      'dense',
      real,
    ),
    linearCase(
      'linear/logistic/sgd-invscaling/l2',
      {
        loss: 'logistic',
        regularizer: { l2: 0.01 },
        optimizer: { type: 'sgd', lr: 0.5, schedule: 'invscaling' },
      },
      'dense',
      bit,
      2,
    ),
    linearCase(
      'linear/hinge/sgd-optimal/l1',
      { loss: 'hinge', regularizer: { l1: 0.01 }, optimizer: { type: 'sgd', schedule: 'optimal' }, dim: D },
      'dense',
      bit,
      -1,
    ),
    linearCase(
      'linear/exponential/adam',
      { loss: 'exponential', optimizer: { type: 'adam', lr: 0.05 }, dim: D },
      'dense',
      bit,
      0.5,
    ),
    linearCase(
      'linear/softmax/adagrad/l1',
      {
        loss: 'softmax',
        classes: 3,
        regularizer: { l1: 0.01 },
        optimizer: { type: 'adagrad', lr: 0.1 },
        dim: D,
      },
      'dense',
      (rng) => rng.int(3),
      3,
    ),
    linearCase(
      'linear/squared/adagrad/lp1.5',
      {
        loss: 'squared',
        regularizer: { lp: { p: 1.5, lambda: 0.05 } },
        optimizer: { type: 'adagrad', lr: 0.1 },
        dim: D,
      },
      'dense',
      real,
    ),
    linearCase(
      'linear/squared/sgd/l0',
      { loss: 'squared', regularizer: { l0: { k: 3 } }, optimizer: { type: 'sgd', lr: 0.05 }, dim: D },
      'dense',
      real,
    ),
    linearCase(
      'linear/logistic/ftrl/sparse',
      {
        loss: 'logistic',
        regularizer: { l1: 0.01, l2: 0.01 },
        optimizer: { type: 'ftrl', alpha: 0.5, beta: 1 },
        dim: SPARSE_DIM,
      },
      'sparse',
      bit,
      2,
    ),
    linearCase(
      'linear/squared/sgd/sparse-lazy-l1',
      {
        loss: 'squared',
        regularizer: { l1: 0.01, l2: 0.001 },
        optimizer: { type: 'sgd', lr: 0.05 },
        dim: SPARSE_DIM,
      },
      'sparse',
      real,
    ),
    linearCase(
      'linear/softmax/adagrad/sparse-lazy',
      {
        loss: 'softmax',
        classes: 4,
        regularizer: { l1: 0.005, l2: 0.01 },
        optimizer: { type: 'adagrad', lr: 0.2 },
        dim: SPARSE_DIM,
      },
      'sparse',
      (rng) => rng.int(4),
      4,
    ),
  ],
};
