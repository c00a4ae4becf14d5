/**
 * What `/readyz` reports: ready only when every named check passes. The check names are part of the
 * response body so an operator sees which condition is failing (e.g. `partitionsAssigned: false`).
 */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, boolean>;
}

/** Computes readiness on each `/readyz` request (may be async; a throw counts as not ready). */
export type ReadinessProbe = () => ReadinessReport | Promise<ReadinessReport>;

/** A report that is ready exactly when all the given checks pass. */
export function readinessFromChecks(checks: Record<string, boolean>): ReadinessReport {
  return { ready: Object.values(checks).every((ok) => ok), checks };
}
