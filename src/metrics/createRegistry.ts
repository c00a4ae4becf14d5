import { collectDefaultMetrics, Registry } from 'prom-client';

/** Options for {@link createRegistry}. */
export interface RegistryOptions {
  /** Collect prom-client's default Node.js process metrics (CPU, memory, event loop, GC). Default true. */
  defaultMetrics?: boolean;
  /** Labels added to every series of this registry (e.g. `{ instance_role: 'replay' }`). Default none. */
  defaultLabels?: Record<string, string>;
}

/**
 * prom-client's default metrics that `promtool check metrics` rejects: gauges whose names end in
 * `_total` ("non-counter metrics should not have _total suffix"). The same counts stay available,
 * broken down by type, in `nodejs_active_handles`, `nodejs_active_requests` and `nodejs_active_resources`.
 */
export const LINT_FAILING_DEFAULT_METRICS: readonly string[] = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * A fresh prom-client `Registry` (never the global one: each pipeline and each test owns its own).
 *
 * With `defaultMetrics` (the default) it also collects the standard process and Node.js metrics,
 * minus the few that fail `promtool check metrics`, so the whole `/metrics` page lints clean.
 */
export function createRegistry(options: RegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultLabels !== undefined) registry.setDefaultLabels(options.defaultLabels);
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of LINT_FAILING_DEFAULT_METRICS) {
      if (registry.getSingleMetric(name) !== undefined) registry.removeSingleMetric(name);
    }
  }
  return registry;
}
