export * from './regularizer.js';
export * from './elasticNet.js';
export * from './lp.js';
export * from './l0.js';
export * from './lazyElasticNet.js';
export * from './createRegularizer.js';
