export * from './types.js';
export * from './nets/index.js';
export * from './augment.js';
export * from './losses/index.js';
export * from './regularizers/index.js';
export * from './optim/index.js';
export * from './guard.js';
export * from './linearModel.js';
