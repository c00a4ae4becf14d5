/**
 * The two steps of Grafana's dashboard import that decide where panels get their data, done the way
 * Grafana does them (public/app/features/manage-dashboards/state/actions.ts and the template service):
 * the import replaces every `${INPUT}` of `__inputs` in the JSON text with the datasource the user picked,
 * and at render time a panel's `datasource.uid` of `${var}` / `$var` resolves to the current value of the
 * dashboard variable of that name, which for a `datasource` variable is a datasource uid.
 */
import type { Dashboard } from './promql.js';

/** The dashboard after import with `inputs` (input name → chosen datasource uid). */
export function importDashboard(raw: string, inputs: Record<string, string>): Dashboard {
  const d = JSON.parse(raw) as Dashboard;
  for (const input of d.__inputs ?? []) {
    if (!(input.name in inputs)) throw new Error(`import: no value for input ${input.name}`);
  }
  let text = raw;
  for (const [name, value] of Object.entries(inputs)) text = text.split('${' + name + '}').join(value);
  return JSON.parse(text) as Dashboard;
}

/** The uid a datasource reference resolves to in `d` (variables by their current value), or the literal uid. */
export function resolveDatasourceUid(ref: { uid: string } | undefined, d: Dashboard): string | undefined {
  if (ref === undefined) return undefined;
  const m = /^\$\{?(\w+)\}?$/.exec(ref.uid);
  if (m === null) return ref.uid;
  const v = d.templating.list.find((x) => x.name === m[1]);
  if (v === undefined || v.type !== 'datasource') return undefined;
  const value = v.current?.value;
  return typeof value === 'string' ? value : undefined;
}
