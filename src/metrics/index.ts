export * from './createRegistry.js';
export * from './readiness.js';
export * from './catalog.js';
export * from './server.js';
