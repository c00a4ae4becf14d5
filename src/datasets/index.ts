export * from './loadDataset.js';
export * from './mnist.js';
export * from './sensor.js';
export * from './spam.js';
export * from './synthetic.js';
