import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  allPanels,
  dashboardExpressions,
  exposedNames,
  loadDashboard,
  loadRules,
  metricNames,
  repoPath,
  unknownNames,
} from './promql.js';
import { haveTool, isCI, promtool, PROMTOOL } from './tools.js';
import { importDashboard, resolveDatasourceUid } from './grafanaImport.js';
import { createRegistry, PipelineMetrics } from '../../../src/metrics/index.js';
import { scaleMetrics } from '../../../src/scale/scaleMetrics.js';

interface TestFile {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

const DATASOURCES = parseYaml(
  readFileSync(repoPath('deploy/grafana/provisioning/datasources/prometheus.yaml'), 'utf8'),
) as {
  apiVersion: number;
  datasources: { uid: string; type: string; url: string }[];
};

describe('metric name tokenizer', () => {
  it('finds selected metrics and skips functions, keywords, labels, ranges and grouping', () => {
    const names = metricNames(
      'histogram_quantile(0.99, sum by (variant, le) (rate(a_bucket{variant=~"x|y", mode="live"}[5m]))) ' +
        '/ on (variant) group_left (mode) b_total offset 5m > bool 2 and c:rec:rate1m or absent(up{job="s"})',
    );
    expect([...names].sort()).toEqual(['a_bucket', 'b_total', 'c:rec:rate1m', 'up']);
  });
});

describe('Grafana dashboard JSON model', () => {
  const d = loadDashboard();
  const panels = allPanels(d);

  it('has a stable uid, a title and id null so it imports on any Grafana', () => {
    expect(d.id).toBeNull();
    expect(d.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(d.title).toBe('streamnorm');
  });

  it('has unique panel ids, and every panel a gridPos inside the 24-column grid', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.gridPos, p.title).toBeDefined();
      const g = p.gridPos!;
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      expect(g.h, p.title).toBeGreaterThan(0);
    }
  });

