export * from './hashing.js';
export * from './sensor.js';
export * from './spam.js';
export * from './synthetic.js';
export * from './loadDataset.js';
