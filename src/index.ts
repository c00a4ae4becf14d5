export * from './core/index.js';
export * from './errors.js';
export * from './normalizers/index.js';
export * from './models/index.js';
export * from './streams/index.js';
export * from './metrics/index.js';
export * from './datasets/index.js';
export * from './experiment/index.js';
