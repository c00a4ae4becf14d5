/**
 * streamnorm's public API (README "Library"). Each family also has an entry point of its own that loads only
 * its own dependencies: `streamnorm/normalizers`, `streamnorm/models` (neither loads Kafka, metrics or logging
 * code), `streamnorm/streams`, `streamnorm/metrics`, and `streamnorm/testing` (the conformance checks).
 * Internal kernels and validation helpers are not exported.
 */
export * from './core/index.js';
export * from './errors.js';
export {
  BatchNorm,
  LayerNorm,
  InstanceNorm,
  GroupNorm,
  BatchRenorm,
  OnlineNorm,
  StandardScaler,
  MinMaxScaler,
  weightStandardize,
  weightStandardizeBackward,
  type Normalizer,
  type NormalizerState,
  type NormalizerParams,
  type ForwardOptions,
  type BatchNormOptions,
  type LayerNormOptions,
  type InstanceNormOptions,
  type GroupNormOptions,
  type BatchRenormOptions,
  type OnlineNormOptions,
  type StandardScalerOptions,
  type MinMaxScalerOptions,
} from './normalizers/index.js';
export { poolGradientSums, poolMoments, type StatisticsReducer } from './normalizers/index.js';
export { SyncBatchNorm } from './scale/syncBatchNorm.js';
export { InMemoryExchange, type StepExchange, type SyncPhase } from './scale/stepExchange.js';
export { KafkaExchange, type KafkaExchangeOptions } from './scale/kafkaExchange.js';
export * from './models/index.js';
export * from './streams/index.js';
export * from './metrics/index.js';
export * from './datasets/index.js';
export * from './experiment/index.js';
