export * from './types.js';
export * from './nets/index.js';
export * from './augment.js';
