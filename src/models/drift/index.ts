export * from './pageHinkley.js';
export * from './adwin.js';
export * from './driftDetector.js';
