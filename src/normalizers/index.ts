/**
 * The normalizers' public names (DESIGN "Normalizers"): the layers with their options and state types,
 * the descriptor list and the functions derived from it, weight standardization and the streaming input
 * scalers. Kernels, input validation, the affine and state-codec plumbing are internal: import them from
 * their files. Nothing reachable from here loads Kafka, metrics or logging code.
 */
export { NormalizationError } from '../errors.js';
export type { ForwardOptions, Normalizer, NormalizerParams, NormalizerState } from './normalizer.js';
export { BatchNorm, type BatchNormOptions, type BatchNormState } from './batchNorm.js';
export { LayerNorm, type LayerNormOptions, type LayerNormState } from './layerNorm.js';
export { InstanceNorm, type InstanceNormOptions, type InstanceNormState } from './instanceNorm.js';
export { GroupNorm, type GroupNormOptions, type GroupNormState } from './groupNorm.js';
export {
  BatchRenorm,
  type BatchRenormOptions,
  type BatchRenormState,
  type RenormSchedule,
} from './batchRenorm.js';
export { OnlineNorm, type OnlineNormOptions, type OnlineNormState } from './onlineNorm.js';
export type {
  ConformanceCase,
  FeatureShape,
  NormalizerDescriptor,
  NormalizerSpec,
  NormalizerTraits,
} from './descriptor.js';
export {
  conformanceCases,
  createNormalizer,
  defaultNormalizerSpecs,
  isNormalizerSpec,
  normalizerDescriptors,
  normalizerFromState,
  normalizerGrammar,
  normalizerSpecHelp,
  normalizerSpecs,
  normalizerTraits,
  parseNormalizerSpec,
  registerNormalizer,
  statisticsMerges,
} from './descriptors.js';
export {
  emptyMoments,
  mergeMoments,
  mixStatistics,
  subtractMoments,
  type Moments,
  type StatisticsMerge,
  type WeightedStatistics,
} from './moments.js';
export { momentsLength, poolGradientSums, poolMoments, type StatisticsReducer } from './statisticsReducer.js';
export {
  weightStandardize,
  weightStandardizeBackward,
  type StandardizedWeights,
} from './weightStandardization.js';
export * from './standardScaler.js';
export * from './minMaxScaler.js';
