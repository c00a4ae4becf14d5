/**
 * streamnorm/models: the online models (River-style API), their family descriptors and variants. Loads no
 * Kafka, metrics or logging code.
 */
export * from './types.js';
export { LinearModel, type LinearModelOptions, type LinearModelState } from './linear/index.js';
export { WindowNet, type WindowNetOptions } from './nets/windowNet.js';
export { Mlp, type MlpOptions } from './nets/mlp.js';
export {
  SoftmaxNet,
  type NetOptions,
  type NetState,
  type NetPredictOptions,
  type NetNormalizerStats,
  type SingletonPolicy,
  type SingletonEvents,
} from './nets/softmaxNet.js';
export * from './earlyStopping.js';
export * from './augment.js';
export * from './drift/index.js';
export { createLoss, lossNames } from './losses/createLoss.js';
export type { Loss, LossName } from './losses/loss.js';
export type { RegularizerConfig } from './regularizers/regularizer.js';
export type { OptimizerConfig } from './optim/optimizer.js';
export type { NetOptimizerSpec } from './optim/paramOptimizer.js';
export * from './modelFamily.js';
export { modelFamilies, modelFamilyNames, modelFamily, modelFromState, modelLabel } from './modelFamilies.js';
export * from './variant.js';
