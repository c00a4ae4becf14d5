export * from './normalizer.js';
