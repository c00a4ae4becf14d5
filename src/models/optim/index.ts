export * from './optimizer.js';
export * from './schedules.js';
export * from './sgd.js';
export * from './adagrad.js';
export * from './adam.js';
export * from './ftrl.js';
export * from './createOptimizer.js';
export * from './paramOptimizer.js';
