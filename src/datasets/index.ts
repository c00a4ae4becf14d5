export * from './loadDataset.js';
export * from './sensor.js';
export * from './spam.js';
export * from './synthetic.js';
export { hashTokens, tokenize, type HashingOptions } from './hashing.js';
