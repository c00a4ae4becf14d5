export * from './loss.js';
export * from './squared.js';
export * from './logistic.js';
export * from './hinge.js';
export * from './exponential.js';
export * from './softmax.js';
export * from './createLoss.js';