  it('lays panels out without overlaps', () => {
    const boxes = panels.map((p) => ({ title: p.title, ...p.gridPos! }));
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i];
        const b = boxes[j];
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });

  const dataPanels = panels.filter((x) => x.type !== 'row' && x.type !== 'alertlist');

  it('imports through the UI: __inputs, __requires, editable, and no datasource uid written anywhere', () => {
    expect(d.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    const required = new Set((d.__requires ?? []).map((r) => `${r.type}:${r.id}`));
    expect(required).toContain('grafana:grafana');
    expect(required).toContain('datasource:prometheus');
    for (const p of panels.filter((x) => x.type !== 'row'))
      expect(required, p.title).toContain(`panel:${p.type}`);
    expect(d.editable).toBe(true);
    const raw = readFileSync(repoPath('deploy/grafana/dashboards/streamnorm.json'), 'utf8');
    expect(raw).not.toContain(DATASOURCES.datasources[0].uid);
    const ds = d.templating.list.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const p of dataPanels) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length ?? 0, `${p.title} has targets`).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource?.uid, p.title).toBe('${datasource}');
    }
    for (const v of d.templating.list.filter((x) => x.type === 'query')) {
      expect(v.datasource?.uid, v.name).toBe('${datasource}');
    }
  });

  it('imported with a datasource other than the provisioned one, every panel and variable resolves to it', () => {
    const raw = readFileSync(repoPath('deploy/grafana/dashboards/streamnorm.json'), 'utf8');
    const imported = importDashboard(raw, { DS_PROMETHEUS: 'their-prometheus' });
    expect(() => importDashboard(raw, {})).toThrow(/DS_PROMETHEUS/);
    let resolved = 0;
    for (const p of allPanels(imported).filter((x) => x.type !== 'row' && x.type !== 'alertlist')) {
      expect(resolveDatasourceUid(p.datasource, imported), p.title).toBe('their-prometheus');
      for (const t of p.targets ?? []) {
        expect(resolveDatasourceUid(t.datasource, imported), `${p.title} ${t.refId}`).toBe(
          'their-prometheus',
        );
        resolved++;
      }
    }
    for (const v of imported.templating.list.filter((x) => x.type === 'query')) {
      expect(resolveDatasourceUid(v.datasource, imported), v.name).toBe('their-prometheus');
    }
    expect(resolved).toBeGreaterThan(20);
    // Not vacuous: a panel with a written uid does not follow the import.
    expect(resolveDatasourceUid({ uid: 'streamnorm-prometheus' }, imported)).not.toBe('their-prometheus');
  });

  it('the import command of docs/monitoring.md builds a payload whose panels resolve to the chosen datasource', () => {
    // The jq half of the documented `jq ... | curl .../api/dashboards/import` (no Grafana runs here): the body it
    // posts, read back as Grafana's import does (inputs substituted, then each panel's datasource resolved).
    const doc = readFileSync(repoPath('docs/monitoring.md'), 'utf8');
    const block = /```sh\n(jq [\s\S]*?)\n```/.exec(doc);
    expect(block, 'a jq import command in docs/monitoring.md').not.toBeNull();
    const jqPart = block![1].split(/\|\s*curl/)[0].replace('YOUR-PROMETHEUS-UID', 'their-prometheus');
    if (!existsSync('/usr/bin/jq')) {
      if (isCI()) throw new Error('/usr/bin/jq is required under CI=true (apt-get install jq)');
      return;
    }
    const r = spawnSync('bash', ['-c', jqPart], { cwd: repoPath('.'), encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const body = JSON.parse(r.stdout) as {
      dashboard: unknown;
      overwrite: boolean;
      inputs: { name: string; type: string; pluginId: string; value: string }[];
    };
    expect(body.overwrite).toBe(true);
    const imported = importDashboard(
      JSON.stringify(body.dashboard),
      Object.fromEntries(body.inputs.map((i) => [i.name, i.value])),
    );
    const panels = allPanels(imported).filter((x) => x.type !== 'row' && x.type !== 'alertlist');
    expect(panels.length).toBeGreaterThan(10);
    for (const p of panels)
      expect(resolveDatasourceUid(p.datasource, imported), p.title).toBe('their-prometheus');
  });

  it('has job and instance variables from streamnorm_build_info, and every query is scoped by them', () => {
    const q = (name: string): string => {
      const v = d.templating.list.find((x) => x.name === name);
      expect(v, name).toBeDefined();
      return typeof v!.query === 'string' ? v!.query : v!.query.query;
    };
    expect(q('job')).toBe('label_values(streamnorm_build_info, job)');
    expect(q('instance')).toBe('label_values(streamnorm_build_info{job=~"$job"}, instance)');
    expect(q('variant')).toBe(
      'label_values(streamnorm_events_total{job=~"$job", instance=~"$instance"}, variant)',
    );
    let selectors = 0;
    for (const p of dataPanels) {
      for (const t of p.targets!) {
        for (const m of t.expr.matchAll(/\b(streamnorm_[a-z_]+|up)\b(\{[^}]*\})?/g)) {
          expect(m[2] ?? '', `${p.title}: ${m[1]}`).toContain('job=~"$job", instance=~"$instance"');
          selectors++;
        }
      }
    }
    expect(selectors).toBeGreaterThan(25);
    expect(JSON.stringify(d.panels)).toContain('variant=~\\"$variant\\"');
  });

  it('puts one unit on each axis: a panel never mixes counts, durations and per-second rates', () => {
    // What a query returns, read from its outermost function.
    const kind = (expr: string): string => {
      if (/^histogram_quantile\(/.test(expr)) return /_seconds_bucket/.test(expr) ? 'seconds' : 'quantile';
      if (/^time\(\) -/.test(expr)) return 'seconds';
      if (/^sum by \([^)]*\) \(increase\(|^increase\(/.test(expr)) return 'count';
      if (/^sum by \([^)]*\) \(rate\([^)]*\)\)$|^rate\(/.test(expr)) return 'per-second';
      return 'value';
    };
    expect(kind('sum by (a) (increase(x_total[1m]))')).toBe('count');
    expect(kind('histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket[1m])))')).toBe('seconds');
    for (const p of dataPanels) {
      const overridden = new Set(
        (p.fieldConfig?.overrides ?? [])
          .filter((o) => o.matcher.id === 'byFrameRefID' && o.properties.some((x) => x.id === 'unit'))
          .map((o) => o.matcher.options),
      );
      const kinds = new Set(p.targets!.filter((t) => !overridden.has(t.refId)).map((t) => kind(t.expr)));
      expect([...kinds], p.title).toHaveLength(1);
    }
  });

  it('covers every area the issue asks for', () => {
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const name of [
      'streamnorm_events_total',
      'streamnorm_consumer_lag',
      'streamnorm_event_to_prediction_latency_seconds_bucket',
      'streamnorm_processing_duration_seconds_bucket',
      'streamnorm_batch_size_bucket',
      'streamnorm_prequential_loss',
      'streamnorm_prequential_error_ratio',
      'streamnorm_weight_sparsity_ratio',
      'streamnorm_weight_norm',
      'streamnorm_normalizer_running_mean_drift',
      'streamnorm_normalizer_train_inference_gap',
      'streamnorm_checkpoint_age_seconds',
      'streamnorm_dead_letters_total',
      'ALERTS',
    ]) {
      expect(exprs, name).toContain(name);
    }
    expect(panels.some((p) => p.type === 'alertlist')).toBe(true);
  });

  it('has a consumer group row: events learned, staleness and owned partitions of each replica', () => {
    const rowAt = panels.findIndex((p) => p.type === 'row' && /consumer group/i.test(p.title ?? ''));
    expect(rowAt).toBeGreaterThanOrEqual(0);
    const row = panels[rowAt];
    const below = panels.filter((p) => p.type !== 'row' && p.gridPos!.y === row.gridPos!.y + 1);
    const exprs = below.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    for (const name of [
      'streamnorm_replica_learned_events_total',
      'streamnorm_replica_staleness_seconds',
      'streamnorm_consumer_assigned_partitions',
    ]) {
      const expr = exprs.find((e) => e.includes(name));
      expect(expr, name).toBeDefined();
      // one series per replica: each replica is one scrape target
      expect(expr, name).toMatch(/by \(instance\)/);
    }
    const unit = (name: string) =>
      below.find((p) => p.targets!.some((t) => t.expr.includes(name)))!.fieldConfig?.defaults?.unit;
    expect(unit('streamnorm_replica_staleness_seconds')).toBe('s');
    expect(unit('streamnorm_replica_learned_events_total')).toBe('ops');
  });

  it('uses only names of the catalog (or recorded by rules.yml, or made by Prometheus)', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    new PipelineMetrics(registry);
    scaleMetrics(registry, () => 0); // a replica of a group (run --state kafka) serves these too
    expect(unknownNames(exposedNames(await registry.metrics()))).toEqual([]);
    // Not vacuous: with nothing exposed, every catalog name used is reported.
    expect(unknownNames(new Set()).length).toBeGreaterThan(20);
  });
});

