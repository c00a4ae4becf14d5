import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { scaleMetrics } from '../../../src/scale/scaleMetrics.js';

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
]);

/**
 * Metric names a PromQL expression selects. A small tokenizer, enough for our rules and panels:
 * it drops strings, label matchers `{...}`, ranges `[...]` and grouping lists `by (...)`, then keeps
 * the identifiers that are not function calls or keywords.
 */
export function metricNames(expr: string): Set<string> {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  // Not preceded by a word character or dot: skips the unit of durations and numbers (5m, 1e3).
  const re = /(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const word = m[0];
    const rest = s.slice(m.index + word.length);
    if (/^\s*\(/.test(rest)) continue; // a function call
    if (KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return names;
}

/** Replace Grafana's template variables with values Prometheus accepts, so panel queries can be parsed and run. */
export function expandGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}|\$__interval|\$\{__interval\}|\$__range/g, '1m')
    .replace(/\$\{?(variant|mode|job|instance)\}?/g, '.*');
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { type: string; uid: string } }[];
  fieldConfig?: {
    defaults: { unit?: string };
    overrides: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[];
  };
  panels?: DashboardPanel[];
}

export interface DashboardVariable {
  name: string;
  type: string;
  query: { query: string } | string;
  datasource?: { type?: string; uid: string };
  current?: { text?: unknown; value?: unknown };
}

export interface Dashboard {
  __inputs?: { name: string; type: string; pluginId: string }[];
  __requires?: { type: string; id: string }[];
  id: number | null;
  uid: string;
  title: string;
  editable?: boolean;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

/** Absolute path of a file of the repository. */
export function repoPath(relative: string): string {
  return fileURLToPath(new URL(`../../../${relative}`, import.meta.url));
}

export const DASHBOARD_PATH = repoPath('deploy/grafana/dashboards/streamnorm.json');
export const RULES_PATH = repoPath('deploy/prometheus/rules.yml');

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

/** Every panel, rows' nested panels included. */
export function allPanels(d: Dashboard): DashboardPanel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every PromQL expression of the dashboard (panel targets and template variable queries), variables expanded. */
export function dashboardExpressions(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) {
      out.push({ where: `panel "${p.title}" ${t.refId}`, expr: expandGrafanaVariables(t.expr) });
    }
  }
  for (const v of d.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const m = /^label_values\((.*),\s*\w+\)$/.exec(q);
    if (m !== null) out.push({ where: `variable ${v.name}`, expr: expandGrafanaVariables(m[1]) });
  }
  return out;
}

export interface RuleFile {
  groups: {
    name: string;
    rules: { record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string> }[];
  }[];
}

export function loadRules(): RuleFile {
  return parseYaml(readFileSync(RULES_PATH, 'utf8')) as RuleFile;
}

/** Names Prometheus itself produces (not in our /metrics): scrape health and the alert series. */
export const PROMETHEUS_SYNTHETIC = new Set(['up', 'ALERTS', 'ALERTS_FOR_STATE']);

/**
 * Metric family names of a Prometheus text exposition (from `# TYPE` lines), plus the series names
 * a histogram family exposes (`_bucket`, `_sum`, `_count`).
 */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)/.exec(line);
    if (m === null) continue;
    names.add(m[1]);
    if (m[2] === 'histogram' || m[2] === 'summary') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${m[1]}${suffix}`);
    }
  }
  return names;
}

/**
 * Names used by the dashboard and the rules that are neither exposed, recorded by rules.yml, nor
 * synthesized by Prometheus. Empty means every query refers to something that exists.
 */
export function unknownNames(exposed: Set<string>): string[] {
  const rules = loadRules();
  const recorded = new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));
  const used = new Map<string, string>();
  for (const { where, expr } of dashboardExpressions(loadDashboard())) {
    for (const n of metricNames(expr)) used.set(n, where);
  }
  for (const g of rules.groups) {
    for (const r of g.rules) for (const n of metricNames(r.expr)) used.set(n, `rule ${r.record ?? r.alert}`);
  }
  return [...used]
    .filter(([n]) => !exposed.has(n) && !recorded.has(n) && !PROMETHEUS_SYNTHETIC.has(n))
    .map(([n, where]) => `${n} (${where})`);
}

/**
 * Names only a replica of a consumer group serves (`run --state kafka`, src/scale/scaleMetrics.ts): a single
 * process's exposition lacks them by design. deploy.test.ts checks the dashboard against the two together.
 */
export function replicaOnlyNames(): Set<string> {
  const registry = new Registry();
  scaleMetrics(registry, () => 0);
  return new Set(registry.getMetricsAsArray().map((m) => m.name));
}

/** {@link unknownNames} of a single process's exposition: a replica's own metrics are not required of it. */
export function unknownNamesSingleProcess(exposed: Set<string>): string[] {
  return unknownNames(new Set([...exposed, ...replicaOnlyNames()]));
}
