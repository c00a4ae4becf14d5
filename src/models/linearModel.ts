/** Moved to `./linear/` (the model and its weight stores); this path is kept for existing importers. */
export * from './linear/index.js';
