export * from './types.js';
export * from './cell.js';
export * from './source.js';
export * from './compare.js';
export * from './results.js';
export * from './chart.js';
