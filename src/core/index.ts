export * from './tensor.js';
export * from './rng.js';
export * from './kernels.js';
