/**
 * streamnorm/metrics: the Prometheus side (prom-client), always on an injected registry. Loads no Kafka code.
 */
export { createRegistry, type RegistryOptions } from './createRegistry.js';
export * from './catalog.js';
export * from './server.js';
export * from './readiness.js';
export * from './eventLoopDelay.js';
