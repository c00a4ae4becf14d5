export * from './registry.js';
export * from './readiness.js';
export * from './catalog.js';
export * from './server.js';