describe('alert runbooks', () => {
  it('every alert links to its own section of docs/monitoring.md', () => {
    const doc = readFileSync(repoPath('docs/monitoring.md'), 'utf8');
    // GitHub's heading anchors: lower case, spaces to dashes, punctuation dropped.
    const anchors = new Set(
      [...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
        m[1]
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9 _-]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const alerts = loadRules().groups.flatMap((g) => g.rules.filter((r) => r.alert !== undefined));
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    for (const a of alerts) {
      const url = (a as { annotations?: Record<string, string> }).annotations?.runbook_url;
      expect(url, a.alert).toBe(`docs/monitoring.md#${a.alert!.toLowerCase()}`);
      expect(anchors, a.alert).toContain(url!.split('#')[1]);
    }
  });
});

describe('Grafana provisioning and compose wiring', () => {
  it('the dashboard provider path is where docker-compose mounts the dashboards', () => {
    const provider = parseYaml(
      readFileSync(repoPath('deploy/grafana/provisioning/dashboards/streamnorm.yaml'), 'utf8'),
    ) as {
      apiVersion: number;
      providers: { type: string; options: { path: string } }[];
    };
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers[0].type).toBe('file');
    const compose = parseYaml(readFileSync(repoPath('deploy/docker-compose.yml'), 'utf8')) as {
      services: Record<
        string,
        { volumes?: string[]; ports?: string[]; build?: { context: string; dockerfile: string } }
      >;
    };
    const grafanaVolumes = compose.services.grafana.volumes ?? [];
    expect(grafanaVolumes).toContain(`./grafana/dashboards:${provider.providers[0].options.path}:ro`);
    expect(grafanaVolumes).toContain('./grafana/provisioning:/etc/grafana/provisioning:ro');
    // Every bind-mounted file or folder exists in the repository.
    for (const svc of Object.values(compose.services)) {
      for (const v of svc.volumes ?? []) {
        const src = v.split(':')[0];
        if (src.startsWith('.')) expect(existsSync(repoPath(join('deploy', src))), v).toBe(true);
      }
    }
    const build = compose.services.streamnorm.build!;
    expect(existsSync(repoPath(join('deploy', build.context, build.dockerfile)))).toBe(true);
  });

  it('ports agree: the pipeline serves 9464, Prometheus scrapes it, Grafana reads Prometheus on 9090', () => {
    const compose = readFileSync(repoPath('deploy/docker-compose.yml'), 'utf8');
    const host = parseYaml(readFileSync(repoPath('deploy/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const inCompose = parseYaml(
      readFileSync(repoPath('deploy/prometheus/prometheus.compose.yml'), 'utf8'),
    ) as typeof host;
    expect(host.scrape_configs[0].job_name).toBe('streamnorm');
    expect(host.scrape_configs[0].static_configs[0].targets).toEqual(['127.0.0.1:9464']);
    // compose: every replica of the streamnorm service, found through Docker's DNS (compose --scale)
    const dns = (
      inCompose.scrape_configs[0] as unknown as {
        dns_sd_configs: { names: string[]; type: string; port: number }[];
      }
    ).dns_sd_configs[0];
    expect([dns.names, dns.type, dns.port]).toEqual([['streamnorm'], 'A', 9464]);
    expect(compose).toContain('--metrics-host');
    expect(compose).toContain('9464');
    expect(DATASOURCES.datasources[0].url).toBe('http://prometheus:9090');
    const unit = readFileSync(repoPath('deploy/systemd/streamnorm.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=.*dist\/cli\/index\.js run$/m);
    expect(unit).toContain('Environment=STREAMNORM_METRICS_PORT=9464');
  });

  it('the container and the unit run node with the young generation the Kafka bench was tuned with', () => {
    const flag = '--max-semi-space-size=64';
    const dockerfile = readFileSync(repoPath('Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(new RegExp(`^ENV .*NODE_OPTIONS=${flag}`, 'm'));
    const unit = readFileSync(repoPath('deploy/systemd/streamnorm.service'), 'utf8');
    expect(unit).toContain(`Environment=NODE_OPTIONS=${flag}`);
  });
});

describe.runIf(haveTool(PROMTOOL))('promtool on deploy/prometheus', () => {
  it('check config passes for the host and the compose configuration (rules included)', () => {
    for (const file of ['prometheus.yml', 'prometheus.compose.yml']) {
      const r = promtool(['check', 'config', repoPath(`deploy/prometheus/${file}`)]);
      expect(r.stdout + r.stderr, file).toContain('SUCCESS');
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
  });

  it('check rules passes', () => {
    const r = promtool(['check', 'rules', repoPath('deploy/prometheus/rules.yml')]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('test rules passes, and exercises every alert both firing and not firing', () => {
    const r = promtool(['test', 'rules', repoPath('deploy/prometheus/rules.test.yml')]);
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const alerts = loadRules().groups.flatMap((g) => g.rules.flatMap((x) => (x.alert ? [x.alert] : [])));
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    const tests = parseYaml(readFileSync(repoPath('deploy/prometheus/rules.test.yml'), 'utf8')) as TestFile;
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} fires in a test`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} stays quiet in a test`,
      ).toBe(true);
    }
  });

  it('every dashboard query parses (promtool check rules on the queries as recording rules)', () => {
    const exprs = dashboardExpressions(loadDashboard());
    expect(exprs.length).toBeGreaterThan(20);
    const dir = mkdtempSync(join(tmpdir(), 'streamnorm-dashboard-'));
    const file = join(dir, 'dashboard-queries.yml');
    const rules = exprs.map((e, i) => ({ record: `dashboard:query_${i}`, expr: e.expr }));
    writeFileSync(file, stringifyYaml({ groups: [{ name: 'dashboard', rules }] }));
    const r = promtool(['check', 'rules', file]);
    expect(r.stdout + r.stderr).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('the parse check is real: a broken query fails it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'streamnorm-dashboard-'));
    const file = join(dir, 'bad.yml');
    writeFileSync(
      file,
      stringifyYaml({ groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum by (a (b)' }] }] }),
    );
    expect(promtool(['check', 'rules', file]).status).not.toBe(0);
  });
});

describe.runIf(haveTool('/usr/bin/systemd-analyze'))('systemd unit', () => {
  it('systemd-analyze verify reports nothing', () => {
    const r = spawnSync(
      '/usr/bin/systemd-analyze',
      ['verify', repoPath('deploy/systemd/streamnorm.service')],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
